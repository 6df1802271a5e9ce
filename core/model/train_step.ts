/**
 * One optimisation step on the GPU, readable top to bottom: forward, backward
 * of sum_t coef[t]·logprob[t], global gradient-norm clipping, AdamW — all in a
 * single submission, with one readback (the logprobs and the gradient norm).
 */
import { Recorder } from "../gpu/recorder.ts";
import type { PackedBatch, Qwen3 } from "./qwen3.ts";
import { NO_TARGET } from "./qwen3.ts";
import { ParamSet } from "./params.ts";
import { Scratch } from "./scratch.ts";
import { clipCoefficient, gradNormSq } from "../../kernels/gradnorm.ts";
import { adamw } from "../../kernels/adamw.ts";

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

export interface StepResult {
  /** sum_t coef[t]·logprob[t], the loss the gradient is of (for meanCeCoef, the mean CE). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
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

export class Trainer {
  readonly grads: ParamSet;
  readonly m: ParamSet;
  readonly v: ParamSet;
  step = 0;

  constructor(readonly model: Qwen3, readonly optim: OptimConfig = DEFAULT_OPTIM) {
    const { gpu, config } = model;
    this.grads = ParamSet.zerosLike(gpu, config, "grad");
    this.m = ParamSet.zerosLike(gpu, config, "adam_m");
    this.v = ParamSet.zerosLike(gpu, config, "adam_v");
  }

  /** Runs one step on `batch` with per-token coefficients `coef` (see {@link meanCeCoef}). */
  async trainStep(batch: PackedBatch, coef: Float32Array, lr = this.optim.lr): Promise<StepResult> {
    const { model, optim } = this;
    const { gpu, pool } = model;
    const rec = new Recorder(gpu, pool, { label: "train step" });
    const s = new Scratch(pool);
    this.grads.clear(rec);
    const st = await model.forward(rec, batch, { train: true, checkpoint: optim.checkpoint });
    const gCoef = s.upload(coef);
    await model.backward(rec, st, gCoef, this.grads);
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
    const T = batch.ids.length;
    const lp = rec.read(st.logprobs.buffer, T * 4);
    const cl = rec.read(clip.buffer, 8);
    await rec.submit();
    const logprobs = new Float32Array(await lp);
    const gradNorm = new Float32Array(await cl)[1];
    model.release(st);
    s.releaseAll();
    let loss = 0;
    for (let t = 0; t < T; t++) loss += coef[t] * logprobs[t];
    return { loss, gradNorm, logprobs, tokens: T };
  }

  destroy(): void {
    this.grads.destroy();
    this.m.destroy();
    this.v.destroy();
  }
}
