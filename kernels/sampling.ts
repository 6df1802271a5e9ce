/**
 * Token sampling on the GPU for generation: one workgroup (256 threads) per row of logits.
 *
 * With l = logits / temperature (computed as logits * f32(1 / temperature)):
 * 1. max and argmax of l (argmax: lowest id on ties); temperature 0 is greedy and stops here
 *    (its logprob uses temperature 1).
 * 2. top-k (0 < k < vocab): the k-th largest l, found exactly as the largest order-preserving u32
 *    key tau with count(key >= tau) >= k (`search`: 11 passes, 3 bits each, no atomics).
 *    Kept: key >= that key, so ties at the cutoff are all kept (the set may exceed k).
 * 3. top-p (p < 1), on the top-k-renormalised distribution: the largest key threshold tau whose
 *    kept mass sum(exp(l - max), key >= tau) reaches p times the top-k mass, built 3 bits per pass
 *    (11 passes, each summing 7 candidate thresholds at once in two vec4 accumulators). That is the
 *    smallest nucleus; ties at its cutoff are all kept.
 * 4. the pick: the vocab is cut into 256 contiguous segments (one per thread) so the cumulative sum
 *    runs in vocab order; a sequential scan of the segment sums picks the segment holding
 *    r = u * total and its thread walks it. u is the 24-bit uniform of `kernels/rng.ts` keyed by
 *    (seed, rowIds[b], step): a row's draw does not depend on the batch it is in.
 * logprob = l[id] - max - log(sum over the full vocab of exp(l - max)): the policy's logprob.
 *
 * {@link sampleRef} replays the same f32 arithmetic in the same order (strided per-thread sums,
 * tree reductions, segment scans), so it reproduces the GPU's tokens except when a draw lands within
 * the last-bit differences of `exp` between the GPU and JS (probability around 1e-6 per draw).
 * exp(d) is taken as 0 for d <= -87, below which f32 would be subnormal (GPUs may flush those).
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";
import { RNG_WGSL, rngUniform, seedWords } from "./rng.ts";
import { foldGrid, rowWindows } from "./xent.ts";

const WG = 256;

const SAMPLE_WGSL = /* wgsl */ `
struct Params {
  rows: u32, vocab: u32, seg: u32, loff: u32,
  row0: u32, top_k: u32, greedy: u32, use_top_p: u32,
  inv_t: f32, top_p: f32, seed_lo: u32, seed_hi: u32,
  step: u32, _a: u32, _b: u32, _c: u32,
}
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> tokens: array<u32>;
@group(0) @binding(2) var<storage, read_write> logprobs: array<f32>;
@group(0) @binding(3) var<storage, read> row_ids: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;
${RNG_WGSL}
const WG = 256u;
const NONE = 0xFFFFFFFFu;
var<workgroup> red_f: array<f32, 256>;
var<workgroup> red_i: array<u32, 256>;
var<workgroup> red_v: array<vec4f, 512>;
var<workgroup> seg_k: array<f32, 256>;
var<workgroup> seg_f: array<f32, 256>;
var<workgroup> sh_tau: u32;
var<workgroup> sh_ps0: u32;
var<workgroup> sh_floor: u32;
var<workgroup> lmax: array<u32, 256>; // per-thread max keys (NONE: no elements)
var<workgroup> sh_seg: u32; // the chosen segment
var<workgroup> sh_tok: u32;
var<workgroup> sh_f: array<f32, 3>; // r, excl of the chosen segment, full sum

// Order-preserving map from f32 to u32: a < b as floats iff key(a) < key(b) (-0 sorts below +0).
fn key_of(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
// exp that is exactly 0 where f32 would be subnormal, so the CPU replay agrees on zeros.
fn pexp(d: f32) -> f32 { return select(0.0, exp(d), d > -87.0); }

// Workgroup sum of red_f into red_f[0] (all threads must call it).
fn tree_sum(li: u32) {
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red_f[li] += red_f[li + s]; }
    workgroupBarrier();
  }
}

// The largest key tau with sum(weight, key >= max(tau, floor_key)) >= goal, where weight is
// exp(l - m) (weighted) or 1 (a count, exact in f32 below 2^24). Sums fall as tau rises, so tau is
// built from the top bit down, 3 bits per pass (11 passes): lane j-1 of a0|a1 sums the weight above
// tau + (j << shift), 7 candidates at once. All threads must call it (uniform control flow).
// floor_key <= answer <= key(m) is known, so the bits they share are fixed up front and the passes
// for them skipped: the answer is the same (sums depend only on their threshold and fall as it
// rises), only found sooner.
fn search(li: u32, base: u32, m: f32, floor_key: u32, weighted: bool, goal: f32) -> u32 {
  if (li == 0u) {
    let hi = key_of(m);
    let ps0 = min(countLeadingZeros(floor_key ^ hi) / 3u, 10u);
    sh_tau = hi & ~(0xFFFFFFFFu >> (3u * ps0));
    sh_ps0 = ps0;
  }
  let ps0 = workgroupUniformLoad(&sh_ps0); // a barrier too
  for (var ps = ps0; ps < 11u; ps++) {
    let h = 31u - 3u * ps;
    let w = min(3u, h + 1u);
    let shift = h + 1u - w;
    let tau = sh_tau;
    let lo_a = max(vec4u(tau) | (vec4u(1u, 2u, 3u, 4u) << vec4u(shift)), vec4u(floor_key));
    let lo_b = max(vec4u(tau) | (vec4u(5u, 6u, 7u, 7u) << vec4u(shift)), vec4u(floor_key));
    var a0 = vec4f(0.0);
    var a1 = vec4f(0.0);
    for (var v = li; v < p.vocab; v += WG) {
      let l = logits[base + v] * p.inv_t;
      let k = key_of(l);
      if (k >= lo_a.x) {
        var e = vec4f(1.0);
        if (weighted) { e = vec4f(pexp(l - m)); }
        a0 += select(vec4f(0.0), e, vec4u(k) >= lo_a);
        a1 += select(vec4f(0.0), e, vec4u(k) >= lo_b);
      }
    }
    red_v[li] = a0;
    red_v[WG + li] = a1;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (li < s) {
        red_v[li] += red_v[li + s];
        red_v[WG + li] += red_v[WG + li + s];
      }
      workgroupBarrier();
    }
    if (li == 0u) {
      for (var j = (1u << w) - 1u; j >= 1u; j--) {
        if (red_v[((j - 1u) / 4u) * WG][(j - 1u) % 4u] >= goal) {
          sh_tau = tau | (j << shift);
          break;
        }
      }
    }
    workgroupBarrier();
  }
  return sh_tau;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.rows) { return; } // whole workgroup: uniform
  let base = p.loff + r * p.vocab;
  let V = p.vocab;

  // 1. max and argmax (strided ascending, strict >: lowest id wins ties).
  var bm = -3.4e38;
  var bi = NONE;
  for (var v = li; v < V; v += WG) {
    let l = logits[base + v] * p.inv_t;
    if (bi == NONE || l > bm) { bm = l; bi = v; }
  }
  red_f[li] = bm;
  red_i[li] = bi;
  lmax[li] = select(key_of(bm), NONE, bi == NONE);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) {
      let ia = red_i[li];
      let ib = red_i[li + s];
      let va = red_f[li];
      let vb = red_f[li + s];
      if (ib != NONE && (ia == NONE || vb > va || (vb == va && ib < ia))) {
        red_f[li] = vb;
        red_i[li] = ib;
      }
    }
    workgroupBarrier();
  }
  let m = red_f[0];
  let amax = red_i[0];
  workgroupBarrier(); // red_f is reused below

  // 2. top-k: the k-th largest key, i.e. the largest tau with count(key >= tau) >= k.
  var kk = 0u;
  if (p.greedy == 0u && p.top_k > 0u && p.top_k < V) {
    // A floor for it: the k-th largest of the 256 per-thread maxima (k distinct elements reach it).
    if (li == 0u) { sh_floor = 0u; }
    workgroupBarrier();
    let mine = lmax[li];
    if (p.top_k <= WG && mine != NONE) {
      var rank = 0u;
      for (var j = 0u; j < WG; j++) {
        let o = lmax[j];
        if (o != NONE && (o > mine || (o == mine && j < li))) { rank++; }
      }
      if (rank == p.top_k - 1u) { sh_floor = mine; }
    }
    kk = search(li, base, m, workgroupUniformLoad(&sh_floor), false, f32(p.top_k));
  }

  // 3. top-p: the largest tau with mass(key >= max(tau, kk)) >= top_p * mass(key >= kk).
  var thr = kk;
  if (p.greedy == 0u && p.use_top_p != 0u) {
    var s = 0.0;
    for (var v = li; v < V; v += WG) {
      let l = logits[base + v] * p.inv_t;
      if (key_of(l) >= kk) { s += pexp(l - m); }
    }
    red_f[li] = s;
    tree_sum(li);
    let goal = max(p.top_p * red_f[0], 1e-30);
    thr = max(search(li, base, m, kk, true, goal), kk);
  }

  // 4. segment sums (kept and full) in vocab order.
  let v0 = li * p.seg;
  let v1 = min(V, v0 + p.seg);
  var sk = 0.0;
  var sf = 0.0;
  for (var v = v0; v < v1; v++) {
    let l = logits[base + v] * p.inv_t;
    let e = pexp(l - m);
    sf += e;
    if (key_of(l) >= thr) { sk += e; }
  }
  seg_k[li] = sk;
  seg_f[li] = sf;
  workgroupBarrier();
  if (li == 0u) {
    var zf = 0.0;
    var total = 0.0;
    for (var i = 0u; i < WG; i++) {
      zf += seg_f[i];
      total += seg_k[i];
    }
    let u = rng_uniform(p.seed_lo, p.seed_hi, row_ids[p.row0 + r], p.step, 0u);
    let rr = u * total;
    var excl = 0.0;
    var chosen = NONE;
    var chosen_excl = 0.0;
    var last = 0u;
    var last_excl = 0.0;
    for (var i = 0u; i < WG; i++) {
      let sk_i = seg_k[i];
      let next = excl + sk_i;
      if (sk_i > 0.0) {
        last = i;
        last_excl = excl;
        if (chosen == NONE && rr < next) { chosen = i; chosen_excl = excl; }
      }
      excl = next;
    }
    if (chosen == NONE) { chosen = last; chosen_excl = last_excl; }
    sh_seg = chosen;
    sh_f[0] = rr;
    sh_f[1] = chosen_excl;
    sh_f[2] = zf;
  }
  workgroupBarrier();
  if (p.greedy == 0u && li == sh_seg) {
    let rr = sh_f[0];
    var acc = sh_f[1];
    var pick = NONE;
    var last = NONE;
    for (var v = v0; v < v1; v++) {
      let l = logits[base + v] * p.inv_t;
      if (key_of(l) >= thr) {
        let e = pexp(l - m);
        if (e > 0.0) {
          acc += e;
          last = v;
          if (rr < acc) { pick = v; break; }
        }
      }
    }
    sh_tok = select(pick, last, pick == NONE);
  }
  workgroupBarrier();
  if (li == 0u) {
    let tok = select(sh_tok, amax, p.greedy != 0u);
    let l = logits[base + tok] * p.inv_t;
    tokens[p.row0 + r] = tok;
    logprobs[p.row0 + r] = l - m - log(sh_f[2]);
  }
}`;

