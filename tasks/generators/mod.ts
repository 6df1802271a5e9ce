/**
 * The rule-based synthetic track (P2 + P3 without an LLM): the generator registry, P2 task
 * assignment of documents to generators, and the gold self-check.
 *
 * Every generator makes {@link Draft}s whose answer is right by construction and whose
 * instruction asks for exactly what its verifier parses (docs/generators.md). The self-check
 * scores {@link goldResponse} with the real verifier (`computeReward`) and must reach the
 * verifier's maximum for every draft.
 *
 * ```ts
 * const byGen = routeDocuments(docs);
 * const rng = mulberry32(7);
 * for (const g of GENERATORS) {
 *   for (const d of g.make(byGen.get(g.name) ?? [], rng)) console.assert(selfCheck(d).ok);
 * }
 * ```
 *
 * @module
 */
import type { Document, Draft } from "./types.ts";
import { computeReward } from "../registry.ts";
import type { RewardResult, TaskType } from "../types.ts";
import type { Generator } from "./common.ts";
import { goldResponse, goldRewardOptions, maxReward } from "./formats.ts";
import { COMPREHENSION } from "./comprehension.ts";
import { EXHAUSTIVE_RETRIEVAL } from "./exhaustive_retrieval.ts";
import { GRADED_RANKING } from "./graded_ranking.ts";
import { NUMERICAL_REASONING } from "./numerical_reasoning.ts";
import { PRECISE_RETRIEVAL } from "./precise_retrieval.ts";
import { SEQUENCE_ORDERING } from "./sequence_ordering.ts";
import { STRUCTURED_EXTRACTION } from "./structured_extraction.ts";
import { STRUCTURED_MATCHING } from "./structured_matching.ts";
import { SUMMARIZATION } from "./summarization.ts";
import { OPEN_SOURCE } from "./open_source.ts";

export type { Generator, GenOptions } from "./common.ts";
export type { Rng } from "./text.ts";
export { goldResponse, goldRewardOptions, maxReward, SUMMARY_MAX_REWARD } from "./formats.ts";

/** Every generator, grouped by task type in README order. */
export const GENERATORS: readonly Generator[] = [
  ...PRECISE_RETRIEVAL,
  ...COMPREHENSION,
  ...EXHAUSTIVE_RETRIEVAL,
  ...NUMERICAL_REASONING,
  ...STRUCTURED_EXTRACTION,
  ...STRUCTURED_MATCHING,
  ...GRADED_RANKING,
  ...SEQUENCE_ORDERING,
  ...SUMMARIZATION,
  ...OPEN_SOURCE,
];

/** The generator named `name`, or undefined. */
export function getGenerator(name: string): Generator | undefined {
  return GENERATORS.find((g) => g.name === name);
}

/** The generators of one task type. */
export function generatorsFor(task: TaskType): Generator[] {
  return GENERATORS.filter((g) => g.task === task);
}

/** Options of {@link routeDocuments}. */
export interface RouteOptions {
  /**
   * Assign each document to one generator only (default false: a document goes to every
   * generator whose criterion it meets). Exclusive assignment is greedy and deterministic: each
   * document, in input order, goes to the eligible generator holding the fewest documents so far
   * (ties: registry order), which balances task types without randomness.
   */
  exclusive?: boolean;
  /** Only these generators (by name). */
  only?: string[];
}

/**
 * P2 task assignment: documents → generator name → the documents it may use. A document is
 * eligible for a generator when its kind is one of the generator's kinds and it meets the
 * generator's `accepts` criterion (listed in docs/generators.md). Generators that get no
 * documents are absent from the map. Never throws; malformed documents are skipped.
 */
export function routeDocuments(docs: Document[], opts: RouteOptions = {}): Map<string, Document[]> {
  const gens = GENERATORS.filter((g) => !opts.only || opts.only.includes(g.name));
  const out = new Map<string, Document[]>();
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (!doc || typeof doc !== "object") continue;
    const eligible = gens.filter((g) => {
      try {
        return g.kinds.includes(doc.kind) && g.accepts(doc);
      } catch {
        return false;
      }
    });
    if (eligible.length === 0) continue;
    const targets = opts.exclusive
      ? [
        eligible.reduce((best, g) =>
          (out.get(g.name)?.length ?? 0) < (out.get(best.name)?.length ?? 0) ? g : best
        ),
      ]
      : eligible;
    for (const g of targets) {
      const list = out.get(g.name) ?? [];
      list.push(doc);
      out.set(g.name, list);
    }
  }
  return out;
}

/** The outcome of scoring a draft's gold response. */
export interface SelfCheck {
  reward: number;
  max: number;
  ok: boolean;
  result: RewardResult;
}

/**
 * Score {@link goldResponse} with the real verifier (`computeReward`, with
 * {@link goldRewardOptions}); `ok` when it reaches {@link maxReward} (within 1e-12).
 */
export function selfCheck(draft: Draft): SelfCheck {
  const result = scoreResponse(draft, goldResponse(draft), goldRewardOptions(draft).format);
  const max = maxReward(draft);
  return { reward: result.reward, max, ok: result.reward >= max - 1e-12, result };
}

/** Score any response to a draft with its verifier (format gate "thinking" unless told). */
export function scoreResponse(
  draft: Draft,
  response: string,
  format: "thinking" | "none" = "thinking",
): RewardResult {
  return computeReward(
    {
      dataSource: draft.data_source,
      response,
      groundTruth: draft.ground_truth,
      extraInfo: { reward_mode: draft.reward_mode },
    },
    { format },
  );
}
