/**
 * The general matmul of the model: C = alpha·op(A)·op(B) (+ C), in any of the
 * four layouts, batched with strides, with B optionally stored as f16.
 *
 * - Forward y = x·Wᵀ with HF weights W [out, in] is NT (transB).
 * - Backward dX = dY·W is NN; dW = dYᵀ·X is TN (transA), accumulated across
 *   micro-batches with `accumulate`.
 * - The LM head runs over vocab chunks that are windows of a large embedding
 *   buffer: operands larger than one storage binding are split into pieces
 *   that each bind 256-byte-aligned windows (`kernels/matmul_split.ts`).
 *
 * The kernel configuration is chosen per adapter and shape bucket by timing
 * the candidates once (`core/gpu/autotune.ts`), with its own recorder and
 * submission, before anything is recorded into the caller's recorder; that is
 * why {@link matmul} is async.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { tuned } from "../core/gpu/autotune.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { bufferOf, offsetOf, sizeOf, type View } from "../core/tensor.ts";
import {
  type Layout,
  type MatmulConfig,
  matmulSource,
  parseConfig,
  vectorDims,
  workgroupTile,
} from "./matmul_wgsl.ts";
import { pieces, planSplit, spans, type SplitShape } from "./matmul_split.ts";
import { transpose } from "./transpose.ts";
import { windowOf } from "../core/tensor.ts";

export type { Layout, MatmulConfig } from "./matmul_wgsl.ts";

export interface MatmulArgs {
  a: View;
  b: View;
  c: View;
  /** C is [m, n]; the reduction runs over k. */
  m: number;
  n: number;
  k: number;
  /** A stored as [k, m] instead of [m, k]. */
  transA?: boolean;
  /** B stored as [n, k] instead of [k, n]. */
  transB?: boolean;
  /** Batched: C_i = A_i·B_i for i < batch. */
  batch?: number;
  /** Element strides between batch items (defaults: dense; 0 broadcasts one operand). */
  strideA?: number;
  strideB?: number;
  strideC?: number;
  /** C += alpha·A·B instead of C = alpha·A·B. */
  accumulate?: boolean;
  /** Default 1. */
  alpha?: number;
  /** B (weights) stored as f16 (read packed, widened to f32 for the math). */
  bDtype?: "f32" | "f16";
}

/** Options beyond the model-facing arguments: for tests and benchmarks. */
export interface MatmulOptions {
  /** Force a configuration (e.g. "rows:tm8:wg64") instead of the tuned one. */
  config?: string;
  /** Binding size limit to split against (default gpu.limits.maxStorageBufferBindingSize). */
  maxBindingBytes?: number;
}

/**
 * Configurations named `nt:<config>` first transpose A (when transA) and B (when not transB)
 * into per-device scratch, then run `<config>` in the NT layout, where both operands are read
 * along k with unit stride: on CPU adapters that layout is the fastest by far at large sizes
 * (see docs/performance.md), and a transpose is one pass over an operand against the k passes
 * of the product. Problems the scratch cannot take fall back to `<config>` in their own layout.
 */
export const VIA_NT = "nt:";

/** Candidates timed by the autotuner on CPU adapters (lavapipe, SwiftShader, WARP). */
export const SOFTWARE_CANDIDATES = [
  "rows:tm8:wg64",
  "rows:tm16:wg64",
  "dot:tm8:tn4:wg64",
  "dot:tm8:tn8:wg64",
  "tile:bm128:bn128:bk8:tm8:tn8",
  "nt:dot:tm8:tn8:wg64",
] as const;

/** Candidates timed by the autotuner on hardware GPUs. */
export const HARDWARE_CANDIDATES = [
  "tile:bm64:bn64:bk16:tm4:tn4",
  "tile:bm64:bn64:bk8:tm8:tn8",
  "tile:bm128:bn128:bk8:tm8:tn8",
  "tile:bm32:bn32:bk16:tm2:tn2",
  "rows:tm8:wg64",
] as const;

/**
 * Extra candidates for decode-shaped problems (m ≤ {@link SMALL_M}, B stored [n, k]: y = x·Wᵀ),
 * where row blocks of 8+ mostly compute clamped copies of one row. `gemv` streams each weight
 * row once across a workgroup and reduces in workgroup memory (what GPUs want); on lavapipe a
 * barrier is a coroutine switch, so one-row `dot` blocks (no reduction) are offered there too
 * and the autotuner keeps whichever measures faster (scripts/bench_gemv.ts compares).
 */
