/**
 * Layer kernels (embedding, RMSNorm, RoPE, SwiGLU, element-wise) on the real adapter: GPU vs the
 * CPU references on odd sizes, backward kernels vs central finite differences of a scalar loss
 * computed by the f64 references, and binding windows and folded grids exercised cheaply through
 * a view of the device that reports tiny limits.
 */
import { assert, assertEquals } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";
import { mulberry32 } from "../core/rng.ts";
import {
  embeddingBackward,
  embeddingBackwardRef,
  embeddingForward,
  embeddingForwardRef,
  packEmbeddingChunks,
} from "../kernels/embedding.ts";
import {
  rmsnormBackward,
  rmsnormBackwardRef,
  rmsnormForward,
  rmsnormForwardRef,
} from "../kernels/rmsnorm.ts";
import { ropeBackward, ropeForward, ropeRef } from "../kernels/rope.ts";
import {
  swigluBackward,
  swigluBackwardRef,
  swigluForward,
  swigluForwardRef,
} from "../kernels/swiglu.ts";
import {
  add,
  addInPlace,
  castF32ToF16,
  castF32ToF16Ref,
  copyF32,
  fill,
  scale,
} from "../kernels/elementwise.ts";

let shared: Gpu | undefined;
let pool: BufferPool | undefined;
async function gpu(): Promise<Gpu> {
  shared ??= await acquireGpu();
  pool ??= new BufferPool(shared);
  return shared;
}
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(7);
const randArr = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);

/**
 * The same device reporting small limits, so windowing and grid folding run on small data:
 * only the limits the kernels read are overridden.
 */
function tiny(g: Gpu, bindBytes: number, maxWg: number, uniformBytes = 65536): Gpu {
  const limits = {
    maxStorageBufferBindingSize: bindBytes,
    maxComputeWorkgroupsPerDimension: maxWg,
    maxUniformBufferBindingSize: uniformBytes,
  } as unknown as GPUSupportedLimits;
  return Object.create(g, { limits: { value: limits } });
}

/** Records with `f`, submits once, and returns the f32 contents of each read buffer. */
async function run(
  g: Gpu,
  f: (rec: Recorder) => Promise<void>,
  reads: { buf: GPUBuffer; n: number; offset?: number }[],
): Promise<Float32Array[]> {
  const rec = new Recorder(g, pool!);
  await f(rec);
  const ps = reads.map((r) => rec.read(r.buf, r.n * 4, r.offset ?? 0));
  await rec.submit();
  return (await Promise.all(ps)).map((b) => new Float32Array(b));
}

function maxErr(got: ArrayLike<number>, want: ArrayLike<number>, rel = false): number {
  assertEquals(got.length, want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]) / (rel ? Math.max(1, Math.abs(want[i])) : 1);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Central finite difference of `loss` in coordinate i of `x` (f64). */
function fd(loss: (x: Float64Array) => number, x: Float64Array, i: number, h = 1e-5): number {
  const y = Float64Array.from(x);
  y[i] = x[i] + h;
  const up = loss(y);
  y[i] = x[i] - h;
  return (up - loss(y)) / (2 * h);
}

/** A few coordinates to probe: first, last and random ones. */
function probes(n: number, k = 6): number[] {
  const s = new Set([0, n - 1]);
  while (s.size < Math.min(n, k)) s.add(Math.floor(rand() * n));
  return [...s];
}

// ---------------------------------------------------------------------------------------------
// Embedding

