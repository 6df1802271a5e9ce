/**
 * C[M,N] = A[M,K] · B[K,N], row-major f32, one thread per output: the plain
 * reference kernel that tuned matmuls are measured against.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";

export const MATMUL_NAIVE_WGSL = /* wgsl */ `
struct Dims { m: u32, n: u32, k: u32, _pad: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> d: Dims;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.y;
  let col = gid.x;
  if (row >= d.m || col >= d.n) { return; }
  var acc = 0.0;
  for (var i = 0u; i < d.k; i++) {
    acc += a[row * d.k + i] * b[i * d.n + col];
  }
  c[row * d.n + col] = acc;
}`;

export interface MatmulArgs {
  a: GPUBuffer;
  b: GPUBuffer;
  c: GPUBuffer;
  m: number;
  n: number;
  k: number;
}

/** Records C = A·B. */
export async function matmulNaive(gpu: Gpu, rec: Recorder, { a, b, c, m, n, k }: MatmulArgs) {
  const pipe = await pipeline(gpu, "matmul_naive", MATMUL_NAIVE_WGSL);
  rec.dispatch(pipe, [a, b, c, { uniform: new Uint32Array([m, n, k, 0]) }], [
    Math.ceil(n / 8),
    Math.ceil(m / 8),
  ], "matmul_naive");
}

/** CPU reference in f64 accumulation (the GPU's f32 sum differs by rounding only). */
export function matmulRef(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
): Float32Array {
  const c = new Float32Array(m * n);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      const off = p * n;
      for (let j = 0; j < n; j++) row[j] += av * b[off + j];
    }
    c.set(row, i * n);
  }
  return c;
}
