/**
 * The safetensors format, read and written by hand: an 8-byte little-endian header length, a
 * JSON header (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {...}}`),
 * then the raw little-endian tensor bytes, offsets relative to the end of the header.
 *
 * Reading is by tensor (seek + read on one open file), so a multi-GB checkpoint is never held
 * whole. Every malformed input is an {@link InputError} naming the file and, where there is one,
 * the tensor. Writing is atomic (temporary file + rename) and streams tensor by tensor too.
 */
import { InputError } from "../core/errors.ts";
import { joinPath, readFull, withAtomicFile, writeAll } from "../core/fsutil.ts";
import { numel } from "../core/tensor.ts";
import {
  bf16ToF16Into,
  bf16ToF32Into,
  f16ToF32Into,
  f32ToBf16Into,
  f32ToF16Into,
} from "./float_convert.ts";

/** Tensor element types we understand. */
export type Dtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "U8";

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<Dtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
};

/** Where one tensor lies in its file. `begin`/`end` are relative to the data section. */
export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A parsed, validated header. */
export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** Length of the JSON header in bytes (as stored, padding included). */
  headerLength: number;
  /** Absolute file offset of the data section. */
  dataStart: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** How to hand back tensor values: f32 (any float dtype), f16 bits, or f64. */
export type ReadAs = "f32" | "f16" | "f64";

/** A tensor to write. `data` as Uint16Array is taken as raw bits of `dtype` (F16 or BF16). */
export interface TensorToWrite {
  name: string;
  dtype: "F32" | "F16" | "BF16";
  shape: number[];
  data: Float32Array | Uint16Array;
}

/** Largest JSON header we accept; real headers are well under 10 MB. */
const MAX_HEADER_BYTES = 100 * 2 ** 20;

/** Reads exactly `buf.length` bytes at `pos`, or fails naming the file. */
async function readExact(f: Deno.FsFile, pos: number, buf: Uint8Array, path: string, what: string) {
  await f.seek(pos, Deno.SeekMode.Start);
  const got = await readFull(f, buf);
  if (got < buf.length) {
    throw new InputError(
      `truncated file: ${what} needs ${buf.length} bytes at offset ${pos}, got ${got}`,
      path,
    );
  }
}

/** Opens a file for reading, or fails naming it. */
async function openRead(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
}

/** Parses and checks a header from the bytes that follow the length prefix. */
export function parseHeader(
  path: string,
  fileSize: number,
  headerLength: number,
  json: Uint8Array,
): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    throw new InputError(`invalid header JSON: ${(e as Error).message}`, path);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InputError("invalid header JSON: not an object", path);
  }
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new InputError("__metadata__ is not an object of strings", path);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const bad = (msg: string) => new InputError(`tensor "${name}": ${msg}`, path);
    if (typeof v !== "object" || v === null) throw bad("entry is not an object");
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== "string" || !(e.dtype in DTYPE_BYTES)) {
      throw bad(
        `unknown dtype ${JSON.stringify(e.dtype)} (supported: ${
          Object.keys(DTYPE_BYTES).join(", ")
        })`,
      );
    }
    const dtype = e.dtype as Dtype;
    if (
      !Array.isArray(e.shape) || !e.shape.every((s) => Number.isSafeInteger(s) && s >= 0)
    ) throw bad(`shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]
    ) throw bad(`data_offsets ${JSON.stringify(offs)} is not [begin, end] with begin <= end`);
    const [begin, end] = offs as number[];
    if (end > dataLength) {
      throw bad(
        `data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes): ` +
          `the file is truncated or corrupt`,
      );
    }
    const want = numel(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== want) {
      throw bad(
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ` +
          `[${shape.join(", ")}] needs ${want}`,
      );
    }
    tensors.set(name, { dtype, shape, begin, end });
  }
  return { path, fileSize, headerLength, dataStart, tensors, metadata };
}

