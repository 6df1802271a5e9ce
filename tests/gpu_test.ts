/** The WebGPU runtime on the real adapter, checked against CPU computations. */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool, sizeClass } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { memoSource, pipeline } from "../core/gpu/pipelines.ts";
import { axpy, AXPY_WGSL, axpyRef } from "../kernels/axpy.ts";
import { matmulNaive, matmulRef } from "../kernels/matmul_naive.ts";
import { roundF16, roundF16Ref } from "../kernels/cast_f16.ts";
import { readSum, readSumLanes, readSumRef } from "../kernels/read_sum.ts";
import { mulberry32 } from "../core/rng.ts";

let shared: Gpu | undefined;
async function gpu(): Promise<Gpu> {
  return shared ??= await acquireGpu();
}
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(42);
const randArr = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

function maxDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test({
  name: "an adapter is acquired with max limits and wanted features",
  ...opts,
  fn: async () => {
    const g = await gpu();
    assert(g.description.description.length > 0);
    assertEquals(
      g.limits.maxStorageBufferBindingSize,
      g.adapter.limits.maxStorageBufferBindingSize,
    );
    assertEquals(
      g.limits.maxComputeInvocationsPerWorkgroup,
      g.adapter.limits.maxComputeInvocationsPerWorkgroup,
    );
    for (const f of ["shader-f16", "timestamp-query"] as GPUFeatureName[]) {
      assertEquals(g.features.has(f), g.adapter.features.has(f), f);
    }
  },
});

Deno.test({
  name: "naive matmul matches the CPU on odd shapes",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const pool = new BufferPool(g);
    for (const [m, n, k] of [[1, 1, 1], [3, 5, 7], [17, 9, 33], [64, 64, 64], [100, 1, 37]]) {
      const A = randArr(m * k), B = randArr(k * n);
      const a = uploadBuffer(g, A), b = uploadBuffer(g, B), c = storageBuffer(g, m * n * 4);
      const rec = new Recorder(g, pool);
      await matmulNaive(g, rec, { a, b, c, m, n, k });
      const out = rec.read(c, m * n * 4);
      await rec.submit();
      const d = maxDiff(new Float32Array(await out), matmulRef(A, B, m, n, k));
      assert(d < 1e-5 * Math.sqrt(k), `${m}x${n}x${k}: ${d}`);
    }
  },
});

Deno.test({
  name: "axpy is bit-exact with f32 CPU arithmetic, beyond 65535 workgroups",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const pool = new BufferPool(g);
    const n = 256 * 65535 + 1000; // needs the 2-D grid
    const X = randArr(n), Y = randArr(n);
    const x = uploadBuffer(g, X), y = uploadBuffer(g, Y);
    const rec = new Recorder(g, pool);
    await axpy(g, rec, 0.75, x, y, n);
    const out = rec.read(y, n * 4);
    await rec.submit();
    assertEquals(maxDiff(new Float32Array(await out), axpyRef(0.75, X, Y)), 0);
    x.destroy();
    y.destroy();
  },
});

Deno.test({
  name: "many dispatches and reads go in one submit and one readback",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const pool = new BufferPool(g);
    const n = 1001;
    const X = randArr(n);
    let ref: Float32Array = randArr(n);
    const x = uploadBuffer(g, X), y = uploadBuffer(g, ref);
    const before = { ...g.counters };
    const rec = new Recorder(g, pool);
    const snapshots: Promise<ArrayBuffer>[] = [];
    const refs: Float32Array[] = [];
    for (let i = 0; i < 20; i++) {
      await axpy(g, rec, i / 10, x, y, n);
      ref = axpyRef(i / 10, X, ref);
      if (i % 5 === 4) {
        snapshots.push(rec.read(y, n * 4)); // reads see the state at their point in the stream
        refs.push(ref);
      }
    }
    await rec.submit();
    assertEquals(g.counters.submits - before.submits, 1);
    assertEquals(g.counters.readbacks - before.readbacks, 1);
    assertEquals(g.counters.dispatches - before.dispatches, 20);
    for (const [i, s] of snapshots.entries()) {
      assertEquals(maxDiff(new Float32Array(await s), refs[i]), 0, `snapshot ${i}`);
    }
    assertThrows(() => rec.read(y), /already submitted/);
  },
});

