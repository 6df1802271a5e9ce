/**
 * A recorder: many dispatches and copies encoded into one command buffer and
 * one `queue.submit`, with readbacks gathered and mapped together after it.
 * In Deno each submit-and-wait or `mapAsync` costs at least ~10 ms, so a whole
 * pass (a forward, a step) goes into one recording and is read back once.
 *
 * With `profile: true` and the `timestamp-query` feature, each dispatch runs in
 * its own compute pass bracketed by timestamps, and `submit()` returns the GPU
 * time per label.
 */
import { GpuError } from "../errors.ts";
import type { Gpu } from "./device.ts";
import type { BufferPool } from "./pool.ts";

export type Binding =
  | GPUBuffer
  | { buffer: GPUBuffer; offset?: number; size?: number }
  | { uniform: ArrayBufferView<ArrayBuffer> };

interface PendingRead {
  staging: GPUBuffer;
  bytes: number;
  resolve: (b: ArrayBuffer) => void;
  reject: (e: unknown) => void;
}

export interface RecorderOptions {
  label?: string;
  profile?: boolean;
}

/** GPU time per dispatch label, in milliseconds, summed over dispatches with that label. */
export type Profile = Map<string, { ms: number; count: number }>;

/** Adds `ms` over `count` dispatches to `label`'s entry of `into`. */
function addTime(into: Profile, label: string, ms: number, count = 1): void {
  const e = into.get(label) ?? { ms: 0, count: 0 };
  e.ms += ms;
  e.count += count;
  into.set(label, e);
}

/** Adds every label of `p` (one recording's profile) into `into` (several recordings'). */
export function addProfile(into: Profile, p: Profile): void {
  for (const [label, e] of p) addTime(into, label, e.ms, e.count);
}

const MAX_TIMESTAMPS = 4096;

export class Recorder {
  private encoder: GPUCommandEncoder;
  private pass?: GPUComputePassEncoder;
  private reads: PendingRead[] = [];
  private temps: GPUBuffer[] = [];
  private submitted = false;
  private querySet?: GPUQuerySet;
  private queryLabels: string[] = [];
  dispatches = 0;

  constructor(
    private readonly gpu: Gpu,
    private readonly pool: BufferPool,
    private readonly opts: RecorderOptions = {},
  ) {
    gpu.check();
    this.encoder = gpu.device.createCommandEncoder({ label: opts.label });
    if (opts.profile && gpu.hasTimestamps) {
      this.querySet = gpu.device.createQuerySet({ type: "timestamp", count: MAX_TIMESTAMPS });
    }
  }

  /** Whether timestamps are being recorded (asked for and supported). */
  get profiling(): boolean {
    return this.querySet !== undefined;
  }

  /**
   * Refuses, at recording time and naming the dispatch, a storage binding over the device's
   * binding limit: WebGPU would only report it later, as a validation error without the kernel.
   * Tensors larger than one binding (a 151k-row embedding, its gradient and moments) must be
   * bound window by window by their launchers (kernels/elementwise.ts: spans, bindWindow).
   */
  private checkBindingSizes(bindings: Binding[], label: string): void {
    const limit = this.gpu.device.limits.maxStorageBufferBindingSize;
    bindings.forEach((b, i) => {
      if (!(b instanceof GPUBuffer) && "uniform" in b) return;
      const size = b instanceof GPUBuffer ? b.size : (b.size ?? b.buffer.size - (b.offset ?? 0));
      if (size > limit) {
        const buf = b instanceof GPUBuffer ? b : b.buffer;
        throw new GpuError(
          `dispatch "${label}": binding ${i}${buf.label ? ` (${buf.label})` : ""} is ${size} ` +
            `bytes, over the device's ${limit}-byte storage-binding limit; its launcher must ` +
            "bind the tensor in windows",
        );
      }
    });
  }

