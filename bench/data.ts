/**
 * Data-build throughput over a corpus: each phase timed, documents/s and
 * samples/s, peak resident memory (sampled), and ingestion against the rate of
 * merely reading the same files (the reference, measured in the same run).
 */
import { bucketPhase, constructPhase, ingestPhase } from "../data/build.ts";
import { listFiles } from "../data/ingest/mod.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { TASK_TYPES } from "../tasks/types.ts";

export interface DataBenchResult {
  bytes: number;
  rawReadMBs: number;
  documents: number;
  ingestSeconds: number;
  documentsPerSec: number;
  ingestMBs: number;
  /** ingest MB/s divided by raw read MB/s. */
  ingestVsRead: number;
  drafts: number;
  constructSeconds: number;
  draftsPerSec: number;
  samples: number;
  assembleSeconds: number;
  samplesPerSec: number;
  tokenizer: string;
  peakRssMB: number;
}

export async function dataBench(o: {
  sources: string[];
  tokenizer?: string;
  lengths: number[];
  perTask: number;
  quiet?: boolean;
}): Promise<DataBenchResult> {
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
  try {
    // Reference: read every byte of the same files.
    const files = await listFiles(o.sources);
    let t0 = performance.now();
    let bytes = 0;
    for (const f of files) bytes += (await Deno.readFile(f)).length;
    const readS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const p1 = await ingestPhase(o.sources, { quiet: o.quiet });
    const ingestS = (performance.now() - t0) / 1000;
    const report = { drafts: {}, draftFailures: [], goldFailures: [] as string[], bucketSkips: {} };
    t0 = performance.now();
    const byTask = constructPhase(
      p1.docs,
      { tasks: [...TASK_TYPES], seed: 0, perTask: o.perTask },
      report,
    );
    const constructS = (performance.now() - t0) / 1000;
    const drafts = [...byTask.values()].reduce((a, l) => a + l.length, 0);
    const tok = o.tokenizer ? await loadTokenizer(o.tokenizer) : undefined;
    const count = tok
      ? (t: string) => tok.encode(t).length
      : (t: string) => Math.ceil(t.length / 4);
    t0 = performance.now();
    const samples = bucketPhase(byTask, p1.docs, {
      lengths: o.lengths,
      perTask: o.perTask,
      seed: 0,
      count,
      quiet: o.quiet,
    }, report);
    const assembleS = (performance.now() - t0) / 1000;
    peak = Math.max(peak, Deno.memoryUsage().rss);
    const mb = bytes / 2 ** 20;
    return {
      bytes,
      rawReadMBs: mb / readS,
      documents: p1.docs.length,
      ingestSeconds: ingestS,
      documentsPerSec: p1.docs.length / ingestS,
      ingestMBs: mb / ingestS,
      ingestVsRead: (mb / ingestS) / (mb / readS),
      drafts,
      constructSeconds: constructS,
      draftsPerSec: drafts / constructS,
      samples: samples.length,
      assembleSeconds: assembleS,
      samplesPerSec: samples.length / assembleS,
      tokenizer: o.tokenizer ?? "approx (4 characters per token)",
      peakRssMB: peak / 2 ** 20,
    };
  } finally {
    clearInterval(timer);
  }
}

export function formatDataBench(r: DataBenchResult): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  return [
    `corpus: ${f(r.bytes / 2 ** 20)} MB; raw read ${f(r.rawReadMBs, 0)} MB/s (reference)`,
    `ingest:    ${r.documents} documents in ${f(r.ingestSeconds, 2)} s: ${
      f(r.documentsPerSec, 0)
    } documents/s, ` +
    `${f(r.ingestMBs)} MB/s (${f(100 * r.ingestVsRead, 1)}% of raw read)`,
    `construct: ${r.drafts} drafts in ${f(r.constructSeconds, 2)} s: ${
      f(r.draftsPerSec, 0)
    } drafts/s`,
    `assemble:  ${r.samples} samples in ${f(r.assembleSeconds, 2)} s: ${
      f(r.samplesPerSec, 2)
    } samples/s (tokenizer: ${r.tokenizer})`,
    `peak memory: ${f(r.peakRssMB, 0)} MB resident`,
  ].join("\n") + "\n";
}
