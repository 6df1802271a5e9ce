/**
 * Offline scoring: join responses to their samples by id and score each with
 * its sample's verifier. Samples are streamed and only what scoring needs is
 * kept (not the long prompts), so datasets with 100K-token prompts fit.
 *
 * Samples (verl/GoLongRL schema): `{id, data_source, reward_model: {ground_truth}, extra_info}`;
 * the id may also be `extra_info.index` or `uid`. Responses: `{id, response}`
 * (`solution_str` or `output` are accepted for `response`), several per id for
 * n rollouts.
 */
import { textTable } from "../core/text_table.ts";
import { InputError } from "../core/errors.ts";
import { readJsonl } from "../core/jsonl.ts";
import { computeReward } from "../tasks/registry.ts";
import type { RewardOptions, RewardResult } from "../tasks/types.ts";

export interface SampleRef {
  dataSource: string;
  groundTruth: unknown;
  extraInfo: unknown;
  rewardMode?: string;
}

function sampleId(v: Record<string, unknown>): string | undefined {
  const extra = v.extra_info as Record<string, unknown> | undefined;
  const id = v.id ?? v.uid ?? (extra && typeof extra === "object" ? extra.index : undefined);
  return typeof id === "string" || typeof id === "number" ? String(id) : undefined;
}

/** Reads the samples file into id → what the verifier needs. Duplicate ids are an error. */
export async function loadSampleRefs(path: string): Promise<Map<string, SampleRef>> {
  const out = new Map<string, SampleRef>();
  for await (const { line, value } of readJsonl(path)) {
    const id = sampleId(value);
    if (id === undefined) throw new InputError("missing sample id", path, line, "id");
    if (out.has(id)) throw new InputError(`duplicate sample id "${id}"`, path, line, "id");
    if (typeof value.data_source !== "string") {
      throw new InputError("missing or not a string", path, line, "data_source");
    }
    const rm = value.reward_model as Record<string, unknown> | undefined;
    const gt = rm && typeof rm === "object" && "ground_truth" in rm
      ? rm.ground_truth
      : value.ground_truth;
    if (gt === undefined) {
      throw new InputError("missing", path, line, "reward_model.ground_truth");
    }
    out.set(id, {
      dataSource: value.data_source,
      groundTruth: gt,
      extraInfo: value.extra_info,
      rewardMode: typeof value.reward_mode === "string" ? value.reward_mode : undefined,
    });
  }
  return out;
}

export interface ScoredLine extends Pick<RewardResult, "reward" | "task" | "verifier" | "details"> {
  id: string;
  /** 0-based index of this response among those with the same id. */
  sample: number;
  task_key: string;
  error?: string;
}

export interface TaskSummary {
  task: string;
  n: number;
  mean: number;
  zeros: number;
  errors: number;
}

/** Scores every response; calls `emit` per scored line in input order. */
export async function scoreResponses(
  samples: Map<string, SampleRef>,
  responsesPath: string,
  opts: RewardOptions,
  emit: (s: ScoredLine) => void | Promise<void>,
  onProgress?: () => void,
): Promise<TaskSummary[]> {
  const counts = new Map<string, number>();
  const sums = new Map<string, TaskSummary>();
  for await (const { line, value } of readJsonl(responsesPath)) {
    const id = sampleId(value);
    if (id === undefined) throw new InputError("missing response id", responsesPath, line, "id");
    const ref = samples.get(id);
    if (!ref) {
      throw new InputError(`no sample with id "${id}" in the data file`, responsesPath, line, "id");
    }
    const response = value.response ?? value.solution_str ?? value.output;
    if (typeof response !== "string") {
      throw new InputError("missing or not a string", responsesPath, line, "response");
    }
    const r = computeReward({
      dataSource: ref.dataSource,
      response,
      groundTruth: ref.groundTruth,
      extraInfo: ref.rewardMode !== undefined && ref.extraInfo && typeof ref.extraInfo === "object"
        ? { ...(ref.extraInfo as object), reward_mode: ref.rewardMode }
        : ref.extraInfo,
    }, opts);
    const k = counts.get(id) ?? 0;
    counts.set(id, k + 1);
    const s = sums.get(r.task) ?? { task: r.task, n: 0, mean: 0, zeros: 0, errors: 0 };
    s.n++;
    s.mean += r.reward;
    if (r.reward === 0) s.zeros++;
    if (r.error) s.errors++;
    sums.set(r.task, s);
    await emit({
      id,
      sample: k,
      task: r.task,
      task_key: r.taskKey,
      verifier: r.verifier,
      reward: r.reward,
      details: r.details,
      ...(r.error ? { error: r.error } : {}),
    });
    onProgress?.();
  }
  return [...sums.values()].map((s) => ({ ...s, mean: s.n ? s.mean / s.n : 0 }))
    .sort((a, b) => a.task.localeCompare(b.task));
}

/** The per-task table: task, n, mean, zeros, errors. */
export function formatTaskTable(rows: TaskSummary[]): string {
  const all = rows.reduce(
    (a, r) => ({
      n: a.n + r.n,
      sum: a.sum + r.mean * r.n,
      zeros: a.zeros + r.zeros,
      errors: a.errors + r.errors,
    }),
    { n: 0, sum: 0, zeros: 0, errors: 0 },
  );
  const table = [
    ["task", "n", "mean", "zeros", "errors"],
    ...rows.map((r) => [r.task, String(r.n), r.mean.toFixed(4), String(r.zeros), String(r.errors)]),
    [
      "all",
      String(all.n),
      (all.n ? all.sum / all.n : 0).toFixed(4),
      String(all.zeros),
      String(all.errors),
    ],
  ];
  return textTable(table[0], table.slice(1));
}
