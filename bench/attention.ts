/**
 * Attention benchmark: forward and backward wall time of one causal sequence per length, their
 * GFLOP/s, and the bytes of every buffer the pass needs (inputs, outputs, lse, gradients, the
 * backward's scratch), which grows linearly in T because no T x T buffer exists anywhere.
 *
 * FLOPs counted (causal, the FlashAttention convention): the forward is two matmuls over the
 * T²/2 visible (query, key) pairs per head, 2·2·(T²/2)·d·hq = 2·T²·d·hq; the backward is 2.5x
 * that (five matmul-shaped products: S recomputed, dP, dV, dQ, dK). Work a kernel redoes (the
 * split backward recomputes S and dP in both its dQ and dK/dV passes) is not counted.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { mulberry32 } from "../core/rng.ts";
import {
  attentionBackward,
  attentionBackwardScratchBytes,
  attentionForward,
} from "../kernels/attention.ts";

/** Options of {@link attentionBench}. */
export interface AttentionBenchOptions {
  hq?: number;
  hkv?: number;
  headDim?: number;
  /** Skip the backward (bwdMs is then NaN). */
  forwardOnly?: boolean;
  /** Timed runs per pass, best kept (default 2); a run over 2 s is not repeated. */
  repeats?: number;
  /** Called after each length, e.g. to print progress. */
  onResult?: (r: AttentionBenchResult) => void;
}

/** One length's measurements. */
export interface AttentionBenchResult {
  T: number;
  /** Wall time of one forward, submitted alone and waited for. */
  fwdMs: number;
  /** Wall time of one backward (delta, dQ, dK/dV kernels), submitted alone and waited for. */
  bwdMs: number;
  /** Bytes of all buffers the forward and backward use. */
  peakBytes: number;
  /** Causal forward FLOPs per second / 1e9 (see the module comment for the count). */
  fwdGflops: number;
  /** Backward GFLOP/s at 2.5x the forward's FLOPs; NaN when skipped. */
  bwdGflops: number;
}

/** FLOPs of one causal forward over T tokens: 2·2·(T²/2)·d·hq. */
export function attentionForwardFlops(T: number, hq: number, headDim: number): number {
  return 2 * T * T * headDim * hq;
}

/** FLOPs counted for one backward: 2.5x the forward. */
export function attentionBackwardFlops(T: number, hq: number, headDim: number): number {
  return 2.5 * attentionForwardFlops(T, hq, headDim);
}

async function timed(
  gpu: Gpu,
  pool: BufferPool,
  repeats: number,
  f: (rec: Recorder) => Promise<void>,
) {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const rec = new Recorder(gpu, pool, { label: "attention bench" });
    await f(rec); // compiles pipelines before the clock starts on later calls
    const t0 = performance.now();
    await rec.submit();
    await gpu.device.queue.onSubmittedWorkDone();
    gpu.check();
    const ms = performance.now() - t0;
    best = Math.min(best, ms);
    if (ms > 2000) break;
  }
  return best;
}

/**
 * Measures forward and backward of one sequence of each length T (hq=8, hkv=2, d=64 unless
 * given). Pipelines are compiled by a tiny warm-up run first, so times are GPU work plus one
 * submit.
 */
export async function attentionBench(
  gpu: Gpu,
  lengths: number[],
  opts: AttentionBenchOptions = {},
): Promise<AttentionBenchResult[]> {
  const hq = opts.hq ?? 8, hkv = opts.hkv ?? 2, d = opts.headDim ?? 64;
  const pool = new BufferPool(gpu);
  const rand = mulberry32(1);
  const results: AttentionBenchResult[] = [];
  const runs = [16, ...lengths];
  for (let i = 0; i < runs.length; i++) {
    const T = runs[i];
    const qn = T * hq * d, kn = T * hkv * d;
    const randBuf = (n: number) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
      return uploadBuffer(gpu, a);
    };
    const bufs = {
      q: randBuf(qn),
      k: randBuf(kn),
      v: randBuf(kn),
      dOut: randBuf(qn),
      out: storageBuffer(gpu, qn * 4),
      lse: storageBuffer(gpu, T * hq * 4),
      seqStarts: uploadBuffer(gpu, new Uint32Array([0, T])),
      dq: storageBuffer(gpu, qn * 4),
      dk: storageBuffer(gpu, kn * 4),
      dv: storageBuffer(gpu, kn * 4),
    };
    const args = {
      ...bufs,
      numSeqs: 1,
      totalTokens: T,
      hq,
      hkv,
      headDim: d,
      scale: 1 / Math.sqrt(d),
    };
    const reps = i === 0 ? 1 : opts.repeats ?? 2;
    const fwdMs = await timed(gpu, pool, reps, (rec) => attentionForward(gpu, rec, args));
    const bwdMs = opts.forwardOnly
      ? NaN
      : await timed(gpu, pool, reps, (rec) => attentionBackward(gpu, rec, args));
    let peakBytes = attentionBackwardScratchBytes(T, hq);
    for (const b of Object.values(bufs)) {
      peakBytes += b.size;
      b.destroy();
    }
    if (i === 0) continue; // the warm-up
    const r = {
      T,
      fwdMs,
      bwdMs,
      peakBytes,
      fwdGflops: attentionForwardFlops(T, hq, d) / (fwdMs * 1e6),
      bwdGflops: attentionBackwardFlops(T, hq, d) / (bwdMs * 1e6),
    };
    results.push(r);
    opts.onResult?.(r);
  }
  return results;
}
