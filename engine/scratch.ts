/**
 * Scratch tensors for one step: taken from the buffer pool and all returned
 * after the step's submission, so consecutive steps reuse the same memory.
 */
import type { BufferPool } from "../core/gpu/pool.ts";
import { BYTES, type DType, numel, type Tensor, writeBytes } from "../core/tensor.ts";

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class Scratch {
  private taken: GPUBuffer[] = [];
  /** Bytes handed out (for peak-memory reports). */
  bytes = 0;

  constructor(private readonly pool: BufferPool) {}

  /** A tensor with undefined contents. */
  tensor(shape: number[], dtype: DType = "f32", label?: string): Tensor {
    const bytes = Math.max(16, numel(shape) * BYTES[dtype]);
    const buffer = this.pool.acquire(bytes, USAGE, label);
    this.taken.push(buffer);
    this.bytes += buffer.size;
    return { buffer, shape, dtype };
  }

  /** A tensor holding `data`, written on the queue before the next submit. */
  upload(
    data: Uint32Array | Float32Array,
    shape: number[] = [data.length],
    label?: string,
  ): Tensor {
    const t = this.tensor(shape, data instanceof Float32Array ? "f32" : "u32", label);
    writeBytes(this.pool.device, t.buffer, data);
    return t;
  }

  /** Returns every tensor to the pool; call only after the work using them was submitted. */
  releaseAll(): void {
    for (const b of this.taken) this.pool.release(b);
    this.taken = [];
    this.bytes = 0;
  }
}