Deno.test({
  name: "embedding forward matches the reference (f32 and f16 tables, windows, invalid ids)",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const cases: [Gpu, number, number, number][] = [
      [real, 1, 1, 1],
      [real, 17, 33, 5],
      [real, 300, 40, 13],
      [real, 50, 300, 200],
      // 4 KiB bindings: 3 table windows (128 rows of 8) and 4 token windows; folded grids.
      [tiny(real, 4096, 16), 300, 8, 500],
    ];
    for (const [g, vocab, dim, n] of cases) {
      const table = randArr(vocab * dim);
      const ids = Uint32Array.from({ length: n }, () => Math.floor(rand() * vocab));
      if (n > 3) ids[2] = vocab + 5; // out of range: zero row
      const tb = uploadBuffer(real, table), ib = uploadBuffer(real, ids);
      const out = uploadBuffer(real, randArr(n * dim)); // garbage to overwrite
      const [got] = await run(
        g,
        (rec) => embeddingForward(g, rec, { table: tb, ids: ib, out, n, dim, vocab }),
        [{ buf: out, n: n * dim }],
      );
      assertEquals(maxErr(got, embeddingForwardRef(table, ids, dim, vocab)), 0, `${vocab}x${dim}`);

      const half = new Uint16Array(vocab * dim);
      new Float16Array(half.buffer).set(table);
      const hb = uploadBuffer(real, half);
      const [got16] = await run(
        g,
        (rec) =>
          embeddingForward(g, rec, { table: hb, ids: ib, out, n, dim, vocab, tableDtype: "f16" }),
        [{ buf: out, n: n * dim }],
      );
      const want16 = embeddingForwardRef(new Float16Array(half.buffer), ids, dim, vocab);
      assertEquals(maxErr(got16, want16), 0, `f16 ${vocab}x${dim}`);
    }
  },
});

Deno.test({
  name: "embedding backward accumulates per id deterministically and matches finite differences",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const cases: [Gpu, number, number, number][] = [
      [real, 1, 1, 1],
      [real, 7, 3, 50], // heavy repetition
      [real, 300, 40, 13],
      [real, 60, 257, 100],
      // Small bindings and a 1 KiB uniform: table and token windows, ids split across chunks.
      [tiny(real, 4096, 16, 1024), 300, 8, 600],
    ];
    for (const [g, vocab, dim, n] of cases) {
      const ids = Uint32Array.from({ length: n }, () => Math.floor(rand() * vocab));
      if (n > 300) ids.fill(vocab - 1, 0, 400); // one id with more positions than a chunk holds
      if (n > 10) ids[3] = vocab; // skipped
      const dOut = randArr(n * dim), dTable0 = randArr(vocab * dim);
      const ib = uploadBuffer(real, ids), gb = uploadBuffer(real, dOut);
      const results: Float32Array[] = [];
      for (let rep = 0; rep < 2; rep++) {
        const dt = uploadBuffer(real, dTable0);
        const [got] = await run(
          g,
          (rec) =>
            embeddingBackward(g, rec, {
              ids: ib,
              dOut: gb,
              dTable: dt,
              n,
              dim,
              vocab,
              idsHost: ids,
            }),
          [{ buf: dt, n: vocab * dim }],
        );
        results.push(got);
      }
      const want = embeddingBackwardRef(dTable0, ids, dOut, dim, vocab);
      assert(maxErr(results[0], want, true) < 1e-5, `${vocab}x${dim}x${n}`);
      assertEquals(results[0], results[1], "bitwise repeatable");
      // The gradient is that of L(table) = Σ dOut ⊙ embed(table).
      const loss = (t: Float64Array) => dot(dOut, embeddingForwardRef(t, ids, dim, vocab));
      const t64 = Float64Array.from(randArr(vocab * dim));
      for (const i of probes(vocab * dim)) {
        const gradI = results[0][i] - dTable0[i];
        assert(Math.abs(fd(loss, t64, i) - gradI) < 1e-4, `fd at ${i}`);
      }
    }
  },
});

Deno.test({
  name: "embedding chunks never repeat an id within a chunk and respect the capacity",
  ...opts,
  fn: () => {
    const segs = [{ row: 3, pos: [1, 2] }, {
      row: 5,
      pos: Array.from({ length: 50 }, (_, i) => i),
    }];
    const chunks = packEmbeddingChunks(segs, 8, 20);
    let total = 0;
    for (const c of chunks) {
      assert(c.length <= 20);
      const rows = Array.from(c.subarray(4, 4 + c[0]));
      assertEquals(new Set(rows).size, rows.length);
      total += c[c[2] + c[0]]; // the sentinel start = positions in the chunk
    }
    assertEquals(total, 52);
  },
});