/** Reads and validates the header of a .safetensors file (not the tensor data). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const f = await openRead(path);
  try {
    const fileSize = (await f.stat()).size;
    if (fileSize < 8) {
      throw new InputError(
        `truncated file: ${fileSize} bytes, shorter than the 8-byte header length`,
        path,
      );
    }
    const lenBuf = new Uint8Array(8);
    await readExact(f, 0, lenBuf, path, "header length");
    const len = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (len > BigInt(fileSize - 8)) {
      throw new InputError(
        `header length ${len} is beyond the file size (${fileSize} bytes): truncated or not a ` +
          `safetensors file`,
        path,
      );
    }
    const headerLength = Number(len);
    if (headerLength > MAX_HEADER_BYTES) {
      throw new InputError(`header length ${headerLength} is implausibly large`, path);
    }
    const json = new Uint8Array(headerLength);
    await readExact(f, 8, json, path, "header");
    return parseHeader(path, fileSize, headerLength, json);
  } finally {
    f.close();
  }
}

// The one-value conversions live in float_convert.ts; re-exported for this module's users.
export { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from "./float_convert.ts";

function aligned(bytes: Uint8Array): ArrayBuffer {
  // A fresh buffer (offset 0) so typed-array views are aligned.
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer as ArrayBuffer
    : bytes.slice().buffer;
}

/** Converts raw little-endian bytes of `dtype` to the requested representation. */
export function convertBytes(
  bytes: Uint8Array,
  dtype: Dtype,
  as: ReadAs,
): Float32Array | Uint16Array | Float64Array {
  const buf = aligned(bytes);
  const n = bytes.length / DTYPE_BYTES[dtype];
  if (as === "f16") {
    if (dtype === "F16") return new Uint16Array(buf);
    const out = new Uint16Array(n);
    floatsInto(new Uint8Array(buf), dtype, "f16", out.buffer);
    return out;
  }
  if (as === "f32") {
    if (dtype === "F32") return new Float32Array(buf);
    const out = new Float32Array(n);
    floatsInto(new Uint8Array(buf), dtype, "f32", out.buffer);
    return out;
  }
  if (dtype === "F64") return new Float64Array(buf);
  const out = new Float64Array(n);
  // 16/32-bit floats are exact in f32; integers are not, so they go straight to f64.
  const float = dtype === "F32" || dtype === "F16" || dtype === "BF16";
  out.set(float ? convertBytes(bytes, dtype, "f32") : valuesOf(new Uint8Array(buf), dtype, n));
  return out;
}

/**
 * Converts the elements of `dtype` in `src` (4-byte aligned) to f32 or f16 bits in `dst`, and
 * returns the bytes to use: `src` itself when the dtype already matches (no copy), else the
 * front of `dst`. F32, F16 and BF16 take bulk bit conversions; other dtypes go through values.
 */
function floatsInto(
  src: Uint8Array<ArrayBuffer>,
  dtype: Dtype,
  as: "f32" | "f16",
  dst: ArrayBuffer,
): Uint8Array<ArrayBuffer> {
  const n = src.length / DTYPE_BYTES[dtype];
  const outBytes = n * (as === "f32" ? 4 : 2);
  if ((dtype === "F32" && as === "f32") || (dtype === "F16" && as === "f16")) return src;
  const u16 = () => new Uint16Array(src.buffer, src.byteOffset, n);
  const u32 = () => new Uint32Array(src.buffer, src.byteOffset, n);
  if (as === "f32") {
    const out = new Uint32Array(dst, 0, n);
    if (dtype === "F16") f16ToF32Into(u16(), out);
    else if (dtype === "BF16") bf16ToF32Into(u16(), out);
    else new Float32Array(dst, 0, n).set(valuesOf(src, dtype, n));
  } else {
    const out = new Uint16Array(dst, 0, n);
    if (dtype === "F32") f32ToF16Into(u32(), out);
    else if (dtype === "BF16") bf16ToF16Into(u16(), out);
    else {
      const f = new Float32Array(n);
      f.set(valuesOf(src, dtype, n));
      f32ToF16Into(new Uint32Array(f.buffer), out);
    }
  }
  return new Uint8Array(dst, 0, outBytes);
}

/** The values of a non-16/32-bit-float dtype, for the rare checkpoint that stores one. */
function valuesOf(src: Uint8Array, dtype: Dtype, n: number): ArrayLike<number> {
  const b = src.buffer, o = src.byteOffset;
  switch (dtype) {
    case "F64":
      return new Float64Array(b, o, n);
    case "I64":
      return Array.from(new BigInt64Array(b, o, n), Number);
    case "I32":
      return new Int32Array(b, o, n);
    case "U8":
      return new Uint8Array(b, o, n);
    default:
      throw new Error(`valuesOf: ${dtype} has a bulk conversion`);
  }
}

/** Reads one tensor's raw bytes. */
export async function readTensorBytes(
  path: string,
  header: SafetensorsHeader,
  name: string,
): Promise<Uint8Array> {
  const info = header.tensors.get(name);
  if (!info) throw new InputError(`no tensor "${name}"`, path);
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(info.end - info.begin);
    await readExact(f, header.dataStart + info.begin, buf, path, `tensor "${name}"`);
    return buf;
  } finally {
    f.close();
  }
}

