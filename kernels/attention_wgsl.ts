/**
 * WGSL sources for flash attention: the forward (prefill and single-token decode share one
 * generator), the backward's delta, dK/dV and dQ kernels, and tile-size choice.
 *
 * A tile pairs BQ query rows with BK keys, and a workgroup has BK threads. In the "pair phase"
 * thread t owns key column t and every row of the tile (so row reads are uniform across the
 * workgroup: broadcasts on SIMD CPUs, no bank conflicts on GPUs). Outputs (rows or keys by vec4
 * columns) are spread over the threads by {@link outMap}. Probabilities are
 * never stored beyond one BQ x BK tile: the forward keeps a running max and sum per row (online
 * softmax) and saves lse = max + log(sum); the backward recomputes P = exp(s - lse).
 *
 * Loop bounds that depend on `seqStarts` are read through `workgroupUniformLoad`, so every
 * `workgroupBarrier` sits in uniform control flow; out-of-range rows and keys are masked, never
 * branched around.
 */
import { memoSource } from "../core/gpu/pipelines.ts";

/** Tile shape: query rows and keys per tile. */
export interface Tile {
  bq: number;
  bk: number;
}

const common = (d4: number, t: Tile) => /* wgsl */ `
const WG: u32 = ${t.bk}u;
const D4: u32 = ${d4}u;
const BQ: u32 = ${t.bq}u;
const BK: u32 = ${t.bk}u;
const RPT: u32 = BQ;
const NEG: f32 = -3.0e38;
`;

/**
 * Spreads `rows` x D4 vec4 outputs over the WG threads. Index math is written so that a
 * compiler sees which parts are uniform: when WG divides D4 each thread owns whole columns and
 * the row depends on the loop counter only (a broadcast read on SIMD CPUs such as lavapipe).
 */
export function outMap(
  rows: number,
  d4: number,
  w: number,
): { n: number; idx: string } {
  if (d4 % w === 0) {
    const cpt = d4 / w;
    return {
      n: rows * cpt,
      idx: `let r = i / ${cpt}u; let j = t + ${w}u * (i % ${cpt}u); let inb = true;`,
    };
  }
  if (w % d4 === 0) {
    const g = w / d4;
    return {
      n: Math.ceil(rows / g),
      idx: `let r = t / D4 + ${g}u * i; let j = t % D4; let inb = r < ${rows}u;`,
    };
  }
  return {
    n: Math.ceil((rows * d4) / w),
    idx: `let e = t + WG * i; let r = e / D4; let j = e % D4; let inb = e < ${rows * d4}u;`,
  };
}

/** WGSL: the sequence index of a token (binary search over seqStarts); shared with the lane kernels. */
export const seqOf = /* wgsl */ `
// Index s of the sequence holding token i: the largest s with seqStarts[s] <= i.
fn seqOf(i: u32) -> u32 {
  var lo = 0u;
  var hi = p.numSeqs;
  loop {
    if (hi - lo <= 1u) { break; }
    let mid = (lo + hi) / 2u;
    if (seqStarts[mid] <= i) { lo = mid; } else { hi = mid; }
  }
  return lo;
}
`;

/** Uniform layout shared by the prefill kernels (8 words), and the lane kernels. */
export const prefillParams = /* wgsl */ `
struct Params { T: u32, hq: u32, hkv: u32, numSeqs: u32, scale: f32, _a: u32, _b: u32, _c: u32 }
`;

/** Uniform layout of the decode kernel (8 words). */
export const decodeParams = /* wgsl */ `
struct Params { batch: u32, hq: u32, hkv: u32, maxLen: u32, scale: f32, _a: u32, _b: u32, _c: u32 }
`;

/**
 * Each attention kernel's bindings, one contract for the tiled kernels here and the lane kernels
 * (attention_lanes_wgsl.ts): their launchers bind the same buffers in this order. The prefill-side
 * ones end with {@link seqOf}; decode reads per sequence (prefix slot, prefix length, own slot,
 * own length).
 */
