/**
 * The PPO-clip coefficient kernel (kernels/ppo_loss.ts) against its f64 CPU reference on every
 * branch, the reference's derivative against central finite differences of its own loss, and
 * the entropy bonus in the cross-entropy backward (kernels/xent.ts) and through the tiny model.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { mulberry32 } from "../core/rng.ts";
import {
  KL_K1,
  KL_K3,
  KL_NONE,
  type KlType,
  klTypeOf,
  ppoCoefficients,
  ppoCoefficientsRef,
  type PpoInputs,
  type PpoParams,
  ppoTokenLoss,
} from "../kernels/ppo_loss.ts";
import {
  NO_TARGET,
  xentBackwardRef,
  xentChunkBackward,
  xentChunkForward,
  xentFinalize,
} from "../kernels/xent.ts";
import { loadModel } from "../engine/load.ts";
import { type PackedBatch, packSequences, type Qwen3 } from "../engine/qwen3.ts";
import { ParamSet } from "../engine/params.ts";
import { Scratch } from "../engine/scratch.ts";
import { meanCeCoef } from "../engine/train_step.ts";
import { ROOT } from "./helpers.ts";

let shared: Gpu | undefined;
async function gpu(): Promise<Gpu> {
  return shared ??= await acquireGpu();
}
let poolP: BufferPool | undefined;
const pool = (g: Gpu) => poolP ??= new BufferPool(g);
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(11);

/** The same device reporting small limits, so windowing and grid folding run on small data. */
function tiny(g: Gpu, bindBytes: number, maxWg: number): Gpu {
  const limits = {
    maxStorageBufferBindingSize: bindBytes,
    maxComputeWorkgroupsPerDimension: maxWg,
  } as unknown as GPUSupportedLimits;
  return Object.create(g, { limits: { value: limits } });
}

const PARAMS: PpoParams = { clipLow: 0.2, clipHigh: 0.28, clipC: 3, klCoef: 0, klType: KL_NONE };

/** Distance of a token's inputs (as f32, as the GPU sees them) from every kink of the loss. */
function kinkDistance(lp: number, old: number, a: number, ref: number, p: PpoParams): number {
  const x = lp - old; // f32 inputs: exact in f64
  const ratio = Math.exp(Math.min(Math.max(x, -20), 20));
  const ds = [
    Math.abs(Math.abs(x) - 20),
    Math.abs(ratio - (1 - p.clipLow)),
    Math.abs(ratio - (1 + p.clipHigh)),
    Math.abs(a),
  ];
  if (a < 0 && p.clipC > 1) ds.push(Math.abs(ratio - p.clipC) / p.clipC);
  if (p.klType === KL_K3) {
    const d = ref - lp, dc = Math.min(Math.max(d, -20), 20);
    ds.push(Math.abs(Math.abs(d) - 20), Math.abs(Math.exp(dc) - dc - 1 - 10) / 10);
  }
  return Math.min(...ds);
}

/** A log ratio drawn to land in every region: inside the clip range, outside, beyond c, beyond ±20. */
function drawLogRatio(): number {
  const u = rand();
  if (u < 0.3) return (rand() * 2 - 1) * 0.15; // inside [0.8, 1.28]
  if (u < 0.5) return -0.25 - rand() * 2; // below 1 - clipLow
  if (u < 0.7) return 0.3 + rand() * 0.7; // between 1 + clipHigh and c = 3
  if (u < 0.85) return 1.2 + rand() * 5; // beyond c
  return (rand() < 0.5 ? -1 : 1) * (20.5 + rand() * 10); // the log-ratio clamp
}

