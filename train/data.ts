/**
 * Training data: samples from a `data build` output, a deterministic prompt sampler whose whole
 * state is a small cursor (saved in checkpoints, so a resumed run draws the same prompts), and
 * the supervised targets `sft` learns from.
 *
 * Sampling orders are permutations keyed by (seed, epoch[, task]): "natural" walks shuffled
 * epochs over all samples (the task mix of the data); "balanced" visits tasks round-robin, each
 * task walking its own shuffled epochs, so rare tasks get as many prompts as common ones. A
 * balanced sampler with `block` > 1 deals that many prompts of a task in a row before moving on,
 * so one generation round holds several prompt groups of the same task (what task-normalizing
 * estimators pool).
 */
import { readSamples } from "../data/schema.ts";
import type { Sample } from "../tasks/generators/types.ts";
import { goldResponse } from "../data/stats.ts";
import { mulberry32, subSeed } from "../core/rng.ts";
import { InputError } from "../core/errors.ts";
import { joinPath } from "../core/fsutil.ts";

/** Reads samples (a JSONL file, or a build folder's data.jsonl), keeping `tasks` when given. */
export async function loadSamples(path: string, tasks: readonly string[] = []): Promise<Sample[]> {
  let file = path;
  try {
    if ((await Deno.stat(path)).isDirectory) file = joinPath(path, "data.jsonl");
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, path);
  }
  const out: Sample[] = [];
  for await (const s of readSamples(file)) {
    if (tasks.length === 0 || tasks.includes(s.ability)) out.push(s);
  }
  if (out.length === 0) {
    throw new InputError(
      tasks.length ? `no samples of tasks ${tasks.join(", ")}` : "no samples",
      file,
    );
  }
  return out;
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  const r = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** The sampler's position: JSON-serialisable, saved in checkpoints. */
export interface SamplerState {
  /** natural: [epoch, position]; balanced: per task [epoch, position]. */
  cursors: Record<string, [number, number]>;
  /** balanced: the next task to draw from (index into the sorted task list). */
  nextTask: number;
  /** balanced with block > 1: prompts of the current task already dealt in its block. */
  inBlock?: number;
  drawn: number;
}

/** Draws sample indices in a reproducible order; {@link state} / {@link restore} for resume. */
export class PromptSampler {
  readonly #groups: Map<string, number[]>;
  readonly #keys: string[];
  #state: SamplerState;
  /** The live epoch's order per key. */
  #orders = new Map<string, { epoch: number; order: number[] }>();

  constructor(
    samples: readonly Sample[],
    readonly mode: "natural" | "balanced",
    readonly seed: number,
    /** balanced: prompts of one task dealt in a row (1: plain round-robin). */
    readonly block = 1,
  ) {
    if (!Number.isInteger(block) || block < 1) {
      throw new Error(`sampler block must be a positive integer, got ${block}`);
    }
    this.#groups = new Map();
    if (mode === "natural") this.#groups.set("*", samples.map((_, i) => i));
    else {
      for (const [i, s] of samples.entries()) {
        if (!this.#groups.has(s.ability)) this.#groups.set(s.ability, []);
        this.#groups.get(s.ability)!.push(i);
      }
    }
    this.#keys = [...this.#groups.keys()].sort();
    this.#state = {
      cursors: Object.fromEntries(this.#keys.map((k) => [k, [0, 0]])),
      nextTask: 0,
      drawn: 0,
      // Only blocked samplers carry the field: plain ones keep their old state files' form.
      ...(block > 1 ? { inBlock: 0 } : {}),
    };
  }

  #order(key: string, epoch: number): number[] {
    const live = this.#orders.get(key);
    if (live?.epoch === epoch) return live.order;
    const members = this.#groups.get(key)!;
    const seed = subSeed(this.seed, `sampler/${key}#${epoch}`);
    const order = permutation(members.length, seed).map((i) => members[i]);
    this.#orders.set(key, { epoch, order });
    return order;
  }

  /** The next `k` sample indices. */
  next(k: number): number[] {
    const out: number[] = [];
    const st = this.#state;
    for (let i = 0; i < k; i++) {
      const key = this.mode === "natural" ? "*" : this.#keys[st.nextTask % this.#keys.length];
      if (this.mode === "balanced") {
        if (this.block === 1) st.nextTask++;
        else if ((st.inBlock = (st.inBlock ?? 0) + 1) >= this.block) {
          st.inBlock = 0;
          st.nextTask++;
        }
      }
      const c = st.cursors[key];
      const o = this.#order(key, c[0]);
      out.push(o[c[1]]);
      c[1]++;
      if (c[1] >= o.length) [c[0], c[1]] = [c[0] + 1, 0];
    }
    st.nextTask %= this.#keys.length;
    st.drawn += k;
    return out;
  }

