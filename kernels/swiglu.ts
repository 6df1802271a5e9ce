/**
 * The SwiGLU activation of the Qwen3 MLP: out = silu(gate) ⊙ up, silu(g) = g·σ(g), and its
 * backward (dGate = dOut·up·σ(g)·(1 + g·(1 − σ(g))), dUp = dOut·silu(g)). Element-wise, walked in
 * windows of a multiple of 64 elements so each binding stays under 128 MiB.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";
import {
  access,
  bindWindow,
  BUILTINS,
  foldGrid,
  itemsPerWindow,
  needBytes,
  spans,
  uniform,
  WG_INDEX,
} from "./elementwise.ts";

const WG = 256;

/** σ(g) = 1/(1 + e^−g): e^−g overflows to +inf for very negative g, giving 0 as it should. */
const SIGMOID = "fn sigmoid(g: f32) -> f32 { return 1.0 / (1.0 + exp(-g)); }";

/** Forward source; input modes are read_write where an input shares a buffer with out. */
export const SWIGLU_FWD_WGSL = (gMode: string, uMode: string) => /* wgsl */ `
@group(0) @binding(0) var<storage, ${gMode}> gate: array<f32>;
@group(0) @binding(1) var<storage, ${uMode}> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> n: vec4u;
${SIGMOID}

@compute @workgroup_size(${WG})
fn main(${BUILTINS}) {
  let i = ${WG_INDEX} * ${WG}u + lid.x;
  if (i >= n.x) { return; }
  let g = gate[i];
  out[i] = g * sigmoid(g) * up[i];
}`;

/** Backward source; `modes` for gate, up, dOut (read_write where shared with an output). */
export const SWIGLU_BWD_WGSL = (modes: string[]) => /* wgsl */ `
@group(0) @binding(0) var<storage, ${modes[0]}> gate: array<f32>;
@group(0) @binding(1) var<storage, ${modes[1]}> up: array<f32>;
@group(0) @binding(2) var<storage, ${modes[2]}> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgate: array<f32>;
@group(0) @binding(4) var<storage, read_write> dup: array<f32>;
@group(0) @binding(5) var<uniform> n: vec4u;
${SIGMOID}

@compute @workgroup_size(${WG})
fn main(${BUILTINS}) {
  let i = ${WG_INDEX} * ${WG}u + lid.x;
  if (i >= n.x) { return; }
  let g = gate[i];
  let u = up[i];
  let d = dout[i];
  let s = sigmoid(g);
  dgate[i] = d * u * (s * (1.0 + g * (1.0 - s)));
  dup[i] = d * (g * s);
}`;

async function launch(
  gpu: Gpu,
  rec: Recorder,
  label: string,
  code: string,
  views: View[],
  n: number,
): Promise<void> {
  for (const v of views) needBytes(v, n * 4, label);
  if (n === 0) return;
  const pipe = await pipeline(gpu, label, code);
  for (const w of spans(n, itemsPerWindow(gpu, 4, 64))) {
    rec.dispatch(
      pipe,
      [...views.map((v) => bindWindow(v, w.start * 4, w.count * 4)), uniform(w.count)],
      foldGrid(gpu, Math.ceil(w.count / WG)),
      label,
    );
  }
}

/** Records out = silu(gate) ⊙ up over `n` elements. */
export async function swigluForward(
  gpu: Gpu,
  rec: Recorder,
  a: { gate: View; up: View; out: View; n: number },
): Promise<void> {
  const code = SWIGLU_FWD_WGSL(access(a.gate, [a.out]), access(a.up, [a.out]));
  await launch(gpu, rec, "swiglu_fwd", code, [a.gate, a.up, a.out], a.n);
}

/** Records dGate and dUp (overwritten) from dOut. */
export async function swigluBackward(
  gpu: Gpu,
  rec: Recorder,
  a: { gate: View; up: View; dOut: View; dGate: View; dUp: View; n: number },
): Promise<void> {
  const outs = [a.dGate, a.dUp];
  const code = SWIGLU_BWD_WGSL([a.gate, a.up, a.dOut].map((v) => access(v, outs)));
  await launch(gpu, rec, "swiglu_bwd", code, [a.gate, a.up, a.dOut, a.dGate, a.dUp], a.n);
}

function sigmoid(g: number): number {
  return 1 / (1 + Math.exp(-g));
}

/** CPU reference (f64) of the forward. */
export function swigluForwardRef(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  const out = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
  return out;
}

/** CPU reference (f64) of the backward. */
export function swigluBackwardRef(
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
  dOut: ArrayLike<number>,
): { dGate: Float64Array; dUp: Float64Array } {
  const dGate = new Float64Array(gate.length), dUp = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i], s = sigmoid(g);
    dGate[i] = dOut[i] * up[i] * s * (1 + g * (1 - s));
    dUp[i] = dOut[i] * g * s;
  }
  return { dGate, dUp };
}
