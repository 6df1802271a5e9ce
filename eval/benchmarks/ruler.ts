/**
 * The RULER-style suite as a benchmark (eval/ruler/): items for every task × requested length,
 * `limit` samples each (default 50). Subset = task, length bucket = "4k", "16k", …. The user
 * message is the task prompt; `meta.answerPrefix` is RULER's answer prefix, which the runner
 * appends (as the start of the assistant turn) only for base models, as RULER does.
 *
 * Resources come from `path` if given (a shared-data folder), else `$GOLONGRL_SHARED`, else
 * `../shared`.
 *
 * @module
 */

import { RULER_SAMPLING } from "./sampling.ts";
import {
  generateRulerSample,
  loadRulerResources,
  RULER_TASK_NAMES,
  type RulerTask,
  scoreRuler,
} from "../ruler/mod.ts";
import { tokenCounter } from "./common.ts";
import { lengthLabel } from "../../core/lengths.ts";
import type { Benchmark, EvalItem, LoadOptions, ScoreResult } from "./types.ts";

/** RULER's default lengths (scripts/config_models.sh). */
export const RULER_DEFAULT_LENGTHS = [4096, 8192, 16384, 32768, 65536, 131072];

/** Samples per task and length when `limit` is not given. */
export const RULER_DEFAULT_SAMPLES = 50;

/** What a RULER item's scorer needs. */
export interface RulerReference {
  outputs: string[];
  metric: "string_match_all" | "string_match_part";
}

async function* load(
  name: string,
  tasks: readonly RulerTask[],
  opts: LoadOptions,
): AsyncGenerator<EvalItem> {
  const res = await loadRulerResources(opts.path);
  const count = tokenCounter(opts.tokenizer);
  const lengths = opts.lengths?.length ? opts.lengths : RULER_DEFAULT_LENGTHS;
  const per = opts.limit ?? RULER_DEFAULT_SAMPLES;
  for (const length of lengths) {
    for (const task of tasks) {
      for (let index = 0; index < per; index++) {
        const s = generateRulerSample({
          task,
          length,
          index,
          seed: opts.seed,
          resources: res,
          countTokens: count,
        });
        const reference: RulerReference = { outputs: s.outputs, metric: s.metric };
        yield {
          id: `${name}/${task}/${lengthLabel(length)}/s${opts.seed}/${index}`,
          benchmark: name,
          subset: task,
          lengthBucket: lengthLabel(length),
          contextTokensHint: s.totalTokens,
          messages: [{ role: "user", content: s.input }],
          // The haystack: a cut keeps the task instructions and the query whole.
          document: s.input.slice(s.contextSpan[0], s.contextSpan[1]) || undefined,
          reference,
          meta: {
            answerPrefix: s.answerPrefix,
            maxNewTokens: s.tokensToGenerate,
            targetLength: length,
            contextSpan: s.contextSpan,
            needles: s.needles.map((n) => ({ depth: n.depth, offset: n.offset })),
          },
        };
      }
    }
  }
}

/** The RULER-style benchmark over `tasks` (default: all). */
export function rulerBenchmark(tasks: readonly RulerTask[] = RULER_TASK_NAMES): Benchmark {
  const name = "ruler";
  return {
    name,
    description:
      "RULER-style synthetic suite on real book text: NIAH x8, variable tracking, common words, NQ QA",
    primaryMetric: "string_match",
    sampling: RULER_SAMPLING,
    load: (opts) => load(name, tasks, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as RulerReference;
      return {
        score: scoreRuler(ref.metric, ref.outputs, prediction),
        details: { metric: ref.metric },
      };
    },
  };
}
