/** GPU sampling (kernels/sampling.ts) and the shared RNG (kernels/rng.ts). */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { mulberry32 } from "../core/rng.ts";
import { keyOf, logSoftmaxAt, sample, sampleRef } from "../kernels/sampling.ts";
import { RNG_WGSL, rngBits, rngUniform } from "../kernels/rng.ts";

let shared: Gpu | undefined;
async function gpu(): Promise<Gpu> {
  return shared ??= await acquireGpu();
}
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(11);

interface Cfg {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  step: number;
}

/** Runs `sample` on the GPU; returns tokens, logprobs and the GPU time when profiled. */
async function runSample(
  g: Gpu,
  logits: Float32Array,
  batch: number,
  vocab: number,
  rowIds: Uint32Array,
  cfg: Cfg,
  extra: { maxBindBytes?: number; profile?: boolean } = {},
) {
  const pool = new BufferPool(g);
  const lb = uploadBuffer(g, logits), ids = uploadBuffer(g, rowIds);
  const tb = storageBuffer(g, batch * 4), pb = storageBuffer(g, batch * 4);
  const rec = new Recorder(g, pool, { profile: extra.profile });
  await sample(g, rec, {
    logits: lb,
    tokens: tb,
    logprobs: pb,
    rowIds: ids,
    batch,
    vocab,
    ...cfg,
    maxBindBytes: extra.maxBindBytes,
  });
  const t = rec.read(tb, batch * 4), p = rec.read(pb, batch * 4);
  const prof = await rec.submit();
  const out = {
    tokens: new Uint32Array(await t),
    logprobs: new Float32Array(await p),
    ms: prof.get("sample")?.ms,
  };
  for (const b of [lb, ids, tb, pb]) b.destroy();
  return out;
}

function randLogits(n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}
const iota = (n: number, from = 0) => Uint32Array.from({ length: n }, (_, i) => from + i);

Deno.test({
  name: "the WGSL RNG is bit-identical to the TypeScript one",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const code = /* wgsl */ `
      @group(0) @binding(0) var<storage, read> q: array<vec4u>;
      @group(0) @binding(1) var<storage, read_write> out: array<vec2u>;
      ${RNG_WGSL}
      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) gid: vec3u) {
        let i = gid.x;
        if (i >= arrayLength(&q)) { return; }
        let a = q[i];
        out[i] = vec2u(rng_bits(a.x, a.y, a.z, a.w, i), bitcast<u32>(rng_uniform(a.x, a.y, a.z, a.w, i)));
      }`;
    const n = 500, q = new Uint32Array(n * 4), seeds: number[] = [];
    for (let i = 0; i < n; i++) {
      const seed = i < 5
        ? [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1][i]
        : Math.floor(rand() * 2 ** 40);
      seeds.push(seed);
      q.set(
        [seed >>> 0, Math.floor(seed / 2 ** 32), Math.floor(rand() * 2 ** 32), i * 7919],
        i * 4,
      );
    }
    const qb = uploadBuffer(g, q), ob = storageBuffer(g, n * 8);
    const rec = new Recorder(g, new BufferPool(g));
    rec.dispatch(await pipeline(g, "rng_test", code), [qb, ob], Math.ceil(n / 64));
    const r = rec.read(ob, n * 8);
    await rec.submit();
    const out = new Uint32Array(await r), f = new Float32Array(out.buffer);
    for (let i = 0; i < n; i++) {
      assertEquals(out[2 * i], rngBits(seeds[i], q[i * 4 + 2], q[i * 4 + 3], i), `bits ${i}`);
      assertEquals(
        f[2 * i + 1],
        rngUniform(seeds[i], q[i * 4 + 2], q[i * 4 + 3], i),
        `uniform ${i}`,
      );
    }
    // The uniforms look uniform: mean 0.5, and in [0, 1).
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rngUniform(3, i, 0);
      assert(u >= 0 && u < 1);
      sum += u;
    }
    assert(Math.abs(sum / 20000 - 0.5) < 0.01);
    qb.destroy();
    ob.destroy();
  },
});

Deno.test({
  name: "keys order floats like the floats",
  fn: () => {
    const xs = [-Infinity, -3e38, -2, -1.5, -1e-30, 0, 1e-30, 1, 1.5, 3e38, Infinity];
    for (let i = 1; i < xs.length; i++) assert(keyOf(xs[i - 1]) < keyOf(xs[i]), `${xs[i]}`);
  },
});

