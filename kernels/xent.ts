/**
 * Log-softmax statistics, per-token log-probabilities, entropy and their backward, computed over
 * vocabulary chunks so no [T, V] logits buffer exists for long T (V = 151,936 for Qwen3).
 *
 * Forward: the model computes one logits chunk [T, chunkSize] at a time (hidden states times a
 * window of the LM head), calls {@link xentChunkForward} to fold it into running per-token
 * statistics, and after the last chunk calls {@link xentFinalize}. Backward: it recomputes each
 * chunk and calls {@link xentChunkBackward}, which turns the chunk into dLoss/dlogits in place;
 * the two matmuls (into the hidden states and the LM-head gradient) are the model's.
 *
 * `stats` is f32 [T, 4] per token, with l = logits * invTemperature:
 *   0: running max M of l
 *   1: S = sum exp(l - M)
 *   2: the target's l (-inf until the chunk holding the target is seen; stays -inf for no target)
 *   3: W = sum exp(l - M) * (l - M)   (shifted by M, unlike sum exp(l - M) * l: entropy = log S -
 *      W / S then has no cancellation between two large numbers)
 * Merging a chunk rescales by exp(M_old - M_new); W picks up (M_old - M_new) * S_old.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import { bufferOf, offsetOf, sizeOf, type View } from "../core/tensor.ts";
import { grid1d } from "./axpy.ts";

/** Target id meaning "this token has no target" (prompt positions, padding). */
export const NO_TARGET = 0xFFFFFFFF;

const NEG_INF_BITS = 0xff800000;

const FORWARD_WGSL = /* wgsl */ `
struct Params {
  rows: u32, chunk: u32, chunk_start: u32, first: u32,
  inv_t: f32, loff: u32, row0: u32, neg_inf_bits: u32,
}
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const WG = 256u;
var<workgroup> red_m: array<f32, 256>;
var<workgroup> red_s: array<f32, 256>;
var<workgroup> red_w: array<f32, 256>;

// One workgroup per token row; grid folded over x and y.
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.rows) { return; } // whole workgroup: uniform
  let base = p.loff + r * p.chunk;
  // Two passes (max, then sums relative to it): the row is in cache for the second.
  var m = -3.0e38;
  for (var c = li; c < p.chunk; c += WG) { m = max(m, logits[base + c] * p.inv_t); }
  red_m[li] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red_m[li] = max(red_m[li], red_m[li + s]); }
    workgroupBarrier();
  }
  let cm = red_m[0];
  var sum = 0.0;
  var w = 0.0;
  for (var c = li; c < p.chunk; c += WG) {
    let d = logits[base + c] * p.inv_t - cm;
    let e = exp(d);
    sum += e;
    w += e * d;
  }
  red_s[li] = sum;
  red_w[li] = w;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      red_s[li] += red_s[li + s];
      red_w[li] += red_w[li + s];
    }
    workgroupBarrier();
  }
  if (li != 0u) { return; }
  let t = p.row0 + r;
  let o = t * 4u;
  let cs = red_s[0];
  let cw = red_w[0];
  var M = cm;
  var S = cs;
  var W = cw;
  var tg = bitcast<f32>(p.neg_inf_bits);
  if (p.first == 0u) {
    let om = stats[o];
    let os = stats[o + 1u];
    let ow = stats[o + 3u];
    M = max(om, cm);
    let a = exp(om - M);
    let b = exp(cm - M);
    S = os * a + cs * b;
    W = a * (ow + (om - M) * os) + b * (cw + (cm - M) * cs);
    tg = stats[o + 2u];
  }
  let tid = targets[t];
  if (tid != 0xFFFFFFFFu && tid >= p.chunk_start && tid - p.chunk_start < p.chunk) {
    tg = logits[base + tid - p.chunk_start] * p.inv_t;
  }
  stats[o] = M;
  stats[o + 1u] = S;
  stats[o + 2u] = tg;
  stats[o + 3u] = W;
}`;

const FINALIZE_WGSL = /* wgsl */ `
struct Params { tokens: u32, neg_inf_bits: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, read> stats: array<f32>;
@group(0) @binding(1) var<storage, read_write> logprobs: array<f32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * 256u;
  if (t >= p.tokens) { return; }
  let M = stats[t * 4u];
  let S = stats[t * 4u + 1u];
  let tg = stats[t * 4u + 2u];
  let W = stats[t * 4u + 3u];
  let logS = log(S);
  let z = M + logS;
  lse[t] = z;
  // The -inf sentinel is compared by bits: no reliance on inf arithmetic or comparisons.
  logprobs[t] = select(tg - z, 0.0, bitcast<u32>(tg) == p.neg_inf_bits);
  entropy[t] = logS - W / S;
}`;

