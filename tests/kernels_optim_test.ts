/**
 * Optimiser kernels on the real adapter: AdamW against a hand-computed first step and against
 * the f64 reference over several steps; the global gradient norm and clip coefficient over
 * several tensors (clipping active and not), all in one recording with no intermediate readback,
 * and bitwise repeatable.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { mulberry32 } from "../core/rng.ts";
import { adamw, adamwRef } from "../kernels/adamw.ts";
import {
  clipCoefficient,
  clipCoefficientRef,
  gradNormSq,
  gradNormSqRef,
} from "../kernels/gradnorm.ts";
import { fill } from "../kernels/elementwise.ts";

let shared: Gpu | undefined;
let pool: BufferPool | undefined;
async function gpu(): Promise<Gpu> {
  shared ??= await acquireGpu();
  pool ??= new BufferPool(shared);
  return shared;
}
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(11);
const randArr = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);

/** The same device reporting small limits (see tests/kernels_layers_test.ts). */
function tiny(g: Gpu, bindBytes: number, maxWg: number): Gpu {
  const limits = {
    maxStorageBufferBindingSize: bindBytes,
    maxComputeWorkgroupsPerDimension: maxWg,
    maxUniformBufferBindingSize: 65536,
  } as unknown as GPUSupportedLimits;
  return Object.create(g, { limits: { value: limits } });
}

async function read(g: Gpu, bufs: { buf: GPUBuffer; n: number }[]): Promise<Float32Array[]> {
  const rec = new Recorder(g, pool!);
  const ps = bufs.map((b) => rec.read(b.buf, b.n * 4));
  await rec.submit();
  return (await Promise.all(ps)).map((b) => new Float32Array(b));
}

