/**
 * One optimisation step on the GPU, readable top to bottom: for each micro-batch, the forward,
 * the per-token loss coefficients, and the backward of sum_t coef[t]·logprob[t] accumulated into
 * the gradients; then global gradient-norm clipping and AdamW. A step of one micro-batch is one
 * submission with one readback; with gradient accumulation, one submission per micro-batch.
 *
 * The coefficients come either from the host (supervised losses: {@link meanCeCoef}) or, for
 * PPO, from the step's own logprobs: a kernel between forward and backward turns (logprob,
 * old logprob, advantage, aggregation weight) into dLoss/dlogprob with the clip and dual-clip
 * masks, inside the same submission (kernels/ppo_loss.ts). The forward scores
 * softmax(logits / temperature) when given the rollout temperature, so old and new logprobs are
 * of the same distribution.
 *
 * A NaN or infinite gradient norm skips the update on the GPU (kernels/gradnorm.ts writes a
 * negative clip coefficient, AdamW returns early): the weights and moments stay as they were
 * and the step counter is not advanced.
 */
import { Recorder } from "../core/gpu/recorder.ts";
import type { PackedBatch, Qwen3 } from "./qwen3.ts";
import { NO_TARGET } from "./qwen3.ts";
import { ParamSet } from "./params.ts";
import { Scratch } from "./scratch.ts";
import { clipCoefficient, gradNormSq } from "../kernels/gradnorm.ts";
import { adamw } from "../kernels/adamw.ts";
import { ppoCoefficients } from "../kernels/ppo_loss.ts";
import { readSafetensorsHeader, readTensor, writeSafetensors } from "./safetensors.ts";
import { joinPath, writeJsonAtomic } from "../core/fsutil.ts";
import { InputError } from "../core/errors.ts";

export interface OptimConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  maxGradNorm: number;
  /** Recompute each layer in the backward instead of storing its activations. */
  checkpoint: boolean;
}

export const DEFAULT_OPTIM: OptimConfig = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.0,
  maxGradNorm: 1.0,
  checkpoint: false,
};

/** PPO-clip settings (recipe §3.5; verl's compute_policy_loss_vanilla and kl_penalty). */
export interface PpoSettings {
  clipLow: number;
  clipHigh: number;
  /** Dual-clip constant c (A < 0: loss capped at -A·c); <= 1 disables. */
  clipC: number;
  /** KL-to-reference loss coefficient; 0 disables. */
  klCoef: number;
  klType: "none" | "k1" | "k3";
}

/** One micro-batch of a step. */
export interface MicroBatch {
  batch: PackedBatch;
  /** Host coefficients dLoss/dlogprob per token (supervised losses). */
  coef?: Float32Array;
  /** PPO inputs per token (0 weight on prompt tokens); the coefficient is computed on the GPU. */
  ppo?: {
    /**
     * The behaviour policy's logprobs. Absent: this forward's own logprobs (ratio exactly 1),
     * which is what a recomputed old logprob equals when the step makes a single update.
     */
    oldLogprob?: Float32Array;
    advantage: Float32Array;
    weight: Float32Array;
    refLogprob?: Float32Array;
  };
  /** Entropy-bonus coefficient per token: the loss gets sum_t entCoef[t]·H_t. */
  entCoef?: Float32Array;
}

/** What one micro-batch's forward and loss gave. */
export interface MicroResult {
  logprobs: Float32Array;
  entropy: Float32Array;
  /** PPO only: per token [loss contribution, clipped, dual-clipped, kl] (kernels/ppo_loss.ts). */
  ppoStats?: Float32Array;
}

export interface StepResult {
  /** sum_t coef[t]·logprob[t] over the micro-batches (the PPO loss for PPO micro-batches). */
  loss: number;
  /** Global gradient norm before clipping (NaN or Infinity when the step was skipped). */
  gradNorm: number;
  /** True when the gradient was not finite and no update was made. */
  skipped: boolean;
  micro: MicroResult[];
  /** Logprobs of the first micro-batch (kept for the single-batch API). */
  logprobs: Float32Array;
  tokens: number;
}

/** Cross-entropy coefficients: -1/N on every token with a target (N = their count). */
export function meanCeCoef(batch: PackedBatch, mask?: Uint8Array): Float32Array {
  const coef = new Float32Array(batch.targets.length);
  let n = 0;
  for (let t = 0; t < coef.length; t++) {
    if (batch.targets[t] !== NO_TARGET && (!mask || mask[t])) n++;
  }
  for (let t = 0; t < coef.length; t++) {
    if (batch.targets[t] !== NO_TARGET && (!mask || mask[t])) coef[t] = -1 / Math.max(n, 1);
  }
  return coef;
}