const BACKWARD_WGSL = /* wgsl */ `
struct Params {
  n: u32, chunk: u32, chunk_start: u32, inv_t: f32,
  loff: u32, row0: u32, _a: u32, _b: u32,
}
@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> coef: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let r = i / p.chunk;
  let c = i - r * p.chunk;
  let t = p.row0 + r;
  let tid = targets[t];
  let k = p.loff + i;
  if (tid == 0xFFFFFFFFu) { logits[k] = 0.0; return; } // logprob is the constant 0
  let prob = exp(logits[k] * p.inv_t - lse[t]);
  let onehot = select(0.0, 1.0, tid == p.chunk_start + c);
  logits[k] = coef[t] * p.inv_t * (onehot - prob);
}`;

/**
 * The backward with an entropy term: adds d(entCoef[t]·H_t)/dlogits, where H_t is the entropy of
 * softmax(l), l = logits·invT: dH/dl_v = −p_v·(log p_v + H), times invT for the logits. Applied on
 * every row (a row with no target gets only this term); a separate source so the plain backward
 * stays as it was.
 */
const BACKWARD_ENT_WGSL = /* wgsl */ `
struct Params {
  n: u32, chunk: u32, chunk_start: u32, inv_t: f32,
  loff: u32, row0: u32, _a: u32, _b: u32,
}
@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> coef: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> ent_coef: array<f32>;
@group(0) @binding(6) var<storage, read> entropy: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let r = i / p.chunk;
  let c = i - r * p.chunk;
  let t = p.row0 + r;
  let tid = targets[t];
  let k = p.loff + i;
  let logp = logits[k] * p.inv_t - lse[t];
  let prob = exp(logp);
  let onehot = select(0.0, 1.0, tid == p.chunk_start + c);
  // The logprob term is 0 on rows with no target (their logprob is the constant 0).
  let g_lp = select(coef[t] * (onehot - prob), 0.0, tid == 0xFFFFFFFFu);
  let g_ent = -ent_coef[t] * prob * (logp + entropy[t]);
  logits[k] = p.inv_t * (g_lp + g_ent);
}`;

/** A window of whole rows of a row-major matrix, bound at a 256-aligned byte offset. */
export interface RowWindow {
  /** First row of the window. */
  row0: number;
  /** Rows in the window. */
  rows: number;
  /** The binding: starts at or before row `row0`, aligned to 256 bytes. */
  binding: { buffer: GPUBuffer; offset: number; size: number };
  /** Element offset of row `row0` inside the binding. */
  elemOffset: number;
}

/**
 * Splits `rows` rows of `rowElems` 4-byte elements, starting at the view's offset, into windows
 * each under the storage-binding limit (`maxBindBytes`, default the device's). The view's offset
 * must be a multiple of 4 (a row need not start on a 256-byte boundary: the binding starts at the
 * aligned offset below it and the rest goes in `elemOffset`).
 */
export function rowWindows(
  gpu: Gpu,
  view: View,
  rows: number,
  rowElems: number,
  maxBindBytes = gpu.limits.maxStorageBufferBindingSize,
): RowWindow[] {
  const rowBytes = rowElems * 4;
  const align = gpu.limits.minStorageBufferOffsetAlignment;
  const perWindow = Math.floor((maxBindBytes - align) / rowBytes);
  if (perWindow < 1) {
    throw new Error(`a row of ${rowElems} f32 does not fit one ${maxBindBytes}-byte binding`);
  }
  if (rows * rowBytes > sizeOf(view)) {
    throw new Error(`view of ${sizeOf(view)} bytes is smaller than ${rows} x ${rowElems} f32`);
  }
  const buffer = bufferOf(view), base = offsetOf(view);
  const out: RowWindow[] = [];
  for (let row0 = 0; row0 < rows; row0 += perWindow) {
    const n = Math.min(perWindow, rows - row0);
    const start = base + row0 * rowBytes;
    const aligned = start - (start % align);
    out.push({
      row0,
      rows: n,
      binding: { buffer, offset: aligned, size: start - aligned + n * rowBytes },
      elemOffset: (start - aligned) / 4,
    });
  }
  return out;
}

