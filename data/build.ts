/**
 * `golongrl data build`: the four phases, end to end and deterministic for a seed.
 *
 *   P1 ingest      real documents → Documents (skips named and counted), dedup
 *   P2 assign      documents → the generators whose criteria they meet
 *   P3 construct   rule-based drafts: question, verifiable answer, evidence
 *   P4 refine      length bucketing (evidence at a seeded depth in real padding
 *                  text, sized with the target tokenizer), optional difficulty
 *                  filtering and 13-gram decontamination, gold self-check,
 *                  diagnostics
 *
 * Outputs in --out: data.jsonl (our schema), data.parquet (verl layout, with
 * --parquet), stats.json and stats.md, report.json (skips, removals, phase
 * counts) and config.json. Every file is written atomically.
 */
import { ingestPaths, isSkipped } from "./ingest/mod.ts";
import { Deduper } from "./dedup.ts";
import type { Document, Draft, Sample, Skipped } from "../tasks/generators/types.ts";
import { GENERATORS, routeDocuments, selfCheck } from "../tasks/generators/mod.ts";
import { withAnswerAt } from "../tasks/generators/formats.ts";
import { assemble, PaddingPool, type TokenCounter } from "./assemble.ts";
import { mulberry32, subSeed } from "../core/rng.ts";
import { lengthLabel } from "../core/lengths.ts";
import { Progress } from "../core/progress.ts";
import { writeSamplesJsonl } from "./schema.ts";
import { writeParquet } from "./parquet.ts";
import { buildBenchmarkIndex, decontaminate } from "./decontam.ts";
import { statsJson, statsMarkdown } from "./stats.ts";
import { auditMarkdown, auditSamples } from "./audit.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/fsutil.ts";
import type { TaskType } from "../tasks/types.ts";

export interface BuildOptions {
  sources: string[];
  out: string;
  /** Task types to build (default: all 9). */
  tasks?: TaskType[];
  /** Length buckets in tokens, e.g. [4096, 16384, 32768]. */
  lengths: number[];
  /** Samples per task per length bucket. */
  perTask: number;
  seed: number;
  count: TokenCounter;
  /** Tokens of a whole user message as the model sees it (chat template); default `count`. */
  countPrompt?: TokenCounter;
  /** Name of what counts tokens, for the report. */
  tokenizerName: string;
  /** Benchmark JSONL files to decontaminate against. */
  benchmarks?: string[];
  parquet?: boolean;
  /** Fraction of source documents whose samples form the held-out split (heldout.jsonl). */
  heldout?: number;
  /** Seed of the held-out split alone (default `seed`): fixes which documents are held out. */
  heldoutSeed?: number;
  dedupThreshold?: number;
  minChars?: number;
  quiet?: boolean;
  log?: (s: string) => void;
}

export interface BuildReport {
  documents: number;
  skipped: { source: string; reason: string }[];
  duplicates: { id: string; duplicateOf: string; reason: string }[];
  drafts: Record<string, number>;
  draftFailures: { generator: string; error: string }[];
  goldFailures: string[];
  bucketSkips: Record<string, number>;
  /** "task@bucket" → samples that repeat a question of another bucket (too few drafts). */
  repeats: Record<string, number>;
  /** The task types asked for (those with no sample are listed too). */
  tasks: string[];
  samples: number;
  heldout: number;
  decontaminated: { id: string; reason: string }[];
  perTaskBucket: Record<string, Record<string, number>>;
}

/** P1: ingest and dedup. */
export async function ingestPhase(
  sources: string[],
  opts: { dedupThreshold?: number; minChars?: number; quiet?: boolean },
): Promise<{ docs: Document[]; skipped: Skipped[]; duplicates: BuildReport["duplicates"] }> {
  const progress = new Progress("ingest", { unit: "documents", quiet: opts.quiet });
  const docs: Document[] = [], skipped: Skipped[] = [];
  const duplicates: BuildReport["duplicates"] = [];
  const dedup = new Deduper({ threshold: opts.dedupThreshold ?? 0.8 });
  for await (const d of ingestPaths(sources, { minChars: opts.minChars ?? 200 })) {
    progress.tick();
    if (isSkipped(d)) {
      skipped.push(d);
      continue;
    }
    const v = dedup.check(d);
    if (v) duplicates.push({ id: d.id, duplicateOf: v.duplicateOf, reason: v.reason });
    else docs.push(d);
  }
  progress.finish();
  return { docs, skipped, duplicates };
}

