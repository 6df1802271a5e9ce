/**
 * The Qwen3 parameters on the GPU, addressed by role (for the forward and
 * backward code) and by Hugging Face name (for loading and saving). Gradients
 * and AdamW moments mirror the parameters one for one.
 */
import type { Gpu } from "../core/gpu/device.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import { empty, fromArray, numel, type Tensor } from "../core/tensor.ts";
import { expectedTensors, type Qwen3Config } from "./model_config.ts";
import { f32ToF16Into } from "./float_convert.ts";

export interface LayerParams {
  inNorm: Tensor; // [H]
  q: Tensor; // [hq*d, H]
  k: Tensor; // [hkv*d, H]
  v: Tensor; // [hkv*d, H]
  o: Tensor; // [H, hq*d]
  qNorm: Tensor; // [d]
  kNorm: Tensor; // [d]
  postNorm: Tensor; // [H]
  gate: Tensor; // [I, H]
  up: Tensor; // [I, H]
  down: Tensor; // [H, I]
}

export interface ModelParams {
  embed: Tensor; // [V, H]
  layers: LayerParams[];
  norm: Tensor; // [H]
  /** [V, H]; the same tensor as `embed` when embeddings are tied. */
  lmHead: Tensor;
}

/** Model dimensions derived from the config. */
export interface Dims {
  H: number;
  I: number;
  L: number;
  V: number;
  hq: number;
  hkv: number;
  d: number;
  eps: number;
  theta: number;
  tied: boolean;
  maxPos: number;
}

export function dimsOf(c: Qwen3Config): Dims {
  const hq = c.num_attention_heads;
  return {
    H: c.hidden_size,
    I: c.intermediate_size,
    L: c.num_hidden_layers,
    V: c.vocab_size,
    hq,
    hkv: c.num_key_value_heads,
    d: c.head_dim,
    eps: c.rms_norm_eps,
    theta: c.rope_theta,
    tied: Boolean(c.tie_word_embeddings),
    maxPos: c.max_position_embeddings,
  };
}

const LAYER_NAMES: [keyof LayerParams, string][] = [
  ["inNorm", "input_layernorm.weight"],
  ["q", "self_attn.q_proj.weight"],
  ["k", "self_attn.k_proj.weight"],
  ["v", "self_attn.v_proj.weight"],
  ["o", "self_attn.o_proj.weight"],
  ["qNorm", "self_attn.q_norm.weight"],
  ["kNorm", "self_attn.k_norm.weight"],
  ["postNorm", "post_attention_layernorm.weight"],
  ["gate", "mlp.gate_proj.weight"],
  ["up", "mlp.up_proj.weight"],
  ["down", "mlp.down_proj.weight"],
];

/** Every parameter as (HF name, shape), in model order; lm_head omitted when tied. */
export function paramSpecs(c: Qwen3Config): { name: string; shape: number[] }[] {
  return expectedTensors(c);
}

/**
 * The GPU dtype of a parameter: with `matrices: "f16"` (inference) the weight matrices are
 * float16, halving their memory; norm weights (1-D) stay f32, as does everything for training.
 */
export function paramDtype(
  shape: readonly number[],
  matrices: "f32" | "f16" = "f32",
): "f32" | "f16" {
  return matrices === "f16" && shape.length === 2 ? "f16" : "f32";
}

/** Parameters (or gradients, or moments) as a role-addressed structure over named tensors. */
export class ParamSet {
  readonly byName = new Map<string, Tensor>();
  readonly params: ModelParams;

  private constructor(
    readonly config: Qwen3Config,
    make: (name: string, shape: number[]) => Tensor,
  ) {
    for (const { name, shape } of paramSpecs(config)) this.byName.set(name, make(name, shape));
    const get = (n: string) => this.byName.get(n)!;
    const { L, tied } = dimsOf(config);
    const layers: LayerParams[] = [];
    for (let i = 0; i < L; i++) {
      const lp = {} as LayerParams;
      for (const [role, n] of LAYER_NAMES) lp[role] = get(`model.layers.${i}.${n}`);
      layers.push(lp);
    }
    const embed = get("model.embed_tokens.weight");
    this.params = {
      embed,
      layers,
      norm: get("model.norm.weight"),
      lmHead: tied ? embed : get("lm_head.weight"),
    };
  }

  /**
   * Uploads host tensors (f32) by HF name; every expected name must be present with its shape.
   * With `matrices: "f16"` (inference; needs no feature, kernels unpack it) the weight
   * matrices are stored as float16, halving their memory; norm weights stay f32.
   */
  static fromHost(
    gpu: Gpu,
    config: Qwen3Config,
    host: Map<string, Float32Array>,
    opts: { matrices?: "f32" | "f16" } = {},
  ): ParamSet {
    return new ParamSet(config, (name, shape) => {
      const data = host.get(name);
      if (!data) throw new Error(`missing tensor ${name}`);
      if (data.length !== numel(shape)) {
        throw new Error(`tensor ${name} has ${data.length} values, expected [${shape}]`);
      }
      if (paramDtype(shape, opts.matrices) === "f16") {
        const bits = new Uint16Array(data.length);
        f32ToF16Into(new Uint32Array(data.buffer, data.byteOffset, data.length), bits);
        return fromArray(gpu, bits, shape, name);
      }
      return fromArray(gpu, data, shape, name);
    });
  }

  /**
   * Takes tensors already on the GPU (e.g. streamed from a checkpoint) by HF name; every
   * expected name must be present with its shape.
   */
  static fromTensors(config: Qwen3Config, tensors: Map<string, Tensor>): ParamSet {
    return new ParamSet(config, (name, shape) => {
      const t = tensors.get(name);
      if (!t) throw new Error(`missing tensor ${name}`);
      if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
        throw new Error(`tensor ${name} has shape [${t.shape}], expected [${shape}]`);
      }
      return t;
    });
  }

  /** Zero-filled tensors of the same names and shapes (gradients, moments). */
  static zerosLike(gpu: Gpu, config: Qwen3Config, label: string): ParamSet {
    return new ParamSet(config, (name, shape) => empty(gpu, shape, "f32", `${label}:${name}`));
  }

  /** Every tensor with its element count (for norms and optimizer loops). */
  entries(): { name: string; tensor: Tensor; n: number }[] {
    return [...this.byName].map(([name, tensor]) => ({ name, tensor, n: numel(tensor.shape) }));
  }

  /** Records zeroing every tensor. */
  clear(rec: Recorder): void {
    for (const t of this.byName.values()) rec.clear(t.buffer);
  }

  /** Reads every tensor back to the host in one submission. */
  async toHost(gpu: Gpu, rec: Recorder): Promise<Map<string, Float32Array>> {
    const reads = this.entries().map(({ name, tensor, n }) => ({
      name,
      p: rec.read(tensor.buffer, n * 4),
    }));
    await rec.submit();
    const out = new Map<string, Float32Array>();
    for (const { name, p } of reads) out.set(name, new Float32Array(await p));
    gpu.check();
    return out;
  }

  destroy(): void {
    for (const t of this.byName.values()) t.buffer.destroy();
  }
}