Deno.test({
  name: "shader-f16 round trip matches IEEE binary16 rounding",
  ...opts,
  ignore: false,
  fn: async () => {
    const g = await gpu();
    if (!g.hasF16) return; // the adapter has no f16; nothing to check
    const pool = new BufferPool(g);
    const X = Float32Array.from({ length: 3001 }, () => (rand() * 2 - 1) * 60000);
    X.set([0, -0, 1, 65504, 0.1, 1 / 3, 2049, 2051]);
    const x = uploadBuffer(g, X), y = storageBuffer(g, X.length * 4);
    const rec = new Recorder(g, pool);
    await roundF16(g, rec, x, y, X.length);
    const out = rec.read(y, X.length * 4);
    await rec.submit();
    const got = new Float32Array(await out), want = roundF16Ref(X);
    assertEquals(maxDiff(got, want), 0);
    assertEquals(got[6], 2048); // ties to even
    assertEquals(got[7], 2052);
  },
});

Deno.test({
  name: "read_sum (the bench's read ceiling) sums each chunk like its CPU reference",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const pool = new BufferPool(g);
    // 256 lanes would not split 5 * 1024 elements evenly: they shrink to 64, which do.
    assertEquals(readSumLanes(5 * 1024, 256), 64);
    assertEquals(readSumLanes(1 << 20), 2048);
    assertThrows(() => readSumLanes(1000), /not a multiple of 1024/);
    const n = 1 << 16, lanes = readSumLanes(n, 256);
    const X = randArr(n);
    X[n - 1] = 1000; // the last element of the last chunk: a kernel that stopped short misses it
    const x = uploadBuffer(g, X), out = storageBuffer(g, lanes * 16);
    const rec = new Recorder(g, pool);
    await readSum(g, rec, x, out, n, lanes);
    const got = rec.read(out, lanes * 16);
    await rec.submit();
    const sums = new Float32Array(await got), want = readSumRef(X, lanes);
    // The same f32 additions in the same order.
    assert(maxDiff(sums, want) <= 1e-4);
    assert(sums[lanes * 4 - 1] > 900);
  },
});

Deno.test({
  name: "a memoized WGSL generator builds each argument list's source once",
  fn: () => {
    const calls: string[] = [];
    const gen = memoSource((d: number, s: { wg: number; rows: number }) => {
      calls.push(`${d}/${s.wg}/${s.rows}`);
      return `const D: u32 = ${d}u; // ${s.wg} x ${s.rows}`;
    });
    const a = gen(4, { wg: 8, rows: 2 });
    assertEquals(gen(4, { wg: 8, rows: 2 }), a);
    assertEquals(calls, ["4/8/2"]);
    // Any argument that differs builds anew, and gives that argument's text.
    assertEquals(gen(4, { wg: 8, rows: 4 }), "const D: u32 = 4u; // 8 x 4");
    assertEquals(gen(8, { wg: 8, rows: 2 }), "const D: u32 = 8u; // 8 x 2");
    assertEquals(calls, ["4/8/2", "4/8/4", "8/8/2"]);
  },
});

Deno.test({
  name: "timestamp profiling returns per-label GPU times",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const pool = new BufferPool(g);
    const x = uploadBuffer(g, randArr(4096)), y = uploadBuffer(g, randArr(4096));
    const rec = new Recorder(g, pool, { profile: true });
    assertEquals(rec.profiling, g.hasTimestamps);
    for (let i = 0; i < 3; i++) await axpy(g, rec, 1, x, y, 4096);
    const prof = await rec.submit();
    if (g.hasTimestamps) {
      const e = prof.get("axpy");
      assert(e !== undefined);
      assertEquals(e.count, 3);
      assert(Number.isFinite(e.ms) && e.ms >= 0);
    } else assertEquals(prof.size, 0);
  },
});

Deno.test({
  name: "the pool reuses released buffers by size class",
  ...opts,
  fn: async () => {
    assertEquals(sizeClass(1), 256);
    assertEquals(sizeClass(256), 256);
    assertEquals(sizeClass(257), 384);
    assertEquals(sizeClass(385), 512);
    assertEquals(sizeClass(1 << 20), 1 << 20);
    const g = await gpu();
    const pool = new BufferPool(g);
    const usage = GPUBufferUsage.STORAGE;
    const a = pool.acquire(1000, usage);
    assertEquals(a.size, 1024);
    pool.release(a);
    const b = pool.acquire(900, usage);
    assert(a === b, "same class is reused");
    const c = pool.acquire(900, usage | GPUBufferUsage.COPY_SRC);
    assert(c !== b, "usage is part of the key");
    assertEquals(pool.stats.created, 2);
    assertEquals(pool.stats.reused, 1);
    assertEquals(pool.stats.inUse, 2);
    pool.release(b);
    pool.release(c);
    pool.trim();
    assertEquals(pool.stats.allocatedBytes, 0);
    assertThrows(
      () => pool.release(g.device.createBuffer({ size: 16, usage })),
      /not made by this pool/,
    );
  },
});

