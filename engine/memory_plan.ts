/**
 * Memory a train step or a generation needs, tensor by tensor as the engine allocates them
 * (engine/qwen3.ts, train_step.ts, generate.ts; scratch buffers rounded to the pool's size
 * classes), checked before the work against what the adapter and the host allow. When it does
 * not fit, the plan names the knob that makes it fit: recompute (activation checkpointing), a
 * micro-batch size (gradient accumulation), or f16 weights (inference).
 */
import { sizeClass } from "../core/gpu/pool.ts";
import { paramCount, type Qwen3Config } from "./model_config.ts";
import { dimsOf } from "./params.ts";
import { vocabChunkFor } from "./qwen3.ts";

/** What the device and host allow. */
export interface MemoryBudget {
  /** Bytes the step may use, or null when the adapter does not say (WebGPU reports no VRAM). */
  deviceBytes: number | null;
  /** Where deviceBytes comes from, for the report. */
  deviceSource: string;
  /** The adapter's largest single buffer. */
  maxBufferSize: number;
  /** The adapter's largest storage binding (sets the LM-head chunk). */
  maxBindingSize: number;
  /** Host memory available now, or null when unknown. */
  hostAvailable: number | null;
  /** True when the adapter's memory is host memory (a software adapter such as lavapipe). */
  unified: boolean;
}

/** The budget of an adapter described by its limits and kind, on this host. */
export function memoryBudget(
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number },
  kind: "software" | "hardware",
): MemoryBudget {
  let hostAvailable: number | null = null;
  try {
    hostAvailable = Deno.systemMemoryInfo().available;
  } catch {
    hostAvailable = null;
  }
  const unified = kind === "software";
  return {
    deviceBytes: unified ? hostAvailable : null,
    deviceSource: unified
      ? "available host memory (a software adapter's memory is the host's)"
      : "unknown (WebGPU does not report an adapter's memory)",
    maxBufferSize: limits.maxBufferSize,
    maxBindingSize: limits.maxStorageBufferBindingSize,
    hostAvailable,
    unified,
  };
}

/** One line of a plan. */
export interface PlanItem {
  what: string;
  bytes: number;
}

/** A memory plan and its verdict. */
export interface MemoryPlan {
  items: PlanItem[];
  /** Device bytes at the peak (the sum of items). */
  deviceBytes: number;
  /** Host bytes beside the device's (host copies; on a software adapter, added to the device's). */
  hostBytes: number;
  /** The largest single tensor, against maxBufferSize. */
  largestTensor: { name: string; bytes: number };
  fits: boolean | null;
  /** Why it does not fit (or why fitting is unknown), empty when it fits. */
  reasons: string[];
  /** The knob to turn when it does not fit, with the setting that fits; null when none helps. */
  knob: string | null;
}

/** Options of a train-step plan. */
export interface TrainPlanOptions {
  /** Tokens per micro-batch. */
  tokens: number;
  /** Recompute each layer in the backward (OptimConfig.checkpoint). */
  checkpoint: boolean;
  /** The backward's NT route (software adapters): transposed operands in scratch. */
  ntBackward: boolean;
  maxBindingSize: number;
}

const F32 = 4;
const pooled = (elements: number) => sizeClass(Math.max(16, elements * F32));

/** The largest tensor of a config in f32: the embedding (or a layer matrix for tiny vocabularies). */
function largestTensor(c: Qwen3Config, bytesPer = F32): { name: string; bytes: number } {
  const { V, H, I } = dimsOf(c);
  return V * H >= I * H
    ? { name: `the embedding [${V}, ${H}]`, bytes: V * H * bytesPer }
    : { name: `an MLP matrix [${I}, ${H}]`, bytes: I * H * bytesPer };
}

