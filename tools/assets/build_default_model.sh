#!/usr/bin/env bash
# Rebuilds the default run's embedded tokenizer and tiny checkpoint from the embedded documents
# with golongrl's own commands (docs/default-model.md records the run that made the committed
# files: steps, wall time, machine). Usage: tools/assets/build_default_model.sh [WORK_DIR] [SFT_STEPS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WORK="${1:-/tmp/golongrl-default-build}"
STEPS="${2:-100}"
CORPUS=assets/default/corpus
mkdir -p "$WORK"
t0=$(date +%s)
# 1. A byte-level BPE tokenizer on the embedded books and speeches.
./golongrl tokenizer train -q --corpus "$CORPUS"/books/*.txt "$CORPUS"/speeches/sotu_subset.jsonl \
  --vocab 2048 --out "$WORK/tokenizer"
# 2. A random tiny Qwen3 (d 128, 4 layers, ~1M parameters with this vocabulary).
./golongrl model init --preset tiny --tokenizer "$WORK/tokenizer" --seed 0 --out "$WORK/init"
# 3. Short-context task data from the embedded documents, a held-out split by source document.
./golongrl data build -q --sources "$CORPUS" --tokenizer "$WORK/tokenizer" --lengths 512 \
  --per-task 200 --heldout 0.2 --seed 0 --out "$WORK/data"
# 4. Supervised warm-up: reference answers plus an LM loss on the documents in the prompts.
./golongrl sft --model "$WORK/init" --data "$WORK/data/data.jsonl" \
  --heldout "$WORK/data/heldout.jsonl" --steps "$STEPS" \
  --set sft.context_loss=1 --set sft.batch_tokens=4096 --set sft.micro_batch_tokens=4096 \
  --set optim.lr=3e-3 --set optim.warmup_steps=5 --set optim.schedule=constant \
  --set checkpoint.every=25 --set checkpoint.keep=3 --set seed=0 --out "$WORK/sft"
echo "build: $(( $(date +%s) - t0 )) s" >&2
# 5. Held-out evaluation of the result: every held-out sample, greedy, scored by its verifier
#    with the format gate (the numbers docs/default-model.md reports).
./golongrl eval -q --bench ours --model "$WORK/sft/model" --data-ours "$WORK/data/heldout.jsonl" \
  --dtype f32 --temperature 0 --max-tokens "${EVAL_TOKENS:-96}" --out "$WORK/eval"
