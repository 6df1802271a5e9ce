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
import type { Document, Draft, Sample, Skipped } from "./types.ts";
import { GENERATORS, routeDocuments, selfCheck } from "../../tasks/generators/mod.ts";
import { assemble, PaddingPool, type TokenCounter } from "./assemble.ts";
import { mulberry32 } from "../rng.ts";
import { Progress } from "../progress.ts";
import { writeSamplesJsonl } from "./schema.ts";
import { writeParquet } from "./parquet.ts";
import { buildBenchmarkIndex, decontaminate } from "./decontam.ts";
import { statsJson, statsMarkdown } from "./stats.ts";
import { writeFileAtomic, writeJsonAtomic } from "../fsutil.ts";
import type { TaskType } from "../../tasks/types.ts";

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
  /** Name of what counts tokens, for the report. */
  tokenizerName: string;
  /** Benchmark JSONL files to decontaminate against. */
  benchmarks?: string[];
  parquet?: boolean;
  /** Fraction of source documents whose samples form the held-out split (heldout.jsonl). */
  heldout?: number;
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
  samples: number;
  heldout: number;
  decontaminated: { id: string; reason: string }[];
  perTaskBucket: Record<string, Record<string, number>>;
}

/** A 32-bit seed derived from the run seed and a name, so each stream is independent. */
export function subSeed(seed: number, name: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function bucketName(tokens: number): string {
  return tokens % 1024 === 0 ? `${tokens / 1024}k` : `${tokens}`;
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

/** P2 + P3: drafts per task type, from every generator of that type, in a seeded order. */
export function constructPhase(
  docs: Document[],
  opts: { tasks: TaskType[]; seed: number; perTask: number },
  report: Pick<BuildReport, "drafts" | "draftFailures" | "goldFailures">,
): Map<TaskType, Draft[]> {
  const routes = routeDocuments(docs);
  const byTask = new Map<TaskType, Draft[]>();
  for (const g of GENERATORS) {
    if (!opts.tasks.includes(g.task)) continue;
    const mine = routes.get(g.name) ?? [];
    let drafts: Draft[] = [];
    try {
      drafts = g.make(mine, mulberry32(subSeed(opts.seed, g.name)));
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
    report.drafts[g.name] = ok.length;
    const list = byTask.get(g.task) ?? [];
    list.push(...ok);
    byTask.set(g.task, list);
  }
  // Interleave generators of a task in a seeded shuffle so a small --per-task still mixes them.
  for (const [task, list] of byTask) {
    const rand = mulberry32(subSeed(opts.seed, `shuffle:${task}`));
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
  }
  return byTask;
}

/** P4a: each task's drafts assembled at each length until perTask samples per bucket. */
export function bucketPhase(
  byTask: Map<TaskType, Draft[]>,
  docs: Document[],
  opts: { lengths: number[]; perTask: number; seed: number; count: TokenCounter; quiet?: boolean },
  report: Pick<BuildReport, "bucketSkips">,
): Sample[] {
  const pool = new PaddingPool(docs);
  const samples: Sample[] = [];
  const total = byTask.size * opts.lengths.length * opts.perTask;
  const progress = new Progress("assemble", { unit: "samples", total, quiet: opts.quiet });
  for (const [task, drafts] of [...byTask].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [li, L] of opts.lengths.entries()) {
      const bucket = bucketName(L);
      const rand = mulberry32(subSeed(opts.seed, `assemble:${task}:${bucket}`));
      let made = 0;
      // Each bucket starts further into the (shuffled) drafts, so buckets get different
      // questions while there are enough drafts.
      const start = drafts.length ? (li * opts.perTask) % drafts.length : 0;
      for (let k = 0; k < drafts.length; k++) {
        if (made >= opts.perTask) break;
        const i = (start + k) % drafts.length;
        const d = drafts[i];
        // Depths spread evenly over the samples, jittered: every region of the context is used.
        const depth = Math.min(1, Math.max(0, (made + rand()) / opts.perTask));
        const id = `${task}-${bucket}-${String(i).padStart(4, "0")}`;
        const r = assemble(d, id, {
          targetTokens: L,
          bucket,
          depth,
          count: opts.count,
          pool,
          rand,
        });
        if ("skip" in r) {
          const key = `${task}@${bucket}: ${r.skip.replace(/\d+/g, "N")}`;
          report.bucketSkips[key] = (report.bucketSkips[key] ?? 0) + 1;
          continue;
        }
        samples.push(r);
        made++;
        progress.tick();
      }
    }
  }
  progress.finish();
  return samples;
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
  const byTask = constructPhase(p1.docs, { tasks, seed: o.seed, perTask: o.perTask }, report);
  log(
    `P3: ${[...byTask.values()].reduce((a, l) => a + l.length, 0)} drafts from ${
      Object.keys(report.drafts).length
    } generators\n`,
  );
  let samples = bucketPhase(byTask, p1.docs, { ...o }, report);
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
      return subSeed(o.seed, `heldout:${doc}`) / 2 ** 32 < o.heldout!;
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
  await writeFileAtomic(`${o.out}/stats.md`, statsMarkdown(stats));
  await writeJsonAtomic(`${o.out}/report.json`, report);
  return report;
}