// ---------------------------------------------------------------------------------------------
// RMSNorm

const EPS = 1e-6;

Deno.test({
  name: "rmsnorm forward matches the reference on odd shapes, windows and dim 8192",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const cases: [Gpu, number, number][] = [
      [real, 1, 1],
      [real, 3, 17],
      [real, 33, 100],
      [real, 5, 300],
      [real, 2, 8192],
      [tiny(real, 16384, 16), 150, 40], // 64-row windows, folded grid
    ];
    for (const [g, rows, dim] of cases) {
      const x = randArr(rows * dim, 3), w = randArr(dim);
      const xb = uploadBuffer(real, x), wb = uploadBuffer(real, w);
      const out = storageBuffer(real, rows * dim * 4), rstd = storageBuffer(real, rows * 4);
      const [o, r] = await run(
        g,
        (rec) => rmsnormForward(g, rec, { x: xb, weight: wb, out, rstd, rows, dim, eps: EPS }),
        [{ buf: out, n: rows * dim }, { buf: rstd, n: rows }],
      );
      const ref = rmsnormForwardRef(x, w, rows, dim, EPS);
      assert(maxErr(o, ref.out, true) < 2e-6 * 3, `out ${rows}x${dim}: ${maxErr(o, ref.out)}`);
      assert(maxErr(r, ref.rstd, true) < 1e-6, `rstd ${rows}x${dim}`);
    }
  },
});

Deno.test({
  name: "rmsnorm backward (dX written and accumulated, dWeight +=) matches finite differences",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const cases: [Gpu, number, number][] = [
      [real, 1, 1],
      [real, 3, 17],
      [real, 37, 100],
      [real, 4, 300],
      [tiny(real, 16384, 16), 150, 40],
    ];
    for (const [g, rows, dim] of cases) {
      const x = randArr(rows * dim, 2), w = randArr(dim), dOut = randArr(rows * dim);
      const dX0 = randArr(rows * dim), dW0 = randArr(dim);
      const xb = uploadBuffer(real, x), wb = uploadBuffer(real, w), gb = uploadBuffer(real, dOut);
      const out = storageBuffer(real, rows * dim * 4), rstd = storageBuffer(real, rows * 4);
      const dXw = storageBuffer(real, rows * dim * 4), dXa = uploadBuffer(real, dX0);
      const dW = uploadBuffer(real, dW0);
      const [gw, ga, gdw] = await run(g, async (rec) => {
        await rmsnormForward(g, rec, { x: xb, weight: wb, out, rstd, rows, dim, eps: EPS });
        const common = { x: xb, weight: wb, rstd, dOut: gb, dWeight: dW, rows, dim };
        await rmsnormBackward(g, rec, { ...common, dX: dXw });
        // A second call in the same recording reuses the partials and adds dWeight again.
        await rmsnormBackward(g, rec, { ...common, dX: dXa, accumulateDX: true });
      }, [{ buf: dXw, n: rows * dim }, { buf: dXa, n: rows * dim }, { buf: dW, n: dim }]);
      const ref = rmsnormBackwardRef(x, w, dOut, rows, dim, EPS);
      const tag = `${rows}x${dim}`;
      assert(maxErr(gw, ref.dX, true) < 1e-5, `dX ${tag}: ${maxErr(gw, ref.dX, true)}`);
      assert(maxErr(ga, ref.dX.map((v, i) => v + dX0[i]), true) < 1e-5, `dX acc ${tag}`);
      assert(maxErr(gdw, ref.dWeight.map((v, i) => 2 * v + dW0[i]), true) < 1e-4, `dW ${tag}`);
      // Finite differences of L = Σ dOut ⊙ rmsnorm(x, w), in f64.
      const x64 = Float64Array.from(x), w64 = Float64Array.from(w);
      const lx = (v: Float64Array) => dot(dOut, rmsnormForwardRef(v, w64, rows, dim, EPS).out);
      const lw = (v: Float64Array) => dot(dOut, rmsnormForwardRef(x64, v, rows, dim, EPS).out);
      for (const i of probes(rows * dim)) {
        const want = fd(lx, x64, i);
        assert(Math.abs(gw[i] - want) < 1e-4 * Math.max(1, Math.abs(want)), `fd dX ${tag}[${i}]`);
      }
      for (const i of probes(dim)) {
        const want = fd(lw, w64, i), got = (gdw[i] - dW0[i]) / 2;
        assert(Math.abs(got - want) < 1e-4 * Math.max(1, Math.abs(want)), `fd dW ${tag}[${i}]`);
      }
    }
  },
});