/** A grid of `n` workgroups folded over x and y. */
export function foldGrid(gpu: Gpu, n: number): [number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  return n <= max ? [Math.max(n, 1), 1] : [max, Math.ceil(n / max)];
}

/** Arguments of {@link xentChunkForward}. */
export interface XentChunkForwardArgs {
  /** f32 [tokens, chunkSize]: logits for vocab ids chunkStart .. chunkStart + chunkSize - 1. */
  logits: View;
  /** u32 [tokens]; {@link NO_TARGET} for no target. */
  targets: View;
  /** f32 [tokens, 4] running statistics (see the module comment). */
  stats: View;
  tokens: number;
  chunkStart: number;
  chunkSize: number;
  /** Initialise `stats` from this chunk instead of merging into it. */
  first: boolean;
  /** l = logits * invTemperature (default 1). */
  invTemperature?: number;
  /** Storage-binding limit to split under (tests; default the device's). */
  maxBindBytes?: number;
}

/** Records the merge of one logits chunk into the running per-token statistics. */
export async function xentChunkForward(
  gpu: Gpu,
  rec: Recorder,
  a: XentChunkForwardArgs,
): Promise<void> {
  if (a.tokens === 0 || a.chunkSize === 0) return;
  const pipe = await pipeline(gpu, "xent_forward", FORWARD_WGSL);
  for (const w of rowWindows(gpu, a.logits, a.tokens, a.chunkSize, a.maxBindBytes)) {
    const u = new ArrayBuffer(32);
    const v = new Uint32Array(u);
    v.set([w.rows, a.chunkSize, a.chunkStart, a.first ? 1 : 0, 0, w.elemOffset, w.row0]);
    v[7] = NEG_INF_BITS;
    new Float32Array(u, 16, 1)[0] = a.invTemperature ?? 1;
    rec.dispatch(
      pipe,
      [w.binding, a.targets, a.stats, { uniform: new Uint8Array(u) }],
      foldGrid(gpu, w.rows),
      "xent_forward",
    );
  }
}

/** Arguments of {@link xentFinalize}. */
export interface XentFinalizeArgs {
  stats: View;
  /** f32 [tokens]: target logit - lse, 0 where there is no target. */
  logprobs: View;
  /** f32 [tokens]: log-sum-exp of l. */
  lse: View;
  /** f32 [tokens]: entropy of softmax(l), = lse - E_p[l]. */
  entropy: View;
  tokens: number;
}

/** logprob[t] = target logit - lse (0 when no target), lse[t] = log-sum-exp, entropy[t] = lse - E_p[l]. */
export async function xentFinalize(gpu: Gpu, rec: Recorder, a: XentFinalizeArgs): Promise<void> {
  if (a.tokens === 0) return;
  const pipe = await pipeline(gpu, "xent_finalize", FINALIZE_WGSL);
  const u = new Uint32Array([a.tokens, NEG_INF_BITS, 0, 0]);
  rec.dispatch(
    pipe,
    [a.stats, a.logprobs, a.lse, a.entropy, { uniform: u }],
    grid1d(gpu, a.tokens),
    "xent_finalize",
  );
}

/** Arguments of {@link xentChunkBackward}. */
export interface XentChunkBackwardArgs {
  /** f32 [tokens, chunkSize], the recomputed logits chunk; overwritten with dLoss/dlogits. */
  logits: View;
  targets: View;
  /** f32 [tokens] from {@link xentFinalize}. */
  lse: View;
  /** f32 [tokens]: dLoss/dlogprob[t]. */
  coef: View;
  /**
   * f32 [tokens], optional: adds the gradient of sum_t entCoef[t]·H_t (H_t the entropy of
   * softmax(l)) on every row, targets or not. An entropy bonus of β under loss aggregation
   * weights w is entCoef = −β·w (the loss is minimised). Needs `entropy`.
   */
  entCoef?: View;
  /** f32 [tokens] from {@link xentFinalize}; required with `entCoef`. */
  entropy?: View;
  tokens: number;
  chunkStart: number;
  chunkSize: number;
  invTemperature?: number;
  /** Storage-binding limit to split under (tests; default the device's). */
  maxBindBytes?: number;
}