/** Random per-token inputs covering all branches, away from the kinks. */
function randomInputs(T: number, p: PpoParams): PpoInputs & { refLogprob: Float32Array } {
  const lp = new Float32Array(T), old = new Float32Array(T), adv = new Float32Array(T);
  const w = new Float32Array(T), ref = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    for (let tries = 0;; tries++) {
      lp[t] = -rand() * 8;
      old[t] = lp[t] - drawLogRatio();
      adv[t] = (rand() < 0.5 ? -1 : 1) * (0.05 + rand() * 2);
      const dr = rand() < 0.15
        ? (rand() < 0.5 ? -1 : 1) * (20.5 + rand() * 5)
        : (rand() * 2 - 1) * 4;
      ref[t] = lp[t] + dr;
      if (kinkDistance(lp[t], old[t], adv[t], ref[t], p) > 1e-3) break;
      assert(tries < 100, "could not draw inputs away from the kinks");
    }
    w[t] = t % 5 === 2 ? 0 : 0.01 + rand();
  }
  return { logprob: lp, oldLogprob: old, advantage: adv, weight: w, refLogprob: ref };
}

/** Runs the kernel; `packed` places every operand in one buffer at 256-aligned offsets. */
async function runGpu(
  g: Gpu,
  x: PpoInputs,
  p: PpoParams,
  packed = false,
): Promise<{ coef: Float32Array; stats: Float32Array }> {
  const T = x.logprob.length;
  const arrays = [x.logprob, x.oldLogprob, x.advantage, x.weight, x.refLogprob];
  const made: GPUBuffer[] = [];
  let views: { buffer: GPUBuffer; offset: number; size: number }[];
  const coefBytes = T * 4, statBytes = T * 16;
  if (packed) {
    const slot = Math.ceil(statBytes / 256) * 256 + 256;
    const big = new Float32Array((slot * 7) / 4);
    arrays.forEach((a, k) => a && big.set(a as Float32Array, (slot * k) / 4));
    const buf = uploadBuffer(g, big);
    made.push(buf);
    views = [0, 1, 2, 3, 4, 5, 6].map((k) => ({ buffer: buf, offset: slot * k, size: slot }));
  } else {
    views = arrays.map((a) => {
      const b = uploadBuffer(g, Float32Array.from(a ?? [0]));
      made.push(b);
      return { buffer: b, offset: 0, size: b.size };
    });
    for (const bytes of [coefBytes, statBytes]) {
      const b = storageBuffer(g, bytes);
      made.push(b);
      views.push({ buffer: b, offset: 0, size: b.size });
    }
  }
  const rec = new Recorder(g, pool(g));
  await ppoCoefficients(g, rec, {
    logprob: views[0],
    oldLogprob: views[1],
    advantage: views[2],
    weight: views[3],
    refLogprob: x.refLogprob ? views[4] : undefined,
    coef: views[5],
    stats: views[6],
    tokens: T,
    ...p,
  });
  const rc = rec.read(views[5].buffer, coefBytes, views[5].offset);
  const rs = rec.read(views[6].buffer, statBytes, views[6].offset);
  await rec.submit();
  const out = { coef: new Float32Array(await rc), stats: new Float32Array(await rs) };
  for (const b of made) b.destroy();
  return out;
}

/** Compares the GPU result with the reference, each value to ~1e-5 of its scale. */
function checkAgainstRef(
  x: PpoInputs,
  p: PpoParams,
  got: { coef: Float32Array; stats: Float32Array },
  tag: string,
) {
  const want = ppoCoefficientsRef(x, p);
  for (let t = 0; t < x.logprob.length; t++) {
    const lp = x.logprob[t], w = x.weight[t], a = Math.abs(x.advantage[t]);
    const xr = Math.min(Math.max(lp - x.oldLogprob[t], -20), 20);
    const d = x.refLogprob ? Math.min(Math.max(x.refLogprob[t] - lp, -20), 20) : 0;
    const klScale = p.klType === KL_NONE ? 0 : 1 + Math.exp(d) + Math.abs(d);
    const scale = w * (a * Math.max(Math.exp(xr), p.clipC) + p.klCoef * klScale);
    const at = `${tag} t=${t}`;
    assert(Math.abs(got.coef[t] - want.coef[t]) <= 1e-5 * scale + 1e-30, `${at} coef`);
    assert(Math.abs(got.stats[4 * t] - want.stats[4 * t]) <= 1e-5 * scale + 1e-30, `${at} loss`);
    assertEquals(got.stats[4 * t + 1], want.stats[4 * t + 1], `${at} clip indicator`);
    assertEquals(got.stats[4 * t + 2], want.stats[4 * t + 2], `${at} dual-clip indicator`);
    const klTol = p.klType === KL_K1
      ? 1e-6 * (1 + Math.abs(want.stats[4 * t + 3]))
      : 1e-6 * klScale;
    assert(Math.abs(got.stats[4 * t + 3] - want.stats[4 * t + 3]) <= klTol, `${at} kl`);
    if (w === 0) {
      assertEquals(got.coef[t], 0, `${at} zero weight`);
      assertEquals(got.stats[4 * t], 0, `${at} zero weight loss`);
    }
  }
  return want;
}

