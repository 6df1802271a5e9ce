/**
 * The scoring worker of the reward service (see pool.ts). A module run as a Worker named
 * {@link SCORE_WORKER_NAME} answers `{init}` with `{ready}`, then scores jobs item by item,
 * posting each result as soon as it is known, so that a job cut off by its time budget keeps
 * what was finished.
 *
 * This module starts the worker loop as a side effect, but only inside such a worker. The
 * single-file bundle carries it, so the bundle itself can serve as the worker's module.
 *
 * @module
 */
import { computeReward } from "../tasks/registry.ts";
import type { RewardInput, RewardOptions, RewardResult } from "../tasks/types.ts";
import { setChineseSegmenter, type ZhSegmenter } from "../metrics/segment.ts";

/** The Worker name that makes a module start the scoring loop. */
export const SCORE_WORKER_NAME = "golongrl-score";

export type ToWorker =
  | { kind: "init"; reward: RewardOptions; zhSegmenter?: ZhSegmenter }
  | { kind: "job"; job: number; items: RewardInput[] };

export type FromWorker =
  | { kind: "ready" }
  | { kind: "initError"; message: string }
  | { kind: "result"; job: number; index: number; result: RewardResult }
  | { kind: "done"; job: number };

/** Whether this code runs inside a scoring worker. */
export function isScoreWorker(): boolean {
  return (globalThis as { name?: unknown }).name === SCORE_WORKER_NAME &&
    typeof (globalThis as { postMessage?: unknown }).postMessage === "function";
}

function runScoreWorker(): void {
  const post = (m: FromWorker) => (globalThis as unknown as Worker).postMessage(m);
  let reward: RewardOptions = {};
  (globalThis as unknown as Worker).onmessage = async (e: MessageEvent<ToWorker>) => {
    const m = e.data;
    if (m.kind === "init") {
      try {
        reward = m.reward;
        if (m.zhSegmenter) await setChineseSegmenter(m.zhSegmenter);
        post({ kind: "ready" });
      } catch (err) {
        post({ kind: "initError", message: (err as Error).message });
      }
      return;
    }
    m.items.forEach((item, index) => {
      post({ kind: "result", job: m.job, index, result: computeReward(item, reward) });
    });
    post({ kind: "done", job: m.job });
  };
}

if (isScoreWorker()) runScoreWorker();