Deno.test({
  name: "greedy is the argmax (lowest id on ties) with the temperature-1 logprob",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const batch = 6, V = 777;
    const logits = randLogits(batch * V, 4);
    logits[0 * V + 5] = 9, logits[0 * V + 600] = 9; // tie: 5 wins
    logits[1 * V + 776] = 9; // the last id
    logits[2 * V + 0] = 9; // the first id
    for (const v of [300, 44, 512]) logits[3 * V + v] = 8; // three-way tie: 44 wins
    logits.fill(-1, 4 * V, 5 * V); // all equal: 0 wins
    const got = await runSample(g, logits, batch, V, iota(batch), {
      temperature: 0,
      topK: 5,
      topP: 0.5,
      seed: 1,
      step: 0,
    });
    const want = [5, 776, 0, 44, 0];
    for (let b = 0; b < 5; b++) assertEquals(got.tokens[b], want[b], `row ${b}`);
    for (let b = 0; b < batch; b++) {
      const row = logits.subarray(b * V, (b + 1) * V);
      let am = 0;
      for (let v = 1; v < V; v++) if (row[v] > row[am]) am = v;
      assertEquals(got.tokens[b], am);
      assert(Math.abs(got.logprobs[b] - logSoftmaxAt(row, am, 1)) < 1e-5);
    }
  },
});

Deno.test({
  name: "GPU tokens equal sampleRef tokens across temperatures, top-k, top-p, seeds and rows",
  ...opts,
  fn: async () => {
    const g = await gpu();
    let draws = 0, worstLp = 0;
    const cfgs: [number, number, number][] = [ // temperature, topK, topP
      [1, 0, 1],
      [0.7, 0, 1],
      [1.5, 0, 1],
      [1, 1, 1],
      [1, 2, 1],
      [0.8, 20, 1],
      [1, 0, 0.9],
      [1, 0, 0.3],
      [0.6, 50, 0.8],
      [1.2, 7, 0.5],
      [1, 0, 1e-6],
      [1, 300, 1], // k above 256: no per-thread-maxima floor
      [0.9, 300, 0.7],
    ];
    for (const V of [5, 37, 1000, 3001]) {
      const batch = 12;
      const logits = randLogits(batch * V, V > 100 ? 6 : 3);
      if (V > 100) logits.fill(2.5, 0, 40); // ties
      logits.fill(0.5, V, 2 * V); // a flat row: every cutoff is a tie
      for (const [temperature, topK, topP] of cfgs) {
        for (const [seed, step] of [[1, 0], [2 ** 40 + 3, 17]]) {
          const rowIds = iota(batch, 100 * step);
          const cfg = { temperature, topK, topP, seed, step };
          const got = await runSample(g, logits, batch, V, rowIds, cfg);
          const want = sampleRef(logits, batch, V, { ...cfg, rowIds });
          const tag = `V=${V} T=${temperature} k=${topK} p=${topP} seed=${seed}`;
          assertEquals(Array.from(got.tokens), Array.from(want.tokens), tag);
          for (let b = 0; b < batch; b++) {
            const row = logits.subarray(b * V, (b + 1) * V);
            const lp = logSoftmaxAt(row, got.tokens[b], 1 / temperature);
            worstLp = Math.max(worstLp, Math.abs(got.logprobs[b] - lp));
            assert(Math.abs(got.logprobs[b] - want.logprobs[b]) < 1e-5, tag);
          }
          draws += batch;
        }
      }
    }
    assert(worstLp < 2e-5, `logprob vs f64 log_softmax: ${worstLp}`);
    assert(draws > 1000);
  },
});

/** Histogram of `n` draws over a small vocab, one row per draw (row ids 0..n-1). */
async function histogram(g: Gpu, probs: number[], n: number, cfg: Partial<Cfg>) {
  const V = probs.length, logits = new Float32Array(n * V);
  for (let b = 0; b < n; b++) for (let v = 0; v < V; v++) logits[b * V + v] = Math.log(probs[v]);
  const full = { temperature: 1, topK: 0, topP: 1, seed: 1234, step: 3, ...cfg };
  const got = await runSample(g, logits, n, V, iota(n), full);
  const counts = new Array(V).fill(0);
  for (const t of got.tokens) counts[t]++;
  return { freq: counts.map((c) => c / n), got };
}

function maxAbs(a: number[], b: number[]) {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i])));
}

