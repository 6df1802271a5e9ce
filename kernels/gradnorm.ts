/**
 * The global gradient norm and its clipping coefficient, computed and kept on the GPU (no
 * readback in the step): the optimiser reads the coefficient as its `gradScale`.
 *
 * Deterministic: each tensor (window by window, at most 128 MiB each) is reduced by a fixed
 * number of workgroups into fixed slots of a partials buffer, then one workgroup sums every slot
 * in a fixed order and adds the total to out[0]. No float atomics anywhere.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";
import {
  access,
  bindWindow,
  f32,
  itemsPerWindow,
  needBytes,
  scratch,
  spans,
  uniform,
} from "./elementwise.ts";

const WG = 256;
/** Most workgroups (partial slots) per window; each thread strides over the window. */
const MAX_GROUPS = 256;
/** Elements per workgroup below which fewer workgroups are used. */
const PER_GROUP = 2048;

const TREE = `
  workgroupBarrier();
  for (var o = ${WG / 2}u; o > 0u; o >>= 1u) {
    if (lid.x < o) { red[lid.x] += red[lid.x + o]; }
    workgroupBarrier();
  }`;

/** Stage 1: part[part0 + g] = Σ of squares over workgroup g's strided share of the window. */
export const SUMSQ_PART_WGSL = /* wgsl */ `
struct P { n: u32, part0: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> red: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  var s = 0.0;
  for (var i = wid.x * ${WG}u + lid.x; i < p.n; i += nwg.x * ${WG}u) { let v = x[i]; s += v * v; }
  red[lid.x] = s;
  ${TREE}
  if (lid.x == 0u) { part[p.part0 + wid.x] = red[0]; }
}`;

/** Stage 2: out[0] += Σ part[0..n), one workgroup, fixed order. */
export const SUMSQ_TOTAL_WGSL = /* wgsl */ `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> red: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.n; i += ${WG}u) { s += part[i]; }
  red[lid.x] = s;
  ${TREE}
  if (lid.x == 0u) { out[0] = out[0] + red[0]; }
}`;

/**
 * coef = [min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖] from ‖g‖² (PyTorch clip_grad_norm_). A NaN or
 * infinite norm gives coef[0] = -1: the optimiser reads that as "skip this step" (no update of
 * the parameters or moments), so a non-finite gradient never reaches the weights. Finiteness is
 * tested on the bits: shader compilers may assume arithmetic never produces NaN.
 */
export const CLIP_COEF_WGSL = (mode: string) => /* wgsl */ `
struct P { maxNorm: f32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<storage, ${mode}> nsq: array<f32>;
@group(0) @binding(1) var<storage, read_write> coef: array<f32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(1)
fn main() {
  let norm = sqrt(nsq[0]);
  let finite = (bitcast<u32>(nsq[0]) & 0x7f800000u) != 0x7f800000u;
  coef[0] = select(-1.0, min(1.0, p.maxNorm / (norm + 1e-6)), finite);
  coef[1] = norm;
}`;

/**
 * Records out[0] += Σ over all tensors of Σ x² (zero `out` first, e.g. with `fill`).
 * Deterministic for a given list of tensors and sizes.
 */
export async function gradNormSq(
  gpu: Gpu,
  rec: Recorder,
  a: { tensors: { view: View; n: number }[]; out: View },
): Promise<void> {
  needBytes(a.out, 4, "gradNormSq out");
  const per = itemsPerWindow(gpu, 4, 64);
  const plan: { view: View; start: number; count: number; groups: number; part0: number }[] = [];
  let total = 0;
  for (const t of a.tensors) {
    needBytes(t.view, t.n * 4, "gradNormSq tensor");
    for (const w of spans(t.n, per)) {
      const groups = Math.min(MAX_GROUPS, Math.ceil(w.count / PER_GROUP));
      plan.push({ view: t.view, ...w, groups, part0: total });
      total += groups;
    }
  }
  if (total === 0) return;
  const part = scratch(gpu, "gradnorm", total * 4);
  const p1 = await pipeline(gpu, "gradnorm_part", SUMSQ_PART_WGSL);
  const p2 = await pipeline(gpu, "gradnorm_total", SUMSQ_TOTAL_WGSL);
  for (const w of plan) {
    rec.dispatch(
      p1,
      [bindWindow(w.view, w.start * 4, w.count * 4), part, uniform(w.count, w.part0)],
      w.groups,
      "gradnorm",
    );
  }
  rec.dispatch(p2, [part, bindWindow(a.out, 0, 4), uniform(total)], 1, "gradnorm");
}

/** Records coef[0] = min(1, maxNorm / (sqrt(normSq[0]) + 1e-6)) and coef[1] = sqrt(normSq[0]). */
export async function clipCoefficient(
  gpu: Gpu,
  rec: Recorder,
  a: { normSq: View; coef: View; maxNorm: number },
): Promise<void> {
  needBytes(a.normSq, 4, "clipCoefficient normSq");
  needBytes(a.coef, 8, "clipCoefficient coef");
  const pipe = await pipeline(gpu, "clip_coef", CLIP_COEF_WGSL(access(a.normSq, [a.coef])));
  rec.dispatch(
    pipe,
    [bindWindow(a.normSq, 0, 4), bindWindow(a.coef, 0, 8), uniform(f32(a.maxNorm))],
    1,
    "clip_coef",
  );
}

/** CPU reference (f64): Σ over all tensors of Σ x². */
export function gradNormSqRef(tensors: ArrayLike<number>[]): number {
  let s = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) s += t[i] * t[i];
  return s;
}

/** CPU reference of {@link clipCoefficient}: [coefficient (-1 = skip), norm]. */
export function clipCoefficientRef(normSq: number, maxNorm: number): [number, number] {
  const norm = Math.sqrt(normSq);
  return [Number.isFinite(normSq) ? Math.min(1, maxNorm / (norm + 1e-6)) : -1, norm];
}
