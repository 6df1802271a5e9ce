/**
 * The `golongrl bench` report: every figure beside the reference measured in the same run, as a
 * ratio, or with the reason it has none. Rendered as bench.md (for people) and bench.json (the
 * same content, for tools); both are written to a temporary name and renamed.
 */
import { writeFileAtomic, writeJsonAtomic } from "../core/fsutil.ts";
import { formatDuration } from "../core/progress.ts";
import type { MachineInfo } from "./machine.ts";

/** One figure and its reference. */
export interface BenchRow {
  suite: string;
  /** What was measured, with its shape. */
  figure: string;
  value: number | null;
  unit: string;
  /** What the figure is compared with (named even when it could not be measured). */
  reference: string;
  referenceValue: number | null;
  /**
   * How the figure compares: value / reference when higher is better (rates), reference / value
   * when lower is better (times, shares); so above 1 always means better than the reference.
   * null exactly when noRatio says why.
   */
  ratio: number | null;
  /** Why there is no ratio; null when there is one. */
  noRatio: string | null;
  /** What ratio is good, e.g. ">= 0.5", or empty. */
  target: string;
  /** The compute rate the figure achieves (GFLOP/s), for the fraction of the adapter's peak. */
  gflops: number | null;
  /** gflops / the adapter's peak; null on software adapters, unknown adapters, or non-compute rows. */
  peakFraction: number | null;
}

/** What {@link compare} needs; the rest is derived. */
export interface RowSpec
  extends Pick<BenchRow, "suite" | "figure" | "value" | "unit" | "reference" | "referenceValue"> {
  better: "higher" | "lower";
  target?: string;
  /** The reason when the reference (or figure) is missing; a generic one is used otherwise. */
  why?: string;
  gflops?: number | null;
}

const usable = (x: number | null | undefined): x is number =>
  typeof x === "number" && Number.isFinite(x) && x > 0;

/** A row with its ratio, or with the reason there is none. */
export function compare(s: RowSpec): BenchRow {
  let ratio: number | null = null, noRatio: string | null = null;
  if (!usable(s.referenceValue)) {
    noRatio = s.why ?? "no reference: it was not measured";
  } else if (s.value === 0 && s.better === "lower") {
    noRatio = s.why ?? "figure is 0 (below the timer's resolution)";
  } else if (!usable(s.value)) {
    noRatio = s.why ?? "figure not measured";
  } else {
    ratio = s.better === "higher" ? s.value / s.referenceValue : s.referenceValue / s.value;
  }
  return {
    suite: s.suite,
    figure: s.figure,
    value: s.value,
    unit: s.unit,
    reference: s.reference,
    referenceValue: s.referenceValue,
    ratio,
    noRatio,
    target: s.target ?? "",
    gflops: s.gflops ?? null,
    peakFraction: null,
  };
}

/** A figure shown for context, with no reference by nature; `why` says so. */
export function contextRow(
  s: { suite: string; figure: string; value: number | null; unit: string; why: string },
): BenchRow {
  return compare({ ...s, reference: "-", referenceValue: null, better: "higher" });
}

/** How one suite went. */
export interface SuiteOutcome {
  name: string;
  status: "ok" | "failed";
  seconds: number;
  /** The error of a failed suite; null otherwise. */
  error: string | null;
  rows: BenchRow[];
  /** The suite's own structured result (as `golongrl bench <suite> --json` prints). */
  raw: unknown;
}

/** The whole report. */
export interface BenchReport {
  version: string;
  /** ISO time the run started. */
  started: string;
  wallSeconds: number;
  /** The sizing used, e.g. "quick". */
  profile: string;
  machine: MachineInfo;
  /** Availability of the Python references, e.g. { numpy: "1.24.2", torch: null }. */
  python: { numpy: string | null; torch: string | null; why: string | null };
  /** Whether the machine was otherwise busy, as the user states it, or the load average seen. */
  load: string;
  suites: SuiteOutcome[];
}

/**
 * Fills peak fractions (hardware adapters with a known peak only) and guarantees the report's
 * promise: every row has a finite ratio or a stated reason. A failed suite becomes one row that
 * says why; a suite without rows, one that says so.
 */
