/**
 * Rotary position embedding, in place, in the Hugging Face Llama/Qwen3 `rotate_half` convention:
 * element i pairs with i + headDim/2, inv_freq[i] = theta^(-2i/headDim), angle = position ·
 * inv_freq[i], y1 = x1·cos − x2·sin, y2 = x2·cos + x1·sin. The backward is the inverse rotation.
 *
 * Precision follows HF in f32: inv_freq is computed on the CPU the way HF does (f32 pow and
 * divide) and passed in the uniform, the angle is one f32 product, and cos/sin are of that f32
 * angle. GPU sin/cos are only accurate near zero and positions reach tens of thousands of
 * radians, so the shader first reduces the angle modulo 2π with a three-part Cody-Waite constant
 * (the first two parts have 11 significant bits, so k·C1 and k·C2 are exact for k < 2^13, i.e.
 * angles up to ~51k radians).
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
  WG_INDEX,
} from "./elementwise.ts";

/** The largest head dimension the uniform's frequency table holds. */
export const MAX_HEAD_DIM = 512;

const TWO_PI = 2 * Math.PI;
const C1 = Math.floor(TWO_PI * 256) / 256; // 6.28125, 11 significant bits
const C2 = (() => {
  const r = TWO_PI - C1, e = Math.floor(Math.log2(r));
  return Math.floor(r * 2 ** (10 - e)) / 2 ** (10 - e); // next 11 bits
})();
const C3 = Math.fround(TWO_PI - C1 - C2);

const WG = 256;

/** Rotation source; the uniform's `sign` is +1 for the forward, −1 for the inverse. */
export const ROPE_WGSL = (posMode: string) => /* wgsl */ `
struct P { n: u32, heads: u32, half: u32, sign: f32, freq: array<vec4f, ${MAX_HEAD_DIM / 8}> }
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, ${posMode}> pos: array<u32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(${WG})
fn main(${BUILTINS}) {
  let idx = ${WG_INDEX} * ${WG}u + lid.x;
  if (idx >= p.n) { return; }
  let i = idx % p.half;
  let th = idx / p.half;
  let t = th / p.heads;
  let a = f32(pos[t]) * p.freq[i / 4u][i % 4u];
  let k = round(a * ${1 / TWO_PI});
  let r = ((a - k * ${C1}) - k * ${C2}) - k * ${C3};
  let c = cos(r);
  let s = p.sign * sin(r);
  let b = th * 2u * p.half + i;
  let x1 = x[b];
  let x2 = x[b + p.half];
  x[b] = x1 * c - x2 * s;
  x[b + p.half] = x2 * c + x1 * s;
}`;

/** HF's inv_freq in f32: 1 / theta^(arange(0, headDim, 2) / headDim). */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  const half = headDim / 2, out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    out[i] = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / headDim))));
  }
  return out;
}

async function rotate(
  gpu: Gpu,
  rec: Recorder,
  a: { x: View; positions: View; tokens: number; heads: number; headDim: number; theta: number },
  sign: number,
  label: string,
): Promise<void> {
  const { tokens, heads, headDim } = a;
  if (headDim % 2 !== 0 || headDim > MAX_HEAD_DIM || headDim <= 0) {
    throw new Error(`${label}: headDim ${headDim} must be even and at most ${MAX_HEAD_DIM}`);
  }
  const row = heads * headDim;
  needBytes(a.x, tokens * row * 4, label);
  needBytes(a.positions, tokens * 4, `${label} positions`);
  if (tokens === 0 || heads === 0) return;
  const pipe = await pipeline(gpu, label, ROPE_WGSL(access(a.positions, [a.x])));
  const u = new ArrayBuffer(16 + MAX_HEAD_DIM * 2);
  new Uint32Array(u, 0, 3).set([0, heads, headDim / 2]);
  new Float32Array(u, 12, 1)[0] = sign;
  new Float32Array(u, 16).set(ropeInvFreq(headDim, a.theta));
  // Token windows of a multiple of 64 keep both the x and the positions windows aligned.
  for (const w of spans(tokens, itemsPerWindow(gpu, row * 4, 64))) {
    const n = w.count * heads * (headDim / 2);
    const uw = u.slice(0);
    new Uint32Array(uw, 0, 1)[0] = n;
    rec.dispatch(
      pipe,
      [
        bindWindow(a.x, w.start * row * 4, w.count * row * 4),
        bindWindow(a.positions, w.start * 4, w.count * 4),
        { uniform: new Uint8Array(uw) },
      ],
      foldGrid(gpu, Math.ceil(n / WG)),
      label,
    );
  }
}

/** Records the rotary embedding of x [tokens, heads, headDim] in place. */
export async function ropeForward(
  gpu: Gpu,
  rec: Recorder,
  a: { x: View; positions: View; tokens: number; heads: number; headDim: number; theta: number },
): Promise<void> {
  await rotate(gpu, rec, a, 1, "rope_fwd");
}

/** Records the backward of {@link ropeForward} in place: the inverse rotation of dx. */
export async function ropeBackward(
  gpu: Gpu,
  rec: Recorder,
  a: { dx: View; positions: View; tokens: number; heads: number; headDim: number; theta: number },
): Promise<void> {
  await rotate(gpu, rec, { ...a, x: a.dx }, -1, "rope_bwd");
}

/**
 * CPU reference (f64 arithmetic on HF's f32 inv_freq and f32 angle): the rotated copy of x
 * [tokens, heads, headDim]; `inverse` rotates back (the backward).
 */
export function ropeRef(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  tokens: number,
  heads: number,
  headDim: number,
  theta: number,
  inverse = false,
): Float64Array {
  const half = headDim / 2, inv = ropeInvFreq(headDim, theta);
  const out = Float64Array.from(x);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < half; i++) {
      const ang = Math.fround(positions[t] * inv[i]);
      const c = Math.cos(ang), s = (inverse ? -1 : 1) * Math.sin(ang);
      for (let h = 0; h < heads; h++) {
        const b = (t * heads + h) * headDim + i;
        const x1 = x[b], x2 = x[b + half];
        out[b] = x1 * c - x2 * s;
        out[b + half] = x2 * c + x1 * s;
      }
    }
  }
  return out;
}
