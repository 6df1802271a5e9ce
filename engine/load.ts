/**
 * Opening a model folder (HF layout: config.json, model.safetensors or a
 * sharded index, tokenizer files) onto the GPU, and writing one back.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { empty } from "../core/tensor.ts";
import { saveCheckpoint } from "./checkpoint.ts";
import { expectedTensors } from "./model_config.ts";
import { paramDtype, ParamSet } from "./params.ts";
import { streamTensors } from "./safetensors.ts";
import { verifyCheckpoint } from "./verify.ts";
import { Qwen3 } from "./qwen3.ts";

/**
 * Bytes written between two waits for the queue while loading. `writeBuffer` stages its bytes
 * until the next submit; without these flushes the staging holds a second copy of the whole
 * model, and the copies into the weights all run at the first forward pass.
 */
const FLUSH_BYTES = 64 * 2 ** 20;

/** Submits the staged writes and waits until they are in their buffers. */
async function landWrites(gpu: Gpu): Promise<void> {
  gpu.device.queue.submit([]);
  await gpu.device.queue.onSubmittedWorkDone();
}

/**
 * Loads the checkpoint in `dir` (F32, F16 or BF16 on disk) onto the GPU, with weight
 * matrices in f32 (training) or f16 (inference, half the memory). Tensors stream from the
 * file(s) in bounded chunks straight into their GPU buffers (engine/safetensors.ts
 * `streamTensors`), with the queue flushed every {@link FLUSH_BYTES}: the host never holds a
 * whole tensor, let alone the checkpoint, and the weights are on the device on return.
 */
export async function loadModel(
  gpu: Gpu,
  dir: string,
  opts: { matrices?: "f32" | "f16"; pool?: BufferPool } = {},
): Promise<{ model: Qwen3; notes: string[] }> {
  const pool = opts.pool ?? new BufferPool(gpu);
  const { config, set, notes } = await verifyCheckpoint(dir);
  const specs = expectedTensors(config);
  const tensors = specs.map((s) => empty(gpu, s.shape, paramDtype(s.shape, opts.matrices), s.name));
  try {
    let staged = 0;
    await streamTensors(
      specs.map((s, i) => ({
        header: set.where.get(s.name)!,
        name: s.name,
        as: tensors[i].dtype as "f32" | "f16",
      })),
      async (i, offset, bytes) => {
        gpu.device.queue.writeBuffer(tensors[i].buffer, offset, bytes);
        staged += bytes.length;
        if (staged >= FLUSH_BYTES) {
          staged = 0;
          await landWrites(gpu);
        }
      },
    );
    await landWrites(gpu);
    gpu.check();
  } catch (e) {
    for (const t of tensors) t.buffer.destroy();
    throw e;
  }
  const weights = ParamSet.fromTensors(config, new Map(specs.map((s, i) => [s.name, tensors[i]])));
  return { model: new Qwen3(gpu, pool, config, weights), notes };
}

/** Reads the model's weights back and saves them in HF layout in `dir`. */
export async function saveModel(
  model: Qwen3,
  dir: string,
  dtype: "F32" | "F16" | "BF16" = "F32",
): Promise<void> {
  const host = await model.weights.toHost(model.gpu, new Recorder(model.gpu, model.pool));
  await Deno.mkdir(dir, { recursive: true });
  await saveCheckpoint(dir, model.config, host, { dtype });
}

/** Copies the tokenizer files from one folder to another, when present. */
export async function copyTokenizerFiles(from: string, to: string): Promise<string[]> {
  const copied: string[] = [];
  for (
    const f of [
      "tokenizer.json",
      "tokenizer_config.json",
      "generation_config.json",
      "vocab.json",
      "merges.txt",
    ]
  ) {
    try {
      await Deno.copyFile(`${from}/${f}`, `${to}/${f}`);
      copied.push(f);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return copied;
}
