/**
 * Scoring off the event loop: a pool of Workers (one per core by default) that run the
 * verifiers for the reward service, so that a heavy request never stalls `/health` or light
 * requests. Each call has a deadline: a job still running at its deadline has its worker
 * terminated (and replaced), and its unfinished items score 0 with an error naming the budget.
 *
 * When Workers cannot start (a runtime without them, a worker module that cannot load), the
 * pool scores in process instead: the same deadline, checked between items, and a yield to the
 * event loop every few milliseconds so other requests interleave. One item cannot be preempted
 * there, which is why the service also caps each item's work (see server.ts).
 *
 * @module
 */
import { computeReward, getVerifier, routeVerifier, taskKey } from "../tasks/registry.ts";
import type { RewardInput, RewardOptions, RewardResult } from "../tasks/types.ts";
import type { ZhSegmenter } from "../metrics/segment.ts";
import { type FromWorker, SCORE_WORKER_NAME, type ToWorker } from "./score_worker.ts";

export interface ScorePoolOptions {
  /** Worker count; 0 scores in process. */
  workers: number;
  reward: RewardOptions;
  zhSegmenter?: ZhSegmenter;
  /** The worker's module (default: see {@link setScoreWorkerEntry}). */
  workerUrl?: string | URL;
  /** How long a worker may take to start (default 30 s). */
  startupTimeoutMs?: number;
  log?: (s: string) => void;
}

let entry: string | URL | undefined;

/**
 * Sets the module new workers load. By default that is score_worker.ts next to this file;
 * the single-file bundle has no such file, so main.ts points the pool at the bundle itself
 * (which starts the scoring loop when loaded as a scoring worker).
 */
export function setScoreWorkerEntry(url: string | URL): void {
  entry = url;
}

function defaultEntry(): string | URL {
  return entry ?? new URL("./score_worker.ts", import.meta.url);
}

/** A 0 for an item that was not scored (over a cap, out of time), with its routing filled in. */
export function unscored(item: RewardInput, error: string): RewardResult {
  let key = "";
  let verifier = "none";
  let task: RewardResult["task"] = "unknown";
  try {
    key = taskKey({ extra_info: item.extraInfo });
    const route = routeVerifier(item.dataSource, item.extraInfo);
    if ("name" in route) {
      verifier = route.name;
      task = getVerifier(route.name)!.task;
    }
  } catch { /* routing details are a courtesy */ }
  return { reward: 0, verifier, task, taskKey: key, details: {}, error };
}

interface Chunk {
  items: RewardInput[];
  results: (RewardResult | undefined)[];
  deadline: number;
  budgetError: string;
  resolve: () => void;
  /** Fires at the deadline while the chunk still waits for a worker. */
  queueTimer?: ReturnType<typeof setTimeout>;
}

interface Slot {
  worker: Worker;
  chunk?: Chunk;
  job: number;
  timer?: ReturnType<typeof setTimeout>;
}

const sleep0 = () => new Promise<void>((r) => setTimeout(r, 0));

export class ScorePool {
  readonly mode: "workers" | "in-process";
  #slots: Slot[] = [];
  #idle: Slot[] = [];
  #queue: Chunk[] = [];
  #jobs = 0;
  #closed = false;
  #opts: ScorePoolOptions;

  private constructor(opts: ScorePoolOptions, slots: Slot[]) {
    this.#opts = opts;
    this.mode = slots.length > 0 ? "workers" : "in-process";
    for (const s of slots) this.#adopt(s);
  }

  /** Starts the workers; falls back to in-process scoring when none can start. */
  static async start(opts: ScorePoolOptions): Promise<ScorePool> {
    const n = Math.max(0, Math.floor(opts.workers));
    const started = await Promise.all(
      Array.from({ length: n }, () => spawn(opts).catch((e: Error) => e)),
    );
    const slots = started.filter((s): s is Slot => !(s instanceof Error));
    const failed = started.find((s): s is Error => s instanceof Error);
    if (failed && slots.length === 0) {
      opts.log?.(`scoring workers unavailable (${failed.message}); scoring in process\n`);
    }
    return new ScorePool(opts, slots);
  }

  /** A pool that scores in process (no workers). */
  static inProcess(opts: Omit<ScorePoolOptions, "workers">): ScorePool {
    return new ScorePool({ ...opts, workers: 0 }, []);
  }

  /** Live workers. */
  get size(): number {
    return this.#slots.length;
  }

