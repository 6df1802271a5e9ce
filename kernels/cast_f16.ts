/**
 * f32 → f16 → f32 through WGSL's f16 type: exercises the `shader-f16` feature
 * that half-precision weight storage relies on.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { GpuError } from "../core/errors.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import { grid1d } from "./axpy.ts";

export const ROUND_F16_WGSL = /* wgsl */ `
enable f16;
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> n: vec4u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < n.x) { y[i] = f32(f16(x[i])); }
}`;

/** Records y ← f32(f16(x)). Needs shader-f16. */
export async function roundF16(gpu: Gpu, rec: Recorder, x: GPUBuffer, y: GPUBuffer, n: number) {
  if (!gpu.hasF16) throw new GpuError("this adapter lacks shader-f16");
  const pipe = await pipeline(gpu, "round_f16", ROUND_F16_WGSL);
  rec.dispatch(
    pipe,
    [x, y, { uniform: new Uint32Array([n, 0, 0, 0]) }],
    grid1d(gpu, n),
    "round_f16",
  );
}

/** CPU reference: IEEE round-to-nearest-even to binary16. */
export function roundF16Ref(x: Float32Array): Float32Array {
  return x.map((v) => Math.f16round(v));
}
