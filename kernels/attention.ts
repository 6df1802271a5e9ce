/**
 * Causal grouped-query flash attention over packed variable-length sequences (Qwen3 decoder).
 *
 * Layout: q [T, hq, d], k and v [T, hkv, d], out [T, hq, d], lse [T, hq] (f32); T is the total
 * of all packed sequences, and `seqStarts` (u32 [numSeqs + 1]) says sequence s holds tokens
 * seqStarts[s] .. seqStarts[s+1]-1. Attention is causal within each sequence only. Query head h
 * reads kv head floor(h / (hq / hkv)).
 *
 * Memory is linear in T: the forward tiles over keys with an online softmax and saves only the
 * log-sum-exp; the backward recomputes probabilities from it (a delta kernel, then a dK/dV
 * kernel that owns key blocks and a dQ kernel that owns query blocks: no atomics, deterministic).
 * The only temporary is an 8·T·hq byte buffer of (lse, delta) pairs, kept per device and reused.
 *
 * Two kernel families share these launchers and bindings: on CPU adapters (lavapipe) the lane
 * kernels of `attention_lanes_wgsl.ts` (rows per invocation, no workgroup memory), elsewhere the
 * workgroup-memory tiles of `attention_wgsl.ts`; `laneOverride` forces either (tests, benches).
 *
 * Limits: d ≤ 256 and a multiple of 4; every operand must fit one storage binding
 * (maxStorageBufferBindingSize, 128 MiB here: q at T=16K, hq=16, d=128 is exactly 128 MiB).
 * The KV-cache kernels for generation live in `kv_cache.ts` and are re-exported here.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import { type View, windowOf } from "../core/tensor.ts";
import { grid1d } from "./axpy.ts";
import { bindWindow, checkHeads } from "./attention_util.ts";
import { chooseTile, deltaWgsl, dkdvWgsl, dqWgsl, forwardWgsl } from "./attention_wgsl.ts";
import {
  dkdvLanesWgsl,
  dqLanesWgsl,
  forwardLanesWgsl,
  type LaneShape,
  laneShapeFor,
} from "./attention_lanes_wgsl.ts";

export {
  attentionBackwardRef,
  attentionDecodeRef,
  attentionForwardRef,
  attentionForwardRefF64,
} from "./attention_ref.ts";
export { attentionDecode, kvAppend } from "./kv_cache.ts";
export { bindWindow, checkHeads } from "./attention_util.ts";

/** Arguments of {@link attentionForward}. */
export interface AttentionForwardArgs {
  q: View;
  k: View;
  v: View;
  out: View;
  /** f32 [T, hq]: log-sum-exp of each row's scores, saved for the backward. */
  lse: View;
  seqStarts: View;
  numSeqs: number;
  totalTokens: number;
  hq: number;
  hkv: number;
  headDim: number;
  scale: number;
}

/** Arguments of {@link attentionBackward}. */
export interface AttentionBackwardArgs extends AttentionForwardArgs {
  dOut: View;
  dq: View;
  dk: View;
  dv: View;
}

/** Whether the adapter is a CPU rasterizer (lavapipe), which prefers small tiles. */
const soft = (gpu: Gpu) => gpu.description.kind === "software";

/** The lane-per-row shape on CPU adapters (see `attention_lanes_wgsl.ts`), else undefined. */
function lanes(
  gpu: Gpu,
  kind: "fwd" | "dq" | "dkdv",
  a: AttentionForwardArgs,
): LaneShape | undefined {
  const s = laneShapeFor(kind, a.headDim / 4, a.hq / a.hkv, gpu.description.description, soft(gpu));
  if (s && (a.hq / a.hkv) % s.rh !== 0) {
    throw new Error(`attention: ${s.rh} heads per lane do not divide the group of ${a.hq / a.hkv}`);
  }
  return s;
}

function params(a: AttentionForwardArgs): Uint8Array<ArrayBuffer> {
  const buf = new ArrayBuffer(32);
  new Uint32Array(buf, 0, 4).set([a.totalTokens, a.hq, a.hkv, a.numSeqs]);
  new Float32Array(buf, 16, 1)[0] = a.scale;
  return new Uint8Array(buf);
}

function operands(gpu: Gpu, name: string, a: AttentionForwardArgs) {
  checkHeads(name, a.hq, a.hkv, a.headDim);
  const T = a.totalTokens;
  if (!(T >= 1 && a.numSeqs >= 1)) {
    throw new Error(`${name}: needs at least one token and sequence`);
  }
  const qBytes = T * a.hq * a.headDim * 4, kBytes = T * a.hkv * a.headDim * 4;
  return {
    qBytes,
    kBytes,
    q: bindWindow(gpu, name, "q", a.q, qBytes),
    k: bindWindow(gpu, name, "k", a.k, kBytes),
    v: bindWindow(gpu, name, "v", a.v, kBytes),
    seq: bindWindow(gpu, name, "seqStarts", a.seqStarts, (a.numSeqs + 1) * 4),
  };
}

