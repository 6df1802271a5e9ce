#!/usr/bin/env bash
# The TMN-Reweight vs GRPO study (docs/experiments/tmn-vs-grpo.md): one data build, then
# `golongrl train` once per estimator and seed from the same start model, on the same data, for the
# same number of steps, each evaluated on the same held-out prompts at its start and end; then
# `golongrl compare` writes the study's tables and curves.
#   tools/experiments/tmn_vs_grpo.sh WORK [SEEDS] [ESTIMATORS]
# A run that already finished is kept (its val.jsonl has the last step); one that was killed resumes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WORK="${1:-/tmp/golongrl-tmn-vs-grpo}"
SEEDS="${2:-0 1 2}"
ESTIMATORS="${3:-grpo tmn tmn-reweight}"
STEPS="${STEPS:-20}"
mkdir -p "$WORK"
# The build the default model was warmed up on (tools/assets/build_default_model.sh step 3, with
# the shipped tokenizer): its held-out split holds documents the model never saw.
[ -s "$WORK/data/heldout.jsonl" ] || ./golongrl data build -q --sources assets/default/corpus \
  --tokenizer assets/default/model --lengths 512 --per-task 200 --heldout 0.2 --seed 0 \
  --out "$WORK/data"
for seed in $SEEDS; do
  for est in $ESTIMATORS; do
    run="$WORK/$est-s$seed"
    if [ -s "$run/val.jsonl" ] && grep -q "\"step\":$STEPS," "$run/val.jsonl"; then continue; fi
    echo "== $est seed $seed -> $run" >&2
    ./golongrl train --config docs/experiments/tmn-vs-grpo.yaml \
      --set data.train="$WORK/data/data.jsonl" --set data.heldout="$WORK/data/heldout.jsonl" \
      --set train.estimator="$est" --set seed="$seed" --set train.steps="$STEPS" \
      --set log.val_every="$STEPS" --out "$run" --resume auto
  done
done