/**
 * Reads one tensor and converts it: `as: "f32"` (default) gives a Float32Array from any dtype,
 * `"f16"` gives float16 bits in a Uint16Array (F16 kept as is, others rounded), `"f64"` a
 * Float64Array.
 */
export async function readTensor(
  path: string,
  header: SafetensorsHeader,
  name: string,
  opts?: { as?: "f32" },
): Promise<Float32Array>;
export async function readTensor(
  path: string,
  header: SafetensorsHeader,
  name: string,
  opts: { as: "f16" },
): Promise<Uint16Array>;
export async function readTensor(
  path: string,
  header: SafetensorsHeader,
  name: string,
  opts: { as: "f64" },
): Promise<Float64Array>;
export async function readTensor(
  path: string,
  header: SafetensorsHeader,
  name: string,
  opts: { as?: "f32" | "f16" },
): Promise<Float32Array | Uint16Array>;
export async function readTensor(
  path: string,
  header: SafetensorsHeader,
  name: string,
  opts: { as?: ReadAs },
): Promise<Float32Array | Uint16Array | Float64Array>;
export async function readTensor(
  path: string,
  header: SafetensorsHeader,
  name: string,
  opts: { as?: ReadAs } = {},
): Promise<Float32Array | Uint16Array | Float64Array> {
  const bytes = await readTensorBytes(path, header, name);
  return convertBytes(bytes, header.tensors.get(name)!.dtype, opts.as ?? "f32");
}

/** One tensor to stream: the header of its file, its name, and the type to hand back. */
export interface TensorRequest {
  header: SafetensorsHeader;
  name: string;
  as: "f32" | "f16";
}

/** Elements per chunk when streaming: 16 MiB of f32, few enough calls, little memory. */
const STREAM_CHUNK_ELEMS = 4 * 2 ** 20;

/**
 * Streams tensors out of their files in bounded chunks, converted to f32 or f16 bits as each
 * request asks (F16 to f16 and F32 to f32 are not converted at all): `sink(index, byteOffset,
 * bytes)` receives request `index`'s converted bytes that start `byteOffset` bytes into its
 * target layout. `bytes` is padded with zeros to a multiple of 4 bytes (what WebGPU's
 * `writeBuffer` needs) and only valid during the call (until its promise, if it returns one,
 * settles): the buffers are reused, so the memory is two chunks whatever the checkpoint's size.
 * Each file is opened once and read front to back.
 */
export async function streamTensors(
  requests: readonly TensorRequest[],
  sink: (index: number, byteOffset: number, bytes: Uint8Array<ArrayBuffer>) => void | Promise<void>,
  opts: { chunkElems?: number } = {},
): Promise<void> {
  const E = opts.chunkElems ?? STREAM_CHUNK_ELEMS;
  if (!Number.isSafeInteger(E) || E < 2 || E % 2) {
    throw new Error(`streamTensors: chunkElems must be an even integer >= 2, got ${E}`);
  }
  const byFile = new Map<string, { index: number; info: TensorInfo }[]>();
  let widest = 1;
  requests.forEach((r, index) => {
    const info = r.header.tensors.get(r.name);
    if (!info) throw new InputError(`no tensor "${r.name}"`, r.header.path);
    widest = Math.max(widest, DTYPE_BYTES[info.dtype]);
    const list = byFile.get(r.header.path) ?? [];
    list.push({ index, info });
    byFile.set(r.header.path, list);
  });
  // +4 bytes on each so that padding never reallocates.
  const src = new Uint8Array(E * widest + 4);
  const dst = new ArrayBuffer(E * 4 + 4);
  for (const [path, list] of byFile) {
    list.sort((a, b) => a.info.begin - b.info.begin);
    const f = await openRead(path);
    try {
      for (const { index, info } of list) {
        const { name, as, header } = requests[index];
        const n = numel(info.shape), inBytes = DTYPE_BYTES[info.dtype];
        const outBytes = as === "f32" ? 4 : 2;
        for (let e0 = 0; e0 < n; e0 += E) {
          const chunk = src.subarray(0, Math.min(E, n - e0) * inBytes);
          const at = header.dataStart + info.begin + e0 * inBytes;
          await readExact(f, at, chunk, path, `tensor "${name}"`);
          const out = floatsInto(chunk, info.dtype, as, dst);
          await sink(index, e0 * outBytes, padTo4(out));
        }
      }
    } finally {
      f.close();
    }
  }
}