/**
 * P2 + P3: drafts per task type, from every generator of that type, interleaved so that the
 * generators of a task share it evenly (round robin over the generators in a seeded order, each
 * generator's drafts shuffled), not in proportion to how many drafts each happens to make.
 * `maxEvidenceChars` sizes the evidence (a short bucket needs short evidence); each size draws
 * from its own seeded stream.
 */
export function constructPhase(
  docs: Document[],
  opts: { tasks: TaskType[]; seed: number; perTask: number; maxEvidenceChars?: number },
  report: Pick<BuildReport, "drafts" | "draftFailures" | "goldFailures">,
): Map<TaskType, Draft[]> {
  const routes = routeDocuments(docs);
  const perGen = new Map<TaskType, Draft[][]>();
  const tag = opts.maxEvidenceChars ? `@${opts.maxEvidenceChars}` : "";
  for (const g of GENERATORS) {
    if (!opts.tasks.includes(g.task)) continue;
    const mine = routes.get(g.name) ?? [];
    let drafts: Draft[] = [];
    try {
      drafts = g.make(
        mine,
        mulberry32(subSeed(opts.seed, g.name + tag)),
        opts.maxEvidenceChars ? { maxEvidenceChars: opts.maxEvidenceChars } : undefined,
      );
    } catch (e) {
      report.draftFailures.push({ generator: g.name, error: (e as Error).message });
    }
    // Gold self-check at the source: a draft whose reference answer does not score the
    // verifier's maximum is a generator bug; it is dropped and named.
    const ok = drafts.filter((d) => {
      const c = selfCheck(d);
      if (!c.ok) report.goldFailures.push(`${g.name}: ${d.question.slice(0, 80)}`);
      return c.ok;
    });
    report.drafts[g.name] = (report.drafts[g.name] ?? 0) + ok.length;
    const lists = perGen.get(g.task) ?? [];
    lists.push(ok);
    perGen.set(g.task, lists);
  }
  const byTask = new Map<TaskType, Draft[]>();
  for (const [task, lists] of perGen) {
    const rand = mulberry32(subSeed(opts.seed, `shuffle:${task}${tag}`));
    // Right options of multiple choice rotate through A–D in each generator's order, so a
    // constant letter scores a quarter (a seeded draw left 60% "B" in a small build).
    const order = seededShuffle(rand, lists.filter((l) => l.length > 0)).map((l) => {
      const off = Math.floor(rand() * 4);
      return seededShuffle(rand, l).map((d, i) => withAnswerAt(d, (i + off) % 4));
    });
    const out: Draft[] = [];
    for (let i = 0; out.length < order.reduce((a, l) => a + l.length, 0); i++) {
      for (const l of order) if (i < l.length) out.push(l[i]);
    }
    byTask.set(task, out);
  }
  return byTask;
}

