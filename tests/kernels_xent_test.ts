/** Chunked log-softmax / cross-entropy / entropy (kernels/xent.ts) against f64 CPU references. */
import { assert, assertEquals } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { mulberry32 } from "../core/rng.ts";
import {
  NO_TARGET,
  rowWindows,
  xentBackwardRef,
  xentChunkBackward,
  xentChunkForward,
  xentFinalize,
  xentRef,
} from "../kernels/xent.ts";

let shared: Gpu | undefined;
async function gpu(): Promise<Gpu> {
  return shared ??= await acquireGpu();
}
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(7);

function randLogits(n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}
function randTargets(T: number, V: number, noneEvery = 4): Uint32Array {
  return Uint32Array.from(
    { length: T },
    (_, t) => t % noneEvery === 1 ? NO_TARGET : Math.floor(rand() * V),
  );
}
function maxDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
/** Columns [c0, c0 + cs) of a row-major [T, V] matrix. */
function chunkOf(x: Float32Array, T: number, V: number, c0: number, cs: number): Float32Array {
  const out = new Float32Array(T * cs);
  for (let t = 0; t < T; t++) out.set(x.subarray(t * V + c0, t * V + c0 + cs), t * cs);
  return out;
}

interface RunOpts {
  invT?: number;
  maxBindBytes?: number;
  /** Place each chunk at this byte offset inside a larger buffer (a multiple of 256). */
  viewOffset?: number;
}

/** Runs the chunked forward (and the backward when coef is given) on the GPU. */
async function runChunked(
  g: Gpu,
  logits: Float32Array,
  targets: Uint32Array,
  V: number,
  chunk: number,
  o: RunOpts = {},
  coef?: Float32Array,
) {
  const T = targets.length, pool = new BufferPool(g);
  const tgt = uploadBuffer(g, targets), stats = storageBuffer(g, T * 16);
  const lp = storageBuffer(g, T * 4), lse = storageBuffer(g, T * 4), ent = storageBuffer(g, T * 4);
  const off = o.viewOffset ?? 0;
  const chunks: { c0: number; cs: number; buf: GPUBuffer }[] = [];
  for (let c0 = 0; c0 < V; c0 += chunk) {
    const cs = Math.min(chunk, V - c0), data = chunkOf(logits, T, V, c0, cs);
    const padded = new Float32Array(off / 4 + data.length);
    padded.set(data, off / 4);
    chunks.push({ c0, cs, buf: uploadBuffer(g, padded) });
  }
  const view = (b: GPUBuffer, cs: number) => ({ buffer: b, offset: off, size: T * cs * 4 });
  const common = { targets: tgt, tokens: T, invTemperature: o.invT, maxBindBytes: o.maxBindBytes };
  let rec = new Recorder(g, pool);
  for (const [i, c] of chunks.entries()) {
    await xentChunkForward(g, rec, {
      ...common,
      logits: view(c.buf, c.cs),
      stats,
      chunkStart: c.c0,
      chunkSize: c.cs,
      first: i === 0,
    });
  }
  await xentFinalize(g, rec, { stats, logprobs: lp, lse, entropy: ent, tokens: T });
  const reads = [rec.read(lp, T * 4), rec.read(lse, T * 4), rec.read(ent, T * 4)];
  await rec.submit();
  const [logprobs, lseOut, entropy] = (await Promise.all(reads)).map((b) => new Float32Array(b));
  let dlogits: Float32Array | undefined;
  if (coef) {
    const cb = uploadBuffer(g, coef);
    rec = new Recorder(g, pool);
    const back = [];
    for (const c of chunks) {
      await xentChunkBackward(g, rec, {
        ...common,
        logits: view(c.buf, c.cs),
        lse,
        coef: cb,
        chunkStart: c.c0,
        chunkSize: c.cs,
      });
      back.push(rec.read(c.buf, T * c.cs * 4, off));
    }
    await rec.submit();
    dlogits = new Float32Array(T * V);
    for (const [i, c] of chunks.entries()) {
      const d = new Float32Array(await back[i]);
      for (let t = 0; t < T; t++) dlogits.set(d.subarray(t * c.cs, (t + 1) * c.cs), t * V + c.c0);
    }
    cb.destroy();
  }
  for (const b of [tgt, stats, lp, lse, ent, ...chunks.map((c) => c.buf)]) b.destroy();
  return { logprobs, lse: lseOut, entropy, dlogits };
}