export const SOFTWARE_SMALL_M_CANDIDATES = [
  "dot:tm1:tn8:wg64",
  "dot:tm4:tn8:wg64",
  // m = 16 (decode at batch 16): each weight load feeds 16 rows; 7-10% faster than tm8 at the
  // 0.6B shapes (scripts/bench_gemv.ts --m 16, lavapipe, 2026-12-05).
  "dot:tm16:tn8:wg64",
  "gemv:tm1:tn16:wg8",
  "gemv:tm4:tn8:wg16",
] as const;

/** Small-m extras on hardware GPUs. */
export const HARDWARE_SMALL_M_CANDIDATES = [
  "gemv:tm1:tn4:wg64",
  "gemv:tm1:tn1:wg256",
  "gemv:tm4:tn4:wg64",
  "gemv:tm16:tn2:wg64",
] as const;

/** Buckets up to this many rows of C (per batch item) also time the small-m candidates. */
export const SMALL_M = 16;

/** Every configuration the launcher knows (the union of the candidate lists). */
export const ALL_CONFIGS: readonly string[] = [
  ...new Set<string>([
    ...SOFTWARE_CANDIDATES,
    ...HARDWARE_CANDIDATES,
    ...SOFTWARE_SMALL_M_CANDIDATES,
    ...HARDWARE_SMALL_M_CANDIDATES,
  ]),
];

/** The layout name of a pair of transpose flags. */
export function layoutOf(transA = false, transB = false): Layout {
  return `${transA ? "T" : "N"}${transB ? "T" : "N"}` as Layout;
}

/**
 * Candidate configurations for this adapter; given a shape, plus the small-m ones where it is
 * decode-shaped (m ≤ SMALL_M, NT), keeping those whose row block tm fits the bucket's m.
 */
export function matmulCandidates(
  gpu: Gpu,
  shape?: { m: number; transA?: boolean; transB?: boolean },
): readonly string[] {
  const soft = gpu.description.kind === "software";
  const base = soft ? SOFTWARE_CANDIDATES : HARDWARE_CANDIDATES;
  if (!shape || shape.m > SMALL_M || shape.transA || !shape.transB) return base;
  const extra = (soft ? SOFTWARE_SMALL_M_CANDIDATES : HARDWARE_SMALL_M_CANDIDATES)
    .filter((c) => parseConfig(c).tm <= pow2(shape.m));
  return [...base, ...extra];
}

/** The configuration used without measuring (GOLONGRL_AUTOTUNE=0, tiny problems), given m. */
export function heuristicConfig(gpu: Gpu, layout: Layout, m?: number): string {
  if (gpu.description.kind === "software") {
    // One row (decode at batch 1, mostly below the tuning size): 8-row blocks would load the
    // same row of A 8 times; measured 1.3-3x faster at m=1 (scripts/bench_gemv.ts).
    if (layout === "NT" && m === 1) return "dot:tm1:tn8:wg64";
    // Measured at 1024³ on lavapipe (2 cores): NT 13-21 GFLOP/s, NN 11-13 GFLOP/s.
    return layout === "NT" ? "dot:tm8:tn8:wg64" : "rows:tm16:wg64";
  }
  return "tile:bm64:bn64:bk16:tm4:tn4";
}

const pow2 = (x: number) => x <= 1 ? Math.max(x, 0) : 2 ** Math.ceil(Math.log2(x));

/** The shape bucket a problem is tuned for: powers of two of m, n and k. */
export function shapeBucket(m: number, n: number, k: number): string {
  return `m${pow2(m)}/n${pow2(n)}/k${pow2(k)}`;
}

interface Normalized {
  a: View;
  b: View;
  c: View;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
  accumulate: boolean;
  alpha: number;
  f16b: boolean;
}

function normalize(args: MatmulArgs): Normalized {
  const { m, n, k } = args;
  const batch = args.batch ?? 1;
  for (const [name, v] of Object.entries({ m, n, k, batch })) {
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(`matmul: ${name} must be a non-negative integer, got ${v}`);
    }
  }
  const strides = {
    strideA: args.strideA ?? m * k,
    strideB: args.strideB ?? k * n,
    strideC: args.strideC ?? m * n,
  };
  for (const [name, v] of Object.entries(strides)) {
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(`matmul: ${name} must be a non-negative integer, got ${v}`);
    }
  }
  const alpha = args.alpha ?? 1;
  if (!Number.isFinite(alpha)) throw new Error(`matmul: alpha must be finite, got ${alpha}`);
  return {
    a: args.a,
    b: args.b,
    c: args.c,
    m,
    n,
    k,
    transA: !!args.transA,
    transB: !!args.transB,
    batch,
    ...strides,
    accumulate: !!args.accumulate,
    alpha,
    f16b: args.bDtype === "f16",
  };
}