Deno.test({
  name: "a WGSL error names the kernel and line",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const bad = "@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_thing;\n}";
    await assertRejects(
      () => pipeline(g, "broken", bad),
      /kernel "broken" failed to compile: .*line 3/,
    );
    g.check(); // the scope caught it: no stray error left behind
  },
});

Deno.test({
  name: "oversized dispatches are refused before reaching the GPU",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const rec = new Recorder(g, new BufferPool(g));
    const pipe = await pipeline(g, "noop", "@compute @workgroup_size(1) fn main() {}");
    assertThrows(
      () => rec.dispatch(pipe, [], [g.limits.maxComputeWorkgroupsPerDimension + 1]),
      /exceeds the limit/,
    );
  },
});

Deno.test({
  name: "a lost device becomes a clear error",
  ...opts,
  fn: async () => {
    const g2 = await acquireGpu();
    g2.device.destroy();
    await g2.device.lost;
    assertThrows(() => g2.check(), /destroyed/);
    assertThrows(() => new Recorder(g2, new BufferPool(g2)), /destroyed/);
    // A loss for another reason explains what to do.
    g2.lostInfo = { reason: "unknown", message: "driver reset" } as unknown as GPUDeviceLostInfo;
    assertThrows(
      () => g2.check(),
      /GPU device was lost \(unknown\): driver reset.*lower the batch/,
    );
  },
});

Deno.test({
  name: "validation errors outside a scope surface at the next check",
  ...opts,
  fn: async () => {
    const g = await gpu();
    // A copy with a misaligned size is a validation error (no scope around it).
    const a = g.device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC });
    const b = g.device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
    const enc = g.device.createCommandEncoder();
    enc.copyBufferToBuffer(a, 0, b, 0, 3);
    g.device.queue.submit([enc.finish()]);
    await g.device.queue.onSubmittedWorkDone();
    await new Promise((r) => setTimeout(r, 50));
    const e = assertThrows(() => g.check(), /GPU reported an error/);
    assertMatch(e.message, /.+/);
    g.check(); // errors are cleared once reported
  },
});

Deno.test({
  name: "transpose matches the CPU on odd shapes",
  ...opts,
  fn: async () => {
    const { transpose, transposeRef } = await import("../kernels/transpose.ts");
    const g = await gpu();
    const pool = new BufferPool(g);
    for (const [rows, cols] of [[1, 1], [3, 17], [16, 16], [33, 5], [100, 257]]) {
      const X = randArr(rows * cols);
      const x = uploadBuffer(g, X), y = storageBuffer(g, rows * cols * 4);
      const rec = new Recorder(g, pool);
      await transpose(g, rec, { src: x, dst: y, rows, cols });
      const out = rec.read(y, rows * cols * 4);
      await rec.submit();
      assertEquals(
        maxDiff(new Float32Array(await out), transposeRef(X, rows, cols)),
        0,
        `${rows}x${cols}`,
      );
    }
  },
});

Deno.test({
  name: "a storage binding over the device's limit is refused when recorded, naming the kernel",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const pool = new BufferPool(g);
    const limit = g.device.limits.maxStorageBufferBindingSize;
    const big = g.device.createBuffer({
      label: "big",
      size: limit + 256,
      usage: GPUBufferUsage.STORAGE,
    });
    const y = storageBuffer(g, 16);
    const rec = new Recorder(g, pool);
    // Whole, and as a window too long by one word: both refused before the submission.
    await assertRejects(
      () => axpy(g, rec, 1, big, y, 4),
      new RegExp(`dispatch "axpy": binding 0 \\(big\\) is ${limit + 256} bytes, over the`),
    );
    const pipe = await pipeline(g, "axpy-window", AXPY_WGSL);
    assertThrows(
      () => rec.dispatch(pipe, [{ buffer: big, offset: 0, size: limit + 4 }, y], 1, "win"),
      /dispatch "win": binding 0 \(big\) is \d+ bytes/,
    );
    // A window at the limit is fine.
    rec.dispatch(
      pipe,
      [{ buffer: big, offset: 256, size: limit }, y, {
        uniform: new Uint8Array(16),
      }],
      1,
      "win",
    );
    await rec.submit();
    g.check();
    big.destroy();
  },
});
