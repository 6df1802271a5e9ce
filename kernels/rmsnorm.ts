/**
 * RMSNorm over the last dimension, Qwen3 style: y = weight ⊙ (x · rsqrt(mean(x²) + eps)). Used on
 * the hidden state (rows = tokens, dim = hidden) and per head on q and k (rows = tokens·heads,
 * dim = headDim). The forward saves rstd per row for the backward.
 *
 * One workgroup per row reduces through workgroup memory; rows are walked in windows of a multiple
 * of 64 rows so every binding stays under 128 MiB with 256-byte aligned starts. dWeight sums over
 * rows in two fixed-order stages (per-chunk partials, then a per-column sum of the chunks), so it
 * is deterministic with no float atomics.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";
import {
  access,
  bindWindow,
  BUILTINS,
  f32,
  foldGrid,
  itemsPerWindow,
  needBytes,
  scratch,
  spans,
  uniform,
  WG_INDEX,
} from "./elementwise.ts";

/** Workgroup width for a row of `dim`: narrow rows (head_dim) waste less with 64 threads. */
function rowWg(dim: number): number {
  return dim <= 256 ? 64 : 256;
}

/** WGSL: tree-reduces `red[0..wg)` into red[0]; every thread must reach it (uniform flow). */
function treeReduce(wg: number): string {
  return `
  workgroupBarrier();
  for (var o = ${wg / 2}u; o > 0u; o >>= 1u) {
    if (lid.x < o) { red[lid.x] += red[lid.x + o]; }
    workgroupBarrier();
  }`;
}

/** Forward source: one workgroup per row. */
export const RMSNORM_FWD_WGSL = (wg: number, xMode: string, wMode: string) => /* wgsl */ `
struct P { rows: u32, dim: u32, eps: f32, _a: u32 }
@group(0) @binding(0) var<storage, ${xMode}> x: array<f32>;
@group(0) @binding(1) var<storage, ${wMode}> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
var<workgroup> red: array<f32, ${wg}>;

@compute @workgroup_size(${wg})
fn main(${BUILTINS}) {
  let row = ${WG_INDEX};
  if (row >= p.rows) { return; }
  let base = row * p.dim;
  var s = 0.0;
  for (var c = lid.x; c < p.dim; c += ${wg}u) { let v = x[base + c]; s += v * v; }
  red[lid.x] = s;
  ${treeReduce(wg)}
  let r = inverseSqrt(red[0] / f32(p.dim) + p.eps);
  if (lid.x == 0u) { rstd[row] = r; }
  for (var c = lid.x; c < p.dim; c += ${wg}u) { y[base + c] = w[c] * (x[base + c] * r); }
}`;

/**
 * Backward dX source: dx = r·g·w − (r³/dim)·x·Σ(g·w·x), written or added (`acc`).
 * `modes` (x, w, rstd, g) are read_write where an input shares a buffer with dX.
 */
export const RMSNORM_BWD_DX_WGSL = (wg: number, acc: boolean, modes: string[]) => /* wgsl */ `
struct P { rows: u32, dim: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, ${modes[0]}> x: array<f32>;
@group(0) @binding(1) var<storage, ${modes[1]}> w: array<f32>;
@group(0) @binding(2) var<storage, ${modes[2]}> rstd: array<f32>;
@group(0) @binding(3) var<storage, ${modes[3]}> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
var<workgroup> red: array<f32, ${wg}>;

@compute @workgroup_size(${wg})
fn main(${BUILTINS}) {
  let row = ${WG_INDEX};
  if (row >= p.rows) { return; }
  let base = row * p.dim;
  var s = 0.0;
  for (var c = lid.x; c < p.dim; c += ${wg}u) { s += g[base + c] * w[c] * x[base + c]; }
  red[lid.x] = s;
  ${treeReduce(wg)}
  let r = rstd[row];
  let k = r * r * r * red[0] / f32(p.dim);
  for (var c = lid.x; c < p.dim; c += ${wg}u) {
    let v = r * g[base + c] * w[c] - k * x[base + c];
    ${acc ? "dx[base + c] = dx[base + c] + v;" : "dx[base + c] = v;"}
  }
}`;

