/** The general matmul: every layout and configuration, batching, splitting, f16 B, autotuning. */
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import {
  autotuneCachePath,
  autotuneStats,
  clearAutotuneMemory,
  tuneKey,
} from "../core/gpu/autotune.ts";
import {
  ALL_CONFIGS,
  HARDWARE_SMALL_M_CANDIDATES,
  heuristicConfig,
  matmul,
  type MatmulArgs,
  matmulCandidates,
  matmulRefGeneral,
  matmulWith,
  SMALL_M,
  SOFTWARE_SMALL_M_CANDIDATES,
} from "../kernels/matmul.ts";
import { matmulRef } from "../kernels/matmul_naive.ts";
import { parseConfig } from "../kernels/matmul_wgsl.ts";
import { pieces, planSplit, spans, type SplitShape } from "../kernels/matmul_split.ts";
import { mulberry32 } from "../core/rng.ts";

// Never touch the user's cache: every autotune in this file writes to a temp dir.
const cacheDir = Deno.makeTempDirSync({ prefix: "golongrl-mm-" });
Deno.env.set("GOLONGRL_CACHE_DIR", cacheDir);

let shared: Gpu | undefined;
async function gpu(): Promise<Gpu> {
  return shared ??= await acquireGpu();
}
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(7);
const randArr = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

function maxDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

type Shape = Omit<MatmulArgs, "a" | "b" | "c" | "bDtype">;

/** Dense element counts of A, B, C for a (possibly batched, strided) shape. */
function counts(s: Shape) {
  const batch = s.batch ?? 1;
  const sA = s.strideA ?? s.m * s.k, sB = s.strideB ?? s.k * s.n, sC = s.strideC ?? s.m * s.n;
  return {
    a: Math.max(1, (batch - 1) * sA + s.m * s.k),
    b: Math.max(1, (batch - 1) * sB + s.k * s.n),
    c: Math.max(1, (batch - 1) * sC + s.m * s.n),
  };
}

/** Runs one matmul on the GPU against the CPU reference; returns the max difference. */
async function check(
  g: Gpu,
  s: Shape,
  run: (rec: Recorder, args: MatmulArgs) => Promise<void>,
  f16 = false,
): Promise<number> {
  const n = counts(s);
  const A = randArr(n.a), B = randArr(n.b), C0 = randArr(n.c);
  let bBuf: GPUBuffer;
  if (f16) {
    for (let i = 0; i < B.length; i++) B[i] = Math.f16round(B[i]);
    const h = new Float16Array(B);
    bBuf = uploadBuffer(g, new Uint16Array(h.buffer));
  } else bBuf = uploadBuffer(g, B);
  const a = uploadBuffer(g, A), c = uploadBuffer(g, C0);
  const rec = new Recorder(g, new BufferPool(g));
  await run(rec, { ...s, a, b: bBuf, c, bDtype: f16 ? "f16" : "f32" });
  const out = rec.read(c, n.c * 4);
  await rec.submit();
  const got = new Float32Array(await out);
  const want = matmulRefGeneral(A, B, C0, s);
  for (const buf of [a, bBuf, c]) buf.destroy();
  return maxDiff(got, want);
}

const tol = (k: number) => 2e-6 * Math.max(k, 1) + 1e-6;

Deno.test("the reference matches the naive reference and its transposes", () => {
  const m = 5, n = 7, k = 3;
  const A = randArr(m * k), B = randArr(k * n);
  const want = matmulRef(A, B, m, n, k);
  assertEquals(maxDiff(matmulRefGeneral(A, B, undefined, { m, n, k }), want) < 1e-6, true);
  const At = new Float32Array(k * m), Bt = new Float32Array(n * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) At[p * m + i] = A[i * k + p];
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) Bt[j * k + p] = B[p * n + j];
  const tt = matmulRefGeneral(At, Bt, undefined, { m, n, k, transA: true, transB: true });
  assert(maxDiff(tt, want) < 1e-6);
});

Deno.test({
  name: "every configuration is correct in every layout on odd and aligned shapes",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const shapes = [[1, 1, 1], [3, 5, 7], [17, 9, 33], [33, 68, 20]];
    // Plus the column-blocks-along-x orientation of the CPU kernels.
    for (const cfg of [...ALL_CONFIGS, "rows:tm8:wg64:cx1", "dot:tm4:tn4:wg32:cx1"]) {
      for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
        for (const [m, n, k] of shapes) {
          const s = { m, n, k, transA, transB };
          const d = await check(g, s, (rec, args) => matmulWith(g, rec, args, cfg));
          assert(d < tol(k), `${cfg} ${JSON.stringify(s)}: ${d}`);
        }
      }
    }
  },
});