/** Device bytes of one train step of `tokens` tokens (one micro-batch), item by item. */
export function trainStepItems(c: Qwen3Config, o: TrainPlanOptions): PlanItem[] {
  const { H, I, L, hq, hkv, d, V } = dimsOf(c);
  const T = o.tokens, P = paramCount(c);
  const acts = () =>
    [
      T, // rstd1
      T * H, // xn1
      T * hq * d, // qRaw
      T * hkv * d, // kRaw
      T * hq, // rstdQ
      T * hkv, // rstdK
      T * hq * d, // q
      T * hkv * d, // k
      T * hkv * d, // v
      T * hq * d, // attn
      T * hq, // lse
      T * H, // xMid
      T, // rstd2
      T * H, // xn2
      T * I, // gate
      T * I, // up
      T * I, // act
    ].reduce((a, n) => a + pooled(n), 0);
  const chunk = vocabChunkFor({ V, H }, T, o.maxBindingSize);
  const items: PlanItem[] = [
    { what: `weights (${P} parameters, f32)`, bytes: P * F32 },
    { what: "gradients (f32)", bytes: P * F32 },
    { what: "AdamW moments m and v (f32)", bytes: 2 * P * F32 },
    { what: `residual stream at ${L + 1} layer boundaries`, bytes: (L + 1) * pooled(T * H) },
    o.checkpoint
      ? { what: "layer activations (recompute: one layer's, twice)", bytes: 2 * acts() }
      : { what: `layer activations (${L} layers kept for the backward)`, bytes: L * acts() },
    {
      what: `LM head: logits chunk of ${chunk} rows, forward and backward`,
      bytes: 2 * pooled(T * chunk) + 2 * pooled(T * 4) + 5 * pooled(T) + 2 * pooled(T * H),
    },
    {
      what: "backward temporaries of one layer (shared by all layers)",
      bytes: 3 * pooled(T * I) + 2 * pooled(T * H) + 3 * pooled(T * hq * d) +
        3 * pooled(T * hkv * d) + (o.checkpoint ? pooled(T * H) : 0),
    },
  ];
  if (o.ntBackward) {
    // Transposed operands (engine/qwen3.ts `transposed` slots) and the head's NT buffers.
    const wMax = Math.max(I * H, hq * d * H);
    items.push({
      what: "transposed operands (the NT backward of software adapters)",
      bytes: pooled(wMax) + pooled(T * Math.max(I, hq * d, H)) + pooled(T * Math.max(I, H)) +
        pooled(H * chunk) * 3 + pooled(chunk * T) + 2 * pooled(H * T),
    });
  }
  return items;
}

/** Host bytes a bench or a fresh run holds beside the device: the f32 initial weights. */
function initHostBytes(c: Qwen3Config): number {
  return paramCount(c) * F32;
}

function verdict(
  items: PlanItem[],
  hostBytes: number,
  largest: { name: string; bytes: number },
  b: MemoryBudget,
): Pick<MemoryPlan, "fits" | "reasons"> {
  const device = items.reduce((a, i) => a + i.bytes, 0);
  const reasons: string[] = [];
  const gib = (x: number) => `${(x / 2 ** 30).toFixed(2)} GiB`;
  if (largest.bytes > b.maxBufferSize) {
    reasons.push(
      `${largest.name} needs ${gib(largest.bytes)}, over the adapter's largest buffer ` +
        `(maxBufferSize ${gib(b.maxBufferSize)})`,
    );
  }
  if (b.deviceBytes !== null) {
    const need = device + (b.unified ? hostBytes : 0);
    if (need > b.deviceBytes) {
      reasons.push(
        `needs ${gib(need)}${b.unified ? " of host memory (device and host copies)" : ""}, over ` +
          `the ${gib(b.deviceBytes)} of ${b.deviceSource}`,
      );
    }
  } else if (b.hostAvailable !== null && hostBytes > b.hostAvailable) {
    reasons.push(`host copies need ${gib(hostBytes)}, over ${gib(b.hostAvailable)} available`);
  }
  if (reasons.length) return { fits: false, reasons };
  if (b.deviceBytes === null) {
    return { fits: null, reasons: [`device memory ${b.deviceSource}: the plan is not checked`] };
  }
  return { fits: true, reasons };
}

function plan(
  items: PlanItem[],
  hostBytes: number,
  largest: { name: string; bytes: number },
  b: MemoryBudget,
  knob: string | null,
): MemoryPlan {
  const v = verdict(items, hostBytes, largest, b);
  return {
    items,
    deviceBytes: items.reduce((a, i) => a + i.bytes, 0),
    hostBytes,
    largestTensor: largest,
    ...v,
    knob: v.fits === false ? knob : null,
  };
}

/**
 * The plan of a train step, with the knob that fits when it does not: recompute first (it costs
 * one extra forward), then micro-batches of fewer tokens (with recompute), halving until it fits.
 */