  private bindGroup(pipe: GPUComputePipeline, bindings: Binding[]): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = bindings.map((b, binding) => {
      if (b instanceof GPUBuffer) return { binding, resource: { buffer: b } };
      if ("uniform" in b) {
        const bytes = Math.ceil(b.uniform.byteLength / 16) * 16;
        const u = this.pool.acquire(bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        this.gpu.device.queue.writeBuffer(
          u,
          0,
          b.uniform.buffer,
          b.uniform.byteOffset,
          b.uniform.byteLength,
        );
        this.temps.push(u);
        return { binding, resource: { buffer: u, size: bytes } };
      }
      return { binding, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } };
    });
    return this.gpu.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
  }

  /** Records one dispatch. `workgroups` is [x, y, z] or x. */
  dispatch(
    pipe: GPUComputePipeline,
    bindings: Binding[],
    workgroups: number | [number, number?, number?],
    label = pipe.label || "dispatch",
  ): void {
    this.assertOpen();
    const [x, y = 1, z = 1] = typeof workgroups === "number" ? [workgroups] : workgroups;
    const maxWg = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new GpuError(
        `dispatch "${label}": ${x}x${y}x${z} workgroups exceeds the limit ${maxWg} per dimension`,
      );
    }
    if (x === 0 || y === 0 || z === 0) return;
    this.checkBindingSizes(bindings, label);
    const group = this.bindGroup(pipe, bindings);
    if (this.querySet && this.queryLabels.length + 2 <= MAX_TIMESTAMPS) {
      this.endPass();
      const i = this.queryLabels.length;
      this.queryLabels.push(label, label);
      const pass = this.encoder.beginComputePass({
        label,
        timestampWrites: {
          querySet: this.querySet,
          beginningOfPassWriteIndex: i,
          endOfPassWriteIndex: i + 1,
        },
      });
      pass.setPipeline(pipe);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
    } else {
      this.pass ??= this.encoder.beginComputePass({ label: this.opts.label });
      this.pass.setPipeline(pipe);
      this.pass.setBindGroup(0, group);
      this.pass.dispatchWorkgroups(x, y, z);
    }
    this.dispatches++;
    this.gpu.counters.dispatches++;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  /** Records a buffer-to-buffer copy (sizes and offsets multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.assertOpen();
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Records zero-filling `bytes` of `buf` from `offset` (both multiples of 4). */
  clear(buf: GPUBuffer, offset = 0, bytes = buf.size - offset): void {
    this.assertOpen();
    this.endPass();
    this.encoder.clearBuffer(buf, offset, bytes);
  }

  /** Records a readback of `bytes` from `src`; the promise resolves after {@link submit}. */
  read(src: GPUBuffer, bytes = src.size, offset = 0): Promise<ArrayBuffer> {
    this.assertOpen();
    this.endPass();
    const padded = Math.ceil(bytes / 4) * 4;
    const staging = this.pool.acquire(padded, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.encoder.copyBufferToBuffer(src, offset, staging, 0, padded);
    return new Promise((resolve, reject) => this.reads.push({ staging, bytes, resolve, reject }));
  }

  private assertOpen(): void {
    if (this.submitted) throw new Error("Recorder: already submitted; make a new one");
  }

  /**
   * Submits everything in one `queue.submit`, then maps all readbacks together.
   * Resolves with the timestamp profile when profiling, else an empty map.
   */
  async submit(): Promise<Profile> {
    this.assertOpen();
    this.endPass();
    let tsStaging: GPUBuffer | undefined;
    let tsCount = 0;
    if (this.querySet && this.queryLabels.length) {
      tsCount = this.queryLabels.length;
      const bytes = tsCount * 8;
      const resolveBuf = this.pool.acquire(
        bytes,
        GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      );
      this.encoder.resolveQuerySet(this.querySet, 0, tsCount, resolveBuf, 0);
      tsStaging = this.pool.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      this.encoder.copyBufferToBuffer(resolveBuf, 0, tsStaging, 0, bytes);
      this.temps.push(resolveBuf);
    }
    this.submitted = true;
    this.gpu.device.queue.submit([this.encoder.finish()]);
    this.gpu.counters.submits++;
    const profile: Profile = new Map();
    try {
      const maps: Promise<void>[] = this.reads.map((r) =>
        r.staging.mapAsync(GPUMapMode.READ, 0, Math.ceil(r.bytes / 4) * 4)
      );
      if (tsStaging) maps.push(tsStaging.mapAsync(GPUMapMode.READ, 0, tsCount * 8));
      if (maps.length) {
        this.gpu.counters.readbacks++;
        await Promise.all(maps);
      }
      this.gpu.check();
      for (const r of this.reads) {
        const data = r.staging.getMappedRange(0, Math.ceil(r.bytes / 4) * 4).slice(0, r.bytes);
        r.staging.unmap();
        r.resolve(data);
      }
      if (tsStaging) {
        const t = new BigUint64Array(tsStaging.getMappedRange(0, tsCount * 8).slice(0));
        tsStaging.unmap();
        for (let i = 0; i < tsCount; i += 2) {
          addTime(profile, this.queryLabels[i], Math.max(0, Number(t[i + 1] - t[i]) / 1e6));
        }
      }
    } catch (e) {
      const err = e instanceof GpuError
        ? e
        : new GpuError(`GPU readback failed: ${(e as Error).message}`);
      for (const r of this.reads) r.reject(err);
      throw err;
    } finally {
      for (const r of this.reads) this.pool.release(r.staging);
      if (tsStaging) this.pool.release(tsStaging);
      for (const b of this.temps) this.pool.release(b);
      this.querySet?.destroy();
    }
    if (!this.reads.length && !tsStaging) this.gpu.check();
    return profile;
  }
}

/** Creates a storage buffer holding `data` (usable as copy source and destination too). */
export function uploadBuffer(
  gpu: Gpu,
  data: ArrayBufferView,
  label?: string,
  extraUsage = 0,
): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  const b = gpu.device.createBuffer({
    label,
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    mappedAtCreation: true,
  });
  new Uint8Array(b.getMappedRange()).set(
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  b.unmap();
  return b;
}

/** Creates an uninitialised storage buffer of `bytes` (rounded up to 16). */
export function storageBuffer(gpu: Gpu, bytes: number, label?: string): GPUBuffer {
  return gpu.device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}