Deno.test({
  name: "batched with strides (padding and a broadcast B), alpha and accumulate",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const cases: Shape[] = [
      { m: 7, n: 12, k: 9, batch: 3, alpha: 0.5 },
      { m: 7, n: 12, k: 9, batch: 3, strideA: 70, strideB: 0, strideC: 90, accumulate: true },
      { m: 5, n: 6, k: 8, batch: 4, transB: true, strideB: 52, accumulate: true, alpha: -2 },
      { m: 6, n: 5, k: 11, batch: 2, transA: true, strideA: 67, strideC: 31, alpha: 3 },
      { m: 4, n: 4, k: 4, batch: 2, transA: true, transB: true, accumulate: true },
    ];
    const configs = [...new Set([...matmulCandidates(g), "tile:bm64:bn64:bk16:tm4:tn4"])];
    for (const cfg of configs) {
      for (const s of cases) {
        const d = await check(g, s, (rec, args) => matmulWith(g, rec, args, cfg));
        assert(d < tol(s.k), `${cfg} ${JSON.stringify(s)}: ${d}`);
      }
    }
    // Through the public entry point (heuristic choice: these are below the tuning size).
    for (const s of cases) {
      const d = await check(g, s, (rec, args) => matmul(g, rec, args));
      assert(d < tol(s.k), `${JSON.stringify(s)}: ${d}`);
    }
  },
});

Deno.test({
  name: "k = 0 gives C = 0, or C unchanged when accumulating",
  ...opts,
  fn: async () => {
    const g = await gpu();
    for (const cfg of [heuristicConfig(g, "NN"), heuristicConfig(g, "NT"), ...ALL_CONFIGS]) {
      for (const accumulate of [false, true]) {
        const s = { m: 5, n: 9, k: 0, accumulate, transB: cfg.startsWith("dot") };
        const d = await check(g, s, (rec, args) => matmulWith(g, rec, args, cfg));
        assertEquals(d, 0, `${cfg} accumulate=${accumulate}`);
      }
    }
  },
});

Deno.test("the split plan keeps every window under the limit and covers the problem", () => {
  const limit = 64 * 1024;
  for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
    const m = 300, n = 250, k = 200, batch = 3;
    const s: SplitShape = {
      m,
      n,
      k,
      batch,
      transA,
      transB,
      lda: transA ? m : k,
      ldb: transB ? k : n,
      ldc: n,
      strideA: m * k,
      strideB: 0,
      strideC: m * n,
      bytesA: 4,
      bytesB: 2,
      bytesC: 4,
    };
    const blk = planSplit(s, limit, 65535, { rows: 8, cols: 256 });
    const sp = spans(s, blk);
    for (const [x, bytes] of [[sp.a, 4], [sp.b, 2], [sp.c, 4]]) assert(x * bytes <= limit - 256);
    const ps = pieces(s, blk, false);
    let macs = 0;
    for (const p of ps) macs += p.bc * p.mc * p.nc * p.kc;
    assertEquals(macs, batch * m * n * k);
    // Exactly the first K piece of each output block overwrites.
    assertEquals(ps.filter((p) => !p.accumulate).length, ps.filter((p) => p.k0 === 0).length);
  }
});

Deno.test({
  name: "operands larger than the binding limit are split into windows (64 KiB limit)",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const maxBindingBytes = 64 * 1024;
    const cases: Shape[] = [
      { m: 130, n: 70, k: 150 }, // A = 76 KiB: split over M
      { m: 20, n: 150, k: 130, transB: true }, // Bᵀ = 76 KiB: split over N
      { m: 150, n: 40, k: 140, transA: true, accumulate: true, alpha: 0.25 }, // Aᵀ: over K
      { m: 9, n: 140, k: 130 }, // B = 71 KiB: split over K, accumulating
      { m: 3, n: 5, k: 6000, transA: true, transB: true }, // long K, both transposed
      { m: 40, n: 33, k: 17, batch: 30, strideB: 0 }, // batched C = 155 KiB: over the batch
    ];
    const configs = [
      heuristicConfig(g, "NN"),
      "dot:tm8:tn4:wg64",
      "tile:bm64:bn64:bk16:tm4:tn4",
      "gemv:tm4:tn8:wg16",
    ];
    for (const cfg of configs) {
      for (const s of cases) {
        let dispatches = 0;
        const d = await check(g, s, async (rec, args) => {
          await matmulWith(g, rec, args, cfg, { maxBindingBytes });
          dispatches = rec.dispatches;
        });
        assert(d < tol(s.k), `${cfg} ${JSON.stringify(s)}: ${d}`);
        assert(dispatches > 1, `${cfg} ${JSON.stringify(s)} was not split`);
      }
    }
    // Also with f16 B through the public entry point.
    const d = await check(
      g,
      { m: 33, n: 150, k: 250, transB: true },
      (rec, args) => matmul(g, rec, args, { maxBindingBytes, config: "dot:tm8:tn8:wg64" }),
      true,
    );
    assert(d < tol(250), `f16 split: ${d}`);
  },
});