Deno.test({
  name: "ppo coefficients equal the f64 reference on every branch, with no, k1 and k3 KL",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const variants: PpoParams[] = [
      PARAMS,
      { ...PARAMS, klType: KL_K1, klCoef: 0.05 },
      { ...PARAMS, klType: KL_K3, klCoef: 0.3 },
      { ...PARAMS, klType: KL_K3, klCoef: 0 }, // KL reported, not in the gradient
      { ...PARAMS, clipC: 1 }, // dual clip disabled
      { clipLow: 0.1, clipHigh: 0.1, clipC: 2, klCoef: 1e-3, klType: KL_K1 },
    ];
    for (const p of variants) {
      for (const T of [1, 3, 257, 1000]) {
        const x = randomInputs(T, p);
        if (p.klType === KL_NONE) delete (x as PpoInputs).refLogprob;
        const tag = `T=${T} ${JSON.stringify(p)}`;
        const want = checkAgainstRef(x, p, await runGpu(g, x, p), tag);
        if (T < 1000) continue;
        // The draw reaches every branch (so the comparison above covered them).
        const n = { clip: 0, dual: 0, plain: 0, clamp: 0, zero: 0, kl: 0 };
        for (let t = 0; t < T; t++) {
          const r = ppoTokenLoss(x.logprob[t], x.oldLogprob[t], x.advantage[t], 1, 0, p);
          if (x.weight[t] === 0) n.zero++;
          if (want.stats[4 * t + 1]) n.clip++;
          if (want.stats[4 * t + 2]) n.dual++;
          if (!r.clipped && !r.dualClipped && r.coef !== 0) n.plain++;
          if (Math.abs(x.logprob[t] - x.oldLogprob[t]) > 20) n.clamp++;
          if (want.stats[4 * t + 3] !== 0) n.kl++;
        }
        assert(n.clip > 50 && n.plain > 50 && n.clamp > 20 && n.zero > 100, JSON.stringify(n));
        if (p.clipC > 1) assert(n.dual > 20, `dual ${JSON.stringify(n)}`);
        else assertEquals(n.dual, 0);
        if (p.klType !== KL_NONE) assert(n.kl > 900, `kl ${JSON.stringify(n)}`);
      }
    }
  },
});

Deno.test({
  name: "ppo coefficients: windows under a small binding limit, folded grid, one shared buffer",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const p: PpoParams = { ...PARAMS, klType: KL_K3, klCoef: 0.1 };
    // 1 KiB bindings: 64-token windows (64 x 16-byte stats); 2 workgroups per dimension.
    const small = tiny(real, 1024, 2);
    const x = randomInputs(1000, p);
    checkAgainstRef(x, p, await runGpu(small, x, p), "windows");
    checkAgainstRef(x, p, await runGpu(real, x, p, true), "packed");
    checkAgainstRef(x, p, await runGpu(small, x, p, true), "packed windows");
    // Folding inside one window: 64 KiB bindings (4096 tokens), 4 workgroups per dimension.
    const fold = tiny(real, 65536, 4);
    const y = randomInputs(3000, p);
    checkAgainstRef(y, p, await runGpu(fold, y, p), "folded");
  },
});