Deno.test({
  name: "chunked forward equals the full-row reference for many chunk sizes",
  ...opts,
  fn: async () => {
    const g = await gpu();
    for (const [T, V] of [[1, 1], [3, 7], [17, 300], [33, 1000], [5, 2053]]) {
      const logits = randLogits(T * V, 8), targets = randTargets(T, V);
      for (const invT of [1, 0.625]) {
        const ref = xentRef(logits, targets, invT);
        for (const chunk of new Set([1, 3, 256, 333, V])) {
          if (chunk > V || (chunk === 1 && V > 300)) continue; // chunk 1 on small V keeps it quick
          const got = await runChunked(g, logits, targets, V, chunk, { invT });
          const tag = `T=${T} V=${V} chunk=${chunk} invT=${invT}`;
          const tol = 2e-5 * Math.max(1, Math.log(V) * 4);
          assert(maxDiff(got.logprobs, ref.logprobs) < tol, `${tag} logprob`);
          assert(maxDiff(got.lse, ref.lse) < tol, `${tag} lse`);
          assert(maxDiff(got.entropy, ref.entropy) < tol, `${tag} entropy`);
          for (let t = 0; t < T; t++) {
            if (targets[t] === NO_TARGET) assertEquals(got.logprobs[t], 0);
          }
        }
      }
    }
  },
});

Deno.test({
  name: "a logits chunk split over bindings and at unaligned rows gives the same result",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const T = 37, V = 203; // 812-byte rows: most rows start off a 256-byte boundary
    const logits = randLogits(T * V, 5), targets = randTargets(T, V, 3);
    const ref = xentRef(logits, targets);
    const coef = randLogits(T, 1);
    const got = await runChunked(g, logits, targets, V, 101, {
      maxBindBytes: 2048,
      viewOffset: 512,
    }, coef);
    assert(maxDiff(got.logprobs, ref.logprobs) < 1e-4);
    assert(maxDiff(got.entropy, ref.entropy) < 1e-4);
    assert(maxDiff(got.dlogits!, xentBackwardRef(logits, targets, coef)) < 1e-6);
    // The windows cover the rows exactly once and stay inside the view.
    const buf = storageBuffer(g, 512 + T * 101 * 4);
    const ws = rowWindows(g, { buffer: buf, offset: 512 }, T, 101, 2048);
    assert(ws.length > 1);
    assertEquals(ws.reduce((n, w) => n + w.rows, 0), T);
    for (const w of ws) {
      assertEquals(w.binding.offset % g.limits.minStorageBufferOffsetAlignment, 0);
      assert(w.binding.size <= 2048 && w.binding.offset + w.binding.size <= buf.size);
      assertEquals(w.binding.offset + w.elemOffset * 4, 512 + w.row0 * 101 * 4);
    }
    buf.destroy();
  },
});

Deno.test({
  name: "backward equals the reference, with temperature and rows without targets",
  ...opts,
  fn: async () => {
    const g = await gpu();
    for (const [T, V, chunk] of [[1, 5, 1], [9, 130, 40], [17, 513, 256]]) {
      for (const invT of [1, 1.75]) {
        const logits = randLogits(T * V, 4), targets = randTargets(T, V, 3);
        const coef = randLogits(T, 2);
        const got = await runChunked(g, logits, targets, V, chunk, { invT }, coef);
        const want = xentBackwardRef(logits, targets, coef, invT);
        assert(maxDiff(got.dlogits!, want) < 2e-6, `T=${T} V=${V} invT=${invT}`);
        for (let t = 0; t < T; t++) {
          if (targets[t] !== NO_TARGET) continue;
          assert(got.dlogits!.subarray(t * V, (t + 1) * V).every((x) => x === 0));
        }
      }
    }
  },
});

