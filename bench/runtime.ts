/**
 * Runtime benchmark: what batching buys. The same chain of small dispatches is
 * run once with a submit-and-wait per dispatch and once recorded into a single
 * submission; and the same readbacks are mapped one submit at a time or all
 * together. Both references are measured in the same run, so the ratios hold on
 * any adapter.
 */
import { int, section } from "../core/config_schema.ts";
import type { ConfigOf } from "../core/config_schema.ts";
import type { Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { axpy } from "../kernels/axpy.ts";
import { Progress } from "../core/progress.ts";

export const runtimeBenchSchema = {
  bench: section({
    dispatches: int(128, { min: 1, max: 4096, description: "dispatches in the chain" }),
    elements: int(65536, { min: 1, max: 1 << 24, description: "vector length per dispatch" }),
    readbacks: int(16, { min: 1, max: 1024, description: "buffers read back" }),
    repeats: int(3, { min: 1, max: 100, description: "repetitions; the best is kept" }),
  }),
};
export type RuntimeBenchConfig = ConfigOf<typeof runtimeBenchSchema>;

export interface RuntimeBenchResult {
  adapter: string;
  dispatches: number;
  elements: number;
  /** Wall time of the chain with a submit and wait per dispatch (reference). */
  perDispatchSubmitMs: number;
  /** Wall time of the same chain in one submission. */
  batchedMs: number;
  /** perDispatchSubmitMs / batchedMs: how much faster batching is. */
  batchSpeedup: number;
  readbacks: number;
  /** Wall time reading each buffer with its own submit and map (reference). */
  separateReadbacksMs: number;
  /** Wall time reading all buffers after one submit. */
  batchedReadbacksMs: number;
  readbackSpeedup: number;
}

async function best(repeats: number, f: () => Promise<void>, progress: Progress): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, performance.now() - t0);
    progress.tick();
  }
  return b;
}

export async function runtimeBench(
  gpu: Gpu,
  cfg: RuntimeBenchConfig,
  quiet = false,
): Promise<RuntimeBenchResult> {
  const { dispatches, elements: n, readbacks, repeats } = cfg.bench;
  const pool = new BufferPool(gpu);
  const x = uploadBuffer(gpu, new Float32Array(n).fill(1));
  const y = storageBuffer(gpu, n * 4);
  const progress = new Progress("bench runtime", { unit: "runs", total: 4 * repeats, quiet });
  // Warm up: compile the pipeline outside the timings.
  {
    const rec = new Recorder(gpu, pool);
    await axpy(gpu, rec, 1, x, y, n);
    await rec.submit();
    await gpu.device.queue.onSubmittedWorkDone();
  }
  const perDispatch = await best(repeats, async () => {
    for (let i = 0; i < dispatches; i++) {
      const rec = new Recorder(gpu, pool);
      await axpy(gpu, rec, 0.5, x, y, n);
      await rec.submit();
      await gpu.device.queue.onSubmittedWorkDone();
    }
  }, progress);
  const batched = await best(repeats, async () => {
    const rec = new Recorder(gpu, pool);
    for (let i = 0; i < dispatches; i++) await axpy(gpu, rec, 0.5, x, y, n);
    await rec.submit();
    await gpu.device.queue.onSubmittedWorkDone();
  }, progress);
  const bufs = Array.from(
    { length: readbacks },
    () => uploadBuffer(gpu, new Float32Array(1024).fill(2)),
  );
  const separate = await best(repeats, async () => {
    for (const b of bufs) {
      const rec = new Recorder(gpu, pool);
      const r = rec.read(b, 4096);
      await rec.submit();
      await r;
    }
  }, progress);
  const together = await best(repeats, async () => {
    const rec = new Recorder(gpu, pool);
    const rs = bufs.map((b) => rec.read(b, 4096));
    await rec.submit();
    await Promise.all(rs);
  }, progress);
  progress.finish();
  for (const b of [x, y, ...bufs]) b.destroy();
  pool.trim();
  return {
    adapter: gpu.description.description,
    dispatches,
    elements: n,
    perDispatchSubmitMs: perDispatch,
    batchedMs: batched,
    batchSpeedup: perDispatch / batched,
    readbacks,
    separateReadbacksMs: separate,
    batchedReadbacksMs: together,
    readbackSpeedup: separate / together,
  };
}