export const bindingsWgsl = {
  fwd: /* wgsl */ `@group(0) @binding(0) var<storage, read> q: array<vec4f>;
@group(0) @binding(1) var<storage, read> k: array<vec4f>;
@group(0) @binding(2) var<storage, read> v: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<storage, read> seqStarts: array<u32>;
@group(0) @binding(6) var<uniform> p: Params;
${seqOf}`,
  dq: /* wgsl */ `@group(0) @binding(0) var<storage, read> q: array<vec4f>;
@group(0) @binding(1) var<storage, read> k: array<vec4f>;
@group(0) @binding(2) var<storage, read> v: array<vec4f>;
@group(0) @binding(3) var<storage, read> dO: array<vec4f>;
@group(0) @binding(4) var<storage, read> ld: array<vec2f>;
@group(0) @binding(5) var<storage, read_write> dq: array<vec4f>;
@group(0) @binding(6) var<storage, read> seqStarts: array<u32>;
@group(0) @binding(7) var<uniform> p: Params;
${seqOf}`,
  dkdv: /* wgsl */ `@group(0) @binding(0) var<storage, read> q: array<vec4f>;
@group(0) @binding(1) var<storage, read> k: array<vec4f>;
@group(0) @binding(2) var<storage, read> v: array<vec4f>;
@group(0) @binding(3) var<storage, read> dO: array<vec4f>;
@group(0) @binding(4) var<storage, read> ld: array<vec2f>;
@group(0) @binding(5) var<storage, read_write> dk: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dv: array<vec4f>;
@group(0) @binding(7) var<storage, read> seqStarts: array<u32>;
@group(0) @binding(8) var<uniform> p: Params;
${seqOf}`,
  decode: /* wgsl */ `@group(0) @binding(0) var<storage, read> q: array<vec4f>;
@group(0) @binding(1) var<storage, read> k: array<vec4f>;
@group(0) @binding(2) var<storage, read> v: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4f>;
@group(0) @binding(4) var<storage, read> seqInfo: array<vec4u>;
@group(0) @binding(5) var<uniform> p: Params;
`,
};

/**
 * Forward attention. "prefill": workgroup (query block, query head) over packed causal sequences,
 * writing out and lse. "decode": workgroup (sequence b, kv head g) whose rows are the query heads
 * of group g for the one new token of b, over cached keys (prefix slot then own slot).
 */
