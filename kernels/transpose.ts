/**
 * out[c, r] = in[r, c] for a row-major [rows, cols] f32 matrix, through 16x16
 * workgroup tiles. On CPU adapters the tuned matmul is fastest in the NT layout
 * (both operands read along k with unit stride); transposing an operand costs
 * one pass over it, far less than the matmul it turns into NT.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";

export const TRANSPOSE_WGSL = /* wgsl */ `
struct P { rows: u32, cols: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> tile: array<f32, 272>; // 16 x 17: the pad avoids bank conflicts on GPUs

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wid.y * 16u + lid.y;
  let c = wid.x * 16u + lid.x;
  if (r < p.rows && c < p.cols) { tile[lid.y * 17u + lid.x] = src[r * p.cols + c]; }
  workgroupBarrier();
  let orow = wid.x * 16u + lid.y; // output row = input column
  let ocol = wid.y * 16u + lid.x;
  if (orow < p.cols && ocol < p.rows) { dst[orow * p.rows + ocol] = tile[lid.x * 17u + lid.y]; }
}`;

/** Records dst[cols, rows] = src[rows, cols]^T. Both views hold at most one binding (128 MiB). */
export async function transpose(
  gpu: Gpu,
  rec: Recorder,
  a: { src: View; dst: View; rows: number; cols: number },
) {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.ceil(a.cols / 16), gy = Math.ceil(a.rows / 16);
  if (gx > max || gy > max) {
    throw new Error(
      `transpose: ${a.rows}x${a.cols} needs more than ${max} workgroups per dimension`,
    );
  }
  const pipe = await pipeline(gpu, "transpose", TRANSPOSE_WGSL);
  rec.dispatch(
    pipe,
    [a.src, a.dst, { uniform: new Uint32Array([a.rows, a.cols, 0, 0]) }],
    [gx, gy],
    "transpose",
  );
}

/** CPU reference. */
export function transposeRef(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c];
  return out;
}