Deno.test({
  name: "a window of a larger buffer (a vocab chunk of an embedding) is honoured",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const hidden = 24, vocab = 300, rows = 5, chunk0 = 128, chunk = 100;
    const E = randArr(vocab * hidden), X = randArr(rows * hidden);
    const e = uploadBuffer(g, E), x = uploadBuffer(g, X), y = storageBuffer(g, rows * chunk * 4);
    const offset = chunk0 * hidden * 4; // 12288: a multiple of 256
    for (const cfg of [heuristicConfig(g, "NT"), "tile:bm64:bn64:bk16:tm4:tn4"]) {
      const rec = new Recorder(g, new BufferPool(g));
      await matmul(g, rec, {
        a: x,
        b: { buffer: e, offset, size: chunk * hidden * 4 },
        c: y,
        m: rows,
        n: chunk,
        k: hidden,
        transB: true,
      }, { config: cfg, maxBindingBytes: 4096 });
      const out = rec.read(y, rows * chunk * 4);
      await rec.submit();
      const want = matmulRefGeneral(
        X,
        E.subarray(chunk0 * hidden, (chunk0 + chunk) * hidden),
        undefined,
        { m: rows, n: chunk, k: hidden, transB: true },
      );
      assert(maxDiff(new Float32Array(await out), want) < tol(hidden), cfg);
    }
  },
});

Deno.test({
  name: "f16 B matches the reference with B rounded to f16, in every layout",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const configs = [...new Set([...matmulCandidates(g), "tile:bm64:bn64:bk16:tm4:tn4"])];
    for (const cfg of configs) {
      for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
        for (const [m, n, k] of [[3, 5, 7], [9, 36, 24]]) {
          const s = { m, n, k, transA, transB, alpha: 1.5, accumulate: transA };
          const d = await check(g, s, (rec, args) => matmulWith(g, rec, args, cfg), true);
          assert(d < tol(k), `${cfg} ${JSON.stringify(s)}: ${d}`);
        }
      }
    }
    // Odd batch strides of a packed f16 B (element offsets that are not word-aligned).
    const s = { m: 4, n: 5, k: 3, batch: 3, strideB: 17, transB: true };
    const d = await check(g, s, (rec, args) => matmul(g, rec, args), true);
    assert(d < tol(3), `odd f16 strides: ${d}`);
  },
});

const SMALL_M_CONFIGS = [
  ...new Set([...SOFTWARE_SMALL_M_CANDIDATES, ...HARDWARE_SMALL_M_CANDIDATES]),
];

Deno.test({
  name: "small-m (decode) configurations match the reference at odd shapes, f32 and f16",
  ...opts,
  fn: async () => {
    const g = await gpu();
    // n and k off multiples of 4 and of the workgroup; m below, at and off the row block.
    const nk = [[37, 1023], [5, 70], [130, 9], [64, 256]];
    for (const cfg of SMALL_M_CONFIGS) {
      for (const m of [1, 3, 16]) {
        for (const [n, k] of nk) {
          for (const f16 of [false, true]) {
            const s = { m, n, k, transB: true, accumulate: m === 3, alpha: m === 16 ? 0.5 : 1 };
            const d = await check(g, s, (rec, args) => matmulWith(g, rec, args, cfg), f16);
            assert(d < tol(k), `${cfg} f16=${f16} ${JSON.stringify(s)}: ${d}`);
          }
        }
      }
      // Batched with a broadcast weight and padded strides, accumulating.
      const s = {
        m: 3,
        n: 21,
        k: 45,
        batch: 3,
        transB: true,
        strideA: 140,
        strideB: 0,
        strideC: 70,
        accumulate: true,
      };
      const d = await check(g, s, (rec, args) => matmulWith(g, rec, args, cfg));
      assert(d < tol(45), `${cfg} batched: ${d}`);
    }
  },
});

