/**
 * Types shared by the reward verifiers (recipe.md §1).
 *
 * A verifier turns one response and its ground truth into a score in [0,1]. Verifiers are
 * registered by name in `tasks/registry.ts`; {@link computeReward} there routes a sample to one of
 * them, applies the global rules of recipe §1.2 (format gate, errors → 0, range check) and never
 * throws.
 *
 * @module
 */

/** The ground-truth dict of the GoLongRL dataset (`reward_model.ground_truth`). */
export interface GroundTruth {
  /** Gold items for the LongBench-Pro-style metrics (NDCG, Pairwise, Accuracy, F1, SubEM, Summary). */
  doc_ids?: string[];
  /** Gold string for EM, selection, math and table IoU (a JSON text for table IoU). */
  golden_label?: string;
  /** Passed as the `language` argument of the LongBench-Pro scorer; "Chinese" enables segmentation. */
  summary?: string;
}

/** One sample to score. */
export interface RewardInput {
  /** verl `data_source` ("EM", "selection", "longbench_pro", …) or a verifier name ("ndcg", …). */
  dataSource: string;
  /** The decoded response (special tokens skipped, thinking included). */
  response: string;
  /** `reward_model.ground_truth`: usually a {@link GroundTruth}; a list means "use its last element". */
  groundTruth: unknown;
  /** `extra_info`; LongBench-Pro routing reads `extra_info.reward_mode`. */
  extraInfo?: unknown;
}

export interface RewardOptions {
  /** "thinking" (default, faithful): the format gate of recipe §1.2 applies. "none": for non-thinking models, no gate. */
  format?: "thinking" | "none";
  /** Remove everything up to and including the last </think> before verifiers that read the whole response (LongBench-Pro metrics, summary, table IoU, math). Default false (faithful). */
  stripThink?: boolean;
}

/** The 9 capabilities of GoLongRL, in README order (recipe §1.1). */
export type TaskType =
  | "precise_retrieval"
  | "comprehension"
  | "exhaustive_retrieval"
  | "numerical_reasoning"
  | "structured_extraction"
  | "structured_matching"
  | "graded_ranking"
  | "sequence_ordering"
  | "summarization";

/** The 9 task types in README order. */
export const TASK_TYPES: readonly TaskType[] = [
  "precise_retrieval",
  "comprehension",
  "exhaustive_retrieval",
  "numerical_reasoning",
  "structured_extraction",
  "structured_matching",
  "graded_ranking",
  "sequence_ordering",
  "summarization",
];

export interface RewardResult {
  /** Finite, in [0,1]. */
  reward: number;
  /** Registry name, e.g. "em", "ndcg"; "none" when the sample could not be routed. */
  verifier: string;
  /** One of the 9 capabilities; "unknown" only when the sample could not be routed (error set). */
  task: TaskType | "unknown";
  /** The TMN group key (recipe §1.9). */
  taskKey: string;
  /** E.g. `{ extracted: "B" }` or `{ gate: "missing </think>" }`. */
  details: Record<string, unknown>;
  /** Set when the verifier threw or the sample could not be routed; reward is then 0. */
  error?: string;
}

/** Which part of the response a verifier reads by default (see docs/rewards.md). */
export type ResponseView = "post-think" | "full";

/** What a verifier function receives. */
export interface VerifierContext {
  /** The text this verifier reads: post-think text, or the full response (post-think if `stripThink`). */
  response: string;
  /** The response exactly as given. */
  fullResponse: string;
  /** Raw ground truth as given (list unwrapping is each verifier's business, as in the reference). */
  groundTruth: unknown;
  /** Raw extra_info. */
  extraInfo: unknown;
}

export interface VerifierOutput {
  /** The score; the caller zeroes anything non-finite or outside [0,1]. */
  score: number;
  details?: Record<string, unknown>;
}

export type VerifierFn = (ctx: VerifierContext) => VerifierOutput;

/** A registry entry (name → spec), in the style of verl's advantage-estimator registry. */
export interface VerifierSpec {
  task: TaskType;
  /** One line for help text. */
  description: string;
  /** "post-think": always the text after the last </think>. "full": the whole response unless stripThink. */
  reads: ResponseView;
  fn: VerifierFn;
}