/** Arguments of {@link sample}. */
export interface SampleArgs {
  /** f32 [batch, vocab]: the last position's logits of each sequence. */
  logits: View;
  /** u32 [batch] out: the sampled ids. */
  tokens: View;
  /** f32 [batch] out: log softmax(logits / temperature)[id] over the full vocab. */
  logprobs: View;
  /** u32 [batch]: a stable id per sequence (keys the random stream). */
  rowIds: View;
  batch: number;
  vocab: number;
  /** 0: greedy (argmax, lowest id on ties; logprob at temperature 1). */
  temperature: number;
  /** Keep the k most likely ids (ties at the cutoff all kept); 0 or negative: no limit. */
  topK: number;
  /** Keep the smallest nucleus with mass >= topP, in (0, 1]; 1: no limit. */
  topP: number;
  /** Non-negative integer below 2^53. */
  seed: number;
  /** Decoding step (position), u32. */
  step: number;
  /** Storage-binding limit to split under (tests; default the device's). */
  maxBindBytes?: number;
}

interface Resolved {
  greedy: boolean;
  invT: number;
  topK: number;
  useTopP: boolean;
  topP: number;
}

function resolve(
  vocab: number,
  o: { temperature: number; topK: number; topP: number },
): Resolved {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) {
    throw new Error(`sample: temperature must be finite and >= 0, got ${o.temperature}`);
  }
  if (!(o.topP > 0 && o.topP <= 1)) {
    throw new Error(`sample: topP must be in (0, 1], got ${o.topP}`);
  }
  if (!Number.isInteger(o.topK)) throw new Error(`sample: topK must be an integer, got ${o.topK}`);
  const greedy = o.temperature === 0;
  const topK = o.topK > 0 && o.topK < vocab ? o.topK : 0;
  return {
    greedy,
    invT: greedy ? 1 : Math.fround(1 / o.temperature),
    topK,
    useTopP: o.topP < 1,
    topP: Math.fround(o.topP),
  };
}