function forwardSource(mode: "prefill" | "decode", d4: number, t: Tile): string {
  const prefill = mode === "prefill";
  const bindings = "\n" + bindingsWgsl[prefill ? "fwd" : "decode"];
  // Per mode: which token/head row r is, whether it exists, and where key index ki lives.
  const rowFns = prefill
    ? /* wgsl */ `
// Row r of block (wx, h) is token wx*BQ + r of head h.
fn rowOk(r: u32, wx: u32) -> bool { return r < BQ && wx * BQ + r < p.T; }
fn rowAddr(r: u32, wx: u32, h: u32) -> u32 { return ((wx * BQ + r) * p.hq + h) * D4; }
fn keyAddr(ki: u32, g: u32) -> u32 { return (ki * p.hkv + g) * D4; }
`
    : /* wgsl */ `
var<workgroup> info: vec4u;
// Row r of block (b, g) is query head g*R + r of sequence b.
fn rowOk(r: u32, wx: u32) -> bool { return r < p.hq / p.hkv; }
fn rowAddr(r: u32, b: u32, g: u32) -> u32 { return (b * p.hq + g * (p.hq / p.hkv) + r) * D4; }
// Key ki < prefixLen is row ki of the prefix slot, then row ki - prefixLen of the own slot.
fn keyAddr(ki: u32, g: u32) -> u32 {
  var slot = info.z;
  var pos = ki - info.y;
  if (ki < info.y) { slot = info.x; pos = ki; }
  return ((slot * p.hkv + g) * p.maxLen + pos) * D4;
}
`;
  const prologue = prefill
    ? /* wgsl */ `
  let h = wid.y;
  let g = h / (p.hq / p.hkv);
  let headSel = h;
  for (var r = t; r < BQ; r += WG) { rstart[r] = seqStarts[seqOf(min(wid.x * BQ + r, p.T - 1u))]; }
  if (t == 0u) { kfirst = seqStarts[seqOf(wid.x * BQ)]; }
  let kbeg = workgroupUniformLoad(&kfirst);
  let kend = min(wid.x * BQ + BQ, p.T);`
    : /* wgsl */ `
  let g = wid.y;
  let headSel = g;
  if (t == 0u) {
    info = seqInfo[wid.x];
    kfirst = info.y + info.w;
  }
  let kbeg = 0u;
  let kend = workgroupUniformLoad(&kfirst);`;
  const mask = prefill
    ? "rowOk(r, wid.x) && ki < kend && ki <= wid.x * BQ + r && ki >= rstart[r]"
    : "rowOk(r, wid.x) && ki < kend";
  const lseOut = prefill
    ? /* wgsl */ `
  for (var r = t; r < BQ; r += WG) {
    if (rowOk(r, wid.x)) { lse[(wid.x * BQ + r) * p.hq + h] = mrow[r] + log(lrow[r]); }
  }`
    : "";
  const om = outMap(t.bq, d4, t.bk);
  const pvFlat = /* wgsl */ `
    for (var i = 0u; i < NO; i++) {
      ${om.idx}
      if (inb) {
        var a = acc[i] * arow[r];
        for (var cc = 0u; cc < BK; cc++) { a += ps[r * BK + cc] * kv[cc * D4 + j]; }
        acc[i] = a;
      }
    }`;
  return /* wgsl */ `
${common(d4, t)}
const NO: u32 = ${om.n}u;
${prefill ? prefillParams : decodeParams}
${bindings}
var<workgroup> qs: array<vec4f, ${t.bq * d4}>;
var<workgroup> kv: array<vec4f, ${t.bk * d4}>;
var<workgroup> ps: array<f32, ${t.bq * t.bk}>;
var<workgroup> mrow: array<f32, ${t.bq}>;
var<workgroup> lrow: array<f32, ${t.bq}>;
var<workgroup> arow: array<f32, ${t.bq}>;
var<workgroup> rstart: array<u32, ${t.bq}>;
var<workgroup> kfirst: u32;
${rowFns}
@compute @workgroup_size(${t.bk})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  ${prologue}
  // Queries, pre-scaled, for the whole loop.
  for (var i = t; i < BQ * D4; i += WG) {
    let r = i / D4;
    var x = vec4f(0.0);
    if (rowOk(r, wid.x)) { x = q[rowAddr(r, wid.x, headSel) + i % D4] * p.scale; }
    qs[i] = x;
  }
  for (var r = t; r < BQ; r += WG) {
    mrow[r] = NEG;
    lrow[r] = 0.0;
  }
  var acc: array<vec4f, NO>;
  let c = t;
  let ntiles = (kend - kbeg + BK - 1u) / BK;
  for (var tile = 0u; tile < ntiles; tile++) {
    let k0 = kbeg + tile * BK;
    // K tile, transposed (kv[j*BK + c]) so the pair phase reads it with unit stride over c.
    for (var i = t; i < BK * D4; i += WG) {
      let cc = i / D4;
      let j = i % D4;
      var x = vec4f(0.0);
      if (k0 + cc < kend) { x = k[keyAddr(k0 + cc, g) + j]; }
      kv[j * BK + cc] = x;
    }
    workgroupBarrier();
    var s: array<f32, RPT>;
    for (var i = 0u; i < RPT; i++) { s[i] = 0.0; }
    for (var j = 0u; j < D4; j++) {
      let kk = kv[j * BK + c];
      for (var i = 0u; i < RPT; i++) {
        let r = i;
        s[i] += dot(qs[r * D4 + j], kk);
      }
    }
    let ki = k0 + c;
    for (var i = 0u; i < RPT; i++) {
      let r = i;
      if (r < BQ) {
        s[i] = select(NEG, s[i], ${mask});
        ps[r * BK + c] = s[i];
      }
    }
    workgroupBarrier();
    // V tile, row-major (kv[c*D4 + j]), over the K tile now that scores are done.
    for (var i = t; i < BK * D4; i += WG) {
      let cc = i / D4;
      var x = vec4f(0.0);
      if (k0 + cc < kend) { x = v[keyAddr(k0 + cc, g) + i % D4]; }
      kv[i] = x;
    }
    for (var r = t; r < BQ; r += WG) {
      var mx = mrow[r];
      for (var cc = 0u; cc < BK; cc++) { mx = max(mx, ps[r * BK + cc]); }
      arow[r] = exp(mrow[r] - mx);
      mrow[r] = mx;
    }
    workgroupBarrier();
    for (var i = 0u; i < RPT; i++) {
      let r = i;
      if (r < BQ) { ps[r * BK + c] = select(0.0, exp(s[i] - mrow[r]), s[i] > NEG); }
    }
    workgroupBarrier();
    for (var r = t; r < BQ; r += WG) {
      var sum = 0.0;
      for (var cc = 0u; cc < BK; cc++) { sum += ps[r * BK + cc]; }
      lrow[r] = lrow[r] * arow[r] + sum;
    }
    ${pvFlat}
    workgroupBarrier();
  }
  for (var i = 0u; i < NO; i++) {
    ${om.idx}
    if (inb && rowOk(r, wid.x)) {
      o[rowAddr(r, wid.x, headSel) + j] = acc[i] / lrow[r];
    }
  }${lseOut}
}`;
}