/** f64 loss = sum_t coef[t] * logprob[t] (0 where no target). */
function lossF64(
  logits: Float64Array,
  targets: Uint32Array,
  coef: Float32Array,
  V: number,
  invT: number,
) {
  let loss = 0;
  for (let t = 0; t < targets.length; t++) {
    if (targets[t] === NO_TARGET) continue;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[t * V + v] * invT);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[t * V + v] * invT - m);
    loss += coef[t] * (logits[t * V + targets[t]] * invT - m - Math.log(s));
  }
  return loss;
}

Deno.test({
  name: "backward matches central finite differences of sum(coef * logprob)",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const T = 4, V = 23, invT = 0.8;
    const logits = randLogits(T * V, 3), targets = randTargets(T, V, 3);
    const coef = randLogits(T, 1.5);
    const { dlogits } = await runChunked(g, logits, targets, V, 10, { invT }, coef);
    const x = Float64Array.from(logits), h = 1e-5;
    let worst = 0;
    for (let i = 0; i < T * V; i++) {
      const x0 = x[i];
      x[i] = x0 + h;
      const up = lossF64(x, targets, coef, V, invT);
      x[i] = x0 - h;
      const down = lossF64(x, targets, coef, V, invT);
      x[i] = x0;
      worst = Math.max(worst, Math.abs((up - down) / (2 * h) - dlogits![i]));
    }
    assert(worst < 1e-5, `finite differences: ${worst}`);
  },
});

Deno.test({
  name: "entropy is log V for uniform logits and 0 for a one-hot row",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const V = 1000;
    const logits = new Float32Array(2 * V);
    logits.fill(3, 0, V);
    logits[V + 17] = 200; // row 1: all mass on id 17 (exp(-200) underflows)
    const got = await runChunked(g, logits, new Uint32Array([5, 17]), V, 300);
    assert(Math.abs(got.entropy[0] - Math.log(V)) < 1e-5);
    assert(Math.abs(got.logprobs[0] + Math.log(V)) < 1e-5);
    assert(Math.abs(got.entropy[1]) < 1e-6);
    assert(Math.abs(got.logprobs[1]) < 1e-6);
  },
});

Deno.test({
  name: "speed: chunked forward + backward over a 1024 x 16384 vocabulary slice",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const T = 1024, V = 16384, chunk = 4096;
    const logits = randLogits(T * chunk, 6), targets = randTargets(T, V);
    const pool = new BufferPool(g);
    const buf = uploadBuffer(g, logits), tgt = uploadBuffer(g, targets);
    const stats = storageBuffer(g, T * 16), lp = storageBuffer(g, T * 4);
    const lse = storageBuffer(g, T * 4), ent = storageBuffer(g, T * 4);
    const coef = uploadBuffer(g, new Float32Array(T).fill(1));
    const rec = new Recorder(g, pool, { profile: true });
    for (let c0 = 0; c0 < V; c0 += chunk) { // the same chunk data stands in for every chunk
      await xentChunkForward(g, rec, {
        logits: buf,
        targets: tgt,
        stats,
        tokens: T,
        chunkStart: c0,
        chunkSize: chunk,
        first: c0 === 0,
      });
    }
    await xentFinalize(g, rec, { stats, logprobs: lp, lse, entropy: ent, tokens: T });
    await xentChunkBackward(g, rec, {
      logits: buf,
      targets: tgt,
      lse,
      coef,
      tokens: T,
      chunkStart: 0,
      chunkSize: chunk,
    });
    const prof = await rec.submit();
    const fwd = prof.get("xent_forward"), bwd = prof.get("xent_backward");
    if (fwd && bwd) {
      const gb = (T * chunk * 4) / 1e9;
      console.log(
        `xent forward ${(fwd.ms / fwd.count).toFixed(2)} ms/chunk (${
          (gb / (fwd.ms / fwd.count / 1e3)).toFixed(2)
        } GB/s read), backward ${bwd.ms.toFixed(2)} ms/chunk [${T} x ${chunk}]`,
      );
    }
    for (const b of [buf, tgt, stats, lp, lse, ent, coef]) b.destroy();
  },
});