Deno.test({
  name: "small-m candidates are offered only for decode-shaped (m ≤ 16, NT) buckets",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const extra = g.description.kind === "software"
      ? SOFTWARE_SMALL_M_CANDIDATES
      : HARDWARE_SMALL_M_CANDIDATES;
    const base = matmulCandidates(g);
    const at = (m: number, transA = false, transB = true) =>
      matmulCandidates(g, { m, transA, transB }).filter((c) => !base.includes(c));
    assertEquals(at(1), extra.filter((c) => /:tm1:/.test(c)));
    assertEquals(at(SMALL_M), [...extra]);
    assertEquals(at(3).length > at(1).length, true, "m=3 also gets tm4 blocks");
    assertEquals(at(SMALL_M + 1), []);
    assertEquals(at(1, false, false), []);
    assertEquals(at(1, true, true), []);
    // Below the tuning size a single row (decode at batch 1) gets a one-row block on CPUs.
    if (g.description.kind === "software") {
      assertEquals(parseConfig(heuristicConfig(g, "NT", 1)).tm, 1);
      assertEquals(heuristicConfig(g, "NT", 2), heuristicConfig(g, "NT"));
    }
    assertThrows(() => parseConfig("gemv:tm16:tn16:wg64"), /workgroup memory/);
    assertThrows(() => parseConfig("gemv:tm1:tn4:wg64:cx1"), /cx1/);
  },
});

Deno.test({
  name: "a cached choice measured against a different candidate list is measured again",
  ...opts,
  fn: async () => {
    const g = await gpu();
    // Its own cache file: the test below counts the entries of the shared one.
    Deno.env.set("GOLONGRL_CACHE_DIR", Deno.makeTempDirSync({ prefix: "golongrl-mm-stale-" }));
    clearAutotuneMemory();
    const path = autotuneCachePath();
    const s = { m: 1, n: 1024, k: 1024, transB: true };
    const key = tuneKey(g, "matmul/NT/f32", "m1/n1024/k1024");
    const base = matmulCandidates(g);
    // As an older release would have left it: the base list only.
    let file: { version: 1; entries: Record<string, unknown> } = { version: 1, entries: {} };
    try {
      file = JSON.parse(await Deno.readTextFile(path));
    } catch { /* no cache yet */ }
    file.entries[key] = {
      choice: base[0],
      timesMs: Object.fromEntries(base.map((c) => [c, 1])),
    };
    await Deno.writeTextFile(path, JSON.stringify(file));
    const before = autotuneStats.measured;
    const run = (rec: Recorder, args: MatmulArgs) => matmul(g, rec, args);
    assert(await check(g, s, run) < tol(1024));
    assertEquals(autotuneStats.measured, before + 1);
    const entry = JSON.parse(await Deno.readTextFile(path)).entries[key];
    const offered = matmulCandidates(g, s);
    assert(offered.length > base.length);
    assertEquals(Object.keys(entry.timesMs).sort(), [...offered].sort());
    assert(offered.includes(entry.choice));
    Deno.env.set("GOLONGRL_CACHE_DIR", cacheDir);
    clearAutotuneMemory();
  },
});

Deno.test({
  name: "decode-shaped buckets are timed with cold weights, and an entry timed hot is redone",
  ...opts,
  fn: async () => {
    const g = await gpu();
    Deno.env.set("GOLONGRL_CACHE_DIR", Deno.makeTempDirSync({ prefix: "golongrl-mm-cold-" }));
    clearAutotuneMemory();
    const path = autotuneCachePath();
    const s = { m: 2, n: 1024, k: 512, transB: true };
    const key = tuneKey(g, "matmul/NT/f32", "m2/n1024/k512");
    const offered = matmulCandidates(g, s);
    // As the previous release left it: every candidate timed, but on one hot B.
    const hot = { choice: offered[0], timesMs: Object.fromEntries(offered.map((c) => [c, 1])) };
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, entries: { [key]: hot } }));
    const before = autotuneStats.measured;
    const run = (rec: Recorder, args: MatmulArgs) => matmul(g, rec, args);
    assert(await check(g, s, run) < tol(512));
    assertEquals(autotuneStats.measured, before + 1);
    const entries = JSON.parse(await Deno.readTextFile(path)).entries;
    assertEquals(entries[key].method, "cold-b");
    // Measured once more in a fresh process: the cold entry is used as it is.
    clearAutotuneMemory();
    assert(await check(g, s, run) < tol(512));
    assertEquals(autotuneStats.measured, before + 1);
    // Products of more rows than a decode batch are timed the plain way.
    assert(await check(g, { m: 64, n: 96, k: 64, transB: true }, run) < tol(64));
    const big = JSON.parse(await Deno.readTextFile(path)).entries[
      tuneKey(g, "matmul/NT/f32", "m64/n128/k64")
    ];
    assertEquals(big.method, undefined);
    Deno.env.set("GOLONGRL_CACHE_DIR", cacheDir);
    clearAutotuneMemory();
  },
});

