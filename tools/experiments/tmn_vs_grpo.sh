#!/usr/bin/env bash
# The TMN-Reweight vs GRPO study (docs/experiments/tmn-vs-grpo.md): one data build, then
# `golongrl train` once per estimator and seed from the same start model, on the same data, for the
# same number of steps, each evaluated on the same held-out prompts at its start and end; one run
# repeated to check reproducibility; then `golongrl compare` writes the tables and curves.
#   tools/experiments/tmn_vs_grpo.sh WORK [SEEDS] [ESTIMATORS]
#   env: STEPS (20), REPRO ("tmn-reweight 0": the estimator and seed run twice; "" for none),
#        CONFIG (docs/experiments/tmn-vs-grpo.yaml)
# A finished run is kept (its val.jsonl has the last step); a killed one resumes where it stopped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WORK="${1:-/tmp/golongrl-tmn-vs-grpo}"
SEEDS="${2:-0 1 2}"
ESTIMATORS="${3:-grpo tmn tmn-reweight}"
STEPS="${STEPS:-20}"
REPRO="${REPRO-tmn-reweight 0}"
CONFIG="${CONFIG:-docs/experiments/tmn-vs-grpo.yaml}"
mkdir -p "$WORK"
# The build the default model was warmed up on (tools/assets/build_default_model.sh step 3, with
# the shipped tokenizer): its held-out split holds documents the model never saw.
[ -s "$WORK/data/heldout.jsonl" ] || ./golongrl data build -q --sources assets/default/corpus \
  --tokenizer assets/default/model --lengths 512 --per-task 200 --heldout 0.2 --seed 0 \
  --out "$WORK/data"
train() { # estimator seed folder
  if [ -s "$3/val.jsonl" ] && grep -q "\"step\":$STEPS," "$3/val.jsonl"; then return; fi
  echo "== $1 seed $2 -> $3" >&2
  ./golongrl train --config "$CONFIG" \
    --set data.train="$WORK/data/data.jsonl" --set data.heldout="$WORK/data/heldout.jsonl" \
    --set train.estimator="$1" --set seed="$2" --set train.steps="$STEPS" \
    --set log.val_every="$STEPS" --out "$3" --resume auto
}
runs=()
for seed in $SEEDS; do
  for est in $ESTIMATORS; do
    train "$est" "$seed" "$WORK/$est-s$seed"
    runs+=("$WORK/$est-s$seed")
  done
done
if [ -n "$REPRO" ]; then
  read -r est seed <<< "$REPRO"
  train "$est" "$seed" "$WORK/repro-$est-s$seed"
  runs+=("$WORK/repro-$est-s$seed")
fi
./golongrl compare "${runs[@]}" --out "$WORK/compare" --title "TMN-Reweight vs GRPO"