/**
 * In place: the logits chunk becomes dLoss/dlogits = coef[t] * invTemperature * (onehot(target) -
 * softmax(l))[v], with coef[t] = dLoss/dlogprob[t]. Rows with no target get 0 (their logprob is the
 * constant 0). With `entCoef`, adds entCoef[t] * invTemperature * (-p_v (log p_v + H_t)) on every
 * row: the gradient of sum_t entCoef[t] * H_t.
 */
export async function xentChunkBackward(
  gpu: Gpu,
  rec: Recorder,
  a: XentChunkBackwardArgs,
): Promise<void> {
  if ((a.entCoef === undefined) !== (a.entropy === undefined)) {
    throw new Error("xentChunkBackward: entCoef and entropy go together");
  }
  if (a.tokens === 0 || a.chunkSize === 0) return;
  const ent = a.entCoef && a.entropy ? [a.entCoef, a.entropy] : [];
  const pipe = ent.length
    ? await pipeline(gpu, "xent_backward_entropy", BACKWARD_ENT_WGSL)
    : await pipeline(gpu, "xent_backward", BACKWARD_WGSL);
  for (const w of rowWindows(gpu, a.logits, a.tokens, a.chunkSize, a.maxBindBytes)) {
    const n = w.rows * a.chunkSize;
    const u = new ArrayBuffer(32);
    new Uint32Array(u).set([n, a.chunkSize, a.chunkStart, 0, w.elemOffset, w.row0, 0, 0]);
    new Float32Array(u, 12, 1)[0] = a.invTemperature ?? 1;
    rec.dispatch(
      pipe,
      [w.binding, a.targets, a.lse, a.coef, { uniform: new Uint8Array(u) }, ...ent],
      grid1d(gpu, n),
      "xent_backward",
    );
  }
}

/** Per-row f64 statistics of l = logits * invT: log-sum-exp and entropy. */
function rowStats(row: Float32Array, invT: number): { lse: number; entropy: number } {
  let m = -Infinity;
  for (let v = 0; v < row.length; v++) m = Math.max(m, row[v] * invT);
  let s = 0, w = 0;
  for (let v = 0; v < row.length; v++) {
    const d = row[v] * invT - m, e = Math.exp(d);
    s += e;
    w += e * d;
  }
  return { lse: m + Math.log(s), entropy: Math.log(s) - w / s };
}

/** CPU reference (f64): per-token logprob, log-sum-exp and entropy of softmax(logits * invT). */
export function xentRef(
  logits: Float32Array,
  targets: Uint32Array,
  invTemperature = 1,
): { logprobs: Float32Array; lse: Float32Array; entropy: Float32Array } {
  const T = targets.length, V = logits.length / T;
  const logprobs = new Float32Array(T), lse = new Float32Array(T), entropy = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    const st = rowStats(row, invTemperature);
    lse[t] = st.lse;
    entropy[t] = st.entropy;
    logprobs[t] = targets[t] === NO_TARGET ? 0 : row[targets[t]] * invTemperature - st.lse;
  }
  return { logprobs, lse, entropy };
}

/**
 * CPU reference (f64): dLoss/dlogits [T, V] for dLoss/dlogprob = coef (0 on rows with no target),
 * plus, with `entCoef`, the gradient of sum_t entCoef[t] * H_t on every row.
 */
export function xentBackwardRef(
  logits: Float32Array,
  targets: Uint32Array,
  coef: Float32Array,
  invTemperature = 1,
  entCoef?: ArrayLike<number>,
): Float32Array {
  const T = targets.length, V = logits.length / T;
  const out = new Float32Array(T * V);
  for (let t = 0; t < T; t++) {
    const hasTarget = targets[t] !== NO_TARGET;
    if (!hasTarget && !entCoef) continue;
    const row = logits.subarray(t * V, (t + 1) * V);
    const { lse, entropy } = rowStats(row, invTemperature);
    const ec = entCoef ? entCoef[t] : 0;
    for (let v = 0; v < V; v++) {
      const logp = row[v] * invTemperature - lse, prob = Math.exp(logp);
      const dLp = hasTarget ? (v === targets[t] ? 1 : 0) - prob : 0;
      out[t * V + v] = entCoef
        ? invTemperature * (coef[t] * dLp - ec * prob * (logp + entropy))
        : coef[t] * invTemperature * dLp;
    }
  }
  return out;
}