export function planTrainStep(c: Qwen3Config, o: TrainPlanOptions, b: MemoryBudget): MemoryPlan {
  const host = initHostBytes(c), largest = largestTensor(c);
  const at = (x: TrainPlanOptions) => plan(trainStepItems(c, x), host, largest, b, null);
  const base = at(o);
  if (base.fits !== false) return base;
  let knob: string | null = null;
  if (largest.bytes > b.maxBufferSize) {
    knob = "none of recompute, micro-batch or f16 weights: training keeps f32 weights; " +
      "use an adapter with a larger maxBufferSize or a smaller vocabulary";
  } else if (!o.checkpoint && at({ ...o, checkpoint: true }).fits !== false) {
    knob = "recompute: optim.recompute=true (bench: --checkpoint), " +
      `${fmt(at({ ...o, checkpoint: true }).deviceBytes)} instead of ${fmt(base.deviceBytes)}`;
  } else {
    for (let t = Math.floor(o.tokens / 2); t >= 1; t = Math.floor(t / 2)) {
      const p = at({ ...o, tokens: t, checkpoint: true });
      if (p.fits !== false) {
        knob = `micro-batch: optim.recompute=true and train.micro_batch_tokens=${t} ` +
          `(${Math.ceil(o.tokens / t)} accumulation steps; sequences are not split, so this ` +
          `needs sequences of at most ${t} tokens), ${fmt(p.deviceBytes)}`;
        break;
      }
    }
    knob ??= `none: weights, gradients and AdamW moments alone need ${
      fmt(16 * paramCount(c))
    } (16 bytes per parameter); f16 weights serve inference only`;
  }
  return { ...base, knob };
}

/** Options of a generation plan. */
export interface GenerationPlanOptions {
  /** Sequences decoded together. */
  batch: number;
  /** Positions per sequence (prompt + new tokens). */
  positions: number;
  /** Prompt tokens prefilled in one pass. */
  prefillTokens: number;
  weights: "f32" | "f16";
  maxBindingSize: number;
}

/** Device bytes of a generation: weights, the KV cache and the prefill's activations. */
export function generationItems(c: Qwen3Config, o: GenerationPlanOptions): PlanItem[] {
  const { H, I, L, hq, hkv, d, V } = dimsOf(c);
  const P = paramCount(c);
  const matrices = P - (2 * L + 1) * H - 2 * L * d; // every parameter outside the norms
  const wb = o.weights === "f16" ? 2 : 4;
  const T = o.prefillTokens;
  const chunk = vocabChunkFor({ V, H }, T, o.maxBindingSize);
  return [
    { what: `weights (${o.weights} matrices)`, bytes: matrices * wb + (P - matrices) * F32 },
    {
      what: `KV cache (${o.batch} sequence(s) x ${o.positions} positions, f32)`,
      bytes: 2 * L * pooled(2 * o.batch * hkv * o.positions * d), // prompt + rollout slots
    },
    {
      what: `prefill activations (${T} tokens, one layer's, reused)`,
      bytes: 2 * pooled(T * H) + 3 * pooled(T * I) + 4 * pooled(T * hq * d) +
        4 * pooled(T * hkv * d) + 3 * pooled(T * H) + pooled(T * chunk),
    },
  ];
}

/** The plan of a generation; f16 weights are the knob when f32 does not fit. */
export function planGeneration(
  c: Qwen3Config,
  o: GenerationPlanOptions,
  b: MemoryBudget,
): MemoryPlan {
  const host = initHostBytes(c);
  const at = (x: GenerationPlanOptions) =>
    plan(generationItems(c, x), host, largestTensor(c, x.weights === "f16" ? 2 : 4), b, null);
  const base = at(o);
  if (base.fits !== false) return base;
  let knob: string | null = null;
  if (o.weights === "f32" && at({ ...o, weights: "f16" }).fits !== false) {
    knob = `f16 weights (--dtype f16): ${fmt(at({ ...o, weights: "f16" }).deviceBytes)}`;
  } else {
    for (let B = Math.floor(o.batch / 2); B >= 1; B = Math.floor(B / 2)) {
      if (at({ ...o, weights: "f16", batch: B }).fits !== false) {
        knob = `f16 weights and at most ${B} sequence(s) at once`;
        break;
      }
    }
  }
  return { ...base, knob };
}

function fmt(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** The plan as lines for a report. */
export function formatPlan(title: string, p: MemoryPlan): string {
  const lines = [`${title}: ${fmt(p.deviceBytes)} on the device at the peak`];
  for (const i of p.items) lines.push(`  ${fmt(i.bytes).padStart(10)}  ${i.what}`);
  lines.push(`  ${fmt(p.hostBytes).padStart(10)}  host: the f32 initial weights`);
  lines.push(
    `  fits: ${p.fits === null ? "unknown" : p.fits ? "yes" : "no"}${
      p.reasons.length ? ` (${p.reasons.join("; ")})` : ""
    }`,
  );
  if (p.fits === false) lines.push(`  knob: ${p.knob ?? "none of recompute, micro-batch, f16"}`);
  return lines.join("\n") + "\n";
}