const KL_TYPE = { none: 0, k1: 1, k3: 2 } as const;

export class Trainer {
  readonly grads: ParamSet;
  readonly m: ParamSet;
  readonly v: ParamSet;
  /** Optimizer steps taken (AdamW's t); skipped steps do not count. */
  step = 0;

  constructor(readonly model: Qwen3, readonly optim: OptimConfig = DEFAULT_OPTIM) {
    const { gpu, config } = model;
    this.grads = ParamSet.zerosLike(gpu, config, "grad");
    this.m = ParamSet.zerosLike(gpu, config, "adam_m");
    this.v = ParamSet.zerosLike(gpu, config, "adam_v");
  }

  /** Runs one step on `batch` with per-token coefficients `coef` (see {@link meanCeCoef}). */
  trainStep(batch: PackedBatch, coef: Float32Array, lr = this.optim.lr): Promise<StepResult> {
    return this.run([{ batch, coef }], { lr });
  }

  /**
   * One optimizer step over micro-batches whose gradients accumulate (each micro-batch's
   * coefficients carry its share of the loss normalisation).
   */
  async run(
    micro: readonly MicroBatch[],
    opts: { lr?: number; invTemperature?: number; ppo?: PpoSettings } = {},
  ): Promise<StepResult> {
    if (micro.length === 0) throw new Error("a train step needs at least one micro-batch");
    const { model, optim } = this;
    const { gpu, pool } = model;
    const lr = opts.lr ?? optim.lr;
    const results: MicroResult[] = [];
    let loss = 0, tokens = 0, gradNorm = NaN, skipped = false;
    for (const [i, mb] of micro.entries()) {
      const last = i === micro.length - 1;
      const T = mb.batch.ids.length;
      tokens += T;
      const rec = new Recorder(gpu, pool, { label: "train step" });
      const s = new Scratch(pool);
      if (i === 0) this.grads.clear(rec);
      const st = await model.forward(rec, mb.batch, {
        train: true,
        checkpoint: optim.checkpoint,
        invTemperature: opts.invTemperature,
      });
      // Per-token coefficients: from the host, or PPO on the GPU from this forward's logprobs.
      const gCoef = s.tensor([T]);
      let stats: ReturnType<Scratch["tensor"]> | undefined;
      if (mb.ppo) {
        if (!opts.ppo) throw new Error("a PPO micro-batch needs PPO settings");
        const p = opts.ppo;
        stats = s.tensor([T, 4]);
        await ppoCoefficients(gpu, rec, {
          logprob: st.logprobs.buffer,
          oldLogprob: mb.ppo.oldLogprob ? s.upload(mb.ppo.oldLogprob).buffer : st.logprobs.buffer,
          advantage: s.upload(mb.ppo.advantage).buffer,
          weight: s.upload(mb.ppo.weight).buffer,
          refLogprob: mb.ppo.refLogprob ? s.upload(mb.ppo.refLogprob).buffer : undefined,
          coef: gCoef.buffer,
          stats: stats.buffer,
          tokens: T,
          clipLow: p.clipLow,
          clipHigh: p.clipHigh,
          clipC: p.clipC,
          klCoef: mb.ppo.refLogprob ? p.klCoef : 0,
          klType: mb.ppo.refLogprob ? KL_TYPE[p.klType] : 0,
        });
      } else {
        if (!mb.coef || mb.coef.length !== T) {
          throw new Error(`micro-batch ${i}: needs coef of length ${T} or PPO inputs`);
        }
        rec.copy(s.upload(mb.coef).buffer, 0, gCoef.buffer, 0, T * 4);
      }
      const entCoef = mb.entCoef ? s.upload(mb.entCoef) : undefined;
      await model.backward(rec, st, gCoef, this.grads, entCoef);
      let clip: ReturnType<Scratch["tensor"]> | undefined;
      if (last) clip = await this.recordUpdate(rec, s, lr);
      const lp = rec.read(st.logprobs.buffer, T * 4);
      const en = rec.read(st.entropy.buffer, T * 4);
      const sp = stats ? rec.read(stats.buffer, T * 16) : undefined;
      const cl = clip ? rec.read(clip.buffer, 8) : undefined;
      await rec.submit();
      const r: MicroResult = {
        logprobs: new Float32Array(await lp),
        entropy: new Float32Array(await en),
      };
      if (sp) {
        r.ppoStats = new Float32Array(await sp);
        for (let t = 0; t < T; t++) loss += r.ppoStats[t * 4];
      } else {
        for (let t = 0; t < T; t++) loss += mb.coef![t] * r.logprobs[t];
      }
      results.push(r);
      if (cl) {
        const c = new Float32Array(await cl);
        gradNorm = c[1];
        skipped = c[0] < 0;
      }
      model.release(st);
      s.releaseAll();
    }
    if (skipped) this.step--; // AdamW returned early: its step count did not advance
    return { loss, gradNorm, skipped, micro: results, logprobs: results[0].logprobs, tokens };
  }

