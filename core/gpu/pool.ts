/**
 * A buffer pool: GPU allocations are slow, so released buffers are kept by
 * (usage, size class) and handed out again. Size classes are 2^k and 1.5·2^k
 * bytes, which bounds the waste at 33% while letting nearby sizes share.
 */
import type { Gpu } from "./device.ts";

/** The size class a request of `bytes` is served from (at least 256 bytes, multiple of 16). */
export function sizeClass(bytes: number): number {
  const n = Math.max(256, Math.ceil(bytes));
  const p = 2 ** Math.floor(Math.log2(n));
  if (n === p) return p;
  const mid = p + p / 2;
  return n <= mid ? mid : 2 * p;
}

export interface PoolStats {
  /** Bytes currently allocated on the device by this pool. */
  allocatedBytes: number;
  /** Buffers handed out and not yet released. */
  inUse: number;
  /** Requests served from the free list. */
  reused: number;
  /** Requests that created a buffer. */
  created: number;
}

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private sizes = new WeakMap<GPUBuffer, number>();
  readonly stats: PoolStats = { allocatedBytes: 0, inUse: 0, reused: 0, created: 0 };

  constructor(private readonly gpu: Gpu) {}

  /** The device the pool allocates on. */
  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** A buffer of at least `bytes` with `usage`; its contents are undefined. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const size = sizeClass(bytes);
    const max = this.gpu.limits.maxBufferSize;
    if (size > max && bytes <= max) return this.create(Math.ceil(bytes / 16) * 16, usage, label);
    const list = this.free.get(`${usage}:${size}`);
    const b = list?.pop();
    this.stats.inUse++;
    if (b) {
      this.stats.reused++;
      return b;
    }
    return this.create(size, usage, label);
  }

  private create(size: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const b = this.gpu.device.createBuffer({ size, usage, label });
    this.sizes.set(b, size);
    this.stats.created++;
    this.stats.allocatedBytes += size;
    return b;
  }

  /** Returns a buffer for reuse. Only release once the GPU work using it was submitted. */
  release(b: GPUBuffer): void {
    const size = this.sizes.get(b);
    if (size === undefined) throw new Error("BufferPool.release: buffer was not made by this pool");
    this.stats.inUse--;
    const key = `${b.usage}:${size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, list = []);
    list.push(b);
  }

  /** Destroys every free buffer. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.allocatedBytes -= this.sizes.get(b) ?? 0;
        b.destroy();
      }
    }
    this.free.clear();
  }
}