  state(): SamplerState {
    return structuredClone(this.#state);
  }

  restore(s: SamplerState): void {
    for (const k of this.#keys) {
      if (!Array.isArray(s.cursors?.[k])) {
        throw new Error(`sampler state has no cursor for "${k}": was the data changed?`);
      }
    }
    this.#state = structuredClone(s);
  }

  /** Epochs completed (natural) or the smallest over tasks (balanced). */
  get epoch(): number {
    return Math.min(...this.#keys.map((k) => this.#state.cursors[k][0]));
  }
}

/**
 * A step's batch of prompt groups, at most `size`, in which every task has at least `perTask`
 * groups (dynamic sampling's kept groups, assembled so a task-normalizing estimator pools several
 * groups of each task). Groups are offered as generated. {@link admit}, after each generation
 * round, moves into `kept` the groups of tasks that have reached `perTask` (counting those already
 * kept), in the order tasks were offered, leaving the room either empty or large enough for
 * another task's `perTask` groups. {@link finish}, when generation stops, fills what room is left
 * with the waiting groups of tasks already in the batch; the other waiting groups are dropped.
 * With `perTask` 1 a group is kept as soon as it is offered, in offer order, while there is room.
 */
export class TaskBatch<G> {
  /** The batch: the groups kept so far. */
  readonly kept: G[] = [];
  readonly #waiting = new Map<string, G[]>();
  readonly #keptPerTask = new Map<string, number>();

  constructor(readonly size: number, readonly perTask: number) {}

  offer(task: string, group: G): void {
    if (this.perTask <= 1) {
      if (this.kept.length < this.size) this.kept.push(group);
      return;
    }
    const w = this.#waiting.get(task);
    if (w) w.push(group);
    else this.#waiting.set(task, [group]);
  }

  /** Keeps the waiting groups of every task that has enough (see the class doc). */
  admit(): void {
    for (const [task, waiting] of this.#waiting) {
      const room = this.size - this.kept.length;
      const have = this.#keptPerTask.get(task) ?? 0;
      // A task not yet in the batch enters only with perTask groups, and only if they fit.
      if (have === 0 && (waiting.length < this.perTask || room < this.perTask)) continue;
      let take = Math.min(waiting.length, room);
      // Leave no room too small for a new task: it would only be filled by finish().
      const left = room - take;
      if (left > 0 && left < this.perTask) {
        take = Math.max(have ? 0 : this.perTask, room - this.perTask);
      }
      this.#keep(task, waiting, take);
    }
  }

  /** Generation has stopped: the room left goes to the batch's tasks' waiting groups. */
  finish(): void {
    for (const [task, waiting] of this.#waiting) {
      if (!this.#keptPerTask.has(task)) continue;
      this.#keep(task, waiting, Math.min(waiting.length, this.size - this.kept.length));
    }
  }

  #keep(task: string, waiting: G[], take: number): void {
    if (take <= 0) return;
    this.kept.push(...waiting.splice(0, take));
    this.#keptPerTask.set(task, (this.#keptPerTask.get(task) ?? 0) + take);
    if (waiting.length === 0) this.#waiting.delete(task);
  }

  /** Groups offered and still waiting (dropped if generation stops now). */
  get waiting(): number {
    let n = 0;
    for (const w of this.#waiting.values()) n += w.length;
    return n;
  }
}

/**
 * The supervised target of a sample: the answer written the way its verifier parses it (the gold
 * self-check's response, data/stats.ts), behind a thinking block when thinking is on.
 */
export function sftTarget(s: Sample, opts: { thinking: boolean; think?: string }): string {
  const g = goldResponse(s);
  if ("error" in g) throw new Error(`sample ${s.id}: ${g.error}`);
  const body = g.response.replace(/^<think>\n<\/think>\n/, "");
  if (!opts.thinking) return body;
  return `<think>\n${opts.think ?? ""}\n</think>\n\n${body}`;
}

/**
 * Token counts of the samples' reference answers as the policy would write them (sftTarget, plus
 * one end-of-turn token). Samples without a known reference answer are left out.
 */
export function answerLengths(
  samples: readonly Sample[],
  count: (text: string) => number,
  thinking: boolean,
): number[] {
  const out: number[] = [];
  for (const s of samples) {
    if ("error" in goldResponse(s)) continue;
    out.push(count(sftTarget(s, { thinking })) + 1);
  }
  return out;
}

/**
 * The smallest response limit, a multiple of `step`, that fits `coverage` of the given answer
 * lengths, clamped to [lo, hi]: a limit below the reference answers makes those prompts
 * unsolvable (every rollout is cut and scores 0, so their groups carry no signal).
 */
export function responseBudget(
  lengths: readonly number[],
  o: { coverage?: number; step?: number; lo?: number; hi?: number } = {},
): number {
  const { coverage = 0.9, step = 16, lo = 32, hi = 128 } = o;
  if (lengths.length === 0) return lo;
  const sorted = [...lengths].sort((a, b) => a - b);
  const q = sorted[Math.min(sorted.length - 1, Math.ceil(coverage * sorted.length) - 1)];
  return Math.min(hi, Math.max(lo, Math.ceil(q / step) * step));
}

/**
 * Splits task types by whether their typical reference answer fits a response limit: a task whose
 * median answer is longer than the limit is cut in most rollouts, so its groups carry length noise
 * rather than signal (the default run trains on the others and says so).
 */
export function tasksThatFit(
  samples: readonly Sample[],
  count: (text: string) => number,
  thinking: boolean,
  limit: number,
): { fit: string[]; cut: { task: string; median: number }[] } {
  const by = new Map<string, Sample[]>();
  for (const s of samples) by.set(s.ability, [...(by.get(s.ability) ?? []), s]);
  const fit: string[] = [], cut: { task: string; median: number }[] = [];
  for (const task of [...by.keys()].sort()) {
    const lens = answerLengths(by.get(task)!, count, thinking).sort((a, b) => a - b);
    if (lens.length === 0) continue;
    const median = lens[(lens.length - 1) >> 1];
    if (median <= limit) fit.push(task);
    else cut.push({ task, median });
  }
  return { fit, cut };
}

/** Round-robin over tasks (each task's order kept), so any prefix covers every task. */
export function interleaveByTask<T extends { ability: string }>(xs: readonly T[]): T[] {
  const by = new Map<string, T[]>();
  for (const s of xs) by.set(s.ability, [...(by.get(s.ability) ?? []), s]);
  const lists = [...by.keys()].sort().map((k) => by.get(k)!);
  const out: T[] = [];
  for (let i = 0; out.length < xs.length; i++) {
    for (const l of lists) if (i < l.length) out.push(l[i]);
  }
  return out;
}
