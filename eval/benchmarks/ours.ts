/**
 * Our own held-out data for the 9 GoLongRL task types: Sample JSONL (tasks/generators/types.ts: `prompt`
 * messages, `data_source`, `ability`, `reward_model.ground_truth`, `extra_info`), scored with the
 * training reward (`computeReward`, tasks/registry.ts) so eval and reward agree bit for bit.
 * Subset = `extra_info.task` if set, else `ability`; length bucket = `extra_info.length_bucket`.
 *
 * The format gate of recipe §1.2 applies when the prediction still carries thinking (a
 * `<think>`/`</think>` tag); a prediction the runner already stripped is scored with
 * `format: "none"` (no gate), since the gate would otherwise zero every answer.
 *
 * @module
 */

import { OURS_SAMPLING } from "./sampling.ts";
import { InputError } from "../../core/errors.ts";
import { computeReward } from "../../tasks/registry.ts";
import { loadRecordItems, messagesTokens, stableHash } from "./common.ts";
import type { Benchmark, EvalItem, EvalMessage, LoadOptions, ScoreResult } from "./types.ts";

/** What an `ours` item's scorer needs (the reward inputs of the sample). */
export interface OursReference {
  dataSource: string;
  groundTruth: unknown;
  extraInfo: unknown;
}

function load(name: string, opts: LoadOptions): AsyncGenerator<EvalItem> {
  return loadRecordItems(opts, { flag: "ours", what: "our held-out Sample JSONL" }, (r, count) => {
    const s = r.record;
    if (!Array.isArray(s.prompt) || typeof s.data_source !== "string") {
      throw new InputError(
        `record ${r.index}: not a Sample (needs prompt and data_source)`,
        r.file,
      );
    }
    const messages: EvalMessage[] = s.prompt.map((m: { role?: unknown; content?: unknown }) => ({
      role: m?.role === "system" || m?.role === "assistant" ? m.role : "user",
      content: String(m?.content ?? ""),
    }));
    const ei = (s.extra_info ?? {}) as Record<string, unknown>;
    const rm = (s.reward_model ?? {}) as Record<string, unknown>;
    const rid = typeof s.id === "string"
      ? s.id
      : typeof ei.index === "string" || typeof ei.index === "number"
      ? String(ei.index)
      : stableHash(JSON.stringify(s.prompt));
    const subset = typeof ei.task === "string"
      ? ei.task
      : typeof s.ability === "string"
      ? s.ability
      : undefined;
    const reference: OursReference = {
      dataSource: s.data_source,
      groundTruth: rm.ground_truth,
      extraInfo: s.extra_info,
    };
    return {
      id: `${name}/${rid}`,
      benchmark: name,
      subset,
      lengthBucket: typeof ei.length_bucket === "string" ? ei.length_bucket : undefined,
      contextTokensHint: typeof ei.tokens === "number"
        ? ei.tokens
        : messagesTokens(messages, count),
      messages,
      reference,
      meta: { reward_mode: ei.reward_mode, data_source: s.data_source, ability: s.ability },
    };
  });
}

/** The `ours` benchmark (our 9-task held-out data, scored by computeReward). */
export function oursBenchmark(): Benchmark {
  const name = "ours";
  return {
    name,
    description: "our 9-task held-out samples, scored by the training reward (computeReward)",
    dataFlag: "ours",
    primaryMetric: "reward",
    sampling: OURS_SAMPLING,
    load: (opts) => load(name, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as OursReference;
      const thinking = prediction.includes("</think>") || prediction.includes("<think>");
      const r = computeReward(
        {
          dataSource: ref.dataSource,
          response: prediction,
          groundTruth: ref.groundTruth,
          extraInfo: ref.extraInfo,
        },
        { format: thinking ? "thinking" : "none" },
      );
      return {
        score: r.reward,
        details: {
          verifier: r.verifier,
          task: r.task,
          taskKey: r.taskKey,
          ...r.details,
          ...(r.error ? { error: r.error } : {}),
        },
      };
    },
  };
}