Deno.test({
  name: "ppo: ratio exactly 1 (the first update) gives coef = -A * weight and no clipping",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const T = 300;
    const lp = Float32Array.from({ length: T }, () => -rand() * 10);
    const adv = Float32Array.from({ length: T }, () => (rand() * 2 - 1) * 3);
    const w = Float32Array.from({ length: T }, (_, t) => (t % 7 === 0 ? 0 : rand()));
    for (const p of [PARAMS, { ...PARAMS, klType: KL_K3, klCoef: 0.5 } as PpoParams]) {
      // KL to a reference equal to the policy: value 0, gradient 0.
      const x: PpoInputs = {
        logprob: lp,
        oldLogprob: lp,
        advantage: adv,
        weight: w,
        refLogprob: lp,
      };
      const got = await runGpu(g, x, p);
      for (let t = 0; t < T; t++) {
        const want = -adv[t] * w[t];
        assert(Math.abs(got.coef[t] - want) <= 1e-7 * Math.abs(want), `t=${t} ${got.coef[t]}`);
        assert(Math.abs(got.stats[4 * t] - want) <= 1e-7 * Math.abs(want), `t=${t} loss`);
        assertEquals([...got.stats.subarray(4 * t + 1, 4 * t + 4)], [0, 0, 0]);
      }
    }
  },
});

/** Each branch of the loss, as (log ratio, advantage, ref - logprob, expected flags). */
const BRANCHES: {
  name: string;
  x: number;
  a: number;
  d: number;
  kl: KlType;
  clipped: boolean;
  dual: boolean;
  zero: boolean;
}[] = [
  {
    name: "A>0 inside",
    x: 0.1,
    a: 1.3,
    d: 0,
    kl: KL_NONE,
    clipped: false,
    dual: false,
    zero: false,
  },
  {
    name: "A>0 above clip",
    x: 0.5,
    a: 0.7,
    d: 0,
    kl: KL_NONE,
    clipped: true,
    dual: false,
    zero: true,
  },
  {
    name: "A>0 below clip",
    x: -0.6,
    a: 0.7,
    d: 0,
    kl: KL_NONE,
    clipped: false,
    dual: false,
    zero: false,
  },
  {
    name: "A<0 inside",
    x: -0.1,
    a: -1.1,
    d: 0,
    kl: KL_NONE,
    clipped: false,
    dual: false,
    zero: false,
  },
  {
    name: "A<0 below clip",
    x: -0.6,
    a: -0.9,
    d: 0,
    kl: KL_NONE,
    clipped: true,
    dual: false,
    zero: true,
  },
  {
    name: "A<0 above clip",
    x: 0.7,
    a: -0.9,
    d: 0,
    kl: KL_NONE,
    clipped: false,
    dual: false,
    zero: false,
  },
  {
    name: "A<0 dual clip",
    x: 1.5,
    a: -0.9,
    d: 0,
    kl: KL_NONE,
    clipped: false,
    dual: true,
    zero: true,
  },
  {
    name: "A>0 log ratio > 20",
    x: 23,
    a: 0.4,
    d: 0,
    kl: KL_NONE,
    clipped: true,
    dual: false,
    zero: true,
  },
  {
    name: "A>0 log ratio < -20",
    x: -23,
    a: 0.4,
    d: 0,
    kl: KL_NONE,
    clipped: false,
    dual: false,
    zero: true,
  },
  { name: "k1", x: 0.05, a: 0.8, d: 0.3, kl: KL_K1, clipped: false, dual: false, zero: false },
  {
    name: "k3 inside",
    x: 0.05,
    a: 0.8,
    d: -1.5,
    kl: KL_K3,
    clipped: false,
    dual: false,
    zero: false,
  },
  {
    name: "k3 inside (d>0)",
    x: 0.05,
    a: 0.8,
    d: 1.9,
    kl: KL_K3,
    clipped: false,
    dual: false,
    zero: false,
  },
  {
    name: "k3 KL clamped at 10",
    x: 0.05,
    a: 0.8,
    d: 3,
    kl: KL_K3,
    clipped: false,
    dual: false,
    zero: false,
  },
  {
    name: "k3 beyond -20",
    x: 0.05,
    a: 0.8,
    d: -25,
    kl: KL_K3,
    clipped: false,
    dual: false,
    zero: false,
  },
];

