/**
 * Attention benchmark: forward and backward wall time of one causal sequence per length, and the
 * bytes of every buffer the pass needs (inputs, outputs, lse, gradients, the backward's scratch),
 * which grows linearly in T because no T x T buffer exists anywhere.
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
}

async function timed(gpu: Gpu, pool: BufferPool, f: (rec: Recorder) => Promise<void>) {
  const rec = new Recorder(gpu, pool, { label: "attention bench" });
  await f(rec); // compiles pipelines before the clock starts on later calls
  const t0 = performance.now();
  await rec.submit();
  await gpu.device.queue.onSubmittedWorkDone();
  gpu.check();
  return performance.now() - t0;
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
    const fwdMs = await timed(gpu, pool, (rec) => attentionForward(gpu, rec, args));
    const bwdMs = opts.forwardOnly
      ? NaN
      : await timed(gpu, pool, (rec) => attentionBackward(gpu, rec, args));
    let peakBytes = attentionBackwardScratchBytes(T, hq);
    for (const b of Object.values(bufs)) {
      peakBytes += b.size;
      b.destroy();
    }
    if (i === 0) continue; // the warm-up
    const r = { T, fwdMs, bwdMs, peakBytes };
    results.push(r);
    opts.onResult?.(r);
  }
  return results;
}