Deno.test({
  name: "autotuning measures once, writes the cache, and reuses it from memory and disk",
  ...opts,
  fn: async () => {
    const g = await gpu();
    clearAutotuneMemory();
    const path = autotuneCachePath();
    assertEquals(path, `${cacheDir}/autotune.json`);
    const before = { ...autotuneStats };
    const s = { m: 64, n: 96, k: 64, transB: true }; // 2^18.6 multiply-adds: tuned
    const run = (rec: Recorder, args: MatmulArgs) => matmul(g, rec, args);
    assert(await check(g, s, run) < tol(64));
    assertEquals(autotuneStats.measured - before.measured, 1);
    const file = JSON.parse(await Deno.readTextFile(path));
    const key = tuneKey(g, "matmul/NT/f32", "m64/n128/k64");
    const entry = file.entries[key];
    assert(entry, `cache has ${Object.keys(file.entries)}`);
    assert(matmulCandidates(g).includes(entry.choice));
    // Same bucket again: from memory.
    assert(await check(g, { ...s, m: 60 }, run) < tol(64));
    assertEquals(autotuneStats.memoryHits - before.memoryHits, 1);
    // A fresh process (memory cleared): from disk, no measurement.
    clearAutotuneMemory();
    assert(await check(g, s, run) < tol(64));
    assertEquals(autotuneStats.diskHits - before.diskHits, 1);
    assertEquals(autotuneStats.measured - before.measured, 1);
    // The disk choice is what is used: point it at another candidate.
    const other = matmulCandidates(g).find((c) => c !== entry.choice)!;
    file.entries[key].choice = other;
    await Deno.writeTextFile(path, JSON.stringify(file));
    clearAutotuneMemory();
    assert(await check(g, s, run) < tol(64));
    assertEquals(autotuneStats.measured - before.measured, 1);
    // Measuring off: the heuristic, nothing written.
    Deno.env.set("GOLONGRL_AUTOTUNE", "0");
    try {
      clearAutotuneMemory();
      const h = autotuneStats.heuristic;
      assert(await check(g, { m: 128, n: 128, k: 128 }, run) < tol(128));
      assertEquals(autotuneStats.heuristic, h + 1);
      const after = JSON.parse(await Deno.readTextFile(path));
      assertEquals(Object.keys(after.entries).length, 1);
    } finally {
      Deno.env.delete("GOLONGRL_AUTOTUNE");
    }
    // No temp files left behind by the atomic writes.
    const names = [...Deno.readDirSync(cacheDir)].map((e) => e.name);
    assertEquals(names, ["autotune.json"]);
  },
});

Deno.test({
  name: "bad shapes are refused with a clear message",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const rec = new Recorder(g, new BufferPool(g));
    const a = storageBuffer(g, 64 * 4), b = storageBuffer(g, 64 * 4), c = storageBuffer(g, 16);
    await assertRejects(
      () => matmul(g, rec, { a, b, c, m: 4, n: 4, k: 4 }),
      /matmul: c is too small for m=4 n=4 k=4 batch=1: it holds 4 elements.*needs 16/,
    );
    await assertRejects(
      () => matmul(g, rec, { a, b, c: storageBuffer(g, 64 * 4), m: 4, n: 4, k: 17 }),
      /matmul: a is too small/,
    );
    await assertRejects(() => matmul(g, rec, { a, b, c, m: 1.5, n: 1, k: 1 }), /m must be/);
    await assertRejects(() => matmul(g, rec, { a, b, c: a, m: 2, n: 2, k: 2 }), /share a buffer/);
    await assertRejects(
      () => matmul(g, rec, { a, b, c, m: 1, n: 1, k: 1 }, { config: "nope:tm1" }),
      /unknown config/,
    );
    assertThrows(
      () =>
        matmulRefGeneral(new Float32Array(4), new Float32Array(4), new Float32Array(1), {
          m: 2,
          n: 2,
          k: 2,
        }),
      /needs 4/,
    );
    assertEquals(rec.dispatches, 0);
  },
});
