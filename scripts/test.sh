#!/usr/bin/env bash
# Runs the whole test suite (the README's test command; .ci/run runs exactly this).
# Installs what is missing first, like ./golongrl. Prints a final line
# "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$GOLONGRL_ROOT"
log="$(mktemp)"
# Every temporary folder the tests make (Deno.makeTempDir, mktemp, the CLI runs they start) goes
# under one folder removed at exit, so a run leaves nothing in /tmp even when a test fails or
# forgets to clean up (before, each run left about a hundred folders behind).
test_tmp="$(mktemp -d -t golongrl-test.XXXXXX)"
trap 'rm -rf "$test_tmp" "$log"' EXIT
export TMPDIR="$test_tmp"
# Arguments name test files (default: the whole tests/ folder).
if [ "$#" -eq 0 ]; then set -- tests/; fi
"$DENO" test -A --frozen --no-check=remote "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Deno's summary: "ok | 12 passed (3 steps) | 0 failed (1s)".
summary="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)"
passed="$(echo "$summary" | sed -E 's/.* ([0-9]+) passed.*/\1/')"
failed="$(echo "$summary" | sed -E 's/.* ([0-9]+) failed.*/\1/')"
if [ -z "$summary" ]; then
  passed=0
  failed=1
  echo "test run produced no summary (exit $rc)" >&2
elif [ "$rc" -ne 0 ] && [ "$failed" = "0" ]; then
  failed=1 # e.g. a type error before any test ran
fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" = "0" ]