/** dWeight stage 1: partial[chunk0 + k, c] = Σ over the chunk's rows of g·x·r. */
export const RMSNORM_BWD_DW1_WGSL = /* wgsl */ `
struct P { rows: u32, dim: u32, chunkRows: u32, chunk0: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> rstd: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<uniform> p: P;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let k = gid.y;
  if (c >= p.dim) { return; }
  let r0 = k * p.chunkRows;
  let r1 = min(r0 + p.chunkRows, p.rows);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += g[r * p.dim + c] * x[r * p.dim + c] * rstd[r]; }
  part[(p.chunk0 + k) * p.dim + c] = s;
}`;

/** dWeight stage 2: dW[c] += Σ_k partial[k, c], chunks in order. */
export const RMSNORM_BWD_DW2_WGSL = /* wgsl */ `
struct P { chunks: u32, dim: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.dim) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.chunks; k++) { s += part[k * p.dim + c]; }
  dw[c] = dw[c] + s;
}`;

/** Rows per window: a multiple of 64 (and of `multiple`) so x and rstd windows start aligned. */
function rowsPerWindow(gpu: Gpu, dim: number, multiple = 64): number {
  return itemsPerWindow(gpu, dim * 4, multiple);
}

/** Records out = weight ⊙ x·rstd per row and saves rstd [rows]. */
export async function rmsnormForward(
  gpu: Gpu,
  rec: Recorder,
  a: { x: View; weight: View; out: View; rstd: View; rows: number; dim: number; eps: number },
): Promise<void> {
  const { rows, dim } = a;
  needBytes(a.x, rows * dim * 4, "rmsnorm x");
  needBytes(a.out, rows * dim * 4, "rmsnorm out");
  needBytes(a.weight, dim * 4, "rmsnorm weight");
  needBytes(a.rstd, rows * 4, "rmsnorm rstd");
  if (rows === 0 || dim === 0) return;
  const wg = rowWg(dim);
  const outs = [a.out, a.rstd];
  const pipe = await pipeline(
    gpu,
    "rmsnorm_fwd",
    RMSNORM_FWD_WGSL(wg, access(a.x, outs), access(a.weight, outs)),
  );
  for (const w of spans(rows, rowsPerWindow(gpu, dim))) {
    const off = w.start * dim * 4, bytes = w.count * dim * 4;
    rec.dispatch(
      pipe,
      [
        bindWindow(a.x, off, bytes),
        bindWindow(a.weight, 0, dim * 4),
        bindWindow(a.out, off, bytes),
        bindWindow(a.rstd, w.start * 4, w.count * 4),
        uniform(w.count, dim, f32(a.eps)),
      ],
      foldGrid(gpu, w.count),
      "rmsnorm_fwd",
    );
  }
}

/**
 * Records the RMSNorm backward: dX written (or added to with `accumulateDX`) and dWeight
 * accumulated (+=) through a two-stage fixed-order reduction over rows.
 */
