/**
 * GPU tensors: a buffer (or a window of one) with a shape and dtype. Kernels
 * take {@link View}s; a tensor larger than a storage binding (128 MiB) stays in
 * one buffer and is bound window by window by the launchers that may see it.
 */
import type { Gpu } from "./gpu/device.ts";

export type DType = "f32" | "f16" | "u32" | "i32";

export const BYTES: Record<DType, number> = { f32: 4, f16: 2, u32: 4, i32: 4 };

/** A buffer, or a byte window of one (offset a multiple of 256). */
export type View = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export interface Tensor {
  buffer: GPUBuffer;
  shape: number[];
  dtype: DType;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The underlying buffer of a view. */
export function bufferOf(v: View): GPUBuffer {
  return v instanceof GPUBuffer ? v : v.buffer;
}

/** Byte offset of a view into its buffer. */
export function offsetOf(v: View): number {
  return v instanceof GPUBuffer ? 0 : (v.offset ?? 0);
}

/** Byte size of a view. */
export function sizeOf(v: View): number {
  return v instanceof GPUBuffer ? v.size : (v.size ?? v.buffer.size - (v.offset ?? 0));
}

/** A byte window of a view. */
export function windowOf(v: View, offset: number, size: number): View {
  return { buffer: bufferOf(v), offset: offsetOf(v) + offset, size };
}

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** An uninitialised tensor (size rounded up to 16 bytes). */
export function empty(gpu: Gpu, shape: number[], dtype: DType = "f32", label?: string): Tensor {
  const bytes = Math.max(16, Math.ceil((numel(shape) * BYTES[dtype]) / 16) * 16);
  return { buffer: gpu.device.createBuffer({ size: bytes, usage: USAGE, label }), shape, dtype };
}

/** A zero-filled tensor (WebGPU zero-initialises new buffers). */
export const zeros = empty;

/** A tensor holding `data` (f32, u32 or i32 from the typed array; f16 from a Uint16Array). */
export function fromArray(
  gpu: Gpu,
  data: Float32Array | Uint32Array | Int32Array | Uint16Array,
  shape: number[],
  label?: string,
): Tensor {
  const dtype: DType = data instanceof Float32Array
    ? "f32"
    : data instanceof Uint32Array
    ? "u32"
    : data instanceof Int32Array
    ? "i32"
    : "f16";
  if (numel(shape) !== data.length) {
    throw new Error(
      `fromArray: shape [${shape}] holds ${numel(shape)} elements, data has ${data.length}`,
    );
  }
  const t = empty(gpu, shape, dtype, label);
  writeBytes(gpu.device, t.buffer, data);
  return t;
}

/**
 * Queues a write of a typed array's bytes at the start of `buffer`, padded to the
 * 4-byte multiple `writeBuffer` requires (the buffer is at least that large).
 */
export function writeBytes(device: GPUDevice, buffer: GPUBuffer, data: ArrayBufferView): void {
  const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength === 0) return;
  if (bytes.byteLength % 4 === 0) return device.queue.writeBuffer(buffer, 0, bytes);
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  device.queue.writeBuffer(buffer, 0, padded);
}