function splitShape(p: Normalized): SplitShape {
  return {
    m: p.m,
    n: p.n,
    k: p.k,
    batch: p.batch,
    transA: p.transA,
    transB: p.transB,
    lda: p.transA ? p.m : p.k,
    ldb: p.transB ? p.k : p.n,
    ldc: p.n,
    strideA: p.strideA,
    strideB: p.strideB,
    strideC: p.strideC,
    bytesA: 4,
    bytesB: p.f16b ? 2 : 4,
    bytesC: 4,
  };
}

/** Checks that each view holds its operand and that C aliases no input. */
function validate(p: Normalized, s: SplitShape): void {
  if (p.m === 0 || p.n === 0 || p.batch === 0) return;
  const full = spans(s, { bb: p.batch, bm: p.m, bn: p.n, bk: p.k });
  const shape = `m=${p.m} n=${p.n} k=${p.k} batch=${p.batch}` +
    `${p.transA ? " transA" : ""}${p.transB ? " transB" : ""}`;
  const check = (name: string, v: View, elems: number, bytes: number) => {
    const have = sizeOf(v);
    if (elems * bytes > have) {
      throw new Error(
        `matmul: ${name} is too small for ${shape}: it holds ${Math.floor(have / bytes)} ` +
          `elements (${have} bytes), the operand needs ${elems}`,
      );
    }
    if (offsetOf(v) % 256 !== 0) {
      throw new Error(`matmul: ${name} view offset ${offsetOf(v)} is not a multiple of 256`);
    }
  };
  if (p.k > 0) {
    check("a", p.a, full.a, s.bytesA);
    check("b", p.b, full.b, s.bytesB);
  }
  check("c", p.c, full.c, s.bytesC);
  if (bufferOf(p.c) === bufferOf(p.a) || bufferOf(p.c) === bufferOf(p.b)) {
    throw new Error("matmul: c must not share a buffer with a or b (WebGPU usage rules)");
  }
}

interface Window {
  binding: { buffer: GPUBuffer; offset: number; size: number };
  /** Element offset of the piece's first element inside the window. */
  elem: number;
}

/** A 256-byte-aligned window of `v` covering `span` elements from element `start`. */
function windowFor(v: View, start: number, span: number, bytes: number): Window {
  const buffer = bufferOf(v);
  const byteStart = offsetOf(v) + start * bytes;
  const w0 = Math.floor(byteStart / 256) * 256;
  const end = byteStart + Math.max(span, 1) * bytes;
  const size = Math.min(Math.ceil((end - w0) / 16) * 16, buffer.size - w0);
  return { binding: { buffer, offset: w0, size }, elem: (byteStart - w0) / bytes };
}

const uniformView = (p: Normalized, s: SplitShape, f: {
  m: number;
  n: number;
  k: number;
  acc: boolean;
  offA: number;
  offB: number;
  offC: number;
}) => {
  const u = new Uint32Array(16);
  u.set([f.m, f.n, f.k, f.acc ? 1 : 0, s.lda, s.ldb, s.ldc, 0]);
  new Float32Array(u.buffer, 28, 1)[0] = p.alpha;
  u.set([f.offA, f.offB, f.offC, 0, p.strideA, p.strideB, p.strideC, 0], 8);
  return u;
};