/**
 * delta_i = rowsum(dOut_i * out_i) per (token, head), written interleaved with lse as
 * ld[2*row] = lse, ld[2*row + 1] = delta so the later kernels bind one buffer for both.
 */
function deltaSource(d4: number): string {
  return /* wgsl */ `
const D4: u32 = ${d4}u;
struct Params { rows: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<storage, read> dO: array<vec4f>;
@group(0) @binding(1) var<storage, read> o: array<vec4f>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> ld: array<vec2f>;
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.rows) { return; }
  var acc = vec4f(0.0);
  for (var j = 0u; j < D4; j++) { acc += dO[i * D4 + j] * o[i * D4 + j]; }
  ld[i] = vec2f(lse[i], acc.x + acc.y + acc.z + acc.w);
}`;
}

/**
 * dQ = scale · dS K per (query block, query head), with dS = P ∘ (dP - delta), P = exp(s - lse),
 * dP = dOut Vᵀ, recomputed tile by tile over the same causal key range as the forward.
 */
function dqSource(d4: number, t: Tile): string {
  const om = outMap(t.bq, d4, t.bk);
  const dqFlat = /* wgsl */ `
    for (var i = 0u; i < NO; i++) {
      ${om.idx}
      if (inb) {
        var a = acc[i];
        for (var cc = 0u; cc < BK; cc++) { a += dss[r * BK + cc] * kv[j * BK + cc]; }
        acc[i] = a;
      }
    }`;
  return /* wgsl */ `
${common(d4, t)}
const NO: u32 = ${om.n}u;
${prefillParams}
${bindingsWgsl.dq}
var<workgroup> qs: array<vec4f, ${t.bq * d4}>;
var<workgroup> dos: array<vec4f, ${t.bq * d4}>;
var<workgroup> kv: array<vec4f, ${t.bk * d4}>;
var<workgroup> dss: array<f32, ${t.bq * t.bk}>;
var<workgroup> rld: array<vec2f, ${t.bq}>;
var<workgroup> rstart: array<u32, ${t.bq}>;
var<workgroup> kfirst: u32;

@compute @workgroup_size(${t.bk})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let q0 = wid.x * BQ;
  let h = wid.y;
  let g = h / (p.hq / p.hkv);
  for (var r = t; r < BQ; r += WG) {
    let qi = min(q0 + r, p.T - 1u);
    rstart[r] = seqStarts[seqOf(qi)];
    rld[r] = ld[qi * p.hq + h];
  }
  if (t == 0u) { kfirst = seqStarts[seqOf(q0)]; }
  let kbeg = workgroupUniformLoad(&kfirst);
  let kend = min(q0 + BQ, p.T);
  for (var i = t; i < BQ * D4; i += WG) {
    let qi = q0 + i / D4;
    var x = vec4f(0.0);
    var y = vec4f(0.0);
    if (qi < p.T) {
      let a = (qi * p.hq + h) * D4 + i % D4;
      x = q[a] * p.scale;
      y = dO[a];
    }
    qs[i] = x;
    dos[i] = y;
  }
  var acc: array<vec4f, NO>;
  let c = t;
  let ntiles = (kend - kbeg + BK - 1u) / BK;
  for (var tile = 0u; tile < ntiles; tile++) {
    let k0 = kbeg + tile * BK;
    let ki = k0 + c;
    // dP = dOut · v over a transposed V tile.
    for (var i = t; i < BK * D4; i += WG) {
      let cc = i / D4;
      let j = i % D4;
      var x = vec4f(0.0);
      if (k0 + cc < kend) { x = v[((k0 + cc) * p.hkv + g) * D4 + j]; }
      kv[j * BK + cc] = x;
    }
    workgroupBarrier();
    var dp: array<f32, RPT>;
    for (var i = 0u; i < RPT; i++) { dp[i] = 0.0; }
    for (var j = 0u; j < D4; j++) {
      let vv = kv[j * BK + c];
      for (var i = 0u; i < RPT; i++) {
        let r = i;
        dp[i] += dot(dos[r * D4 + j], vv);
      }
    }
    workgroupBarrier();
    // Scores over a transposed K tile, kept in kv for the dQ product.
    for (var i = t; i < BK * D4; i += WG) {
      let cc = i / D4;
      let j = i % D4;
      var x = vec4f(0.0);
      if (k0 + cc < kend) { x = k[((k0 + cc) * p.hkv + g) * D4 + j]; }
      kv[j * BK + cc] = x;
    }
    workgroupBarrier();
    var s: array<f32, RPT>;
    for (var i = 0u; i < RPT; i++) { s[i] = 0.0; }
    for (var j = 0u; j < D4; j++) {
      let kk = kv[j * BK + c];
      for (var i = 0u; i < RPT; i++) {
        let r = i;
        s[i] += dot(qs[r * D4 + j], kk);
      }
    }
    for (var i = 0u; i < RPT; i++) {
      let r = i;
      if (r < BQ) {
        let ok = q0 + r < p.T && ki < kend && ki <= q0 + r && ki >= rstart[r];
        let pr = select(0.0, exp(s[i] - rld[r].x), ok);
        dss[r * BK + c] = pr * (dp[i] - rld[r].y);
      }
    }
    workgroupBarrier();
    ${dqFlat}
    workgroupBarrier();
  }
  for (var i = 0u; i < NO; i++) {
    ${om.idx}
    let qi = q0 + r;
    if (inb && qi < p.T) { dq[(qi * p.hq + h) * D4 + j] = acc[i] * p.scale; }
  }
}`;
}