// ---------------------------------------------------------------------------------------------
// RoPE

Deno.test({
  name: "rope matches the HF rotate_half convention on a hand-computed case",
  ...opts,
  fn: async () => {
    const g = await gpu();
    // headDim 4, position 1, theta 10000: inv_freq [1, 0.01]; element i pairs with i + 2.
    const x = uploadBuffer(g, Float32Array.from([1, 2, 3, 4]));
    const pos = uploadBuffer(g, Uint32Array.from([1]));
    const a = { x, positions: pos, tokens: 1, heads: 1, headDim: 4, theta: 10000 };
    const [got] = await run(g, (rec) => ropeForward(g, rec, a), [{ buf: x, n: 4 }]);
    // y0 = 1·cos1 − 3·sin1, y1 = 2·cos.01 − 4·sin.01, y2 = 3·cos1 + 1·sin1, y3 = 4·cos.01 + 2·sin.01
    const want = [-1.9841106485555495, 1.959900667496664, 2.4623779024123156, 4.019799668334994];
    assert(maxErr(got, want) < 1e-6, `${got}`);
  },
});

Deno.test({
  name:
    "rope forward matches the reference (large positions), inverts, and its backward matches finite differences",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const cases: [Gpu, number, number, number, number][] = [
      [real, 1, 1, 2, 10000],
      [real, 3, 5, 6, 1e6],
      [real, 17, 4, 128, 1e6],
      [real, 9, 2, 256, 10000],
      [tiny(real, 6144, 2), 150, 3, 8, 10000], // token windows of 64 and folded grids
    ];
    for (const [g, tokens, heads, headDim, theta] of cases) {
      const n = tokens * heads * headDim;
      const x = randArr(n), c = randArr(n);
      const positions = Uint32Array.from({ length: tokens }, (_, t) => t % 2 ? t : 40000 - 37 * t);
      const xb = uploadBuffer(real, x),
        cb = uploadBuffer(real, c),
        pb = uploadBuffer(real, positions);
      const rt = uploadBuffer(real, x);
      const a = { positions: pb, tokens, heads, headDim, theta };
      const [fwd, back, rtrip] = await run(g, async (rec) => {
        await ropeForward(g, rec, { ...a, x: xb });
        await ropeBackward(g, rec, { ...a, dx: cb });
        await ropeForward(g, rec, { ...a, x: rt });
        await ropeBackward(g, rec, { ...a, dx: rt });
      }, [{ buf: xb, n }, { buf: cb, n }, { buf: rt, n }]);
      const tag = `${tokens}x${heads}x${headDim}`;
      const ref = ropeRef(x, positions, tokens, heads, headDim, theta);
      assert(maxErr(fwd, ref) < 2e-6, `fwd ${tag}: ${maxErr(fwd, ref)}`);
      assert(maxErr(rtrip, x) < 2e-6, `round trip ${tag}`);
      const bref = ropeRef(c, positions, tokens, heads, headDim, theta, true);
      assert(maxErr(back, bref) < 2e-6, `bwd ${tag}`);
      const x64 = Float64Array.from(x);
      const loss = (v: Float64Array) =>
        dot(c, ropeRef(v, positions, tokens, heads, headDim, theta));
      for (const i of probes(n)) assert(Math.abs(fd(loss, x64, i) - back[i]) < 1e-5, `fd ${tag}`);
    }
  },
});

// ---------------------------------------------------------------------------------------------
// SwiGLU

