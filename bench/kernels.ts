/**
 * Kernel benchmarks. Matmul: square f32 problems, the tuned kernel (NN, NT and TN: the
 * backward's dX and dW layouts beside the forward's NT)
 * against the naive one-thread-per-output kernel and against the CPU's BLAS
 * (numpy through Debian's /usr/bin/python3, when present), all in the same
 * run so the ratios hold on any machine.
 *
 * Timing: several dispatches in one submission, wall time around submit +
 * onSubmittedWorkDone, the best of the repeats; nothing is subtracted (the
 * ~10 ms a Deno submit costs is included, which matters only for small sizes).
 */
import { fmtNum, textTable } from "../core/text_table.ts";
import type { Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { chooseConfig, type MatmulArgs, matmulWith } from "../kernels/matmul.ts";
import { matmulNaive } from "../kernels/matmul_naive.ts";
import type { AttentionBenchResult } from "./attention.ts";
import { type BenchHost, formatBenchHeader } from "./header.ts";

export interface MatmulBenchRow {
  size: number;
  /** "NN" (C = A·B, the backward's dX), "NT" (C = A·Bᵀ, the forward), "TN" (Aᵀ·B, dW). */
  layout: "NN" | "NT" | "TN";
  tunedGflops: number;
  /** The naive kernel is NN only: NT rows repeat the NN figure for the same size. */
  naiveGflops: number;
  /** numpy float32 matmul on the CPU; null without /usr/bin/python3 and numpy. */
  cpuBlasGflops: number | null;
  /** The configuration the tuner chose. */
  variant: string;
}

/** Dispatches per submission: enough work to dwarf the submit cost, capped for slow kernels. */
function dispatchesFor(size: number, gflopsGuess: number): number {
  const seconds = (2 * size ** 3) / (gflopsGuess * 1e9);
  return Math.max(1, Math.min(8, Math.floor(0.25 / seconds)));
}

/**
 * Best wall time of one dispatch (ms): `repeats` submissions of `dispatches` recorded by
 * `recordOne` each (recording, and so compiling, before the clock starts).
 */
export async function timeBest(
  gpu: Gpu,
  repeats: number,
  dispatches: number,
  recordOne: (rec: Recorder) => Promise<void> | void,
): Promise<number> {
  const pool = new BufferPool(gpu);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const rec = new Recorder(gpu, pool, { label: "bench-matmul" });
    for (let i = 0; i < dispatches; i++) await recordOne(rec);
    const t0 = performance.now();
    await rec.submit();
    await gpu.device.queue.onSubmittedWorkDone();
    const ms = performance.now() - t0;
    best = Math.min(best, ms / dispatches);
    // A single run over two seconds is stable enough: do not repeat it.
    if (ms > 2000) break;
  }
  pool.trim();
  return best;
}

const NUMPY_SCRIPT = `
import json, sys, time
import numpy as np
sizes = json.loads(sys.argv[1]); repeats = int(sys.argv[2])
out = {}
for n in sizes:
    a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t0)
    out[str(n)] = 2 * n ** 3 / best / 1e9
print(json.dumps(out))
`;

