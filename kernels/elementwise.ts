/**
 * Element-wise f32 kernels (add, axpy-style accumulate, scale, fill, copy, f32→f16 cast) and the
 * launch helpers the other layer kernels share: folding a long grid into x and y, splitting an
 * operand into binding windows (at most 128 MiB each, 256-byte aligned offsets), deciding a
 * binding's access mode when two operands are windows of one buffer, packing uniforms, and
 * per-device scratch buffers for two-stage reductions.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Binding, Recorder } from "../core/gpu/recorder.ts";
import { bufferOf, offsetOf, sizeOf, type View } from "../core/tensor.ts";

// ---------------------------------------------------------------------------------------------
// Shared launch helpers

/** The binding size the kernels assume at most, even where the adapter allows more. */
export const MAX_BINDING_BYTES = 128 * 1024 * 1024;

/** Storage-offset alignment of every window start (WebGPU's minimum guarantee). */
export const ALIGN = 256;

/** Largest storage binding a launcher may use on `gpu`: the limit, capped at 128 MiB, 256-aligned. */
export function bindingLimit(gpu: Gpu): number {
  const lim = Math.min(gpu.limits.maxStorageBufferBindingSize, MAX_BINDING_BYTES);
  return Math.floor(lim / ALIGN) * ALIGN;
}

/** A grid of `groups` workgroups folded into x and y (each at most the per-dimension limit). */
export function foldGrid(gpu: Gpu, groups: number): [number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / max);
  if (y > max) throw new Error(`grid of ${groups} workgroups exceeds ${max}x${max}`);
  return [max, y];
}

/** WGSL: the flat workgroup index of a folded grid (needs `wid` and `nwg` builtins). */
export const WG_INDEX = "(wid.x + wid.y * nwg.x)";

/** WGSL builtin parameters every kernel here declares. */
export const BUILTINS = "@builtin(local_invocation_id) lid: vec3u, " +
  "@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u";

/**
 * Items per window: the most items of `bytesPerItem` that fit one binding, rounded down to a
 * multiple of `itemAlign` (chosen by the caller so window starts land on 256-byte offsets).
 */
export function itemsPerWindow(gpu: Gpu, bytesPerItem: number, itemAlign: number): number {
  const per = Math.floor(bindingLimit(gpu) / bytesPerItem / itemAlign) * itemAlign;
  if (per < itemAlign) {
    throw new Error(
      `an item of ${bytesPerItem} bytes (x${itemAlign} for alignment) exceeds the ` +
        `${bindingLimit(gpu)}-byte binding limit`,
    );
  }
  return per;
}

/** Splits `n` items into consecutive spans of at most `per`. */
export function spans(n: number, per: number): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (let start = 0; start < n; start += per) out.push({ start, count: Math.min(per, n - start) });
  return out;
}

/**
 * A binding over `bytes` of `v` from byte `offset` (the size rounded up to 4 and clamped to the
 * view, so a packed f16 tail still binds).
 */
export function bindWindow(v: View, offset: number, bytes: number): Binding {
  const avail = sizeOf(v) - offset;
  const size = Math.min(Math.max(4, Math.ceil(bytes / 4) * 4), avail);
  return { buffer: bufferOf(v), offset: offsetOf(v) + offset, size };
}

/** Throws a clear error when `v` holds fewer than `bytes` bytes. */
export function needBytes(v: View, bytes: number, what: string): void {
  if (offsetOf(v) % ALIGN !== 0) {
    throw new Error(`${what}: view offset ${offsetOf(v)} is not a multiple of ${ALIGN}`);
  }
  if (sizeOf(v) < bytes) {
    throw new Error(`${what}: view holds ${sizeOf(v)} bytes, needs ${bytes}`);
  }
}

/**
 * The access mode for an input binding: WebGPU forbids one buffer bound both read-only and
 * writable in a dispatch, so an input sharing a buffer with an output is declared read_write.
 */
export function access(input: View, outputs: View[]): "read" | "read_write" {
  const b = bufferOf(input);
  return outputs.some((o) => bufferOf(o) === b) ? "read_write" : "read";
}

/** An f32 field for {@link uniform}. */
export function f32(x: number): { f: number } {
  return { f: x };
}