Deno.test({
  name: "swiglu forward and backward match the reference and finite differences",
  ...opts,
  fn: async () => {
    const real = await gpu();
    const cases: [Gpu, number][] = [[real, 1], [real, 3], [real, 1001], [
      tiny(real, 1024, 2),
      3000,
    ]];
    for (const [g, n] of cases) {
      const gate = randArr(n, 6), up = randArr(n, 2), dOut = randArr(n);
      if (n > 2) gate.set([-120, 90]); // saturated sigmoid both ways
      const gb = uploadBuffer(real, gate),
        ub = uploadBuffer(real, up),
        db = uploadBuffer(real, dOut);
      const out = storageBuffer(real, n * 4), dg = storageBuffer(real, n * 4);
      const du = storageBuffer(real, n * 4);
      const [o, gg, gu] = await run(g, async (rec) => {
        await swigluForward(g, rec, { gate: gb, up: ub, out, n });
        await swigluBackward(g, rec, { gate: gb, up: ub, dOut: db, dGate: dg, dUp: du, n });
      }, [{ buf: out, n }, { buf: dg, n }, { buf: du, n }]);
      const ref = swigluBackwardRef(gate, up, dOut);
      assert(maxErr(o, swigluForwardRef(gate, up), true) < 2e-6, `fwd ${n}`);
      assert(maxErr(gg, ref.dGate, true) < 2e-6, `dGate ${n}`);
      assert(maxErr(gu, ref.dUp, true) < 2e-6, `dUp ${n}`);
      const g64 = Float64Array.from(gate), u64 = Float64Array.from(up);
      const lg = (v: Float64Array) => dot(dOut, swigluForwardRef(v, u64));
      const lu = (v: Float64Array) => dot(dOut, swigluForwardRef(g64, v));
      for (const i of probes(n)) {
        assert(Math.abs(fd(lg, g64, i) - gg[i]) < 1e-5, `fd dGate ${n}[${i}]`);
        assert(Math.abs(fd(lu, u64, i) - gu[i]) < 1e-5, `fd dUp ${n}[${i}]`);
      }
    }
  },
});

Deno.test({
  name: "swiglu works with every operand a window of one arena buffer",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const n = 100, slot = 512; // 512 bytes per slot keeps offsets 256-aligned
    const gate = randArr(n), up = randArr(n), dOut = randArr(n);
    const arena = storageBuffer(g, slot * 6);
    const at = (k: number): View => ({ buffer: arena, offset: k * slot, size: n * 4 });
    g.device.queue.writeBuffer(arena, 0, gate);
    g.device.queue.writeBuffer(arena, slot, up);
    g.device.queue.writeBuffer(arena, 2 * slot, dOut);
    const [res] = await run(g, async (rec) => {
      await swigluForward(g, rec, { gate: at(0), up: at(1), out: at(3), n });
      await swigluBackward(g, rec, {
        gate: at(0),
        up: at(1),
        dOut: at(2),
        dGate: at(4),
        dUp: at(5),
        n,
      });
    }, [{ buf: arena, n: slot * 6 / 4 }]);
    const f = slot / 4, ref = swigluBackwardRef(gate, up, dOut);
    assert(maxErr(res.subarray(3 * f, 3 * f + n), swigluForwardRef(gate, up), true) < 2e-6);
    assert(maxErr(res.subarray(4 * f, 4 * f + n), ref.dGate, true) < 2e-6);
    assert(maxErr(res.subarray(5 * f, 5 * f + n), ref.dUp, true) < 2e-6);
  },
});

// ---------------------------------------------------------------------------------------------
// Element-wise