  /** Records the global norm, the clip coefficient and AdamW; returns the [coef, norm] tensor. */
  private async recordUpdate(rec: Recorder, s: Scratch, lr: number) {
    const { model, optim } = this;
    const { gpu } = model;
    const normSq = s.tensor([4]), clip = s.tensor([4]);
    rec.clear(normSq.buffer);
    const entries = this.grads.entries();
    await gradNormSq(gpu, rec, {
      tensors: entries.map((e) => ({ view: e.tensor.buffer, n: e.n })),
      out: normSq.buffer,
    });
    await clipCoefficient(gpu, rec, {
      normSq: normSq.buffer,
      coef: clip.buffer,
      maxNorm: optim.maxGradNorm > 0 ? optim.maxGradNorm : 3.4e38,
    });
    this.step++;
    const params = model.weights.entries();
    const ms = this.m.entries(), vs = this.v.entries();
    for (let i = 0; i < params.length; i++) {
      await adamw(gpu, rec, {
        param: params[i].tensor.buffer,
        grad: entries[i].tensor.buffer,
        m: ms[i].tensor.buffer,
        v: vs[i].tensor.buffer,
        n: params[i].n,
        lr,
        beta1: optim.beta1,
        beta2: optim.beta2,
        eps: optim.eps,
        weightDecay: optim.weightDecay,
        step: this.step,
        gradScale: clip.buffer,
      });
    }
    return clip;
  }

  /**
   * Writes the optimizer state into `dir`: `optimizer.safetensors` (AdamW's m and v as
   * "m.<name>" / "v.<name>", f32, exact) and `optimizer.json` (the step count and settings).
   */
  async saveState(dir: string): Promise<void> {
    const { gpu, pool } = this.model;
    const m = await this.m.toHost(gpu, new Recorder(gpu, pool));
    const v = await this.v.toHost(gpu, new Recorder(gpu, pool));
    const list = [];
    for (const [prefix, set] of [["m.", m], ["v.", v]] as const) {
      for (const [name, data] of set) {
        const shape = this.m.byName.get(name)!.shape;
        list.push({ name: prefix + name, dtype: "F32" as const, shape, data });
      }
    }
    await writeSafetensors(joinPath(dir, "optimizer.safetensors"), list, { format: "pt" });
    await writeJsonAtomic(joinPath(dir, "optimizer.json"), {
      step: this.step,
      optim: this.optim,
    });
  }

  /** Restores what {@link saveState} wrote; every moment tensor must be present with its shape. */
  async loadState(dir: string): Promise<void> {
    const jsonPath = joinPath(dir, "optimizer.json");
    let meta: { step?: unknown };
    try {
      meta = JSON.parse(await Deno.readTextFile(jsonPath));
    } catch (e) {
      throw new InputError(`cannot read optimizer state: ${(e as Error).message}`, jsonPath);
    }
    if (!Number.isSafeInteger(meta.step) || (meta.step as number) < 0) {
      throw new InputError("not a non-negative integer", jsonPath, undefined, "step");
    }
    const path = joinPath(dir, "optimizer.safetensors");
    const header = await readSafetensorsHeader(path);
    const { gpu } = this.model;
    for (const [prefix, set] of [["m.", this.m], ["v.", this.v]] as const) {
      for (const { name, tensor, n } of set.entries()) {
        const data = header.tensors.has(prefix + name)
          ? await readTensor(path, header, prefix + name)
          : undefined;
        if (!data || data.length !== n) {
          throw new InputError(`missing or misshapen tensor "${prefix + name}"`, path);
        }
        gpu.device.queue.writeBuffer(tensor.buffer, 0, data as Float32Array<ArrayBuffer>);
      }
    }
    this.step = meta.step as number;
  }

  destroy(): void {
    this.grads.destroy();
    this.m.destroy();
    this.v.destroy();
  }
}
