/** y ← a·x + y over f32 vectors: the smallest real kernel, used to check the runtime. */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";

export const AXPY_WGSL = /* wgsl */ `
struct Params { n: u32, a: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  // 2-D grid so n may exceed 65535 workgroups of 256.
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { y[i] = p.a * x[i] + y[i]; }
}`;

const WG = 256;

/** Grid for `n` threads of a 256-wide 1-D kernel laid over x and y. */
export function grid1d(gpu: Gpu, n: number): [number, number] {
  const groups = Math.ceil(n / WG);
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  return groups <= max ? [Math.max(groups, 1), 1] : [max, Math.ceil(groups / max)];
}

/** Records y ← a·x + y for `n` elements. */
export async function axpy(
  gpu: Gpu,
  rec: Recorder,
  a: number,
  x: GPUBuffer,
  y: GPUBuffer,
  n: number,
) {
  const pipe = await pipeline(gpu, "axpy", AXPY_WGSL);
  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 1)[0] = n;
  new Float32Array(params, 4, 1)[0] = a;
  rec.dispatch(pipe, [x, y, { uniform: new Uint8Array(params) }], grid1d(gpu, n), "axpy");
}

/** CPU reference, in f32 arithmetic like the GPU. */
export function axpyRef(a: number, x: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(y.length);
  const af = Math.fround(a);
  for (let i = 0; i < y.length; i++) out[i] = Math.fround(Math.fround(af * x[i]) + y[i]);
  return out;
}