Deno.test({
  name: "element-wise ops are exact f32 arithmetic, windowed and folded",
  ...opts,
  fn: async () => {
    const real = await gpu();
    // tiny: 4096-element windows of 16 workgroups folded over a 5-wide x dimension.
    for (
      const [g, n] of [[real, 1], [real, 17], [real, 4099], [tiny(real, 16384, 5), 10000]] as const
    ) {
      const A = randArr(n), B = randArr(n);
      const a = uploadBuffer(real, A), b = uploadBuffer(real, B);
      const out = storageBuffer(real, n * 4), x = uploadBuffer(real, A);
      const s = uploadBuffer(real, A),
        f = storageBuffer(real, n * 4),
        c = storageBuffer(real, n * 4);
      let dispatches = 0;
      const [o, xo, so, fo, co] = await run(g, async (rec) => {
        await add(g, rec, { a, b, out, n });
        dispatches = rec.dispatches;
        await addInPlace(g, rec, { x, y: b, n, alpha: -0.375 });
        await scale(g, rec, { x: s, alpha: 3.5, n });
        await fill(g, rec, { x: f, value: 0.25, n });
        await copyF32(g, rec, { src: a, dst: c, n });
      }, [{ buf: out, n }, { buf: x, n }, { buf: s, n }, { buf: f, n }, { buf: c, n }]);
      assertEquals(
        dispatches,
        Math.ceil(n / (g.limits.maxStorageBufferBindingSize / 4)),
        "windows",
      );
      const fr = Math.fround;
      assertEquals(maxErr(o, A.map((v, i) => fr(v + B[i]))), 0, `add ${n}`);
      assertEquals(maxErr(xo, A.map((v, i) => fr(v + fr(-0.375 * B[i])))), 0, `addInPlace ${n}`);
      assertEquals(maxErr(so, A.map((v) => fr(3.5 * v))), 0, `scale ${n}`);
      assertEquals(maxErr(fo, new Float32Array(n).fill(0.25)), 0, `fill ${n}`);
      assertEquals(maxErr(co, A), 0, `copy ${n}`);
    }
  },
});

Deno.test({
  name: "fill and scale fold grids past 65535 workgroups",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const n = 256 * 65535 + 1000;
    const x = storageBuffer(g, n * 4);
    const [got] = await run(g, async (rec) => {
      await fill(g, rec, { x, value: 1.5, n });
      await scale(g, rec, { x, alpha: -2, n });
    }, [{ buf: x, n }]);
    assertEquals(got[0], -3);
    assertEquals(got[n - 1], -3);
    assert(got.every((v) => v === -3));
  },
});

Deno.test({
  name: "element-wise ops accept windows of one buffer (in place and disjoint)",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const n = 70, A = randArr(n), B = randArr(n);
    const buf = storageBuffer(g, 2048);
    g.device.queue.writeBuffer(buf, 0, A);
    g.device.queue.writeBuffer(buf, 512, B);
    const w = (o: number): View => ({ buffer: buf, offset: o, size: n * 4 });
    const [res] = await run(g, async (rec) => {
      await add(g, rec, { a: w(0), b: w(512), out: w(0), n }); // out aliases a
      await copyF32(g, rec, { src: w(0), dst: w(1024), n }); // same buffer: kernel path
    }, [{ buf, n: 512 }]);
    const want = A.map((v, i) => Math.fround(v + B[i]));
    assertEquals(maxErr(res.subarray(0, n), want), 0);
    assertEquals(maxErr(res.subarray(256, 256 + n), want), 0);
  },
});

Deno.test({
  name: "castF32ToF16 packs IEEE halves and keeps the neighbour of an odd tail",
  ...opts,
  fn: async () => {
    const real = await gpu();
    for (
      const [g, n] of [[real, 1], [real, 7], [real, 1001], [tiny(real, 2048, 2), 3001]] as const
    ) {
      const X = randArr(n, 1000);
      X.set([0.1, 1 / 3, 2049, 2051, -65504, 1e-6].slice(0, n));
      const src = uploadBuffer(real, X);
      const dstWords = Math.ceil(n / 2) + 1;
      const dst = uploadBuffer(real, new Uint32Array(dstWords).fill(0xABCD_ABCD));
      const rec = new Recorder(real, pool!);
      await castF32ToF16(g, rec, { src, dst, n });
      const p = rec.read(dst, dstWords * 4);
      await rec.submit();
      const got = new Uint16Array(await p);
      assertEquals(Array.from(got.subarray(0, n)), Array.from(castF32ToF16Ref(X)), `n=${n}`);
      // Half-word n (odd n: the upper half of the last word) and the next word stay untouched.
      assertEquals(got[n], 0xABCD, `tail ${n}`);
    }
  },
});