/**
 * dK, dV per (key block, kv head): loops over the group's query heads and the query tiles that
 * can see the block (from its first key to the end of its last key's sequence), summing
 * dV += Pᵀ dOut and dK += dSᵀ (scale·Q). No atomics: each key row has one owner.
 */
function dkdvSource(d4: number, t: Tile): string {
  const om = outMap(t.bk, d4, t.bk);
  const accFlat = /* wgsl */ `
      for (var i = 0u; i < NO; i++) {
        ${om.idx}
        let cc = r;
        if (inb) {
          var a = accV[i];
          var b = accK[i];
          for (var qq = 0u; qq < BQ; qq++) {
            a += pss[qq * BK + cc] * dos[qq * D4 + j];
            b += dss[qq * BK + cc] * qs[qq * D4 + j];
          }
          accV[i] = a;
          accK[i] = b;
        }
      }
`;
  return /* wgsl */ `
${common(d4, t)}
const NO: u32 = ${om.n}u;
${prefillParams}
${bindingsWgsl.dkdv}
var<workgroup> kt: array<vec4f, ${t.bk * d4}>;
var<workgroup> vt: array<vec4f, ${t.bk * d4}>;
var<workgroup> qs: array<vec4f, ${t.bq * d4}>;
var<workgroup> dos: array<vec4f, ${t.bq * d4}>;
var<workgroup> pss: array<f32, ${t.bq * t.bk}>;
var<workgroup> dss: array<f32, ${t.bq * t.bk}>;
var<workgroup> rld: array<vec2f, ${t.bq}>;
var<workgroup> kendSeq: array<u32, ${t.bk}>;
var<workgroup> qlast: u32;

@compute @workgroup_size(${t.bk})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let k0 = wid.x * BK;
  let g = wid.y;
  let ratio = p.hq / p.hkv;
  // Keys stay in workgroup memory for the whole kernel, transposed for the pair phase.
  for (var i = t; i < BK * D4; i += WG) {
    let cc = i / D4;
    let j = i % D4;
    var x = vec4f(0.0);
    var y = vec4f(0.0);
    if (k0 + cc < p.T) {
      let a = ((k0 + cc) * p.hkv + g) * D4 + j;
      x = k[a];
      y = v[a];
    }
    kt[j * BK + cc] = x;
    vt[j * BK + cc] = y;
  }
  if (t < BK) {
    // Queries that may see key ki: ki <= qi < end of ki's sequence.
    let ki = min(k0 + t, p.T - 1u);
    kendSeq[t] = seqStarts[seqOf(ki) + 1u];
    if (t == 0u) { qlast = seqStarts[seqOf(min(k0 + BK, p.T) - 1u) + 1u]; }
  }
  let qend = workgroupUniformLoad(&qlast);
  var accK: array<vec4f, NO>;
  var accV: array<vec4f, NO>;
  let c = t;
  let ki = k0 + c;
  let ntiles = (qend - k0 + BQ - 1u) / BQ;
  for (var hh = 0u; hh < ratio; hh++) {
    let h = g * ratio + hh;
    for (var tile = 0u; tile < ntiles; tile++) {
      let q0 = k0 + tile * BQ;
      for (var i = t; i < BQ * D4; i += WG) {
        let qi = q0 + i / D4;
        var x = vec4f(0.0);
        var y = vec4f(0.0);
        if (qi < qend) {
          let a = (qi * p.hq + h) * D4 + i % D4;
          x = q[a] * p.scale;
          y = dO[a];
        }
        qs[i] = x;
        dos[i] = y;
      }
      for (var r = t; r < BQ; r += WG) { rld[r] = ld[min(q0 + r, p.T - 1u) * p.hq + h]; }
      workgroupBarrier();
      var s: array<f32, RPT>;
      var dp: array<f32, RPT>;
      // Explicit zeroing: naga hoists locals out of loops, so a declaration does not re-zero.
      for (var i = 0u; i < RPT; i++) {
        s[i] = 0.0;
        dp[i] = 0.0;
      }
      for (var j = 0u; j < D4; j++) {
        let kk = kt[j * BK + c];
        let vv = vt[j * BK + c];
        for (var i = 0u; i < RPT; i++) {
          let r = i;
          s[i] += dot(qs[r * D4 + j], kk);
          dp[i] += dot(dos[r * D4 + j], vv);
        }
      }
      for (var i = 0u; i < RPT; i++) {
        let r = i;
        if (r < BQ) {
          let qi = q0 + r;
          let ok = qi < qend && ki < p.T && ki <= qi && qi < kendSeq[c];
          let pr = select(0.0, exp(s[i] - rld[r].x), ok);
          pss[r * BK + c] = pr;
          dss[r * BK + c] = pr * (dp[i] - rld[r].y);
        }
      }
      workgroupBarrier();
      ${accFlat}
      workgroupBarrier();
    }
  }
  for (var i = 0u; i < NO; i++) {
    ${om.idx}
    let kr = k0 + r;
    if (inb && kr < p.T) {
      let a = (kr * p.hkv + g) * D4 + j;
      dk[a] = accK[i];
      dv[a] = accV[i];
    }
  }
}`;
}