async function record(
  gpu: Gpu,
  rec: Recorder,
  p: Normalized,
  cfgName: string,
  maxBindingBytes: number,
  // Named by layout and shape, so a timestamp profile tells the products apart.
  label = `matmul ${layoutOf(p.transA, p.transB)} ${p.m}x${p.n}x${p.k}`,
): Promise<void> {
  const s = splitShape(p);
  validate(p, s);
  if (p.m === 0 || p.n === 0 || p.batch === 0) return;
  const cfg: MatmulConfig = parseConfig(cfgName);
  const layout = layoutOf(p.transA, p.transB);
  const tile = workgroupTile(cfg);
  const vec = vectorDims(cfg, layout);
  const blocks = planSplit(s, maxBindingBytes, gpu.limits.maxComputeWorkgroupsPerDimension, tile);
  for (const pc of pieces(s, blocks, p.accumulate)) {
    const sp = spans(s, { bb: pc.bc, bm: pc.mc, bn: pc.nc, bk: pc.kc });
    const wa = windowFor(
      p.a,
      pc.b0 * p.strideA + (p.transA ? pc.k0 * s.lda + pc.m0 : pc.m0 * s.lda + pc.k0),
      sp.a,
      s.bytesA,
    );
    const wb = windowFor(
      p.b,
      pc.b0 * p.strideB + (p.transB ? pc.n0 * s.ldb + pc.k0 : pc.k0 * s.ldb + pc.n0),
      sp.b,
      s.bytesB,
    );
    const wc = windowFor(p.c, pc.b0 * p.strideC + pc.m0 * s.ldc + pc.n0, sp.c, s.bytesC);
    const four = (x: number) => x % 4 === 0;
    const aOk = four(wa.elem) && four(s.lda) && (pc.bc === 1 || four(p.strideA));
    let bOk = four(wb.elem) && four(s.ldb) && (pc.bc === 1 || four(p.strideB));
    if (cfg.kind === "rows") bOk &&= four(pc.nc);
    const aligned = (!vec.a || aOk) && (!vec.b || bOk) && (vec.a || vec.b);
    const code = matmulSource({ cfg, layout, f16b: p.f16b, aligned });
    const pipe = await pipeline(gpu, `matmul_${layout}_${cfgName}`, code);
    const u = uniformView(p, s, {
      m: pc.mc,
      n: pc.nc,
      k: pc.kc,
      acc: pc.accumulate,
      offA: wa.elem,
      offB: wb.elem,
      offC: wc.elem,
    });
    rec.dispatch(
      pipe,
      [wa.binding, wb.binding, wc.binding, { uniform: u }],
      tile.rowsAlongX
        ? [Math.ceil(pc.mc / tile.rows), Math.ceil(pc.nc / tile.cols), pc.bc]
        : [Math.ceil(pc.nc / tile.cols), Math.ceil(pc.mc / tile.rows), pc.bc],
      label,
    );
  }
}

/** Largest operand (bytes) the `nt:` configurations transpose into scratch. */
const VIA_NT_MAX_BYTES = 64 * 2 ** 20;

const ntScratch = new WeakMap<GPUDevice, { a?: GPUBuffer; b?: GPUBuffer }>();

/**
 * A per-device scratch buffer of at least `bytes`, grown when needed. Sharing one per device is
 * safe: each matmul records its transposes right before its product, and dispatches of one
 * submission run in order. A replaced, smaller one may still be referenced by an unsubmitted
 * recording, so it is left to be collected rather than destroyed.
 */
function scratchFor(gpu: Gpu, which: "a" | "b", bytes: number): GPUBuffer {
  const slots = ntScratch.get(gpu.device) ?? {};
  ntScratch.set(gpu.device, slots);
  let buf = slots[which];
  if (!buf || buf.size < bytes) {
    buf = gpu.device.createBuffer({
      label: `matmul_nt_${which}`,
      size: Math.ceil(bytes / 256) * 256,
      usage: GPUBufferUsage.STORAGE,
    });
    slots[which] = buf;
  }
  return buf;
}

/** Records an `nt:` configuration: transposes into scratch, then the NT product. */
async function recordViaNt(
  gpu: Gpu,
  rec: Recorder,
  p: Normalized,
  inner: string,
  maxBindingBytes: number,
  label?: string,
): Promise<void> {
  const aBytes = p.m * p.k * 4, bBytes = p.k * p.n * 4;
  const cap = Math.min(VIA_NT_MAX_BYTES, maxBindingBytes);
  const eligible = (p.transA || !p.transB) && p.batch === 1 && !p.f16b && p.k > 0 &&
    p.m > 0 && p.n > 0 && (!p.transA || aBytes <= cap) && (p.transB || bBytes <= cap);
  if (!eligible) return record(gpu, rec, p, inner, maxBindingBytes, label);
  validate(p, splitShape(p));
  let { a, b } = p;
  if (p.transA) {
    // A is stored [k, m]: its transpose [m, k] is the row-major A of the NT product.
    const dst = scratchFor(gpu, "a", aBytes);
    await transpose(gpu, rec, { src: windowOf(p.a, 0, aBytes), dst, rows: p.k, cols: p.m });
    a = dst;
  }
  if (!p.transB) {
    const dst = scratchFor(gpu, "b", bBytes);
    await transpose(gpu, rec, { src: windowOf(p.b, 0, bBytes), dst, rows: p.k, cols: p.n });
    b = dst;
  }
  const nt = { ...p, a, b, transA: false, transB: true, strideA: p.m * p.k, strideB: p.n * p.k };
  await record(gpu, rec, nt, inner, maxBindingBytes, label);
}