/**
 * One token per row: greedy (argmax, lowest id on ties) when temperature == 0, else a sample from
 * softmax(logits / temperature) restricted to the top-k and then to the smallest top-p nucleus,
 * drawn with the counter-based RNG keyed by (seed, rowIds[b], step). tokens[b] = the id;
 * logprobs[b] = log softmax(logits / temperature)[id] over the full vocabulary (temperature 1 when
 * greedy).
 */
export async function sample(gpu: Gpu, rec: Recorder, a: SampleArgs): Promise<void> {
  if (a.batch === 0) return;
  if (a.vocab < 1) throw new Error(`sample: vocab must be >= 1, got ${a.vocab}`);
  const o = resolve(a.vocab, a);
  const [seedLo, seedHi] = seedWords(a.seed);
  const pipe = await pipeline(gpu, "sample", SAMPLE_WGSL);
  for (const w of rowWindows(gpu, a.logits, a.batch, a.vocab, a.maxBindBytes)) {
    const u = new ArrayBuffer(64);
    const v = new Uint32Array(u);
    v.set([w.rows, a.vocab, Math.ceil(a.vocab / WG), w.elemOffset]);
    v.set([w.row0, o.topK, o.greedy ? 1 : 0, o.useTopP ? 1 : 0], 4);
    new Float32Array(u, 32, 2).set([o.invT, o.topP]);
    v.set([seedLo, seedHi, a.step >>> 0], 10);
    rec.dispatch(
      pipe,
      [w.binding, a.tokens, a.logprobs, a.rowIds, { uniform: new Uint8Array(u) }],
      foldGrid(gpu, w.rows),
      "sample",
    );
  }
}