Deno.test({
  name: "ppo reference: its coefficient is the derivative of its loss on every branch",
  fn: () => {
    for (const b of BRANCHES) {
      for (const w of [1, 0.37]) {
        const p: PpoParams = { ...PARAMS, klType: b.kl, klCoef: b.kl === KL_NONE ? 0 : 0.4 };
        const old = -2.5, lp = old + b.x, ref = lp + b.d;
        const loss = (l: number) => ppoTokenLoss(l, old, b.a, w, ref, p).loss;
        const r = ppoTokenLoss(lp, old, b.a, w, ref, p);
        assertEquals([r.clipped, r.dualClipped], [b.clipped, b.dual], b.name);
        const h = 1e-6;
        const fd = (loss(lp + h) - loss(lp - h)) / (2 * h);
        assert(
          Math.abs(fd - r.coef) <= 1e-7 * Math.max(1, Math.abs(r.coef)),
          `${b.name}: ${fd} vs ${r.coef}`,
        );
        // The policy part's derivative alone vanishes exactly on the constant branches.
        const pg = ppoTokenLoss(lp, old, b.a, w, ref, { ...p, klCoef: 0 }).coef;
        assertEquals(pg === 0, b.zero, `${b.name}: policy derivative ${pg}`);
      }
    }
    // The KL clamps: k3's value saturates at 10 and stays finite beyond ±20.
    const k3 = (d: number) => ppoTokenLoss(0, 0, 1, 1, d, { ...PARAMS, klType: KL_K3, klCoef: 1 });
    assertEquals(k3(3).kl, 10);
    assertEquals(k3(-25).kl, 10);
    assertEquals(k3(25).kl, 10);
    assert(Math.abs(k3(0.5).kl - (Math.exp(0.5) - 1.5)) < 1e-15);
    assertEquals(k3(0).kl, 0);
  },
});

Deno.test({
  name: "ppo: a KL type without a reference, unknown names and bad clips are refused",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const x: PpoInputs = { logprob: [0], oldLogprob: [0], advantage: [1], weight: [1] };
    assertThrows(() => ppoCoefficientsRef(x, { ...PARAMS, klType: KL_K1 }), /needs refLogprob/);
    const b = storageBuffer(g, 64);
    let err: unknown;
    try {
      const rec = new Recorder(g, pool(g));
      await ppoCoefficients(g, rec, {
        logprob: b,
        oldLogprob: b,
        advantage: b,
        weight: b,
        coef: b,
        stats: b,
        tokens: 1,
        ...PARAMS,
        klType: KL_K3,
      });
    } catch (e) {
      err = e;
    }
    assert(err instanceof Error && /needs refLogprob/.test(err.message), String(err));
    b.destroy();
    assertThrows(() => klTypeOf("full"), /known: none, kl, k1, low_var_kl, k3/);
    assertEquals([klTypeOf("kl"), klTypeOf("low_var_kl"), klTypeOf("k3")], [KL_K1, KL_K3, KL_K3]);
    assertThrows(() => ppoCoefficientsRef(x, { ...PARAMS, clipLow: 1.2 }), /clipLow/);
  },
});

// ---------------------------------------------------------------------------------------------
// The entropy bonus in the cross-entropy backward

/** Columns [c0, c0 + cs) of a row-major [T, V] matrix. */
function chunkOf(x: Float32Array, T: number, V: number, c0: number, cs: number): Float32Array {
  const out = new Float32Array(T * cs);
  for (let t = 0; t < T; t++) out.set(x.subarray(t * V + c0, t * V + c0 + cs), t * cs);
  return out;
}

