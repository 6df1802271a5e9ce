/**
 * Partial sums of an f32 buffer: the plainest storage read a shader can do, used by `bench` as
 * the adapter's shader read ceiling (how fast any kernel can stream weights), beside the copy
 * bandwidth (what the memory system does without a shader).
 *
 * Each of `lanes` invocations sums one contiguous chunk of the buffer, four `vec4` loads per
 * iteration into four accumulators: one read stream per invocation and no reduction, the
 * pattern measured fastest on lavapipe, where every storage load is a per-lane loop.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";

const WG = 64;
/** Elements each invocation adds per loop iteration (four vec4 loads). */
export const READ_SUM_STEP = 16;

export const READ_SUM_WGSL = /* wgsl */ `
struct Params { chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  // chunk: vec4s per invocation, a multiple of 4.
  let base = gid.x * p.chunk;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  for (var q = 0u; q < p.chunk; q += 4u) {
    a0 += x[base + q];
    a1 += x[base + q + 1u];
    a2 += x[base + q + 2u];
    a3 += x[base + q + 3u];
  }
  out[gid.x] = (a0 + a1) + (a2 + a3);
}`;

/** Invocations for a buffer of `elements` f32: a multiple of the workgroup that divides it. */
export function readSumLanes(elements: number, want = 2048): number {
  if (elements % (WG * READ_SUM_STEP) !== 0) {
    throw new Error(`readSum: ${elements} elements is not a multiple of ${WG * READ_SUM_STEP}`);
  }
  let lanes = Math.min(want, elements / READ_SUM_STEP);
  lanes -= lanes % WG;
  while (elements % (lanes * READ_SUM_STEP) !== 0) lanes -= WG;
  return lanes;
}

/**
 * Records out[i] ← the vec4 sum of chunk i of x (`elements` f32, `lanes` chunks; see
 * {@link readSumLanes}). `out` holds `lanes` vec4s.
 */
export async function readSum(
  gpu: Gpu,
  rec: Recorder,
  x: GPUBuffer,
  out: GPUBuffer,
  elements: number,
  lanes: number,
): Promise<void> {
  if (lanes % WG !== 0 || elements % (lanes * READ_SUM_STEP) !== 0) {
    throw new Error(`readSum: ${lanes} lanes do not split ${elements} elements evenly`);
  }
  const pipe = await pipeline(gpu, "read_sum", READ_SUM_WGSL);
  const chunk = elements / lanes / 4;
  rec.dispatch(
    pipe,
    [{ buffer: x, size: elements * 4 }, out, { uniform: new Uint32Array([chunk, 0, 0, 0]) }],
    lanes / WG,
    "read_sum",
  );
}

/** CPU reference: the same chunks, summed in the kernel's order in f32. */
export function readSumRef(x: Float32Array, lanes: number): Float32Array {
  const chunk = x.length / lanes / 4, out = new Float32Array(lanes * 4);
  const f = Math.fround;
  for (let i = 0; i < lanes; i++) {
    for (let c = 0; c < 4; c++) {
      const acc = [0, 0, 0, 0];
      for (let q = 0; q < chunk; q += 4) {
        for (let u = 0; u < 4; u++) acc[u] = f(acc[u] + x[(i * chunk + q + u) * 4 + c]);
      }
      out[i * 4 + c] = f(f(acc[0] + acc[1]) + f(acc[2] + acc[3]));
    }
  }
  return out;
}