function seededShuffle<T>(rand: () => number, xs: readonly T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Longest evidence, in characters, that leaves room in an L-token bucket for the question. */
export function evidenceBudget(L: number, charsPerToken: number): number {
  return Math.max(500, Math.min(10_000, Math.floor((L - 200) * 0.8 * charsPerToken)));
}

/** Characters per token of the corpus under `count`, from up to 40 padding passages. */
export function charsPerToken(pool: PaddingPool, count: TokenCounter): number {
  const step = Math.max(1, Math.floor(pool.passages.length / 40));
  let chars = 0, tokens = 0;
  for (let i = 0; i < pool.passages.length; i += step) {
    chars += pool.passages[i].text.length;
    tokens += count(pool.passages[i].text);
  }
  return tokens > 0 ? chars / tokens : 4;
}

/** A question's identity across buckets: the same question with the same answer. */
function questionKey(d: Draft): string {
  return `${d.question}\u0000${JSON.stringify(d.ground_truth)}`;
}

/** P4a: each task's drafts assembled at each length until perTask samples per bucket. */
export function bucketPhase(
  byTask: Map<TaskType, Draft[]>,
  docs: Document[],
  opts: {
    lengths: number[];
    perTask: number;
    seed: number;
    count: TokenCounter;
    countPrompt?: TokenCounter;
    quiet?: boolean;
    /** Drafts made for one bucket length (sized evidence); else `byTask` for every bucket. */
    draftsFor?: (L: number, task: TaskType) => Draft[];
    pool?: PaddingPool;
  },
  report: Pick<BuildReport, "bucketSkips"> & Partial<Pick<BuildReport, "repeats">>,
): Sample[] {
  const pool = opts.pool ?? new PaddingPool(docs);
  const samples: Sample[] = [];
  const total = byTask.size * opts.lengths.length * opts.perTask;
  const progress = new Progress("assemble", { unit: "samples", total, quiet: opts.quiet });
  for (const task of [...byTask.keys()].sort((a, b) => a.localeCompare(b))) {
    // Questions already used in a bucket: another bucket takes them only when nothing new fits.
    const used = new Set<string>();
    // Answer positions (option letter, answer passage) rotate per generator over the samples made,
    // so a constant letter or label scores what chance does.
    const position = new Map<string, number>();
    const taskGens = GENERATORS.filter((g) => g.task === task).map((g) => g.name);
    for (const L of opts.lengths) {
      const drafts = opts.draftsFor?.(L, task) ?? byTask.get(task) ?? [];
      const bucket = lengthLabel(L);
      const rand = mulberry32(subSeed(opts.seed, `assemble:${task}:${bucket}`));
      let made = 0;
      const fresh = drafts.map((_, i) => i).filter((i) => !used.has(questionKey(drafts[i])));
      const again = drafts.map((_, i) => i).filter((i) => used.has(questionKey(drafts[i])));
      const usedHere = new Set<string>();
      for (const i of [...fresh, ...again]) {
        if (made >= opts.perTask) break;
        const key = questionKey(drafts[i]);
        if (usedHere.has(key)) continue;
        // Per generator (a task-wide rotation would give generators that alternate in the
        // interleave half of the letters each), each starting two steps after the previous
        // generator of the task, so their surpluses (counts not divisible by 4) fall on
        // different letters, the first one not on the first letter or label.
        const slot = drafts[i].generator;
        const at = position.get(slot) ?? 1 + 2 * Math.max(0, taskGens.indexOf(slot));
        const d = withAnswerAt(drafts[i], at);
        // Depths spread evenly over the samples, jittered: every region of the context is used.
        const depth = Math.min(1, Math.max(0, (made + rand()) / opts.perTask));
        const id = `${task}-${bucket}-${String(i).padStart(4, "0")}`;
        const r = assemble(d, id, {
          targetTokens: L,
          bucket,
          depth,
          count: opts.count,
          countPrompt: opts.countPrompt,
          pool,
          rand,
        });
        if ("skip" in r) {
          const key = `${task}@${bucket}: ${r.skip.replace(/\d+/g, "N")}`;
          report.bucketSkips[key] = (report.bucketSkips[key] ?? 0) + 1;
          continue;
        }
        if (used.has(key) && report.repeats) {
          const k = `${task}@${bucket}`;
          report.repeats[k] = (report.repeats[k] ?? 0) + 1;
        }
        usedHere.add(key);
        position.set(slot, at + 1);
        samples.push(r);
        made++;
        progress.tick();
      }
      for (const k of usedHere) used.add(k);
    }
  }
  progress.finish();
  return samples;
}

/** The settings of a build as `data build` records them in `OUT/config.json`. */
export function buildConfig(o: BuildOptions): Record<string, unknown> {
  return {
    sources: o.sources,
    lengths: o.lengths,
    per_task: o.perTask,
    tasks: o.tasks ?? "all",
    seed: o.seed,
    tokenizer: o.tokenizerName,
    benchmarks: o.benchmarks ?? [],
    parquet: Boolean(o.parquet),
  };
}

/** `data build`: creates `o.out`, records the settings in `o.out/config.json`, then builds. */
export async function buildDataset(o: BuildOptions): Promise<BuildReport> {
  await Deno.mkdir(o.out, { recursive: true });
  await writeJsonAtomic(`${o.out}/config.json`, buildConfig(o));
  return await build(o);
}

export async function build(o: BuildOptions): Promise<BuildReport> {
  const log = o.log ?? (() => {});
  const tasks = o.tasks ?? [...new Set(GENERATORS.map((g) => g.task))];
  const report: BuildReport = {
    documents: 0,
    skipped: [],
    duplicates: [],
    drafts: {},
    draftFailures: [],
    goldFailures: [],
    bucketSkips: {},
    repeats: {},
    tasks: [...tasks],
    samples: 0,
    heldout: 0,
    decontaminated: [],
    perTaskBucket: {},
  };
  const p1 = await ingestPhase(o.sources, {
    dedupThreshold: o.dedupThreshold,
    minChars: o.minChars,
    quiet: o.quiet,
  });
  report.documents = p1.docs.length;
  report.skipped = p1.skipped.map((s) => ({ source: s.source, reason: s.reason }));
  report.duplicates = p1.duplicates;
  log(
    `P1: ${p1.docs.length} documents, ${p1.skipped.length} skipped, ${p1.duplicates.length} duplicates\n`,
  );
  // Evidence sized per bucket: a 512-token bucket needs a short passage, a 32K one does not need
  // more than the default. Buckets with the same budget share their drafts.
  const pool = new PaddingPool(p1.docs);
  const cpt = charsPerToken(pool, o.count);
  const byBudget = new Map<number, Map<TaskType, Draft[]>>();
  // Short buckets also get drafts with half the evidence: a long question or instruction (a table
  // format, a slot list) leaves less room than the budget assumes. Tried after the full ones.
  const budgets = (L: number) => {
    const b = evidenceBudget(L, cpt);
    return L <= 2048 ? [b, Math.max(500, Math.floor(b / 2))] : [b];
  };
  for (const b of [...new Set(o.lengths.flatMap(budgets))]) {
    if (!byBudget.has(b)) {
      byBudget.set(
        b,
        constructPhase(
          p1.docs,
          { tasks, seed: o.seed, perTask: o.perTask, maxEvidenceChars: b },
          report,
        ),
      );
    }
  }
  log(
    `P3: ${
      [...byBudget.values()].flatMap((m) => [...m.values()]).reduce((a, l) => a + l.length, 0)
    } drafts from ${Object.keys(report.drafts).length} generators\n`,
  );
  const byTask = new Map<TaskType, Draft[]>(tasks.map((t) => [t, []]));
  let samples = bucketPhase(byTask, p1.docs, {
    ...o,
    pool,
    draftsFor: (L, task) => [
      ...new Set(budgets(L).flatMap((b) => byBudget.get(b)?.get(task) ?? [])),
    ],
  }, report);
  const short = Object.entries(report.repeats);
  if (short.length) {
    log(
      `P4: too few distinct questions, repeated from another bucket: ${
        short.map(([k, n]) => `${k} ${n}`).join(", ")
      }\n`,
    );
  }
  if (o.benchmarks?.length) {
    const index = await buildBenchmarkIndex(o.benchmarks);
    const r = decontaminate(samples, index);
    report.decontaminated = r.removed.map((x) => ({ id: x.sample.id, reason: x.reason }));
    samples = r.kept;
    log(`P4: decontamination removed ${r.removed.length}\n`);
  }
  for (const s of samples) {
    const t = (report.perTaskBucket[s.ability] ??= {});
    t[s.extra_info.length_bucket!] = (t[s.extra_info.length_bucket!] ?? 0) + 1;
  }
  // Held-out split by main source document, so no document feeds both splits.
  let heldout: Sample[] = [];
  if (o.heldout && o.heldout > 0) {
    const isHeld = (s: Sample) => {
      const doc = s.extra_info.source_docs[0]?.id ?? s.id;
      return subSeed(o.heldoutSeed ?? o.seed, `heldout:${doc}`) / 2 ** 32 < o.heldout!;
    };
    heldout = samples.filter(isHeld);
    samples = samples.filter((s) => !isHeld(s));
  }
  report.samples = samples.length;
  report.heldout = heldout.length;
  await Deno.mkdir(o.out, { recursive: true });
  await writeSamplesJsonl(`${o.out}/data.jsonl`, samples);
  // Outputs this build does not produce must not survive from an earlier one in the same folder.
  const stale = async (f: string) => await Deno.remove(`${o.out}/${f}`).catch(() => {});
  if (heldout.length) await writeSamplesJsonl(`${o.out}/heldout.jsonl`, heldout);
  else await stale("heldout.jsonl");
  if (o.parquet) await writeParquet(`${o.out}/data.parquet`, samples);
  else await stale("data.parquet");
  const stats = statsJson(samples);
  await writeJsonAtomic(`${o.out}/stats.json`, stats);
  // The shortcut audit covers both splits: a shortcut in either would be learned or rewarded.
  const notes = [
    ...report.tasks.flatMap((t) =>
      o.lengths.map(lengthLabel).filter((b) => (report.perTaskBucket[t]?.[b] ?? 0) < o.perTask)
        .map((b) =>
          `- ${t}@${b}: ${
            report.perTaskBucket[t]?.[b] ?? 0
          } of ${o.perTask} samples (not enough text that fits)`
        )
    ),
    ...Object.entries(report.repeats).map(([k, n]) =>
      `- ${k}: ${n} samples repeat a question of another bucket (too few distinct drafts)`
    ),
  ];
  await writeFileAtomic(
    `${o.out}/stats.md`,
    statsMarkdown(stats) +
      (notes.length ? `\n## Build notes\n\n${notes.join("\n")}\n` : "") +
      "\n" + auditMarkdown(auditSamples([...samples, ...heldout])),
  );
  await writeJsonAtomic(`${o.out}/report.json`, report);
  return report;
}