/** The chunked forward, then the backward with (or without) entCoef, on the GPU: dlogits [T, V]. */
async function xentBackwardGpu(
  g: Gpu,
  logits: Float32Array,
  targets: Uint32Array,
  coef: Float32Array,
  entCoef: Float32Array | undefined,
  V: number,
  chunk: number,
  invT: number,
  maxBindBytes?: number,
): Promise<Float32Array> {
  const T = targets.length;
  const tgt = uploadBuffer(g, targets), stats = storageBuffer(g, T * 16);
  const lp = storageBuffer(g, T * 4), lse = storageBuffer(g, T * 4), ent = storageBuffer(g, T * 4);
  const cb = uploadBuffer(g, coef), eb = entCoef ? uploadBuffer(g, entCoef) : undefined;
  const chunks: { c0: number; cs: number; buf: GPUBuffer }[] = [];
  for (let c0 = 0; c0 < V; c0 += chunk) {
    const cs = Math.min(chunk, V - c0);
    chunks.push({ c0, cs, buf: uploadBuffer(g, chunkOf(logits, T, V, c0, cs)) });
  }
  const common = { targets: tgt, tokens: T, invTemperature: invT, maxBindBytes };
  const rec = new Recorder(g, pool(g));
  for (const [i, c] of chunks.entries()) {
    await xentChunkForward(g, rec, {
      ...common,
      logits: c.buf,
      stats,
      chunkStart: c.c0,
      chunkSize: c.cs,
      first: i === 0,
    });
  }
  await xentFinalize(g, rec, { stats, logprobs: lp, lse, entropy: ent, tokens: T });
  const reads = [];
  for (const c of chunks) {
    await xentChunkBackward(g, rec, {
      ...common,
      logits: c.buf,
      lse,
      coef: cb,
      ...(eb ? { entCoef: eb, entropy: ent } : {}),
      chunkStart: c.c0,
      chunkSize: c.cs,
    });
    reads.push(rec.read(c.buf, T * c.cs * 4));
  }
  await rec.submit();
  const out = new Float32Array(T * V);
  for (const [i, c] of chunks.entries()) {
    const d = new Float32Array(await reads[i]);
    for (let t = 0; t < T; t++) out.set(d.subarray(t * c.cs, (t + 1) * c.cs), t * V + c.c0);
  }
  for (
    const b of [
      tgt,
      stats,
      lp,
      lse,
      ent,
      cb,
      ...(eb ? [eb] : []),
      ...chunks.map((c) => c.buf),
    ]
  ) {
    b.destroy();
  }
  return out;
}

const randArr = (n: number, s: number) =>
  Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
const randTargets = (T: number, V: number) =>
  Uint32Array.from({ length: T }, (_, t) => t % 3 === 1 ? NO_TARGET : Math.floor(rand() * V));

/** f64: sum_t coef[t]·logprob[t] (0 without a target) + entCoef[t]·H_t of softmax(logits·invT). */
function xentLossF64(
  x: Float64Array,
  targets: Uint32Array,
  coef: ArrayLike<number>,
  entCoef: ArrayLike<number>,
  V: number,
  invT: number,
): number {
  let loss = 0;
  for (let t = 0; t < targets.length; t++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, x[t * V + v] * invT);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(x[t * V + v] * invT - m);
    const lse = m + Math.log(s);
    let h = 0;
    for (let v = 0; v < V; v++) {
      const l = x[t * V + v] * invT - lse;
      h -= Math.exp(l) * l;
    }
    loss += entCoef[t] * h;
    if (targets[t] !== NO_TARGET) loss += coef[t] * (x[t * V + targets[t]] * invT - lse);
  }
  return loss;
}

Deno.test({
  name: "entropy term: the backward with entCoef equals the reference, windows and chunks",
  ...opts,
  fn: async () => {
    const g = await gpu();
    for (
      const [T, V, chunk, bind] of [[1, 5, 5, 0], [9, 130, 40, 0], [17, 513, 256, 0], [
        37,
        203,
        101,
        2048,
      ]]
    ) {
      for (const invT of [1, 1.6]) {
        const logits = randArr(T * V, 4), targets = randTargets(T, V);
        const coef = randArr(T, 2), ec = randArr(T, 1.5);
        const got = await xentBackwardGpu(
          g,
          logits,
          targets,
          coef,
          ec,
          V,
          chunk,
          invT,
          bind || undefined,
        );
        const want = xentBackwardRef(logits, targets, coef, invT, ec);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        assert(worst < 5e-6, `T=${T} V=${V} invT=${invT}: ${worst}`);
        // The entropy term reaches rows without a target; without entCoef they stay exactly 0.
        const plain = await xentBackwardGpu(g, logits, targets, coef, undefined, V, chunk, invT);
        for (let t = 0; t < T; t++) {
          const row = got.subarray(t * V, (t + 1) * V), prow = plain.subarray(t * V, (t + 1) * V);
          if (targets[t] === NO_TARGET) {
            assert(prow.every((x) => x === 0));
            if (V > 1) assert(row.some((x) => x !== 0), `row ${t} has no entropy gradient`);
          }
        }
        // entCoef = 0 reproduces the plain backward.
        const zero = await xentBackwardGpu(
          g,
          logits,
          targets,
          coef,
          new Float32Array(T),
          V,
          chunk,
          invT,
        );
        let d0 = 0;
        for (let i = 0; i < zero.length; i++) d0 = Math.max(d0, Math.abs(zero[i] - plain[i]));
        assert(d0 < 1e-6, `entCoef 0 vs plain ${d0}`);
      }
    }
  },
});