  /**
   * Each item's result, in order. `works` (the items' work estimates) balance the split of a
   * batch across workers; `deadline` is a performance.now() time; `budgetError` is the error
   * an item left unscored at the deadline gets.
   */
  async score(
    items: RewardInput[],
    works: number[],
    deadline: number,
    budgetError: string,
  ): Promise<RewardResult[]> {
    if (this.#closed) throw new Error("the scoring pool is closed");
    const results: (RewardResult | undefined)[] = new Array(items.length);
    if (this.mode === "in-process") {
      let lastYield = performance.now();
      for (let i = 0; i < items.length; i++) {
        if (performance.now() >= deadline) {
          results[i] = unscored(items[i], budgetError);
          continue;
        }
        results[i] = computeReward(items[i], this.#opts.reward);
        if (performance.now() - lastYield > 5) {
          await sleep0();
          lastYield = performance.now();
        }
      }
      return results as RewardResult[];
    }
    const parts = split(works, Math.max(1, this.#slots.length));
    await Promise.all(parts.map(([lo, hi]) =>
      new Promise<void>((resolve) => {
        const chunk: Chunk = {
          items: items.slice(lo, hi),
          results: new Array(hi - lo),
          deadline,
          budgetError,
          resolve: () => {
            chunk.results.forEach((r, k) => results[lo + k] = r);
            resolve();
          },
        };
        this.#queue.push(chunk);
        // Out of time while every worker is busy (or being replaced): answer without them.
        chunk.queueTimer = setTimeout(() => {
          const at = this.#queue.indexOf(chunk);
          if (at < 0) return;
          this.#queue.splice(at, 1);
          chunk.items.forEach((it, k) => chunk.results[k] ??= unscored(it, budgetError));
          chunk.resolve();
        }, Math.max(0, deadline - performance.now()));
        this.#pump();
      })
    ));
    return results.map((r, i) => r ?? unscored(items[i], budgetError));
  }

  /** Terminates the workers; calls in flight finish with budget errors. */
  close(): void {
    this.#closed = true;
    for (const s of this.#slots) {
      clearTimeout(s.timer);
      s.worker.terminate();
      s.chunk?.resolve();
    }
    for (const c of this.#queue.splice(0)) {
      clearTimeout(c.queueTimer);
      c.resolve();
    }
    this.#slots = [];
    this.#idle = [];
  }

  #adopt(s: Slot): void {
    this.#slots.push(s);
    this.#idle.push(s);
    s.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      const c = s.chunk;
      if (!c || (m.kind !== "result" && m.kind !== "done") || m.job !== s.job) return;
      if (m.kind === "result") c.results[m.index] = m.result;
      else this.#finish(s);
    };
    s.worker.onerror = (e) => {
      e.preventDefault();
      this.#replace(s, `scoring worker failed: ${e.message}`);
    };
  }

  #pump(): void {
    while (this.#idle.length && this.#queue.length) {
      const s = this.#idle.shift()!;
      const c = this.#queue.shift()!;
      clearTimeout(c.queueTimer);
      const left = c.deadline - performance.now();
      if (left <= 0) {
        this.#idle.unshift(s);
        c.items.forEach((it, k) => c.results[k] ??= unscored(it, c.budgetError));
        c.resolve();
        continue;
      }
      s.chunk = c;
      s.job = ++this.#jobs;
      s.timer = setTimeout(() => this.#replace(s, c.budgetError), left);
      s.worker.postMessage({ kind: "job", job: s.job, items: c.items } satisfies ToWorker);
    }
  }

  #finish(s: Slot): void {
    clearTimeout(s.timer);
    const c = s.chunk!;
    s.chunk = undefined;
    c.resolve();
    this.#idle.push(s);
    this.#pump();
  }

  /** Ends a slot's worker (out of time, or crashed); its unfinished items get `error`. */
  #replace(s: Slot, error: string): void {
    clearTimeout(s.timer);
    s.worker.terminate();
    this.#slots = this.#slots.filter((x) => x !== s);
    this.#idle = this.#idle.filter((x) => x !== s);
    const c = s.chunk;
    s.chunk = undefined;
    if (c) {
      c.items.forEach((it, k) => c.results[k] ??= unscored(it, error));
      c.resolve();
    }
    if (this.#closed) return;
    spawn(this.#opts).then((fresh) => {
      if (this.#closed) fresh.worker.terminate();
      else {
        this.#adopt(fresh);
        this.#pump();
      }
    }, (e: Error) => this.#opts.log?.(`a scoring worker could not be replaced: ${e.message}\n`));
  }
}

/** Starts one worker and waits for its `ready`. */
function spawn(opts: ScorePoolOptions): Promise<Slot> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(opts.workerUrl ?? defaultEntry(), {
        type: "module",
        name: SCORE_WORKER_NAME,
      });
    } catch (e) {
      reject(e);
      return;
    }
    const fail = (message: string) => {
      clearTimeout(timer);
      worker.terminate();
      reject(new Error(message));
    };
    const timer = setTimeout(
      () => fail("a scoring worker did not start in time"),
      opts.startupTimeoutMs ?? 30_000,
    );
    worker.onerror = (e) => {
      e.preventDefault();
      fail(e.message);
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (e.data.kind === "ready") {
        clearTimeout(timer);
        resolve({ worker, job: 0 });
      } else if (e.data.kind === "initError") fail(e.data.message);
    };
    worker.postMessage(
      { kind: "init", reward: opts.reward, zhSegmenter: opts.zhSegmenter } satisfies ToWorker,
    );
  });
}

/** Contiguous [lo, hi) ranges, at most `parts`, of about equal total work. */
export function split(works: number[], parts: number): [number, number][] {
  const n = works.length;
  if (n === 0) return [];
  const k = Math.min(parts, n);
  const total = works.reduce((a, b) => a + b, 0);
  const out: [number, number][] = [];
  let lo = 0, acc = 0;
  for (let i = 0; i < n; i++) {
    acc += works[i];
    const remainingParts = k - out.length - 1;
    const mustCut = n - (i + 1) === remainingParts && remainingParts > 0;
    const enoughLeft = n - (i + 1) >= remainingParts;
    if (remainingParts > 0 && enoughLeft && (acc >= (total * (out.length + 1)) / k || mustCut)) {
      out.push([lo, i + 1]);
      lo = i + 1;
    }
  }
  out.push([lo, n]);
  return out;
}