/** Records with a given configuration (no tuning): for tests, benchmarks and the tuner. */
export async function matmulWith(
  gpu: Gpu,
  rec: Recorder,
  args: MatmulArgs,
  config: string,
  opts: { maxBindingBytes?: number; label?: string } = {},
): Promise<void> {
  const max = opts.maxBindingBytes ?? gpu.limits.maxStorageBufferBindingSize;
  if (config.startsWith(VIA_NT)) {
    const inner = config.slice(VIA_NT.length);
    parseConfig(inner); // bad names fail here, whatever the layout
    await recordViaNt(gpu, rec, normalize(args), inner, max, opts.label);
    return;
  }
  await record(gpu, rec, normalize(args), config, max, opts.label);
}

/** Problems below this many multiply-adds use the heuristic: measuring costs more than it saves. */
const TUNE_MIN_MACS = 1 << 18;

/**
 * The shape a bucket is timed at: the bucket, scaled down to bound the tuning
 * time. M shrinks first (down to 64): rows of C are independent, and keeping n
 * and k keeps the leading dimensions, whose cache behaviour is what differs
 * between candidates at large sizes.
 */
function tuneShape(gpu: Gpu, m: number, n: number, k: number): [number, number, number] {
  const dims = [pow2(m), pow2(n), pow2(k)];
  const cap = gpu.description.kind === "software" ? 2 ** 27 : 2 ** 31;
  while (dims[0] * dims[1] * dims[2] > cap) {
    if (dims[0] > 64) dims[0] /= 2;
    else dims[dims[1] >= dims[2] ? 1 : 2] /= 2;
  }
  return dims as [number, number, number];
}

/**
 * Bytes of B copies a cold-B measurement cycles through: more than a CPU's last-level cache or
 * a GPU's L2, so each timed product reads its B from memory.
 */
const COLD_B_BYTES = 128 * 2 ** 20;

/**
 * Times each candidate on a problem of the bucket's shape, in its own buffers,
 * recorder and submission: GPU timestamps when the adapter has them, else wall
 * time around submit + onSubmittedWorkDone.
 *
 * With `coldB` (decode-shaped products, where B, the weights, is nearly all the bytes), the
 * products cycle through copies of B that together exceed any cache, so each reads its B
 * from memory as a decode step does. Timed on one hot B, a 4 MiB weight matrix sits in the
 * last-level cache, and lavapipe picked a kernel that ran 3x slower than another when the
 * weights came from memory (m1/n1024/k1024, docs/performance.md).
 */