Deno.test({
  name: "entropy term: dlogits match central finite differences of sum(coef*logprob + ec*H)",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const T = 5, V = 19, invT = 0.7;
    const logits = randArr(T * V, 3), targets = randTargets(T, V);
    const coef = randArr(T, 1), ec = randArr(T, 2);
    const got = await xentBackwardGpu(g, logits, targets, coef, ec, V, 7, invT);
    const ref = xentBackwardRef(logits, targets, coef, invT, ec);
    const x = Float64Array.from(logits), h = 1e-5;
    let worst = 0, worstRef = 0;
    for (let i = 0; i < T * V; i++) {
      const x0 = x[i];
      x[i] = x0 + h;
      const up = xentLossF64(x, targets, coef, ec, V, invT);
      x[i] = x0 - h;
      const down = xentLossF64(x, targets, coef, ec, V, invT);
      x[i] = x0;
      const fd = (up - down) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - got[i]));
      worstRef = Math.max(worstRef, Math.abs(fd - ref[i]));
    }
    assert(worst < 1e-5, `GPU vs finite differences: ${worst}`);
    assert(worstRef < 1e-6, `reference vs finite differences: ${worstRef}`);
    // The entropy term alone (coef 0): its gradient sums to 0 over each row (softmax shift).
    const only = await xentBackwardGpu(g, logits, targets, new Float32Array(T), ec, V, 7, invT);
    for (let t = 0; t < T; t++) {
      const s = only.subarray(t * V, (t + 1) * V).reduce((a, b) => a + b, 0);
      assert(Math.abs(s) < 1e-6, `row ${t} sums to ${s}`);
      assert(only.subarray(t * V, (t + 1) * V).some((v) => Math.abs(v) > 1e-3));
    }
  },
});

Deno.test({
  name: "xentChunkBackward refuses entCoef without the forward's entropy",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const b = storageBuffer(g, 64);
    let err: unknown;
    try {
      await xentChunkBackward(g, new Recorder(g, pool(g)), {
        logits: b,
        targets: b,
        lse: b,
        coef: b,
        entCoef: b,
        tokens: 1,
        chunkStart: 0,
        chunkSize: 1,
      });
    } catch (e) {
      err = e;
    }
    assert(err instanceof Error && /entCoef and entropy go together/.test(err.message));
    b.destroy();
  },
});

// ---------------------------------------------------------------------------------------------
// The entropy bonus through the tiny model

const FIX = `${ROOT}/tests/fixtures/qwen3_tiny`;

/** sum_t ec[t]·H_t from the model's forward entropies (f64 sum of the f32 values). */
async function entropyLoss(model: Qwen3, batch: PackedBatch, ec: Float32Array): Promise<number> {
  const rec = new Recorder(model.gpu, model.pool);
  const st = await model.forward(rec, batch);
  const r = rec.read(st.entropy.buffer, batch.ids.length * 4);
  await rec.submit();
  const h = new Float32Array(await r);
  model.release(st);
  let s = 0;
  for (let t = 0; t < h.length; t++) s += ec[t] * h[t];
  return s;
}