/** `bytes` (a view at offset 0 of a buffer with room) extended with zeros to a multiple of 4. */
function padTo4(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const len = Math.ceil(bytes.length / 4) * 4;
  if (len === bytes.length) return bytes;
  const out = new Uint8Array(bytes.buffer, bytes.byteOffset, len);
  out.fill(0, bytes.length);
  return out;
}

/** A checkpoint folder's safetensors files: which file holds each tensor. */
export interface SafetensorsSet {
  dir: string;
  /** File path -> its header. */
  files: Map<string, SafetensorsHeader>;
  /** Tensor name -> the header of the file holding it. */
  where: Map<string, SafetensorsHeader>;
  /** Set when the folder is sharded: the index file. */
  index?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens the safetensors of a checkpoint folder: `model.safetensors`, or the shards named by
 * `model.safetensors.index.json` (`weight_map`: tensor name -> file). Checks that every tensor
 * the index names is in the shard it says.
 */
export async function openSafetensorsDir(dir: string): Promise<SafetensorsSet> {
  const single = joinPath(dir, "model.safetensors");
  const indexPath = joinPath(dir, "model.safetensors.index.json");
  const files = new Map<string, SafetensorsHeader>();
  const where = new Map<string, SafetensorsHeader>();
  if (await exists(single)) {
    const h = await readSafetensorsHeader(single);
    files.set(single, h);
    for (const name of h.tensors.keys()) where.set(name, h);
    return { dir, files, where };
  }
  if (!(await exists(indexPath))) {
    throw new InputError(
      `no model.safetensors or model.safetensors.index.json in this folder`,
      dir,
    );
  }
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(await Deno.readTextFile(indexPath));
  } catch (e) {
    throw new InputError(`invalid JSON: ${(e as Error).message}`, indexPath);
  }
  const map = index.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new InputError(`no "weight_map" object`, indexPath, undefined, "weight_map");
  }
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== "string" || file.includes("/") || file.includes("\\")) {
      throw new InputError(
        `weight_map["${name}"] is not a file name in this folder`,
        indexPath,
        undefined,
        "weight_map",
      );
    }
    const path = joinPath(dir, file);
    let h = files.get(path);
    if (!h) {
      h = await readSafetensorsHeader(path);
      files.set(path, h);
    }
    if (!h.tensors.has(name)) {
      throw new InputError(
        `weight_map says "${name}" is in ${file}, but it is not there`,
        indexPath,
      );
    }
    where.set(name, h);
  }
  return { dir, files, where, index: indexPath };
}

function tensorBytes(t: TensorToWrite): Uint8Array {
  const n = numel(t.shape);
  if (t.data.length !== n) {
    throw new InputError(
      `tensor "${t.name}": ${t.data.length} values but shape [${t.shape.join(", ")}] needs ${n}`,
    );
  }
  if (t.dtype === "F32") {
    if (!(t.data instanceof Float32Array)) {
      throw new InputError(`tensor "${t.name}": F32 needs a Float32Array`);
    }
    return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
  if (t.data instanceof Uint16Array) {
    return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
  const out = new Uint16Array(n);
  const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, n);
  (t.dtype === "F16" ? f32ToF16Into : f32ToBf16Into)(bits, out);
  return new Uint8Array(out.buffer);
}

/** The header bytes (length prefix + space-padded JSON) for these tensors, in sorted order. */
export function buildHeader(
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): { bytes: Uint8Array; order: TensorToWrite[]; dataLength: number } {
  const order = [...tensors].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (let i = 0; i < order.length; i++) {
    const t = order[i];
    if (i > 0 && order[i - 1].name === t.name) {
      throw new InputError(`tensor "${t.name}" given twice`);
    }
    const len = numel(t.shape) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + len] };
    off += len;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - json.length % 8) % 8;
  if (pad) {
    const p = new Uint8Array(json.length + pad).fill(0x20);
    p.set(json);
    json = p;
  }
  const bytes = new Uint8Array(8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  return { bytes, order, dataLength: off };
}

/**
 * Writes a .safetensors file atomically (temporary file in the same folder, then rename),
 * tensors in sorted-name order, header padded to 8 bytes with spaces. Float32Array data is
 * rounded to F16/BF16 as asked (nearest even); Uint16Array data is taken as raw F16/BF16 bits.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  const { bytes, order } = buildHeader(tensors, metadata);
  await withAtomicFile(path, async (f) => {
    await writeAll(f, bytes);
    for (const t of order) await writeAll(f, tensorBytes(t));
  });
}
