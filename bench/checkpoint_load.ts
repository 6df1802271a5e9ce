/**
 * Checkpoint load time against the time to read the checkpoint's file, measured in the same
 * run: the weights are written as an F16 checkpoint into a temporary folder (removed
 * afterwards), then, warm-cache both, a plain read of the file into memory and
 * `loadModel(..., {matrices: "f16"})` (the inference load: no conversion at all), best of
 * `rounds` each (default 1), interleaved so that both see the same machine. Also, for context,
 * the file streamed through one small buffer: what the page cache delivers when no new memory
 * is touched.
 *
 * Both timed operations put the file's bytes into memory never touched before, and on a software
 * adapter the device's memory is this process's: touching fresh pages, not copying bytes, is
 * most of both costs. Run it before other GPU work: a later round (or a load after other work)
 * can get memory the allocator already touched and look faster than a fresh process would.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { readFull } from "../core/fsutil.ts";
import { saveCheckpoint } from "../engine/checkpoint.ts";
import { loadModel } from "../engine/load.ts";
import type { Qwen3Config } from "../engine/model_config.ts";
import { openSafetensorsDir } from "../engine/safetensors.ts";

export interface CheckpointLoadFigures {
  /** The checkpoint's stored dtype and the GPU matrices' dtype. */
  stored: "F16";
  matrices: "f16";
  /** Bytes of the safetensors file(s). */
  fileBytes: number;
  /** Best plain read of the file(s) into memory of their size, ms. */
  readMs: number;
  /** Best read of the file(s) streamed through one 16 MiB buffer (nothing kept), ms. */
  streamMs: number;
  /** Best `loadModel` until the GPU queue is idle, ms. */
  loadMs: number;
  /** Writing the checkpoint (not part of the comparison), ms. */
  writeMs: number;
  rounds: number;
}

/** The checkpoint's weight files (its index's shards, or model.safetensors), with their sizes. */
async function weightFiles(dir: string): Promise<{ path: string; size: number }[]> {
  const set = await openSafetensorsDir(dir);
  return [...set.files.values()].map((h) => ({ path: h.path, size: h.fileSize }))
    .sort((a, b) => a.path < b.path ? -1 : 1);
}

/** Reads every file whole into a new buffer of its size. */
async function readWhole(
  files: { path: string; size: number }[],
): Promise<Uint8Array<ArrayBuffer>[]> {
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (const { path, size } of files) {
    const f = await Deno.open(path, { read: true });
    try {
      const buf = new Uint8Array(size);
      const got = await readFull(f, buf);
      if (got !== size) throw new Error(`${path}: read ${got} of ${size} bytes`);
      out.push(buf);
    } finally {
      f.close();
    }
  }
  return out;
}

/** Reads every file through one reused buffer. */
async function readStreamed(files: { path: string; size: number }[]): Promise<void> {
  const buf = new Uint8Array(16 * 2 ** 20);
  for (const { path } of files) {
    const f = await Deno.open(path, { read: true });
    try {
      while ((await f.read(buf)) !== null) { /* the bytes are not kept */ }
    } finally {
      f.close();
    }
  }
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** Writes `host` as an F16 checkpoint and times reading it against loading it (see above). */
export async function checkpointLoadBench(
  gpu: Gpu,
  config: Qwen3Config,
  host: Map<string, Float32Array>,
  opts: { rounds?: number; log?: (line: string) => void } = {},
): Promise<CheckpointLoadFigures> {
  const rounds = opts.rounds ?? 1, log = opts.log ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "golongrl_bench_load_" });
  try {
    log(`writing the weights as an F16 checkpoint in ${dir}...`);
    const writeMs = await timed(() => saveCheckpoint(dir, config, host, { dtype: "F16" }));
    const files = await weightFiles(dir);
    const fileBytes = files.reduce((a, f) => a + f.size, 0);
    log(`${(fileBytes / 2 ** 30).toFixed(2)} GiB written in ${(writeMs / 1000).toFixed(1)} s`);
    await readStreamed(files); // untimed: the file is in the page cache for every timing below
    let readMs = Infinity, streamMs = Infinity, loadMs = Infinity;
    for (let r = 0; r < rounds; r++) {
      log(`checkpoint load, round ${r + 1}/${rounds}: plain read, then loadModel...`);
      streamMs = Math.min(streamMs, await timed(() => readStreamed(files)));
      let read: Uint8Array<ArrayBuffer>[] = [];
      readMs = Math.min(readMs, await timed(async () => read = await readWhole(files)));
      // Free the bytes now (untimed), not at some later GC: the peak memory rows count them.
      for (const b of read) b.buffer.transfer(0);
      let model: Awaited<ReturnType<typeof loadModel>>["model"] | undefined;
      const ms = await timed(async () => {
        model = (await loadModel(gpu, dir, { matrices: "f16" })).model;
        await gpu.device.queue.onSubmittedWorkDone();
      });
      gpu.check();
      model!.weights.destroy();
      // Destroyed buffers are released at the next submission: release them now.
      gpu.device.queue.submit([]);
      await gpu.device.queue.onSubmittedWorkDone();
      loadMs = Math.min(loadMs, ms);
    }
    log(
      `checkpoint load: ${(loadMs / 1000).toFixed(2)} s; plain read of the file ` +
        `${(readMs / 1000).toFixed(2)} s`,
    );
    return { stored: "F16", matrices: "f16", fileBytes, readMs, streamMs, loadMs, writeMs, rounds };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