export async function rmsnormBackward(
  gpu: Gpu,
  rec: Recorder,
  a: {
    x: View;
    weight: View;
    rstd: View;
    dOut: View;
    dX: View;
    dWeight: View;
    rows: number;
    dim: number;
    accumulateDX?: boolean;
  },
): Promise<void> {
  const { rows, dim } = a;
  needBytes(a.x, rows * dim * 4, "rmsnorm x");
  needBytes(a.dOut, rows * dim * 4, "rmsnorm dOut");
  needBytes(a.dX, rows * dim * 4, "rmsnorm dX");
  needBytes(a.weight, dim * 4, "rmsnorm weight");
  needBytes(a.dWeight, dim * 4, "rmsnorm dWeight");
  needBytes(a.rstd, rows * 4, "rmsnorm rstd");
  if (rows === 0 || dim === 0) return;
  const wg = rowWg(dim);
  const modes = [a.x, a.weight, a.rstd, a.dOut].map((v) => access(v, [a.dX]));
  const dxPipe = await pipeline(
    gpu,
    "rmsnorm_bwd_dx",
    RMSNORM_BWD_DX_WGSL(wg, !!a.accumulateDX, modes),
  );
  // Chunks of a multiple of 64 rows, at most ~256 of them: enough parallel partials for the
  // first stage, few enough that the second stage's serial sum is short.
  const chunkRows = 64 * Math.ceil(rows / (256 * 64));
  const chunks = Math.ceil(rows / chunkRows);
  const part = scratch(gpu, "rmsnorm_dw", chunks * dim * 4);
  // The scratch partials share no buffer with the operands, so stage 1 reads them all read-only.
  const dw1 = await pipeline(gpu, "rmsnorm_bwd_dw1", RMSNORM_BWD_DW1_WGSL);
  const dw2 = await pipeline(gpu, "rmsnorm_bwd_dw2", RMSNORM_BWD_DW2_WGSL);
  // Windows hold whole chunks, so chunk k of a window is chunk start/chunkRows + k overall.
  for (const w of spans(rows, rowsPerWindow(gpu, dim, chunkRows))) {
    const off = w.start * dim * 4, bytes = w.count * dim * 4;
    const x = bindWindow(a.x, off, bytes), g = bindWindow(a.dOut, off, bytes);
    const r = bindWindow(a.rstd, w.start * 4, w.count * 4);
    rec.dispatch(
      dxPipe,
      [
        x,
        bindWindow(a.weight, 0, dim * 4),
        r,
        g,
        bindWindow(a.dX, off, bytes),
        uniform(w.count, dim),
      ],
      foldGrid(gpu, w.count),
      "rmsnorm_bwd_dx",
    );
    rec.dispatch(
      dw1,
      [x, r, g, part, uniform(w.count, dim, chunkRows, w.start / chunkRows)],
      [Math.ceil(dim / 64), Math.ceil(w.count / chunkRows)],
      "rmsnorm_bwd_dw",
    );
  }
  rec.dispatch(
    dw2,
    [part, bindWindow(a.dWeight, 0, dim * 4), uniform(chunks, dim)],
    Math.ceil(dim / 64),
    "rmsnorm_bwd_dw",
  );
}

/** CPU reference (f64): the normalised rows and rstd per row. */
export function rmsnormForwardRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  rows: number,
  dim: number,
  eps: number,
): { out: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(rows * dim), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += x[r * dim + c] ** 2;
    const rs = 1 / Math.sqrt(s / dim + eps);
    rstd[r] = rs;
    for (let c = 0; c < dim; c++) out[r * dim + c] = weight[c] * x[r * dim + c] * rs;
  }
  return { out, rstd };
}

/** CPU reference (f64) of the backward: dX and dWeight (not accumulated) from dOut. */
export function rmsnormBackwardRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  dOut: ArrayLike<number>,
  rows: number,
  dim: number,
  eps: number,
): { dX: Float64Array; dWeight: Float64Array } {
  const { rstd } = rmsnormForwardRef(x, weight, rows, dim, eps);
  const dX = new Float64Array(rows * dim), dWeight = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const rs = rstd[r], b = r * dim;
    let s = 0;
    for (let c = 0; c < dim; c++) s += dOut[b + c] * weight[c] * x[b + c];
    const k = rs ** 3 * s / dim;
    for (let c = 0; c < dim; c++) {
      dX[b + c] = rs * dOut[b + c] * weight[c] - k * x[b + c];
      dWeight[c] += dOut[b + c] * x[b + c] * rs;
    }
  }
  return { dX, dWeight };
}