/** The worst |got − want| / (atol + rtol·|want|): at most 1 when within tolerance. */
function maxRel(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol = 1e-6,
  rtol = 1e-5,
): number {
  assertEquals(got.length, want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

const HYPER = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

Deno.test({
  name: "adamw first step matches a hand computation",
  ...opts,
  fn: async () => {
    const g = await gpu();
    // Step 1: m = 0.1g, v = 0.001g², m̂ = g, v̂ = g², so p ← p(1 − lr·wd) − lr·g/(|g| + eps).
    const param = uploadBuffer(g, Float32Array.from([1, 1, -2, 0.5])),
      grad = uploadBuffer(g, Float32Array.from([0.5, -2, 1e-3, 0]));
    const m = storageBuffer(g, 16), v = storageBuffer(g, 16);
    const rec = new Recorder(g, pool!);
    await adamw(g, rec, { param, grad, m, v, n: 4, ...HYPER, step: 1 });
    await rec.submit();
    const [p, mo, vo] = await read(g, [{ buf: param, n: 4 }, { buf: m, n: 4 }, {
      buf: v,
      n: 4,
    }]);
    assertAlmostEquals(p[0], 0.999 - 0.1, 1e-6); // 0.899
    assertAlmostEquals(p[1], 0.999 + 0.1, 1e-6); // 1.099
    assertAlmostEquals(p[2], -1.998 - 0.1 * (1e-3 / (1e-3 + 1e-8)), 1e-6);
    assertAlmostEquals(p[3], 0.4995, 1e-7); // zero gradient: decay only
    assertAlmostEquals(mo[0], 0.05, 1e-8 + 2e-8);
    assertAlmostEquals(vo[1], 0.004, 1e-9);
  },
});

Deno.test({
  name: "adamw tracks the f64 reference over several steps (odd sizes, windows, gradScale)",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const cases: [Gpu, number, boolean][] = [
      [real, 1, false],
      [real, 3, true],
      [real, 1001, false],
      [tiny(real, 4096, 2), 5000, true], // 1024-element windows, folded grid
    ];
    for (const [g, n, scaled] of cases) {
      let P: Float64Array | Float32Array = randArr(n);
      let M: Float64Array | Float32Array = new Float32Array(n);
      let V: Float64Array | Float32Array = new Float32Array(n);
      const param = uploadBuffer(real, P), m = storageBuffer(real, n * 4);
      const v = storageBuffer(real, n * 4), grad = storageBuffer(real, n * 4);
      const gs = uploadBuffer(real, Float32Array.from([0.25, 0, 0, 0]));
      for (let step = 1; step <= 5; step++) {
        const G = randArr(n, step); // varying gradient scales
        real.device.queue.writeBuffer(grad, 0, G);
        const rec = new Recorder(real, pool!);
        const h = { ...HYPER, weightDecay: 0.1, step };
        await adamw(g, rec, { param, grad, m, v, n, ...h, gradScale: scaled ? gs : undefined });
        await rec.submit();
        ({ param: P, m: M, v: V } = adamwRef(P, G, M, V, { ...h, gradScale: scaled ? 0.25 : 1 }));
      }
      const [p, mo, vo] = await read(real, [{ buf: param, n }, { buf: m, n }, { buf: v, n }]);
      assert(maxRel(p, P) <= 1, `param n=${n}: ${maxRel(p, P)}`);
      assert(maxRel(mo, M, 1e-7) <= 1, `m n=${n}: ${maxRel(mo, M, 1e-7)}`);
      assert(maxRel(vo, V, 1e-9) <= 1, `v n=${n}: ${maxRel(vo, V, 1e-9)}`);
    }
  },
});

Deno.test({
  name: "gradient norm and clip coefficient over several tensors, clipping on and off",
  ...opts,
  fn: async () => {
    const real = await gpu();
    for (const g of [real, tiny(real, 4096, 16)]) {
      const sizes = [1, 3, 1000, 70001, 257];
      const hosts = sizes.map((n, k) => randArr(n, k + 1));
      const views = hosts.map((h) => uploadBuffer(real, h));
      const tensors = views.map((view, k) => ({ view, n: sizes[k] }));
      const wantSq = gradNormSqRef(hosts);
      const norm = Math.sqrt(wantSq);
      const results: Float32Array[] = [];
      for (const maxNorm of [norm / 3, norm * 2]) {
        const nsq = storageBuffer(real, 16), coef = storageBuffer(real, 16);
        const rec = new Recorder(real, pool!);
        await fill(g, rec, { x: nsq, value: 0, n: 1 });
        await gradNormSq(g, rec, { tensors, out: nsq });
        await clipCoefficient(g, rec, { normSq: nsq, coef, maxNorm });
        const ps = [rec.read(nsq, 4), rec.read(coef, 8)];
        const before = real.counters.readbacks;
        await rec.submit();
        assertEquals(real.counters.readbacks - before, 1);
        const [sq, c] = (await Promise.all(ps)).map((b) => new Float32Array(b));
        results.push(sq);
        assert(Math.abs(sq[0] - wantSq) / wantSq < 1e-5, `normSq ${sq[0]} vs ${wantSq}`);
        const [wc, wn] = clipCoefficientRef(wantSq, maxNorm);
        assertAlmostEquals(c[1], wn, wn * 1e-5, "norm");
        assertAlmostEquals(c[0], wc, 1e-5, "coef");
        if (maxNorm < norm) assert(c[0] < 0.34 && c[0] > 0.32, `clipped: ${c[0]}`);
        else assertEquals(c[0], 1);
      }
      assertEquals(results[0], results[1], "bitwise repeatable");
    }
  },
});

Deno.test({
  name: "a clipped AdamW step reads the coefficient on the GPU in one submission",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const n = 777, G = randArr(n, 10), P = randArr(n);
    const param = uploadBuffer(g, P), grad = uploadBuffer(g, G);
    const m = storageBuffer(g, n * 4), v = storageBuffer(g, n * 4);
    const nsq = storageBuffer(g, 16), coef = storageBuffer(g, 16);
    const rec = new Recorder(g, pool!);
    await fill(g, rec, { x: nsq, value: 0, n: 1 });
    await gradNormSq(g, rec, { tensors: [{ view: grad, n }], out: nsq });
    await clipCoefficient(g, rec, { normSq: nsq, coef, maxNorm: 1 });
    await adamw(g, rec, { param, grad, m, v, n, ...HYPER, step: 1, gradScale: coef });
    const out = rec.read(param, n * 4), mo = rec.read(m, n * 4);
    await rec.submit();
    const [c] = clipCoefficientRef(gradNormSqRef([G]), 1);
    const want = adamwRef(P, G, new Float32Array(n), new Float32Array(n), {
      ...HYPER,
      step: 1,
      gradScale: c,
    });
    const gp = new Float32Array(await out), gm = new Float32Array(await mo);
    assert(maxRel(gp, want.param) <= 1, `param: ${maxRel(gp, want.param)}`);
    assert(maxRel(gm, want.m, 1e-7) <= 1, `m: ${maxRel(gm, want.m, 1e-7)}`);
  },
});

Deno.test({
  name: "a NaN or infinite gradient skips the AdamW step: parameters and moments untouched",
  ...opts,
  fn: async () => {
    const g = await gpu();
    for (const bad of [NaN, Infinity]) {
      const n = 300, G = randArr(n, 11), P = randArr(n, 12), M = randArr(n, 13);
      G[17] = bad;
      const param = uploadBuffer(g, P), grad = uploadBuffer(g, G);
      const m = uploadBuffer(g, M), v = uploadBuffer(g, M.map(Math.abs));
      const nsq = storageBuffer(g, 16), coef = storageBuffer(g, 16);
      const rec = new Recorder(g, pool!);
      await fill(g, rec, { x: nsq, value: 0, n: 1 });
      await gradNormSq(g, rec, { tensors: [{ view: grad, n }], out: nsq });
      await clipCoefficient(g, rec, { normSq: nsq, coef, maxNorm: 1 });
      await adamw(g, rec, { param, grad, m, v, n, ...HYPER, step: 3, gradScale: coef });
      const out = rec.read(param, n * 4), mo = rec.read(m, n * 4), co = rec.read(coef, 8);
      await rec.submit();
      assertEquals(new Float32Array(await out), P, `params changed with a ${bad} gradient`);
      assertEquals(new Float32Array(await mo), M);
      const c = new Float32Array(await co);
      assertEquals(c[0], -1);
      assertEquals(clipCoefficientRef(gradNormSqRef([G]), 1)[0], -1);
    }
  },
});
