/**
 * GPU self-check: real kernels on the real adapter, each compared with a CPU
 * computation. Used by `golongrl doctor`, the default job until training lands.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { axpy, axpyRef } from "../kernels/axpy.ts";
import { matmulNaive, matmulRef } from "../kernels/matmul_naive.ts";
import { roundF16, roundF16Ref } from "../kernels/cast_f16.ts";
import { mulberry32 } from "../core/rng.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  /** Largest |gpu - cpu| (or mismatches, for exact checks). */
  error: number;
  tolerance: number;
  detail: string;
  ms: number;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function randomArray(rand: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

/** Runs every check; never throws for a wrong result, only for a broken device. */
export async function runSelfChecks(gpu: Gpu, seed = 0): Promise<CheckResult[]> {
  const rand = mulberry32(seed);
  const pool = new BufferPool(gpu);
  const results: CheckResult[] = [];
  const time = async (name: string, f: () => Promise<Omit<CheckResult, "name" | "ms">>) => {
    const t0 = performance.now();
    const r = await f();
    results.push({ name, ...r, ms: performance.now() - t0 });
  };

  // A matmul with odd sizes, so edge workgroups are exercised.
  await time("matmul 129x77x95 vs CPU", async () => {
    const [m, n, k] = [129, 77, 95];
    const A = randomArray(rand, m * k), B = randomArray(rand, k * n);
    const a = uploadBuffer(gpu, A), b = uploadBuffer(gpu, B), c = storageBuffer(gpu, m * n * 4);
    const rec = new Recorder(gpu, pool);
    await matmulNaive(gpu, rec, { a, b, c, m, n, k });
    const out = rec.read(c, m * n * 4);
    await rec.submit();
    const err = maxAbsDiff(new Float32Array(await out), matmulRef(A, B, m, n, k));
    for (const x of [a, b, c]) x.destroy();
    const tol = 1e-4;
    return { ok: err <= tol, error: err, tolerance: tol, detail: "naive WGSL matmul, f32" };
  });

  // 64 dependent dispatches in one submission: order and batching are kept.
  await time("64 chained dispatches, 1 submit", async () => {
    const n = 100_003;
    const X = randomArray(rand, n), Y0 = randomArray(rand, n);
    const x = uploadBuffer(gpu, X), y = uploadBuffer(gpu, Y0);
    const rec = new Recorder(gpu, pool);
    const submitsBefore = gpu.counters.submits;
    let ref = Y0;
    for (let i = 0; i < 64; i++) {
      const alpha = (i % 7) / 8 - 0.25;
      await axpy(gpu, rec, alpha, x, y, n);
      ref = axpyRef(alpha, X, ref);
    }
    const out = rec.read(y, n * 4);
    await rec.submit();
    const err = maxAbsDiff(new Float32Array(await out), ref);
    const submits = gpu.counters.submits - submitsBefore;
    x.destroy();
    y.destroy();
    return {
      ok: err === 0 && submits === 1,
      error: err,
      tolerance: 0,
      detail: `axpy chain, ${submits} submit(s), bit-exact expected`,
    };
  });

  if (gpu.hasF16) {
    await time("f16 round trip", async () => {
      const n = 4099;
      const X = randomArray(rand, n, 1000);
      const x = uploadBuffer(gpu, X), y = storageBuffer(gpu, n * 4);
      const rec = new Recorder(gpu, pool);
      await roundF16(gpu, rec, x, y, n);
      const out = rec.read(y, n * 4);
      await rec.submit();
      const err = maxAbsDiff(new Float32Array(await out), roundF16Ref(X));
      x.destroy();
      y.destroy();
      return { ok: err === 0, error: err, tolerance: 0, detail: "shader-f16: f32 -> f16 -> f32" };
    });
  }

  if (gpu.hasTimestamps) {
    await time("timestamp profiling", async () => {
      const n = 1 << 16;
      const x = uploadBuffer(gpu, randomArray(rand, n)),
        y = uploadBuffer(gpu, randomArray(rand, n));
      const rec = new Recorder(gpu, pool, { profile: true });
      for (let i = 0; i < 4; i++) await axpy(gpu, rec, 0.5, x, y, n);
      const prof = await rec.submit();
      const e = prof.get("axpy");
      x.destroy();
      y.destroy();
      const ok = e !== undefined && e.count === 4 && Number.isFinite(e.ms) && e.ms >= 0;
      return {
        ok,
        error: ok ? 0 : 1,
        tolerance: 0,
        detail: e ? `4 dispatches timed, ${e.ms.toFixed(3)} ms GPU time` : "no timings returned",
      };
    });
  }
  pool.trim();
  gpu.check();
  return results;
}