async function measureCandidates(
  gpu: Gpu,
  layout: Layout,
  f16b: boolean,
  shape: [number, number, number],
  candidates: readonly string[],
  opts: { reps?: number; coldB?: boolean } = {},
): Promise<number[]> {
  const [m, n, k] = shape;
  const reps = opts.reps ?? 3;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const mk = (bytes: number) =>
    gpu.device.createBuffer({ size: Math.max(256, Math.ceil(bytes / 16) * 16), usage });
  const bBytes = k * n * (f16b ? 2 : 4);
  // One B at least as large as the cache already evicts itself.
  const copies = opts.coldB && bBytes < COLD_B_BYTES
    ? Math.max(2, Math.ceil(COLD_B_BYTES / bBytes))
    : 1;
  const a = mk(m * k * 4), c = mk(m * n * 4);
  const bs = Array.from({ length: copies }, () => mk(bBytes));
  const pool = new BufferPool(gpu);
  const base: MatmulArgs = {
    a,
    b: bs[0],
    c,
    m,
    n,
    k,
    transA: layout[0] === "T",
    transB: layout[1] === "T",
    bDtype: f16b ? "f16" : "f32",
  };
  // Successive products take successive copies of B.
  let turn = 0;
  const next = (): MatmulArgs => ({ ...base, b: bs[turn++ % copies] });
  const times = candidates.map(() => Infinity);
  try {
    // Compile outside the timing; a candidate that fails to compile is skipped.
    const ok = await Promise.all(candidates.map(async (cfg) => {
      try {
        const r = new Recorder(gpu, pool);
        await matmulWith(gpu, r, base, cfg);
        await r.submit();
        return true;
      } catch {
        return false;
      }
    }));
    if (gpu.hasTimestamps) {
      const rec = new Recorder(gpu, pool, { profile: true, label: "matmul-autotune" });
      for (const [i, cfg] of candidates.entries()) {
        if (!ok[i]) continue;
        for (let r = 0; r < reps; r++) {
          await matmulWith(gpu, rec, next(), cfg, { label: `t${i}.${r}` });
        }
      }
      const prof = await rec.submit();
      for (const [label, e] of prof) {
        const i = Number(label.slice(1, label.indexOf(".")));
        times[i] = Math.min(times[i], e.ms);
      }
    } else {
      // A submit-and-wait costs about 10 ms in Deno: small products (decode shapes) are
      // repeated within one submission so that the product, not that, is what is compared.
      const inner = Math.min(32, Math.max(1, Math.ceil(2 ** 25 / Math.max(1, m * n * k))));
      for (const [i, cfg] of candidates.entries()) {
        if (!ok[i]) continue;
        for (let r = 0; r < reps; r++) {
          const rec = new Recorder(gpu, pool);
          for (let j = 0; j < inner; j++) await matmulWith(gpu, rec, next(), cfg);
          const t0 = performance.now();
          await rec.submit();
          await gpu.device.queue.onSubmittedWorkDone();
          times[i] = Math.min(times[i], (performance.now() - t0) / inner);
        }
      }
    }
  } finally {
    await gpu.device.queue.onSubmittedWorkDone();
    a.destroy();
    for (const b of bs) b.destroy();
    c.destroy();
    pool.trim();
  }
  return times;
}

/** The configuration {@link matmul} uses for these arguments (tuning the bucket on first use). */
export function chooseConfig(gpu: Gpu, args: MatmulArgs): Promise<string> {
  const p = normalize(args);
  const layout = layoutOf(p.transA, p.transB);
  const fallback = heuristicConfig(gpu, layout, p.m);
  if (p.m * p.n * p.k < TUNE_MIN_MACS) return Promise.resolve(fallback);
  const shape = tuneShape(gpu, p.m, p.n, p.k);
  const candidates = matmulCandidates(gpu, p);
  // Decode-shaped: the weights are read once per product, from memory; time them that way.
  const coldB = p.m <= SMALL_M;
  return tuned(gpu, {
    op: `matmul/${layout}/${p.f16b ? "f16" : "f32"}`,
    bucket: shapeBucket(p.m, p.n, p.k),
    candidates,
    fallback,
    measure: (c) => measureCandidates(gpu, layout, p.f16b, shape, c, { coldB }),
    method: coldB ? "cold-b" : undefined,
  });
}

/** Records C = alpha·op(A)·op(B) (+ C when accumulate) into rec, choosing the tuned variant. */
export async function matmul(
  gpu: Gpu,
  rec: Recorder,
  args: MatmulArgs,
  opts: MatmulOptions = {},
): Promise<void> {
  const config = opts.config ?? await chooseConfig(gpu, args);
  await matmulWith(gpu, rec, args, config, { maxBindingBytes: opts.maxBindingBytes });
}

/** CPU reference for all of the above (f64 accumulation). */
export function matmulRefGeneral(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array | undefined,
  args: Omit<MatmulArgs, "a" | "b" | "c" | "bDtype">,
): Float32Array {
  const { m, n, k } = args;
  const batch = args.batch ?? 1;
  const sA = args.strideA ?? m * k, sB = args.strideB ?? k * n, sC = args.strideC ?? m * n;
  const alpha = args.alpha ?? 1;
  const need = batch > 0 && m > 0 && n > 0 ? (batch - 1) * sC + m * n : 0;
  const out = c ? Float32Array.from(c) : new Float32Array(need);
  if (out.length < need) throw new Error(`matmulRefGeneral: c holds ${out.length}, needs ${need}`);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[bi * sA + (args.transA ? p * m + i : i * k + p)];
          const bv = b[bi * sB + (args.transB ? j * k + p : p * n + j)];
          s += av * bv;
        }
        const e = bi * sC + i * n + j;
        out[e] = alpha * s + (args.accumulate ? out[e] : 0);
      }
    }
  }
  return out;
}