/** Workgroup bytes of each kernel for a tile (vec4 arrays, scalars and row stats). */
export function tileBytes(kind: Kind, d4: number, t: Tile): number {
  const { bq, bk } = t;
  if (kind === "fwd") return 16 * (bq + bk) * d4 + 4 * bq * bk + 16 * bq + 32;
  if (kind === "dq") return 16 * (2 * bq + bk) * d4 + 4 * bq * bk + 12 * bq + 32;
  return 16 * 2 * (bq + bk) * d4 + 8 * bq * bk + 8 * bq + 4 * bk + 32;
}

type Kind = "fwd" | "dq" | "dkdv";

/** Tiles tried in order, per kernel; bk is also the workgroup size (one key per thread). */
const CANDIDATES: Record<Kind, Tile[]> = {
  fwd: [
    { bq: 32, bk: 64 },
    { bq: 16, bk: 64 },
    { bq: 32, bk: 32 },
    { bq: 16, bk: 32 },
    { bq: 16, bk: 16 },
    { bq: 8, bk: 16 },
    { bq: 8, bk: 8 },
    { bq: 4, bk: 8 },
  ],
  dq: [
    { bq: 32, bk: 64 },
    { bq: 16, bk: 64 },
    { bq: 16, bk: 32 },
    { bq: 16, bk: 16 },
    { bq: 8, bk: 16 },
    { bq: 8, bk: 8 },
    { bq: 4, bk: 8 },
  ],
  dkdv: [
    { bq: 32, bk: 64 },
    { bq: 32, bk: 32 },
    { bq: 16, bk: 32 },
    { bq: 16, bk: 16 },
    { bq: 8, bk: 16 },
    { bq: 8, bk: 8 },
    { bq: 4, bk: 8 },
  ],
};