Deno.test({
  name: "empirical distributions match softmax, top-k and top-p (2000 draws)",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const n = 2000, probs = [0.45, 0.25, 0.15, 0.1, 0.05];
    // Plain: freq within 4 sigma (sigma <= 0.0112 at n = 2000).
    const plain = await histogram(g, probs, n, {});
    assert(maxAbs(plain.freq, probs) < 0.045, `plain ${plain.freq}`);
    let chi2 = 0;
    for (let v = 0; v < 5; v++) chi2 += (plain.freq[v] * n - probs[v] * n) ** 2 / (probs[v] * n);
    assert(chi2 < 18.5, `chi-square ${chi2} (4 dof, p = 0.001)`);
    // Logprobs are the full-vocab ones.
    for (let b = 0; b < 50; b++) {
      assert(Math.abs(plain.got.logprobs[b] - Math.log(probs[plain.got.tokens[b]])) < 1e-5);
    }
    // Temperature 2: probs ∝ sqrt(p).
    const warm = await histogram(g, probs, n, { temperature: 2 });
    const sq = probs.map(Math.sqrt), z = sq.reduce((a, b) => a + b);
    assert(maxAbs(warm.freq, sq.map((x) => x / z)) < 0.045, `T=2 ${warm.freq}`);
    // Top-k 2: only ids 0 and 1, renormalised.
    const k2 = await histogram(g, probs, n, { topK: 2 });
    assertEquals(k2.freq[2] + k2.freq[3] + k2.freq[4], 0);
    assert(Math.abs(k2.freq[0] - 0.45 / 0.7) < 0.045, `top-k ${k2.freq}`);
    // Top-p 0.75: cumulative 0.45, 0.70, 0.85: the nucleus is {0, 1, 2}.
    const p75 = await histogram(g, probs, n, { topP: 0.75 });
    assertEquals(p75.freq[3] + p75.freq[4], 0);
    assert(maxAbs(p75.freq.slice(0, 3), [0.45, 0.25, 0.15].map((x) => x / 0.85)) < 0.045);
    // Top-p 0.44 keeps only id 0 (0.45 >= p); 0.46 adds id 1.
    const p45 = await histogram(g, probs, 500, { topP: 0.44 });
    assertEquals(p45.freq[0], 1);
    const p46 = await histogram(g, probs, n, { topP: 0.46 });
    assertEquals(p46.freq[2] + p46.freq[3] + p46.freq[4], 0);
    assert(Math.abs(p46.freq[0] - 0.45 / 0.7) < 0.045, `top-p 0.46 ${p46.freq}`);
    // Top-k 3 then top-p 0.8 of the renormalised top 3 ({0.53, 0.29, 0.18}): ids {0, 1}.
    const both = await histogram(g, probs, n, { topK: 3, topP: 0.8 });
    assertEquals(both.freq[2] + both.freq[3] + both.freq[4], 0);
    // Ties at the cutoff are all kept: top-k 1 over [1, 1, 0.5] keeps ids 0 and 1.
    const tie = await histogram(g, [0.4, 0.4, 0.2], n, { topK: 1 });
    assertEquals(tie.freq[2], 0);
    assert(Math.abs(tie.freq[0] - 0.5) < 0.045, `tie ${tie.freq}`);
  },
});

Deno.test({
  name: "a row's draw depends on (seed, rowId, step), not on its batch slot or window",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const V = 93, batch = 24;
    const logits = randLogits(batch * V, 1);
    const cfg = { temperature: 1, topK: 40, topP: 0.95, seed: 99, step: 5 };
    const ids = iota(batch, 1000);
    const a = await runSample(g, logits, batch, V, ids, cfg);
    // Reverse the batch (rows and their ids together) and split it over small bindings.
    const rev = new Float32Array(batch * V), revIds = new Uint32Array(batch);
    for (let b = 0; b < batch; b++) {
      rev.set(logits.subarray(b * V, (b + 1) * V), (batch - 1 - b) * V);
      revIds[batch - 1 - b] = ids[b];
    }
    const r = await runSample(g, rev, batch, V, revIds, cfg, { maxBindBytes: 1024 });
    for (let b = 0; b < batch; b++) assertEquals(r.tokens[batch - 1 - b], a.tokens[b]);
    // Another step or seed changes the draws.
    const s = await runSample(g, logits, batch, V, ids, { ...cfg, step: 6 });
    assert(Array.from(s.tokens).some((t, b) => t !== a.tokens[b]));
  },
});

Deno.test({
  name: "bad sampling options are refused",
  ...opts,
  fn: () => {
    const base = { temperature: 1, topK: 0, topP: 1, seed: 0, step: 0, rowIds: iota(1) };
    const x = new Float32Array(4);
    assertThrows(() => sampleRef(x, 1, 4, { ...base, topP: 0 }), /topP/);
    assertThrows(() => sampleRef(x, 1, 4, { ...base, temperature: -1 }), /temperature/);
    assertThrows(() => sampleRef(x, 1, 4, { ...base, seed: -1 }), /seed/);
    assertEquals(sampleRef(x, 1, 4, { ...base, topK: -1 }).tokens.length, 1); // -1: no limit
  },
});

Deno.test({
  name: "speed: batch 64 over the Qwen3 vocabulary (151,936)",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const batch = 64, V = 151936;
    const logits = randLogits(batch * V, 8);
    const ids = iota(batch);
    const times: string[] = [];
    for (
      const [label, topK, topP] of [["plain", 0, 1], ["top-k 50", 50, 1], [
        "top-p 0.9",
        0,
        0.9,
      ]] as const
    ) {
      const cfg = { temperature: 1, topK, topP, seed: 5, step: 0 };
      const t0 = performance.now();
      const got = await runSample(g, logits, batch, V, ids, cfg, { profile: true });
      const wall = performance.now() - t0;
      times.push(`${label}: ${got.ms?.toFixed(1) ?? "?"} ms GPU (${wall.toFixed(0)} ms wall)`);
      const some = 4; // the CPU replay of all 64 rows would dominate the test time
      const want = sampleRef(logits.subarray(0, some * V), some, V, { ...cfg, rowIds: ids });
      assertEquals(Array.from(got.tokens.subarray(0, some)), Array.from(want.tokens), label);
    }
    console.log(`sample, batch 64 x 151936: ${times.join("; ")}`);
  },
});