/** Packs u32 numbers and {@link f32} fields into a uniform (padded to 16 bytes). */
export function uniform(
  ...fields: (number | { f: number })[]
): { uniform: Uint8Array<ArrayBuffer> } {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const u = new Uint32Array(buf), f = new Float32Array(buf);
  fields.forEach((v, i) => {
    if (typeof v === "number") u[i] = v >>> 0;
    else f[i] = v.f;
  });
  return { uniform: new Uint8Array(buf) };
}

const scratchCache = new WeakMap<GPUDevice, Map<string, GPUBuffer>>();

/**
 * A per-device scratch storage buffer of at least `bytes`, shared by every call with `key`.
 * Safe to reuse within and across recordings because each user writes it and reads it back in
 * consecutive dispatches of one command stream. A grown buffer replaces the old one without
 * destroying it (a recording not yet submitted may still reference it).
 */
export function scratch(gpu: Gpu, key: string, bytes: number): GPUBuffer {
  let m = scratchCache.get(gpu.device);
  if (!m) scratchCache.set(gpu.device, m = new Map());
  const have = m.get(key);
  if (have && have.size >= bytes) return have;
  const size = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
  const b = gpu.device.createBuffer({
    label: `scratch:${key}`,
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  m.set(key, b);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Element-wise kernels

const WG = 256;

/**
 * A 1-D element-wise kernel: `ins` are read, `outs` written, `body` assigns using index `i`.
 * Uniform fields: n (u32), alpha (f32).
 */
function ewSource(
  ins: { name: string; mode: "read" | "read_write" }[],
  outs: string[],
  body: string,
  type = "f32",
): string {
  const decls = [
    ...ins.map((b) => ({ name: b.name, mode: b.mode, type: "f32" })),
    ...outs.map((name) => ({ name, mode: "read_write" as const, type })),
  ].map((b, k) => `@group(0) @binding(${k}) var<storage, ${b.mode}> ${b.name}: array<${b.type}>;`)
    .join("\n");
  const k = ins.length + outs.length;
  return /* wgsl */ `
struct P { n: u32, alpha: f32, _a: u32, _b: u32 }
${decls}
@group(0) @binding(${k}) var<uniform> p: P;

@compute @workgroup_size(${WG})
fn main(${BUILTINS}) {
  let i = ${WG_INDEX} * ${WG}u + lid.x;
  if (i >= p.n) { return; }
  ${body}
}`;
}

/**
 * Runs an element-wise kernel over `n` f32 elements window by window. Every view is walked in
 * step; windows hold a multiple of 64 elements so their starts are 256-byte aligned.
 */
async function ewLaunch(
  gpu: Gpu,
  rec: Recorder,
  label: string,
  code: string,
  views: View[],
  n: number,
  alpha = 0,
): Promise<void> {
  for (const v of views) needBytes(v, n * 4, label);
  if (n === 0) return;
  const pipe = await pipeline(gpu, label, code);
  const per = itemsPerWindow(gpu, 4, 64);
  for (const w of spans(n, per)) {
    const binds = views.map((v) => bindWindow(v, w.start * 4, w.count * 4));
    rec.dispatch(
      pipe,
      [...binds, uniform(w.count, f32(alpha))],
      foldGrid(gpu, Math.ceil(w.count / WG)),
      label,
    );
  }
}

/** Records out = a + b over `n` f32 elements. */
export async function add(
  gpu: Gpu,
  rec: Recorder,
  a: { a: View; b: View; out: View; n: number },
): Promise<void> {
  const code = ewSource(
    [{ name: "a", mode: access(a.a, [a.out]) }, { name: "b", mode: access(a.b, [a.out]) }],
    ["o"],
    "o[i] = a[i] + b[i];",
  );
  await ewLaunch(gpu, rec, "add", code, [a.a, a.b, a.out], a.n);
}

/** Records x += alpha·y (alpha defaults to 1) over `n` f32 elements. */
export async function addInPlace(
  gpu: Gpu,
  rec: Recorder,
  a: { x: View; y: View; n: number; alpha?: number },
): Promise<void> {
  const code = ewSource(
    [{ name: "y", mode: access(a.y, [a.x]) }],
    ["x"],
    "x[i] = x[i] + p.alpha * y[i];",
  );
  await ewLaunch(gpu, rec, "add_in_place", code, [a.y, a.x], a.n, a.alpha ?? 1);
}

/** Records x ← alpha·x over `n` f32 elements. */
export async function scale(
  gpu: Gpu,
  rec: Recorder,
  a: { x: View; alpha: number; n: number },
): Promise<void> {
  const code = ewSource([], ["x"], "x[i] = p.alpha * x[i];");
  await ewLaunch(gpu, rec, "scale", code, [a.x], a.n, a.alpha);
}

/** Records x ← value over `n` f32 elements. */
export async function fill(
  gpu: Gpu,
  rec: Recorder,
  a: { x: View; value: number; n: number },
): Promise<void> {
  const code = ewSource([], ["x"], "x[i] = p.alpha;");
  await ewLaunch(gpu, rec, "fill", code, [a.x], a.n, a.value);
}

/**
 * Records dst ← src over `n` f32 elements: a buffer copy (no binding limit) when the buffers
 * differ, else a kernel (WebGPU cannot copy a buffer onto itself); overlapping windows of one
 * buffer are undefined.
 */
export async function copyF32(
  gpu: Gpu,
  rec: Recorder,
  a: { src: View; dst: View; n: number },
): Promise<void> {
  needBytes(a.src, a.n * 4, "copyF32 src");
  needBytes(a.dst, a.n * 4, "copyF32 dst");
  if (a.n === 0) return;
  if (bufferOf(a.src) !== bufferOf(a.dst)) {
    rec.copy(bufferOf(a.src), offsetOf(a.src), bufferOf(a.dst), offsetOf(a.dst), a.n * 4);
    return;
  }
  const code = ewSource([{ name: "s", mode: "read_write" }], ["d"], "d[i] = s[i];");
  await ewLaunch(gpu, rec, "copy_f32", code, [a.src, a.dst], a.n);
}

/**
 * f32 → packed f16 (two halves per u32 word, low half first) with `pack2x16float`, which needs
 * no shader-f16. One thread per output word; for odd `n` the last word keeps its upper half.
 */
export const CAST_F16_WGSL = (srcMode: "read" | "read_write") => /* wgsl */ `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<storage, ${srcMode}> s: array<f32>;
@group(0) @binding(1) var<storage, read_write> d: array<u32>;
@group(0) @binding(2) var<uniform> p: P;

@compute @workgroup_size(${WG})
fn main(${BUILTINS}) {
  let w = ${WG_INDEX} * ${WG}u + lid.x;
  let i = 2u * w;
  if (i >= p.n) { return; }
  var hi = 0.0;
  if (i + 1u < p.n) { hi = s[i + 1u]; } else { hi = unpack2x16float(d[w]).y; }
  d[w] = pack2x16float(vec2f(s[i], hi));
}`;

/** Records dst (packed f16) ← f16(src) over `n` elements, round to nearest. */
export async function castF32ToF16(
  gpu: Gpu,
  rec: Recorder,
  a: { src: View; dst: View; n: number },
): Promise<void> {
  needBytes(a.src, a.n * 4, "castF32ToF16 src");
  needBytes(a.dst, Math.ceil(a.n / 2) * 4, "castF32ToF16 dst");
  if (a.n === 0) return;
  const pipe = await pipeline(gpu, "cast_f32_f16", CAST_F16_WGSL(access(a.src, [a.dst])));
  // 128 elements per step keep both the f32 (512 B) and the f16 (256 B) window starts aligned.
  const per = itemsPerWindow(gpu, 4, 128);
  for (const w of spans(a.n, per)) {
    rec.dispatch(
      pipe,
      [
        bindWindow(a.src, w.start * 4, w.count * 4),
        bindWindow(a.dst, w.start * 2, Math.ceil(w.count / 2) * 4),
        uniform(w.count),
      ],
      foldGrid(gpu, Math.ceil(w.count / 2 / WG)),
      "cast_f32_f16",
    );
  }
}

/** CPU reference for {@link castF32ToF16}: the packed f16 words, round to nearest even. */
export function castF32ToF16Ref(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = new Float16Array(out.buffer);
  for (let i = 0; i < src.length; i++) f[i] = src[i];
  return out;
}
