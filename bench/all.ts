/**
 * Runs bench suites one after another. A suite that throws is recorded as failed, with its
 * error, and the next one still runs. Progress (suite i/N, elapsed, ETA) goes to `log`; the ETA
 * scales the remaining suites' expected seconds by how fast the finished ones ran against theirs.
 */
import { formatDuration } from "../core/progress.ts";
import {
  type BenchReport,
  type BenchRow,
  finalizeReport,
  type SuiteOutcome,
  writeBenchReport,
} from "./report.ts";

/** What a suite returns: its rows and its own structured result. */
export interface SuiteResult {
  rows: BenchRow[];
  raw?: unknown;
}

/** One suite of `golongrl bench`. */
export interface Suite<C> {
  name: string;
  /** Expected seconds on the reference machine at this sizing (for the ETA only). */
  estimateSeconds: number;
  run(ctx: C): Promise<SuiteResult>;
}

export interface RunSuitesOptions {
  /** Progress lines (stderr); nothing when omitted. */
  log?: (line: string) => void;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
}

/** Seconds left, from the remaining estimates scaled by the speed seen so far. */
export function etaSeconds(
  done: { estimate: number; actual: number }[],
  remainingEstimate: number,
): number {
  const est = done.reduce((a, d) => a + d.estimate, 0);
  const act = done.reduce((a, d) => a + d.actual, 0);
  const scale = est > 0 && act > 0 ? act / est : 1;
  return remainingEstimate * scale;
}

/** Runs every suite in order; never throws for a suite's failure. */
export async function runSuites<C>(
  suites: Suite<C>[],
  ctx: C,
  opts: RunSuitesOptions = {},
): Promise<SuiteOutcome[]> {
  const log = opts.log ?? (() => {});
  const now = opts.now ?? (() => performance.now());
  const start = now();
  const done: { estimate: number; actual: number }[] = [];
  const out: SuiteOutcome[] = [];
  for (const [i, suite] of suites.entries()) {
    const remaining = suites.slice(i).reduce((a, s) => a + s.estimateSeconds, 0);
    log(
      `bench ${i + 1}/${suites.length} ${suite.name}: running (elapsed ${
        formatDuration((now() - start) / 1000)
      }, ETA ${formatDuration(etaSeconds(done, remaining))})`,
    );
    const t0 = now();
    let outcome: SuiteOutcome;
    try {
      const r = await suite.run(ctx);
      outcome = {
        name: suite.name,
        status: "ok",
        seconds: (now() - t0) / 1000,
        error: null,
        rows: r.rows,
        raw: r.raw ?? null,
      };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      outcome = {
        name: suite.name,
        status: "failed",
        seconds: (now() - t0) / 1000,
        error: message,
        rows: [],
        raw: null,
      };
      log(`bench ${i + 1}/${suites.length} ${suite.name}: failed: ${message}`);
    }
    done.push({ estimate: suite.estimateSeconds, actual: outcome.seconds });
    out.push(outcome);
  }
  log(`bench: ${suites.length} suites in ${formatDuration((now() - start) / 1000)}`);
  return out;
}

/** The header facts of a report that the caller measures (fakeable in tests). */
export type ReportHeader = Omit<BenchReport, "suites" | "wallSeconds" | "started">;

/**
 * Runs the suites, then writes DIR/bench.md and DIR/bench.json (atomically). Returns the
 * report as written and the paths.
 */
export async function runBenchReport<C>(
  suites: Suite<C>[],
  ctx: C,
  header: ReportHeader,
  out: string,
  opts: RunSuitesOptions & {
    /** Header facts known only at the end (e.g. the load average after the run). */
    after?: () => Promise<Partial<ReportHeader>>;
  } = {},
): Promise<{ report: BenchReport; files: string[] }> {
  const now = opts.now ?? (() => performance.now());
  const started = new Date().toISOString();
  const t0 = now();
  const outcomes = await runSuites(suites, ctx, opts);
  const report = finalizeReport({
    ...header,
    ...(await opts.after?.()),
    started,
    wallSeconds: (now() - t0) / 1000,
    suites: outcomes,
  });
  const files = await writeBenchReport(out, report);
  return { report, files };
}