const f32 = Math.fround;
const NONE = 0xFFFFFFFF;
const keyBuf = new DataView(new ArrayBuffer(4));

/** The order-preserving u32 key of an f32 (`key_of` in the kernel). */
export function keyOf(x: number): number {
  keyBuf.setFloat32(0, x, true);
  const b = keyBuf.getUint32(0, true);
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}

function pexp(d: number): number {
  return d > -87 ? f32(Math.exp(d)) : 0;
}

/** The kernel's workgroup sum: 256 strided f32 partials, then a halving tree. */
function stridedTreeSum(V: number, term: (v: number) => number): number {
  const red = new Float32Array(WG);
  for (let li = 0; li < WG; li++) {
    let s = 0;
    for (let v = li; v < V; v += WG) s = f32(s + term(v));
    red[li] = s;
  }
  for (let s = WG / 2; s > 0; s >>= 1) for (let i = 0; i < s; i++) red[i] = red[i] + red[i + s];
  return red[0];
}

/**
 * CPU replay of {@link sample}: the same thresholds, f32 sums in the same order and the same random
 * numbers, so the same tokens (see the module comment for the one caveat); logprobs in f32.
 */
export function sampleRef(
  logits: Float32Array,
  batch: number,
  vocab: number,
  opts: {
    temperature: number;
    topK: number;
    topP: number;
    seed: number;
    step: number;
    rowIds: Uint32Array;
  },
): { tokens: Uint32Array; logprobs: Float32Array } {
  const o = resolve(vocab, opts);
  const V = vocab, seg = Math.ceil(V / WG);
  const tokens = new Uint32Array(batch), logprobs = new Float32Array(batch);
  const l = new Float32Array(V), keys = new Uint32Array(V);
  for (let b = 0; b < batch; b++) {
    for (let v = 0; v < V; v++) {
      l[v] = logits[b * V + v] * o.invT;
      keys[v] = keyOf(l[v]);
    }
    let m = -Infinity, amax = 0;
    for (let v = 0; v < V; v++) {
      if (l[v] > m) {
        m = l[v];
        amax = v;
      }
    }
    let kk = 0;
    if (!o.greedy && o.topK > 0) kk = keys.slice().sort().reverse()[o.topK - 1];
    let thr = kk;
    if (!o.greedy && o.useTopP) {
      const zk = stridedTreeSum(V, (v) => keys[v] >= kk ? pexp(l[v] - m) : 0);
      const target = Math.max(f32(o.topP * zk), f32(1e-30));
      let tau = 0;
      for (let ps = 0; ps < 11; ps++) {
        const h = 31 - 3 * ps, w = Math.min(3, h + 1), shift = h + 1 - w, nj = (1 << w) - 1;
        // Lane j - 1: mass with key >= max(tau + j << shift, kk), summed like the kernel's lanes.
        const lo = Array.from(
          { length: nj },
          (_, i) => Math.max((tau | ((i + 1) << shift)) >>> 0, kk),
        );
        const red = Array.from({ length: nj }, () => new Float32Array(WG));
        for (let li = 0; li < WG; li++) {
          const acc = new Float32Array(nj);
          for (let v = li; v < V; v += WG) {
            if (keys[v] < lo[0]) continue;
            const e = pexp(l[v] - m);
            for (let j = 0; j < nj; j++) if (keys[v] >= lo[j]) acc[j] += e;
          }
          for (let j = 0; j < nj; j++) red[j][li] = acc[j];
        }
        for (let j = nj; j >= 1; j--) {
          const r = red[j - 1];
          for (let s = WG / 2; s > 0; s >>= 1) for (let i = 0; i < s; i++) r[i] = r[i] + r[i + s];
          if (r[0] >= target) {
            tau = (tau | (j << shift)) >>> 0;
            break;
          }
        }
      }
      thr = Math.max(tau, kk);
    }
    const segK = new Float32Array(WG), segF = new Float32Array(WG);
    for (let i = 0; i < WG; i++) {
      let sk = 0, sf = 0;
      for (let v = i * seg; v < Math.min(V, (i + 1) * seg); v++) {
        const e = pexp(l[v] - m);
        sf = f32(sf + e);
        if (keys[v] >= thr) sk = f32(sk + e);
      }
      segK[i] = sk;
      segF[i] = sf;
    }
    let zf = 0, total = 0;
    for (let i = 0; i < WG; i++) {
      zf = f32(zf + segF[i]);
      total = f32(total + segK[i]);
    }
    let tok = amax;
    if (!o.greedy) {
      const rr = f32(rngUniform(opts.seed, opts.rowIds[b], opts.step) * total);
      let excl = 0, chosen = NONE, chosenExcl = 0, last = 0, lastExcl = 0;
      for (let i = 0; i < WG; i++) {
        const next = f32(excl + segK[i]);
        if (segK[i] > 0) {
          last = i;
          lastExcl = excl;
          if (chosen === NONE && rr < next) {
            chosen = i;
            chosenExcl = excl;
          }
        }
        excl = next;
      }
      if (chosen === NONE) {
        chosen = last;
        chosenExcl = lastExcl;
      }
      let acc = chosenExcl, pick = NONE, lastV = NONE;
      for (let v = chosen * seg; v < Math.min(V, (chosen + 1) * seg); v++) {
        if (keys[v] < thr) continue;
        const e = pexp(l[v] - m);
        if (e > 0) {
          acc = f32(acc + e);
          lastV = v;
          if (rr < acc) {
            pick = v;
            break;
          }
        }
      }
      tok = pick === NONE ? lastV : pick;
    }
    tokens[b] = tok;
    logprobs[b] = f32(f32(l[tok] - m) - f32(Math.log(zf)));
  }
  return { tokens, logprobs };
}

/** f64 log softmax(logits * invT)[id] for one row (tests and callers checking logprobs). */
export function logSoftmaxAt(row: Float32Array, id: number, invT: number): number {
  let m = -Infinity;
  for (let v = 0; v < row.length; v++) m = Math.max(m, row[v] * invT);
  let s = 0;
  for (let v = 0; v < row.length; v++) s += Math.exp(row[v] * invT - m);
  return row[id] * invT - m - Math.log(s);
}
