/**
 * The Qwen3 model configuration, in Hugging Face's `config.json` field names so our
 * checkpoints load in `transformers` and theirs load here. Also the tensor inventory a config
 * implies (names and shapes, HF layout), parameter counts, memory estimates and size presets.
 */
import { ConfigError } from "../core/errors.ts";
import { joinPath } from "../core/fsutil.ts";

/** HF `Qwen3Config` fields we read and write. */
export interface Qwen3Config {
  architectures: string[];
  model_type: "qwen3";
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  tie_word_embeddings: boolean;
  hidden_act: "silu";
  attention_bias: false;
  torch_dtype?: "float32" | "float16" | "bfloat16";
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  initializer_range?: number;
  /** Other keys from config.json, kept so a load/save round trip loses nothing. */
  [extra: string]: unknown;
}

/** The size-defining fields of a preset; vocab comes from the tokenizer. */
export type Qwen3Shape = Pick<
  Qwen3Config,
  | "hidden_size"
  | "intermediate_size"
  | "num_hidden_layers"
  | "num_attention_heads"
  | "num_key_value_heads"
  | "head_dim"
  | "max_position_embeddings"
  | "tie_word_embeddings"
>;

/** Names of the size presets, in order of size. */
export const PRESET_NAMES = ["tiny", "small", "qwen3-0.6b"] as const;
export type PresetName = typeof PRESET_NAMES[number];

/** Whether `name` is a preset's name. */
export function isPreset(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/**
 * A size preset; a preset that copies a released model also carries that model's vocabulary
 * (used when no tokenizer gives one, e.g. random weights of the real shape for benchmarks).
 */
export type Qwen3Preset = Qwen3Shape & { vocab_size?: number };

/** Size presets: models trained from scratch here, and the real shapes we must run. */
export const PRESETS: Record<PresetName, Qwen3Preset> = {
  // ~0.8M non-embedding parameters: fast enough to train on lavapipe in tests.
  tiny: {
    hidden_size: 128,
    intermediate_size: 384,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 32,
    max_position_embeddings: 4096,
    tie_word_embeddings: true,
  },
  // ~10M non-embedding parameters.
  small: {
    hidden_size: 384,
    intermediate_size: 1152,
    num_hidden_layers: 6,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    head_dim: 64,
    max_position_embeddings: 8192,
    tie_word_embeddings: true,
  },
  // Qwen/Qwen3-0.6B's config.json (0.6B parameters, 0.44B of them outside the embedding):
  // its tensors exceed one 128 MiB storage binding (the embedding alone is 622 MB in f32).
  "qwen3-0.6b": {
    hidden_size: 1024,
    intermediate_size: 3072,
    num_hidden_layers: 28,
    num_attention_heads: 16,
    num_key_value_heads: 8,
    head_dim: 128,
    max_position_embeddings: 40960,
    tie_word_embeddings: true,
    vocab_size: 151936,
  },
};

/** A full config from a preset (or explicit shape) and the tokenizer's vocabulary size. */
export function makeConfig(
  shape: Qwen3Preset | keyof typeof PRESETS,
  vocabSize: number,
  extra: Partial<Qwen3Config> = {},
): Qwen3Config {
  const { vocab_size: _presetVocab, ...s } = typeof shape === "string" ? PRESETS[shape] : shape;
  const cfg: Qwen3Config = {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    vocab_size: vocabSize,
    ...s,
    rms_norm_eps: 1e-6,
    rope_theta: 1_000_000,
    hidden_act: "silu",
    attention_bias: false,
    attention_dropout: 0.0,
    initializer_range: 0.02,
    rope_scaling: null,
    use_sliding_window: false,
    sliding_window: null,
    torch_dtype: "float32",
    ...extra,
  };
  validateConfig(cfg, "<preset>");
  return cfg;
}

type Check = (v: unknown) => string | undefined;
const posInt: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) > 0 ? undefined : "a positive integer";
const posNum: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? undefined : "a positive number";
const bool: Check = (v) => typeof v === "boolean" ? undefined : "true or false";

const REQUIRED: Record<string, Check> = {
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  rms_norm_eps: posNum,
  rope_theta: posNum,
};

function err(file: string, key: string, msg: string): ConfigError {
  return new ConfigError(`${file}: "${key}" ${msg}`, key, file);
}

/**
 * Fills defaults (head_dim = hidden_size / num_attention_heads, num_key_value_heads =
 * num_attention_heads, ...) and checks types and ranges; errors name the file and key.
 * Returns the completed config (the input is not modified).
 */
