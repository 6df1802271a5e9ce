/**
 * P4 difficulty filtering: k rollouts per sample by a policy, scored by the
 * sample's verifier, give a pass rate; bands decide what is kept. GoLongRL's
 * two-stage scheme is supported: a small policy labels Easy / Medium /
 * Unsolved, then a stronger policy re-labels the Unsolved ones Medium / Hard /
 * Discard. The thresholds are configurable (the paper does not publish them).
 */
import { computeReward } from "../tasks/registry.ts";
import type { RewardOptions } from "../tasks/types.ts";
import type { Sample } from "../tasks/generators/types.ts";

/** Anything that can answer prompts k times: a local checkpoint or an endpoint. */
export interface Policy {
  name: string;
  /** k responses for each sample's prompt, in order. */
  respond(samples: Sample[], k: number): Promise<string[][]>;
}

export interface DifficultyConfig {
  /** Rollouts per sample. */
  k: number;
  /** A rollout passes when its reward is at least this (1 for binary rewards). */
  passReward: number;
  /** Stage 1: pass rate >= easy → "easy"; > unsolved → "medium"; else "unsolved". */
  easy: number;
  unsolved: number;
  /** Keep "easy" samples (GoLongRL keeps them). */
  keepEasy: boolean;
  /** Stage 2 (on "unsolved", by the second policy): pass rate >= medium → "medium"; > 0 → "hard"; 0 → "discard". */
  medium2: number;
  reward?: RewardOptions;
}

export const DEFAULT_DIFFICULTY: DifficultyConfig = {
  k: 8,
  passReward: 1,
  easy: 0.875,
  unsolved: 0,
  keepEasy: true,
  medium2: 0.5,
};

export type Band = "easy" | "medium" | "unsolved" | "hard" | "discard";

/** Pass rate of one sample's responses under its verifier. */
export function passRate(
  sample: Sample,
  responses: string[],
  cfg: Pick<DifficultyConfig, "passReward" | "reward">,
): number {
  if (responses.length === 0) return 0;
  let pass = 0;
  for (const r of responses) {
    const { reward } = computeReward({
      dataSource: sample.data_source,
      response: r,
      groundTruth: sample.reward_model.ground_truth,
      extraInfo: sample.extra_info,
    }, cfg.reward);
    if (reward >= cfg.passReward) pass++;
  }
  return pass / responses.length;
}

export function stage1Band(rate: number, cfg: DifficultyConfig): Band {
  return rate >= cfg.easy ? "easy" : rate > cfg.unsolved ? "medium" : "unsolved";
}

export function stage2Band(rate: number, cfg: DifficultyConfig): Band {
  return rate >= cfg.medium2 ? "medium" : rate > 0 ? "hard" : "discard";
}

export interface DifficultyResult {
  kept: Sample[];
  removed: { sample: Sample; band: Band; passRate: number }[];
  counts: Record<Band, number>;
}

/** Runs stage 1 with `policies[0]` and, if given, stage 2 with `policies[1]`. */
export async function filterByDifficulty(
  samples: Sample[],
  policies: Policy[],
  cfg: DifficultyConfig,
  onProgress?: (n: number) => void,
): Promise<DifficultyResult> {
  const counts: Record<Band, number> = { easy: 0, medium: 0, unsolved: 0, hard: 0, discard: 0 };
  const kept: Sample[] = [];
  const removed: DifficultyResult["removed"] = [];
  const label = (s: Sample, rate: number, band: Band, policy: string): Sample => ({
    ...s,
    extra_info: { ...s.extra_info, difficulty: { pass_rate: rate, band, k: cfg.k, policy } },
  });
  const r1 = await policies[0].respond(samples, cfg.k);
  const unsolved: Sample[] = [];
  for (const [i, s] of samples.entries()) {
    const rate = passRate(s, r1[i], cfg);
    const band = stage1Band(rate, cfg);
    const t = label(s, rate, band, policies[0].name);
    if (band === "unsolved") unsolved.push(t);
    else if (band === "easy" && !cfg.keepEasy) {
      counts.easy++;
      removed.push({ sample: t, band, passRate: rate });
    } else {
      counts[band]++;
      kept.push(t);
    }
    onProgress?.(1);
  }
  if (policies[1] && unsolved.length) {
    const r2 = await policies[1].respond(unsolved, cfg.k);
    for (const [i, s] of unsolved.entries()) {
      const rate = passRate(s, r2[i], cfg);
      const band = stage2Band(rate, cfg);
      const t = label(s, rate, band, policies[1].name);
      counts[band]++;
      if (band === "discard") removed.push({ sample: t, band, passRate: rate });
      else kept.push(t);
    }
  } else {
    // One stage only: unsolved samples stay, marked, pending a stronger policy (as in the figure).
    for (const s of unsolved) {
      counts.unsolved++;
      kept.push(s);
    }
  }
  // Keep the input order.
  const order = new Map(samples.map((s, i) => [s.id, i]));
  kept.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { kept, removed, counts };
}