/** Records the forward: out and lse for every token and query head. */
export async function attentionForward(
  gpu: Gpu,
  rec: Recorder,
  a: AttentionForwardArgs,
): Promise<void> {
  const name = "attentionForward";
  const o = operands(gpu, name, a);
  const d4 = a.headDim / 4;
  const ls = lanes(gpu, "fwd", a);
  let pipe: GPUComputePipeline, blocks: number;
  if (ls) {
    pipe = await pipeline(gpu, "attention_fwd_lanes", forwardLanesWgsl(d4, ls));
    blocks = Math.ceil(a.totalTokens / (ls.wg * ls.rt));
  } else {
    const tile = chooseTile("fwd", d4, gpu.limits.maxComputeWorkgroupStorageSize, soft(gpu));
    pipe = await pipeline(gpu, "attention_fwd", forwardWgsl("prefill", d4, tile));
    blocks = Math.ceil(a.totalTokens / tile.bq);
  }
  rec.dispatch(
    pipe,
    [
      o.q,
      o.k,
      o.v,
      bindWindow(gpu, name, "out", a.out, o.qBytes),
      bindWindow(gpu, name, "lse", a.lse, a.totalTokens * a.hq * 4),
      o.seq,
      { uniform: params(a) },
    ],
    [blocks, a.hq / (ls?.rh ?? 1)],
    "attention_fwd",
  );
}

const scratch = new WeakMap<GPUDevice, GPUBuffer>();

/** Bytes of the per-device scratch the backward uses for `totalTokens` x `hq` rows. */
export function attentionBackwardScratchBytes(totalTokens: number, hq: number): number {
  return Math.max(256, totalTokens * hq * 8);
}

/** The (lse, delta) scratch, grown when a call needs more; never freed while in use. */
function ldScratch(gpu: Gpu, bytes: number): GPUBuffer {
  let b = scratch.get(gpu.device);
  if (!b || b.size < bytes) {
    // An older, smaller one may still be referenced by an unsubmitted recording: let it be
    // collected rather than destroying it here.
    b = gpu.device.createBuffer({
      label: "attention_ld",
      size: Math.ceil(bytes / 256) * 256,
      usage: GPUBufferUsage.STORAGE,
    });
    scratch.set(gpu.device, b);
  }
  return b;
}

/**
 * Records the backward: dq, dk and dv are overwritten (dk, dv summed over the query heads of
 * each group). A first kernel computes delta_i = rowsum(dOut_i ∘ out_i).
 */
export async function attentionBackward(
  gpu: Gpu,
  rec: Recorder,
  a: AttentionBackwardArgs,
): Promise<void> {
  const name = "attentionBackward";
  const o = operands(gpu, name, a);
  const d4 = a.headDim / 4;
  const rows = a.totalTokens * a.hq;
  const ldBytes = attentionBackwardScratchBytes(a.totalTokens, a.hq);
  const ld = windowOf(ldScratch(gpu, ldBytes), 0, ldBytes);
  const dOut = bindWindow(gpu, name, "dOut", a.dOut, o.qBytes);
  const wgMem = gpu.limits.maxComputeWorkgroupStorageSize;
  const dqLanes = lanes(gpu, "dq", a), kvLanes = lanes(gpu, "dkdv", a);
  const dqRows = dqLanes ? dqLanes.wg * dqLanes.rt : chooseTile("dq", d4, wgMem, soft(gpu)).bq;
  const dq = await pipeline(
    gpu,
    "attention_dq",
    dqLanes ? dqLanesWgsl(d4, dqLanes) : dqWgsl(d4, chooseTile("dq", d4, wgMem, soft(gpu))),
  );
  const kvRows = kvLanes ? kvLanes.wg * kvLanes.rt : chooseTile("dkdv", d4, wgMem, soft(gpu)).bk;
  const dkdv = await pipeline(
    gpu,
    "attention_dkdv",
    kvLanes ? dkdvLanesWgsl(d4, kvLanes) : dkdvWgsl(d4, chooseTile("dkdv", d4, wgMem, soft(gpu))),
  );
  const delta = await pipeline(gpu, "attention_delta", deltaWgsl(d4));
  const u = new Uint32Array(4);
  u[0] = rows;
  rec.dispatch(
    delta,
    [
      dOut,
      bindWindow(gpu, name, "out", a.out, o.qBytes),
      bindWindow(gpu, name, "lse", a.lse, rows * 4),
      ld,
      { uniform: u },
    ],
    grid1d(gpu, rows),
    "attention_delta",
  );
  rec.dispatch(
    dq,
    [
      o.q,
      o.k,
      o.v,
      dOut,
      ld,
      bindWindow(gpu, name, "dq", a.dq, o.qBytes),
      o.seq,
      { uniform: params(a) },
    ],
    [Math.ceil(a.totalTokens / dqRows), a.hq / (dqLanes?.rh ?? 1)],
    "attention_dq",
  );
  rec.dispatch(
    dkdv,
    [
      o.q,
      o.k,
      o.v,
      dOut,
      ld,
      bindWindow(gpu, name, "dk", a.dk, o.kBytes),
      bindWindow(gpu, name, "dv", a.dv, o.kBytes),
      o.seq,
      { uniform: params(a) },
    ],
    [Math.ceil(a.totalTokens / kvRows), a.hkv],
    "attention_dkdv",
  );
}