/** Forced tiles (benchmarks and tests); a forced tile must still fit workgroup memory. */
export const tileOverride: Partial<Record<Kind, Tile>> = {};

/**
 * Tiles preferred on software adapters (lavapipe): 16-key workgroups keep each SIMD batch of
 * invocations busy with less barrier overhead; measured faster than 64-key tiles there.
 */
const SOFTWARE_FIRST: Record<Kind, Tile> = {
  fwd: { bq: 16, bk: 16 },
  dq: { bq: 16, bk: 32 },
  dkdv: { bq: 16, bk: 16 },
};

/**
 * The first tile of a kernel that fits the device's workgroup memory (`software`: the adapter
 * is a CPU rasterizer, which prefers small workgroups).
 */
export function chooseTile(kind: Kind, d4: number, limitBytes: number, software = false): Tile {
  const forced = tileOverride[kind];
  const list = forced
    ? [forced]
    : software
    ? [SOFTWARE_FIRST[kind], ...CANDIDATES[kind].filter((t) => t.bk <= SOFTWARE_FIRST[kind].bk)]
    : CANDIDATES[kind];
  for (const t of list) {
    if (tileBytes(kind, d4, t) <= limitBytes) return t;
  }
  throw new Error(
    `attention: head dim ${d4 * 4} needs more than the ${limitBytes} bytes of workgroup memory ` +
      "this device offers (maxComputeWorkgroupStorageSize)",
  );
}

// The generators above, memoized: launchers call them on every dispatch.
/** {@link forwardSource}, built once per argument list. */
export const forwardWgsl = memoSource(forwardSource);

/** {@link deltaSource}, built once per argument list. */
export const deltaWgsl = memoSource(deltaSource);

/** {@link dqSource}, built once per argument list. */
export const dqWgsl = memoSource(dqSource);

/** {@link dkdvSource}, built once per argument list. */
export const dkdvWgsl = memoSource(dkdvSource);
