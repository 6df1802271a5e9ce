/**
 * The verifier registry and the reward entry point.
 *
 * Verifiers are registered by name (as verl registers advantage estimators), each with its task
 * type and the part of the response it reads. {@link computeReward} routes a sample the way
 * verl's `default_compute_score` does (recipe §1.2–1.7), applies the format gate, and never
 * throws: an exception inside a verifier gives reward 0 with `error` set (and is counted, see
 * {@link verifierErrors}); a non-finite score or one outside [0,1] gives 0 (the reference's range
 * assertion).
 *
 * ```ts
 * const r = computeReward({
 *   dataSource: "EM",
 *   response: "<think>…</think>Paris",
 *   groundTruth: { golden_label: "Paris" },
 * });
 * // r.reward === 1, r.verifier === "em", r.task === "precise_retrieval", r.taskKey === ""
 * ```
 *
 * @module
 */
import { emVerifier } from "./em.ts";
import { formatGate, isDict, postThink } from "./format.ts";
import {
  accuracyVerifier,
  f1Verifier,
  LBP_METRIC_VERIFIER,
  lbpMetricOf,
  ndcgVerifier,
  pairwiseVerifier,
  subemVerifier,
  summaryVerifier,
  TASK_METRIC_CONFIG,
} from "./longbench_pro.ts";
import { mathVerifier } from "./numerical.ts";
import { selectionVerifier } from "./selection.ts";
import { tableIouVerifier } from "./table_iou.ts";
import type {
  RewardInput,
  RewardOptions,
  RewardResult,
  TaskType,
  VerifierContext,
  VerifierSpec,
} from "./types.ts";

const REGISTRY = new Map<string, VerifierSpec>();

/** Register a verifier under a new name (throws if the name is taken). */
export function registerVerifier(name: string, spec: VerifierSpec): void {
  if (REGISTRY.has(name)) throw new Error(`verifier "${name}" is already registered`);
  REGISTRY.set(name, spec);
}

/** The verifier registered under `name`, or undefined. */
export function getVerifier(name: string): VerifierSpec | undefined {
  return REGISTRY.get(name);
}

/** Every registered verifier, in registration order (for help text). */
export function listVerifiers(): {
  name: string;
  task: TaskType;
  reads: VerifierSpec["reads"];
  description: string;
}[] {
  return [...REGISTRY].map(([name, s]) => ({
    name,
    task: s.task,
    reads: s.reads,
    description: s.description,
  }));
}

registerVerifier("em", emVerifier);
registerVerifier("selection", selectionVerifier);
registerVerifier("math", mathVerifier);
registerVerifier("table_iou", tableIouVerifier);
registerVerifier("ndcg", ndcgVerifier);
registerVerifier("pairwise", pairwiseVerifier);
registerVerifier("accuracy", accuracyVerifier);
registerVerifier("f1", f1Verifier);
registerVerifier("subem", subemVerifier);
registerVerifier("summary", summaryVerifier);

// ==================== Error counters ====================

const ERRORS = new Map<string, number>();

/** Exceptions per verifier since the last reset ("router" counts samples that could not be routed). */
export function verifierErrors(): Record<string, number> {
  return Object.fromEntries(ERRORS);
}

/** Reset the counters of {@link verifierErrors}. */
export function resetVerifierErrors(): void {
  ERRORS.clear();
}

function countError(name: string): void {
  ERRORS.set(name, (ERRORS.get(name) ?? 0) + 1);
}

// ==================== Routing ====================

/** `data_source` → verifier name, as `default_compute_score`; or an error message. */
export function routeVerifier(
  dataSource: string,
  extraInfo: unknown,
): { name: string } | { error: string } {
  if (typeof dataSource !== "string") return { error: "data_source must be a string" };
  if (dataSource.includes("math_longcot_math_verify")) return { name: "math" };
  if (dataSource === "longbench_pro") {
    if (!isDict(extraInfo) || !Object.hasOwn(extraInfo, "reward_mode")) {
      return { error: "longbench_pro needs extra_info.reward_mode (KeyError)" };
    }
    const mode = extraInfo.reward_mode;
    const metric = lbpMetricOf(mode);
    if (metric === undefined) return { error: `Unknown sub_task: ${String(mode)}` };
    return { name: LBP_METRIC_VERIFIER[metric] };
  }
  if (dataSource === "multitableqa_pretraining") return { name: "table_iou" };
  if (dataSource === "selection") return { name: "selection" };
  if (dataSource === "EM") return { name: "em" };
  if (REGISTRY.has(dataSource)) return { name: dataSource };
  return {
    error: `Reward function is not implemented for data_source=${JSON.stringify(dataSource)}`,
  };
}

// ==================== Task key (recipe §1.9) ====================

/**
 * The TMN group key of a sample: a top-level `reward_mode` if present; else
 * `extra_info.reward_mode` mapped through the 25 LongBench-Pro names to their metric name
 * (NDCG, Pairwise_Accuracy, Accuracy, F1_Score, SubEM, Summary), other names verbatim
 * ("EM", "selection", …); `extra_info` not a dict, or no `reward_mode` in it → "".
 */
export function taskKey(
  sample: { reward_mode?: unknown; extra_info?: unknown; extraInfo?: unknown },
): string {
  if (sample.reward_mode !== undefined && sample.reward_mode !== null) {
    return String(sample.reward_mode);
  }
  const ei = sample.extra_info !== undefined ? sample.extra_info : sample.extraInfo;
  if (!isDict(ei)) return "";
  const mode = ei.reward_mode;
  if (typeof mode !== "string") return mode === undefined || mode === null ? "" : String(mode);
  return Object.hasOwn(TASK_METRIC_CONFIG, mode) ? TASK_METRIC_CONFIG[mode] : mode;
}

// ==================== computeReward ====================

function errorMessage(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Score one sample. Never throws; see the module doc. */
export function computeReward(input: RewardInput, opts: RewardOptions = {}): RewardResult {
  let key = "";
  try {
    key = taskKey({ extra_info: input?.extraInfo });
  } catch {
    key = "";
  }
  let route: { name: string } | { error: string };
  try {
    route = routeVerifier(input?.dataSource, input?.extraInfo);
  } catch (e) {
    route = { error: errorMessage(e) };
  }
  if ("error" in route) {
    countError("router");
    return {
      reward: 0,
      verifier: "none",
      task: "unknown",
      taskKey: key,
      details: {},
      error: route.error,
    };
  }
  const name = route.name;
  const spec = REGISTRY.get(name)!;
  const base = { verifier: name, task: spec.task, taskKey: key };

  const response = input.response;
  if (typeof response !== "string") {
    countError(name);
    return { ...base, reward: 0, details: {}, error: "response must be a string" };
  }
  if ((opts.format ?? "thinking") === "thinking") {
    const gate = formatGate(response);
    if (gate !== null) return { ...base, reward: 0, details: { gate } };
  }

  const view = spec.reads === "post-think" || opts.stripThink ? postThink(response) : response;
  const ctx: VerifierContext = {
    response: view,
    fullResponse: response,
    groundTruth: input.groundTruth,
    extraInfo: input.extraInfo,
  };
  try {
    const out = spec.fn(ctx);
    const details = out.details ?? {};
    const s = out.score;
    if (typeof s !== "number" || !Number.isFinite(s) || s < 0 || s > 1) {
      return { ...base, reward: 0, details: { ...details, outOfRange: String(s) } };
    }
    return { ...base, reward: s, details };
  } catch (e) {
    countError(name);
    return { ...base, reward: 0, details: {}, error: errorMessage(e) };
  }
}