for (const name of ["tied", "untied"] as const) {
  Deno.test({
    name:
      `${name} tiny model: backward with entCoef gives the gradient of sum ec*H (finite differences)`,
    ...opts,
    fn: async () => {
      const g = await gpu();
      const { model } = await loadModel(g, `${FIX}/${name}`);
      const golden = JSON.parse(await Deno.readTextFile(`${FIX}/${name}/golden.json`)) as {
        sequences: { input_ids: number[] }[];
      };
      const batch = packSequences(golden.sequences.map((s) => s.input_ids));
      const T = batch.ids.length;
      const ec = Float32Array.from({ length: T }, () => 0.2 + rand()); // every token, targets or not
      const coef = new Float32Array(T);
      const grads = ParamSet.zerosLike(g, model.config, "grad");
      const rec = new Recorder(g, model.pool);
      const st = await model.forward(rec, batch, { train: true });
      const s = new Scratch(model.pool);
      await model.backward(rec, st, s.upload(coef), grads, s.upload(ec));
      const host = await grads.toHost(g, rec);
      model.release(st);
      s.releaseAll();
      grads.destroy();
      // Probe the largest gradients of a few tensors at every depth of the model.
      const weights = new Map(model.weights.entries().map((e) => [e.name, e.tensor]));
      const names = [
        "model.embed_tokens.weight",
        ...(name === "untied" ? ["lm_head.weight"] : []),
        "model.norm.weight",
        "model.layers.1.mlp.down_proj.weight",
        "model.layers.0.self_attn.q_proj.weight",
        "model.layers.0.input_layernorm.weight",
      ];
      let checked = 0;
      for (const pname of names) {
        const grad = host.get(pname)!, w = weights.get(pname)!;
        const order = [...grad.keys()].sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a]));
        const vals = new Float32Array(await readTensorHost(model, w));
        for (const i of order.slice(0, 2)) {
          const h = 1e-2 * Math.max(1, Math.abs(vals[i]));
          const set = (v: number) =>
            g.device.queue.writeBuffer(w.buffer, i * 4, new Float32Array([v]));
          set(vals[i] + h);
          const up = await entropyLoss(model, batch, ec);
          set(vals[i] - h);
          const down = await entropyLoss(model, batch, ec);
          set(vals[i]);
          const fd = (up - down) / (2 * h);
          assert(
            Math.abs(fd - grad[i]) <= 1e-2 * Math.abs(grad[i]) + 1e-4,
            `${pname}[${i}]: backward ${grad[i]} vs finite differences ${fd}`,
          );
          checked++;
        }
      }
      assert(checked >= 10);
      // Linear in the two coefficients: the logprob part adds on top of the entropy part.
      const ce = meanCeCoef(batch);
      const both = await modelGrads(model, batch, ce, ec);
      const ceOnly = await modelGrads(model, batch, ce);
      for (const [pname, gb] of both) {
        const ge = host.get(pname)!, gc = ceOnly.get(pname)!;
        let worst = 0, scale = 0;
        for (let i = 0; i < gb.length; i++) {
          worst = Math.max(worst, Math.abs(gb[i] - gc[i] - ge[i]));
          scale = Math.max(scale, Math.abs(gb[i]));
        }
        assert(worst <= 1e-4 * scale + 1e-7, `${pname}: ${worst} vs ${scale}`);
      }
      model.weights.destroy();
    },
  });
}

async function readTensorHost(model: Qwen3, t: { buffer: GPUBuffer; shape: number[] }) {
  const rec = new Recorder(model.gpu, model.pool);
  const r = rec.read(t.buffer, t.shape.reduce((a, b) => a * b, 1) * 4);
  await rec.submit();
  return await r;
}

/** Every parameter gradient of sum coef·logprob (+ sum entCoef·H). */
async function modelGrads(
  model: Qwen3,
  batch: PackedBatch,
  coef: Float32Array,
  entCoef?: Float32Array,
): Promise<Map<string, Float32Array>> {
  const grads = ParamSet.zerosLike(model.gpu, model.config, "grad");
  const rec = new Recorder(model.gpu, model.pool);
  const st = await model.forward(rec, batch, { train: true });
  const s = new Scratch(model.pool);
  await model.backward(rec, st, s.upload(coef), grads, entCoef ? s.upload(entCoef) : undefined);
  const host = await grads.toHost(model.gpu, rec);
  model.release(st);
  s.releaseAll();
  grads.destroy();
  return host;
}
