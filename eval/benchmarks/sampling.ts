/**
 * Each benchmark's own generation settings, as its reference evaluation sends them; the runner
 * uses them unless `--max-tokens`, `--temperature` or `--top-p` override (each on its own), and
 * records what was sent in results.json and the report.
 *
 * @module
 */

/** Generation settings of a benchmark (an item's `meta.maxNewTokens` takes precedence). */
export interface SamplingDefaults {
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Where the numbers come from. */
  source: string;
}

/**
 * GoLongRL's evaluation (Eval/QwenLong-Benchmarks: corpusqa_eval.py, mrcr_eval.py,
 * lbv1qa_eval.py, longmemeval_eval.py, evalscope generation config; recipe §5).
 */
export const GOLONGRL_EVAL_SAMPLING: SamplingDefaults = {
  maxTokens: 51_200,
  temperature: 0.7,
  topP: 0.95,
  source: "GoLongRL eval (temperature 0.7, top_p 0.95, max_tokens 51200)",
};

/** LongBench v2 `pred.py`: temperature 0.1, max_new_tokens 128 (top_p not sent: 1). */
export const LONGBENCH_V2_SAMPLING: SamplingDefaults = {
  maxTokens: 128,
  temperature: 0.1,
  topP: 1,
  source: "LongBench v2 pred.py (temperature 0.1, max_new_tokens 128)",
};

/** LongBench v1 `pred.py`: greedy (`do_sample=False`), `dataset2maxlen` per dataset. */
export const LONGBENCH_V1_SAMPLING: SamplingDefaults = {
  maxTokens: 128,
  temperature: 0,
  topP: 1,
  source: "LongBench pred.py (greedy, dataset2maxlen)",
};

/** RULER: greedy (temperature 0, top_p 1), `tokens_to_generate` per task. */
export const RULER_SAMPLING: SamplingDefaults = {
  maxTokens: 128,
  temperature: 0,
  topP: 1,
  source: "RULER (greedy, tokens_to_generate per task)",
};

/** Our held-out data: the recipe's validation settings (§4: temperature 0.6, top_p 0.95, 16K). */
export const OURS_SAMPLING: SamplingDefaults = {
  maxTokens: 16_384,
  temperature: 0.6,
  topP: 0.95,
  source: "GoLongRL validation config (temperature 0.6, top_p 0.95, 16384 tokens)",
};