export function validateConfig(raw: unknown, file = "config.json"): Qwen3Config {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${file}: not a JSON object`, undefined, file);
  }
  const c = { ...(raw as Record<string, unknown>) };
  if (c.model_type !== undefined && c.model_type !== "qwen3") {
    throw err(file, "model_type", `is ${JSON.stringify(c.model_type)}; only "qwen3" is supported`);
  }
  for (const [key, check] of Object.entries(REQUIRED)) {
    if (c[key] === undefined) throw err(file, key, "is missing");
    const want = check(c[key]);
    if (want) throw err(file, key, `must be ${want}, got ${JSON.stringify(c[key])}`);
  }
  c.num_key_value_heads ??= c.num_attention_heads;
  c.head_dim ??= (c.hidden_size as number) / (c.num_attention_heads as number);
  c.max_position_embeddings ??= 40960;
  c.tie_word_embeddings ??= false; // HF's PretrainedConfig default is true, Qwen3Config's is false
  c.hidden_act ??= "silu";
  c.attention_bias ??= false;
  c.architectures ??= ["Qwen3ForCausalLM"];
  c.model_type = "qwen3";
  for (
    const [key, check] of [
      ["num_key_value_heads", posInt],
      ["head_dim", posInt],
      ["max_position_embeddings", posInt],
      ["tie_word_embeddings", bool],
    ] as const
  ) {
    const want = check(c[key]);
    if (want) throw err(file, key, `must be ${want}, got ${JSON.stringify(c[key])}`);
  }
  const hq = c.num_attention_heads as number, hkv = c.num_key_value_heads as number;
  if (hq % hkv !== 0) {
    throw err(
      file,
      "num_key_value_heads",
      `(${hkv}) must divide num_attention_heads (${hq}) for grouped-query attention`,
    );
  }
  if ((c.head_dim as number) % 2 !== 0) {
    throw err(file, "head_dim", `must be even for rotary embeddings, got ${c.head_dim}`);
  }
  if (c.hidden_act !== "silu") {
    throw err(file, "hidden_act", `is ${JSON.stringify(c.hidden_act)}; only "silu" is supported`);
  }
  if (c.attention_bias !== false) {
    throw err(file, "attention_bias", "must be false (Qwen3 has no attention bias)");
  }
  if (c.rope_scaling !== undefined && c.rope_scaling !== null) {
    throw err(file, "rope_scaling", "is not supported (only plain RoPE); set it to null");
  }
  if (c.use_sliding_window === true) {
    throw err(file, "use_sliding_window", "is not supported; set it to false");
  }
  if (
    c.torch_dtype !== undefined && c.torch_dtype !== null &&
    !["float32", "float16", "bfloat16"].includes(c.torch_dtype as string)
  ) {
    throw err(file, "torch_dtype", `must be float32, float16 or bfloat16, got ${c.torch_dtype}`);
  }
  for (const key of ["bos_token_id", "pad_token_id"]) {
    const v = c[key];
    if (v !== undefined && v !== null && !(Number.isSafeInteger(v) && (v as number) >= 0)) {
      throw err(file, key, `must be a token id or null, got ${JSON.stringify(v)}`);
    }
  }
  const eos = c.eos_token_id;
  if (
    eos !== undefined && eos !== null &&
    !(Number.isSafeInteger(eos) && (eos as number) >= 0) &&
    !(Array.isArray(eos) && eos.every((e) => Number.isSafeInteger(e) && e >= 0))
  ) throw err(file, "eos_token_id", `must be a token id or a list of them`);
  return c as Qwen3Config;
}

/** Reads and validates `<dir>/config.json`. */
export async function readConfig(dir: string): Promise<Qwen3Config> {
  const file = joinPath(dir, "config.json");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`, undefined, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: invalid JSON: ${(e as Error).message}`, undefined, file);
  }
  return validateConfig(raw, file);
}

/** One tensor a config implies: HF name and shape ([out, in] for linear weights). */
export interface TensorSpec {
  name: string;
  shape: number[];
  /** "norm" for RMSNorm weights (initialised to ones), "matrix" otherwise. */
  kind: "matrix" | "norm";
}

/** Every HF tensor name and shape for this config, in model order. */
export function expectedTensors(cfg: Qwen3Config): TensorSpec[] {
  const H = cfg.hidden_size, I = cfg.intermediate_size, d = cfg.head_dim;
  const hq = cfg.num_attention_heads, hkv = cfg.num_key_value_heads, V = cfg.vocab_size;
  const m = (name: string, shape: number[]): TensorSpec => ({ name, shape, kind: "matrix" });
  const n = (name: string, size: number): TensorSpec => ({ name, shape: [size], kind: "norm" });
  const out: TensorSpec[] = [m("model.embed_tokens.weight", [V, H])];
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      n(p + "input_layernorm.weight", H),
      m(p + "self_attn.q_proj.weight", [hq * d, H]),
      m(p + "self_attn.k_proj.weight", [hkv * d, H]),
      m(p + "self_attn.v_proj.weight", [hkv * d, H]),
      m(p + "self_attn.o_proj.weight", [H, hq * d]),
      n(p + "self_attn.q_norm.weight", d),
      n(p + "self_attn.k_norm.weight", d),
      n(p + "post_attention_layernorm.weight", H),
      m(p + "mlp.gate_proj.weight", [I, H]),
      m(p + "mlp.up_proj.weight", [I, H]),
      m(p + "mlp.down_proj.weight", [H, I]),
    );
  }
  out.push(n("model.norm.weight", H));
  if (!cfg.tie_word_embeddings) out.push(m("lm_head.weight", [V, H]));
  return out;
}

/** Total parameters (a tied lm_head counted once). */
export function paramCount(cfg: Qwen3Config): number {
  let n = 0;
  for (const t of expectedTensors(cfg)) n += t.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Bytes per element for the dtype names used in configs and flags. */
export const DTYPE_SIZE = { f32: 4, float32: 4, f16: 2, float16: 2, bf16: 2, bfloat16: 2 } as const;

/** Rough memory needs in bytes. */
export interface MemoryEstimate {
  params: number;
  /** The weights in the given dtype. */
  weights: number;
  /** Weights + f32 gradients + two f32 Adam moments (+ an f32 master copy when not f32). */
  training: number;
  /** KV cache bytes per token of context (all layers, K and V) in the given dtype. */
  kvPerToken: number;
}

/** Memory estimate for holding, training and running `cfg` with weights in `dtype`. */
export function memoryEstimate(
  cfg: Qwen3Config,
  dtype: keyof typeof DTYPE_SIZE = "f32",
): MemoryEstimate {
  const params = paramCount(cfg);
  const b = DTYPE_SIZE[dtype];
  const weights = params * b;
  const training = weights + params * 4 * 3 + (b === 4 ? 0 : params * 4);
  const kvPerToken = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * cfg.head_dim * b;
  return { params, weights, training, kvPerToken };
}
