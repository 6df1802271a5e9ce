/**
 * One AdamW step with PyTorch semantics (torch.optim.AdamW, single-tensor path):
 *
 *   g = grad · gradScale[0] (when given: the clip coefficient, read on the GPU; a negative
 *       value, which clipCoefficient writes for a non-finite norm, skips the whole update)
 *   p ← p·(1 − lr·wd)                       decoupled weight decay, first
 *   m ← m + (1 − β1)(g − m)                 (torch's lerp)
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
 *
 * The bias corrections, 1 − β1, 1 − β2 and 1 − lr·wd are computed on the CPU in f64 per step. Parameters, gradients and both
 * moments are walked in windows of a multiple of 64 elements (at most 128 MiB per binding).
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
  spans,
  uniform,
  WG_INDEX,
} from "./elementwise.ts";

const WG = 256;

/** Update source; `scaled` adds the gradScale binding. */
export const ADAMW_WGSL = (scaled: boolean, gMode: string, sMode: string) => /* wgsl */ `
struct P {
  n: u32, decay: f32, beta2: f32, stepSize: f32,
  bc2Sqrt: f32, eps: f32, omb1: f32, omb2: f32,
}
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, ${gMode}> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
${scaled ? `@group(0) @binding(5) var<storage, ${sMode}> gscale: array<f32>;` : ""}

@compute @workgroup_size(${WG})
fn main(${BUILTINS}) {
  let i = ${WG_INDEX} * ${WG}u + lid.x;
  if (i >= p.n) { return; }
  ${scaled ? "if (gscale[0] < 0.0) { return; } // a non-finite gradient norm: skip the step" : ""}
  let g = grad[i]${scaled ? " * gscale[0]" : ""};
  let pd = param[i] * p.decay;
  let mi = m[i] + p.omb1 * (g - m[i]);
  let vi = p.beta2 * v[i] + p.omb2 * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = pd - p.stepSize * (mi / (sqrt(vi) / p.bc2Sqrt + p.eps));
}`;

/** AdamW hyper-parameters for one step (`step` counts from 1). */
export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
}

/** Records one AdamW step over `n` parameters (param, m, v updated in place). */
export async function adamw(
  gpu: Gpu,
  rec: Recorder,
  a: AdamwHyper & { param: View; grad: View; m: View; v: View; n: number; gradScale?: View },
): Promise<void> {
  const { n } = a;
  if (!(a.step >= 1)) throw new Error(`adamw: step ${a.step} must count from 1`);
  for (const [name, v] of [["param", a.param], ["grad", a.grad], ["m", a.m], ["v", a.v]] as const) {
    needBytes(v, n * 4, `adamw ${name}`);
  }
  if (a.gradScale) needBytes(a.gradScale, 4, "adamw gradScale");
  if (n === 0) return;
  const outs = [a.param, a.m, a.v];
  const code = ADAMW_WGSL(
    !!a.gradScale,
    access(a.grad, outs),
    a.gradScale ? access(a.gradScale, outs) : "read",
  );
  const pipe = await pipeline(gpu, "adamw", code);
  const bc1 = 1 - a.beta1 ** a.step, bc2 = 1 - a.beta2 ** a.step;
  for (const w of spans(n, itemsPerWindow(gpu, 4, 64))) {
    const win = (v: View) => bindWindow(v, w.start * 4, w.count * 4);
    rec.dispatch(
      pipe,
      [
        win(a.param),
        win(a.grad),
        win(a.m),
        win(a.v),
        uniform(
          w.count,
          f32(1 - a.lr * a.weightDecay),
          f32(a.beta2),
          f32(a.lr / bc1),
          f32(Math.sqrt(bc2)),
          f32(a.eps),
          // 1 − β in f64, then rounded (as PyTorch passes it): 1 − f32(0.999) is off by 1e-5.
          f32(1 - a.beta1),
          f32(1 - a.beta2),
        ),
        ...(a.gradScale ? [bindWindow(a.gradScale, 0, 4)] : []),
      ],
      foldGrid(gpu, Math.ceil(w.count / WG)),
      "adamw",
    );
  }
}

/** CPU reference (f64) of one step: the new param, m and v. */
export function adamwRef(
  param: ArrayLike<number>,
  grad: ArrayLike<number>,
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  h: AdamwHyper & { gradScale?: number },
): { param: Float64Array; m: Float64Array; v: Float64Array } {
  const n = param.length, scale = h.gradScale ?? 1;
  const P = new Float64Array(n), M = new Float64Array(n), V = new Float64Array(n);
  const bc1 = 1 - h.beta1 ** h.step, bc2 = 1 - h.beta2 ** h.step;
  for (let i = 0; i < n; i++) {
    const g = grad[i] * scale;
    M[i] = m[i] + (1 - h.beta1) * (g - m[i]);
    V[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    P[i] = param[i] * (1 - h.lr * h.weightDecay) -
      (h.lr / bc1) * (M[i] / (Math.sqrt(V[i]) / Math.sqrt(bc2) + h.eps));
  }
  return { param: P, m: M, v: V };
}
