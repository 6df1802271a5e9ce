# shellcheck shell=bash
# Sourced by ./golongrl and scripts/test.sh: makes sure Deno 2.9.6 and a WebGPU
# adapter are present on a fresh machine, then sets DENO and the environment.
#  - Deno comes from npm (the only JS registry reachable here) into .tools/.
#  - With no adapter, installs Mesa's software Vulkan driver (lavapipe) when
#    running as root with apt-get; otherwise says what to install.
# All messages go to stderr, so stdout stays the command's own.

GOLONGRL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GOLONGRL_DENO_VERSION="2.9.6"

_golongrl_say() { echo "golongrl-setup: $*" >&2; }

_golongrl_find_deno() {
  local d
  for d in "${GOLONGRL_DENO:-}" "$GOLONGRL_ROOT/.tools/node_modules/.bin/deno" "$(command -v deno 2>/dev/null)"; do
    [ -n "$d" ] && [ -x "$d" ] || continue
    if "$d" --version 2>/dev/null | head -1 | grep -q "^deno $GOLONGRL_DENO_VERSION "; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

if ! DENO="$(_golongrl_find_deno)"; then
  if ! command -v npm >/dev/null 2>&1; then
    _golongrl_say "Deno $GOLONGRL_DENO_VERSION is missing and npm is not available to install it." \
      "Install Node.js with npm, or Deno $GOLONGRL_DENO_VERSION, and retry."
    exit 1
  fi
  _golongrl_say "installing Deno $GOLONGRL_DENO_VERSION from npm into .tools/ (one time)"
  mkdir -p "$GOLONGRL_ROOT/.tools"
  if ! npm install --prefix "$GOLONGRL_ROOT/.tools" --no-save --no-audit --no-fund --loglevel=error \
    "deno@$GOLONGRL_DENO_VERSION" >&2; then
    _golongrl_say "npm install deno@$GOLONGRL_DENO_VERSION failed"
    exit 1
  fi
  DENO="$(_golongrl_find_deno)" || { _golongrl_say "Deno was installed but does not run"; exit 1; }
fi
export DENO

# wgpu warns when this is unset on headless machines.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="/tmp/golongrl-runtime-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi

# A WebGPU adapter. On Linux we want Vulkan: the OpenGL fallback has no
# shader-f16, half the storage buffers, and compiles workgroup-memory kernels
# 100x slower. So: probe Vulkan; if it has no adapter and we are root with
# apt-get, install Mesa's Vulkan drivers (lavapipe runs on any CPU). Probed once
# per machine state: the stamp is keyed by the Vulkan ICDs present.
_golongrl_probe_adapter() { # $1: backend, or "" for wgpu's default choice
  DENO_WEBGPU_BACKEND="$1" "$DENO" eval --quiet \
    'const a = await navigator.gpu?.requestAdapter(); Deno.exit(a ? 0 : 3);' >/dev/null 2>&1
}
_golongrl_icd_key() { ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tr '\n' ' '; }
_golongrl_stamp="$GOLONGRL_ROOT/.tools/adapter-ok"
if [ "${GOLONGRL_SKIP_GPU_SETUP:-}" != "1" ] && [ "$(uname -s)" = "Linux" ] &&
  [ "$(cat "$_golongrl_stamp" 2>/dev/null)" != "vulkan $(_golongrl_icd_key)" ]; then
  _golongrl_attempt="$GOLONGRL_ROOT/.tools/vulkan-install-attempted"
  if ! _golongrl_probe_adapter vulkan; then
    # One install attempt per machine state: without a network, apt-get must not rerun
    # on every command.
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 &&
      [ "$(cat "$_golongrl_attempt" 2>/dev/null)" != "attempted $(_golongrl_icd_key)" ]; then
      mkdir -p "$GOLONGRL_ROOT/.tools" && echo "attempted $(_golongrl_icd_key)" >"$_golongrl_attempt"
      _golongrl_say "no Vulkan adapter; installing Mesa's Vulkan drivers" \
        "(apt-get install mesa-vulkan-drivers libvulkan1)"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        mesa-vulkan-drivers libvulkan1) >/dev/null 2>&1 ||
        _golongrl_say "apt-get install mesa-vulkan-drivers libvulkan1 failed"
    elif _golongrl_probe_adapter ""; then
      _golongrl_say "only an OpenGL adapter was found (no f16, slow kernel compiles); for Vulkan:" \
        "sudo apt-get install mesa-vulkan-drivers libvulkan1"
    else
      _golongrl_say "no WebGPU adapter found; install a Vulkan driver (Debian/Ubuntu:" \
        "sudo apt-get install mesa-vulkan-drivers libvulkan1)"
    fi
  fi
  if _golongrl_probe_adapter vulkan; then
    mkdir -p "$GOLONGRL_ROOT/.tools" && echo "vulkan $(_golongrl_icd_key)" >"$_golongrl_stamp"
  fi
fi