export function finalizeReport(r: BenchReport): BenchReport {
  const peak = r.machine.peakGflops;
  const suites = r.suites.map((s) => {
    let rows = s.rows;
    if (s.status === "failed") {
      rows = [
        ...rows,
        contextRow({
          suite: s.name,
          figure: "(suite)",
          value: null,
          unit: "",
          why: `suite failed: ${s.error ?? "unknown error"}`,
        }),
      ];
    } else if (!rows.length) {
      rows = [contextRow({
        suite: s.name,
        figure: "(suite)",
        value: null,
        unit: "",
        why: "the suite produced no figures",
      })];
    }
    rows = rows.map((row) => {
      const out = { ...row };
      if (out.ratio !== null && !Number.isFinite(out.ratio)) out.ratio = null;
      if (out.ratio === null && !out.noRatio) out.noRatio = "ratio not computable";
      if (out.ratio !== null) out.noRatio = null;
      out.peakFraction = peak && usable(out.gflops) ? out.gflops / peak : null;
      return out;
    });
    return { ...s, rows };
  });
  return { ...r, suites };
}

/** A number for a table: 3 significant digits, no exponent for everyday sizes. */
export function num(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return "-";
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a >= 1000) return Math.round(x).toString();
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.001) return x.toPrecision(3);
  return x.toExponential(2);
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** bench.md. */
export function renderBenchMd(report: BenchReport): string {
  const r = finalizeReport(report);
  const m = r.machine;
  const showPeak = m.peakGflops !== null;
  const lines = [
    "# golongrl bench",
    "",
    `- golongrl ${r.version}, started ${r.started}, profile \`${r.profile}\`, wall time ${
      formatDuration(r.wallSeconds)
    }`,
    `- CPU: ${m.cpuModel ?? "unknown"}; vector extensions: ${
      m.vectorExtensions.length ? m.vectorExtensions.join(", ") : "none of avx2/avx512f"
    }; ${m.cores} CPUs${
      m.usableCores !== m.cores ? ` (${m.usableCores} usable by this process)` : ""
    }`,
    `- LP_NUM_THREADS: ${m.lpNumThreads ?? "unset"}${
      m.cpuCapsOverride ? `; GALLIUM_OVERRIDE_CPU_CAPS=${m.cpuCapsOverride}` : ""
    }`,
    `- adapter: ${m.adapter ?? "none"}${m.adapterKind ? ` (${m.adapterKind})` : ""}; peak: ${
      m.peakGflops !== null ? `${num(m.peakGflops)} GFLOP/s FP32` : m.peakWhy
    }`,
    `- Python references (/usr/bin/python3): numpy ${r.python.numpy ?? "absent"}, torch ${
      r.python.torch ?? "absent"
    }${r.python.why ? ` (${r.python.why})` : ""}`,
    `- load: ${r.load}`,
    "",
    "Ratio: above 1 means better than the reference (figure / reference for rates, reference /",
    "figure for times and shares). Every reference is measured in this run unless it is a target.",
    "",
    "| suite | status | time | error |",
    "|---|---|---:|---|",
    ...r.suites.map((s) =>
      `| ${s.name} | ${s.status} | ${formatDuration(s.seconds)} | ${cell(s.error ?? "")} |`
    ),
    "",
  ];
  for (const s of r.suites) {
    lines.push(`## ${s.name}`, "");
    lines.push(
      `| figure | value | reference | reference value | ratio | target |${
        showPeak ? " % of peak |" : ""
      }`,
      `|---|---:|---|---:|---:|---|${showPeak ? "---:|" : ""}`,
    );
    for (const row of s.rows) {
      const unit = row.unit ? ` ${row.unit}` : "";
      const ratio = row.ratio !== null ? num(row.ratio) : `none: ${row.noRatio}`;
      lines.push(
        `| ${cell(row.figure)} | ${row.value === null ? "-" : num(row.value) + unit} | ${
          cell(row.reference)
        } | ${row.referenceValue === null ? "-" : num(row.referenceValue) + unit} | ${
          cell(ratio)
        } | ${cell(row.target)} |${
          showPeak
            ? ` ${row.peakFraction === null ? "" : (100 * row.peakFraction).toFixed(1) + "%"} |`
            : ""
        }`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

/** Writes DIR/bench.md and DIR/bench.json, each to a temporary name then renamed. */
export async function writeBenchReport(dir: string, report: BenchReport): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const md = `${dir}/bench.md`, json = `${dir}/bench.json`;
  await writeJsonAtomic(json, finalizeReport(report));
  await writeFileAtomic(md, renderBenchMd(report));
  return [md, json];
}
