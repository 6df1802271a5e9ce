/**
 * Qwen3 checkpoints in Hugging Face layout: `config.json` + `model.safetensors`, or shards with
 * `model.safetensors.index.json` above a size threshold. Loading validates every tensor against
 * the config (names and shapes); saving writes files `transformers` loads as is. Also the
 * deterministic random initialisation for training from scratch.
 */
import { InputError } from "../core/errors.ts";
import { joinPath, writeJsonAtomic } from "../core/fsutil.ts";
import { mulberry32 } from "../core/rng.ts";
import { expectedTensors, type Qwen3Config, validateConfig } from "./model_config.ts";
import { verifyCheckpoint } from "./verify.ts";
import { readTensor, type TensorToWrite, writeSafetensors } from "./safetensors.ts";
import { numel } from "../core/tensor.ts";
import { f16ToF32Into } from "./float_convert.ts";

/** f32 values, or float16 bits. */
export type Weights = Map<string, Float32Array | Uint16Array>;

/** A loaded checkpoint. */
export interface Checkpoint {
  config: Qwen3Config;
  tensors: Weights;
  /** What was tolerated: extra tensors ignored, a tied lm_head dropped. */
  notes: string[];
}

/** Loads and validates a checkpoint folder; `as: "f16"` keeps float16 bits (Uint16Array). */
export async function loadCheckpoint(
  dir: string,
  opts: { as?: "f32" | "f16" } = {},
): Promise<Checkpoint> {
  const { config, set, notes } = await verifyCheckpoint(dir);
  const as = opts.as ?? "f32";
  const tensors: Weights = new Map();
  for (const spec of expectedTensors(config)) {
    const h = set.where.get(spec.name)!;
    tensors.set(spec.name, await readTensor(h.path, h, spec.name, { as }));
  }
  return { config, tensors, notes };
}

/** Options for {@link saveCheckpoint}. */
export interface SaveOptions {
  /** Stored dtype (default F32). */
  dtype?: "F32" | "F16" | "BF16";
  /** Shard above this many bytes of tensor data (default 2 GB). */
  shardBytes?: number;
}

const TORCH_DTYPE = { F32: "float32", F16: "float16", BF16: "bfloat16" } as const;

async function removeIfExists(path: string): Promise<void> {
  await Deno.remove(path).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/**
 * Writes `config.json` and the weights in HF layout (each file atomically). Uint16Array inputs
 * are float16 bits (as {@link loadCheckpoint} with `as: "f16"` gives). Stale weight files of the
 * other layout (single vs sharded) are removed so the folder is never ambiguous.
 */
export async function saveCheckpoint(
  dir: string,
  config: Qwen3Config,
  tensors: Weights,
  opts: SaveOptions = {},
): Promise<void> {
  const dtype = opts.dtype ?? "F32";
  const shardBytes = opts.shardBytes ?? 2 * 1024 ** 3;
  const cfg = validateConfig({ ...config, torch_dtype: TORCH_DTYPE[dtype] }, "config");
  const specs = expectedTensors(cfg);
  const list: TensorToWrite[] = specs.map((s) => {
    const data = tensors.get(s.name);
    if (!data) throw new InputError(`saveCheckpoint: missing tensor "${s.name}"`, dir);
    if (data.length !== numel(s.shape)) {
      throw new InputError(
        `saveCheckpoint: "${s.name}" has ${data.length} values, shape [${s.shape}] needs ` +
          `${numel(s.shape)}`,
        dir,
      );
    }
    return { name: s.name, dtype, shape: s.shape, data: toStored(data, dtype) };
  });
  await Deno.mkdir(dir, { recursive: true });
  const bytesPer = dtype === "F32" ? 4 : 2;
  const total = list.reduce((a, t) => a + numel(t.shape) * bytesPer, 0);
  const single = joinPath(dir, "model.safetensors");
  const indexPath = joinPath(dir, "model.safetensors.index.json");
  const oldShards = await listedShards(indexPath);
  const meta = { format: "pt" };
  if (total <= shardBytes) {
    await writeSafetensors(single, list, meta);
    await removeIfExists(indexPath);
    for (const f of oldShards) await removeIfExists(joinPath(dir, f));
  } else {
    const sorted = [...list].sort((a, b) => a.name < b.name ? -1 : 1);
    const shards: TensorToWrite[][] = [[]];
    let size = 0;
    for (const t of sorted) {
      const b = numel(t.shape) * bytesPer;
      if (size > 0 && size + b > shardBytes) {
        shards.push([]);
        size = 0;
      }
      shards[shards.length - 1].push(t);
      size += b;
    }
    const n = shards.length;
    const pad = (i: number) => String(i).padStart(5, "0");
    const weightMap: Record<string, string> = {};
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const file = `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
      names.push(file);
      await writeSafetensors(joinPath(dir, file), shards[i], meta);
      for (const t of shards[i]) weightMap[t.name] = file;
    }
    await writeJsonAtomic(indexPath, { metadata: { total_size: total }, weight_map: weightMap });
    await removeIfExists(single);
    for (const f of oldShards) if (!names.includes(f)) await removeIfExists(joinPath(dir, f));
  }
  await writeJsonAtomic(joinPath(dir, "config.json"), cfg);
  if (cfg.eos_token_id !== undefined && cfg.eos_token_id !== null) {
    await writeJsonAtomic(joinPath(dir, "generation_config.json"), {
      ...(cfg.bos_token_id != null ? { bos_token_id: cfg.bos_token_id } : {}),
      eos_token_id: cfg.eos_token_id,
      ...(cfg.pad_token_id != null ? { pad_token_id: cfg.pad_token_id } : {}),
    });
  }
}

async function listedShards(indexPath: string): Promise<string[]> {
  try {
    const idx = JSON.parse(await Deno.readTextFile(indexPath));
    const files = Object.values(idx.weight_map ?? {}).filter((f): f is string =>
      typeof f === "string" && !f.includes("/")
    );
    return [...new Set(files)];
  } catch {
    return [];
  }
}

/** f16 bits (Uint16Array) are widened for F32/BF16 storage; f32 data is rounded when written. */
function toStored(data: Float32Array | Uint16Array, dtype: "F32" | "F16" | "BF16") {
  if (data instanceof Float32Array || dtype === "F16") return data;
  const out = new Float32Array(data.length);
  f16ToF32Into(data, new Uint32Array(out.buffer));
  return out;
}

/**
 * Deterministic random initialisation: normal(0, std) for matrices (std = the config's
 * initializer_range, default 0.02, as HF does) and ones for RMSNorm weights. One mulberry32
 * stream (Box-Muller) visits tensors in {@link expectedTensors} order, so a seed reproduces
 * the same weights everywhere.
 */
export function initParams(config: Qwen3Config, seed: number): Map<string, Float32Array> {
  const std = config.initializer_range ?? 0.02;
  const rand = mulberry32(seed);
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u1 = 1 - rand(); // (0, 1]: log is finite
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
  const out = new Map<string, Float32Array>();
  for (const spec of expectedTensors(config)) {
    const a = new Float32Array(numel(spec.shape));
    if (spec.kind === "norm") a.fill(1);
    else for (let i = 0; i < a.length; i++) a[i] = normal() * std;
    out.set(spec.name, a);
  }
  return out;
}