/** numpy's float32 GFLOP/s per size, or null when python3 or numpy is missing. */
export async function cpuBlasGflops(
  sizes: number[],
  repeats = 3,
): Promise<Record<number, number> | null> {
  const python = "/usr/bin/python3";
  try {
    await Deno.stat(python);
    const out = await new Deno.Command(python, {
      args: ["-c", NUMPY_SCRIPT, JSON.stringify(sizes), String(repeats)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return null;
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } catch {
    return null;
  }
}

/** Square f32 matmul at each size: tuned (NN and NT) vs naive vs CPU BLAS, in GFLOP/s. */
export async function matmulBench(
  gpu: Gpu,
  sizes: number[],
  opts: { repeats?: number } = {},
): Promise<MatmulBenchRow[]> {
  const repeats = opts.repeats ?? 3;
  const blas = await cpuBlasGflops(sizes, repeats);
  const rows: MatmulBenchRow[] = [];
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  for (const size of sizes) {
    const bytes = Math.max(256, size * size * 4);
    const [a, b, c] = [0, 1, 2].map(() => gpu.device.createBuffer({ size: bytes, usage }));
    gpu.device.queue.writeBuffer(a, 0, new Float32Array(size * size).fill(0.5));
    gpu.device.queue.writeBuffer(b, 0, new Float32Array(size * size).fill(0.25));
    const flops = 2 * size ** 3;
    const gflops = (ms: number) => flops / (ms * 1e6);
    const naiveMs = await timeBest(
      gpu,
      repeats,
      dispatchesFor(size, 1.5),
      (rec) => matmulNaive(gpu, rec, { a, b, c, m: size, n: size, k: size }),
    );
    for (const layout of ["NN", "NT", "TN"] as const) {
      const args: MatmulArgs = {
        a,
        b,
        c,
        m: size,
        n: size,
        k: size,
        transA: layout === "TN",
        transB: layout === "NT",
      };
      // Tuning (when the bucket is new) happens here, outside the timing.
      const variant = await chooseConfig(gpu, args);
      // Warm-up: compile and first run.
      await timeBest(gpu, 1, 1, (rec) => matmulWith(gpu, rec, args, variant));
      const ms = await timeBest(
        gpu,
        repeats,
        dispatchesFor(size, 10),
        (rec) => matmulWith(gpu, rec, args, variant),
      );
      rows.push({
        size,
        layout,
        tunedGflops: gflops(ms),
        naiveGflops: gflops(naiveMs),
        cpuBlasGflops: blas?.[size] ?? null,
        variant,
      });
    }
    for (const buf of [a, b, c]) buf.destroy();
  }
  return rows;
}

/** The whole `bench kernels` result: host, matmul rows, attention rows and their ratios. */
export interface KernelsReport {
  host: BenchHost;
  adapter: string;
  matmul: MatmulBenchRow[];
  /** The reference for attention ratios: the best tuned NT GFLOP/s of this run. */
  ntGflops: number;
  attention: (AttentionBenchResult & { fwdVsNt: number; bwdVsNt: number })[];
  attentionShape: { hq: number; hkv: number; headDim: number };
  attentionBytesPerToken: number[];
  /** max/min bytes per token across lengths: 1.0 means exactly linear. */
  attentionLinearity: number;
}

/** Assembles the report; ratios are against rates measured in the same run. */
export function kernelsReport(
  host: BenchHost,
  mm: MatmulBenchRow[],
  att: AttentionBenchResult[],
  shape: { hq: number; hkv: number; headDim: number },
): KernelsReport {
  const nt = Math.max(0, ...mm.filter((r) => r.layout === "NT").map((r) => r.tunedGflops));
  const per = att.map((r) => r.peakBytes / r.T);
  return {
    host,
    adapter: host.adapter ?? "",
    matmul: mm,
    ntGflops: nt,
    attention: att.map((r) => ({
      ...r,
      fwdVsNt: r.fwdGflops / nt,
      bwdVsNt: r.bwdGflops / nt,
    })),
    attentionShape: shape,
    attentionBytesPerToken: per,
    attentionLinearity: per.length ? Math.max(...per) / Math.min(...per) : NaN,
  };
}

/** The text report of `bench kernels`. */
export function formatKernelsReport(r: KernelsReport): string {
  const ntAt = new Map(r.matmul.filter((m) => m.layout === "NT").map((m) => [m.size, m]));
  const { hq, hkv, headDim } = r.attentionShape;
  return formatBenchHeader(r.host) + "\nmatmul (GFLOP/s)\n" +
    textTable(
      [
        "size",
        "layout",
        "tuned",
        "vs NT",
        "naive",
        "cpu blas",
        "tuned/naive",
        "tuned/blas",
        "variant",
      ],
      r.matmul.map((m) => [
        m.size,
        m.layout,
        fmtNum(m.tunedGflops),
        fmtNum(m.tunedGflops / (ntAt.get(m.size)?.tunedGflops ?? NaN), 2),
        fmtNum(m.naiveGflops),
        fmtNum(m.cpuBlasGflops),
        fmtNum(m.tunedGflops / m.naiveGflops, 2),
        fmtNum(m.cpuBlasGflops ? m.tunedGflops / m.cpuBlasGflops : null, 2),
        m.variant,
      ]),
    ) +
    `\nattention (causal, hq ${hq}, hkv ${hkv}, d ${headDim}; FLOPs: fwd 2·2·(T²/2)·d·hq, ` +
    `bwd 2.5x fwd; vs NT: against the best NT matmul above, ${fmtNum(r.ntGflops)} GFLOP/s)\n` +
    textTable(
      [
        "T",
        "fwd ms",
        "fwd GFLOP/s",
        "fwd vs NT",
        "bwd ms",
        "bwd GFLOP/s",
        "bwd vs NT",
        "MiB",
        "bytes/token",
      ],
      r.attention.map((a) => [
        a.T,
        fmtNum(a.fwdMs),
        fmtNum(a.fwdGflops, 2),
        fmtNum(a.fwdVsNt, 2),
        fmtNum(a.bwdMs),
        fmtNum(a.bwdGflops, 2),
        fmtNum(a.bwdVsNt, 2),
        fmtNum(a.peakBytes / 2 ** 20),
        fmtNum(a.peakBytes / a.T, 0),
      ]),
    ) +
    `memory linearity (max/min bytes per token): ${fmtNum(r.attentionLinearity, 3)}\n`;
}
