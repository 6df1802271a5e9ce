/**
 * The PPO-clip policy loss per token, turned on the GPU into the coefficient coef[t] =
 * dLoss/dlogprob[t] that the model's backward consumes (see `xentChunkBackward`: dlogits =
 * coef · invT · (onehot − softmax)). It runs between the training forward and the backward in
 * the same submission, so the step needs no readback to build its coefficients.
 *
 * Per token, as verl's `compute_policy_loss_vanilla` (verl/trainer/ppo/core_algos.py):
 *
 *   ρ      = exp(clamp(logπ − logπ_old, −20, 20))
 *   L1     = −A·ρ,   L2 = −A·clip(ρ, 1 − clipLow, 1 + clipHigh),   Lclip = max(L1, L2)
 *   L      = min(Lclip, −A·clipC) when A < 0 and clipC > 1 (dual clip), else Lclip
 *   loss_t = w·L + w·klCoef·KL
 *
 * with w the token's aggregation weight (0 on prompt and padding tokens; the host folds
 * token-mean / seq-mean-token-mean / seq-mean-token-sum(-norm) into it) and KL verl's
 * `kl_penalty_forward` (same file):
 *   k1 ("kl"):          KL = logπ − logπ_ref
 *   k3 ("low_var_kl"):  x = clamp(logπ_ref − logπ, −20, 20); KL = clamp(exp(x) − x − 1, −10, 10)
 * The total equals verl's `pg_loss + kl_loss_coef · kl_loss` when both are aggregated with the
 * same mode, since each is a weighted sum of per-token terms with the same weights.
 *
 * The derivative follows autograd through that expression: the unclipped branch gives −A·ρ, the
 * clipped and dual-clipped branches are constants (0), and a clamp passes the gradient only
 * inside its closed interval (torch.clamp's backward), so |log ratio| > 20 gives 0. k1 gives 1;
 * k3 gives 1 − exp(x) inside both clamps, else 0.
 *
 * Stats, f32 [T, 4] per token (unmasked: average them over the response tokens on the host):
 *   0: w·L, the token's policy-loss contribution (without the KL term)
 *   1: 1 where the clip branch is active (L2 > L1; verl's pg_clipfrac)
 *   2: 1 where the dual clip is active (A < 0 and Lclip > −A·clipC; verl's pg_clipfrac_lower)
 *   3: KL (unweighted; 0 when klType is none)
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";
import {
  access,
  bindWindow,
  BUILTINS,
  f32,
  foldGrid,
  itemsPerWindow,
  needBytes,
  spans,
  uniform,
  WG_INDEX,
} from "./elementwise.ts";

/** KL estimator of the KL loss: none, k1 (verl "kl"), k3 (verl "low_var_kl"). */
export const KL_NONE = 0;
export const KL_K1 = 1;
export const KL_K3 = 2;
export type KlType = typeof KL_NONE | typeof KL_K1 | typeof KL_K3;

/** verl's `kl_loss_type` names for the estimators supported here. */
export function klTypeOf(name: string): KlType {
  switch (name) {
    case "none":
      return KL_NONE;
    case "kl":
    case "k1":
      return KL_K1;
    case "low_var_kl":
    case "k3":
      return KL_K3;
    default:
      throw new Error(`unknown KL loss type "${name}" (known: none, kl, k1, low_var_kl, k3)`);
  }
}

/** Hyper-parameters of the PPO-clip loss. */
export interface PpoParams {
  /** Lower clip ε: ρ is clipped at 1 − clipLow (verl clip_ratio_low, 0.2). */
  clipLow: number;
  /** Upper clip ε: ρ is clipped at 1 + clipHigh (verl clip_ratio_high, 0.28). */
  clipHigh: number;
  /** Dual-clip constant c for A < 0 (verl clip_ratio_c, 3.0); <= 1 disables the dual clip. */
  clipC: number;
  /** Weight of the KL loss (0: KL only reported in the stats). */
  klCoef: number;
  klType: KlType;
}

const WG = 256;

/** The kernel source; `hasRef` adds the reference-logprob binding (needed by any KL type). */
export const PPO_LOSS_WGSL = (hasRef: boolean, modes: string[]) => /* wgsl */ `
struct P {
  n: u32, kl_type: u32, _a: u32, _b: u32,
  clip_low: f32, clip_high: f32, clip_c: f32, kl_coef: f32,
}
@group(0) @binding(0) var<storage, ${modes[0]}> logprob: array<f32>;
@group(0) @binding(1) var<storage, ${modes[1]}> old_logprob: array<f32>;
@group(0) @binding(2) var<storage, ${modes[2]}> adv: array<f32>;
@group(0) @binding(3) var<storage, ${modes[3]}> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> coef: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<uniform> p: P;
${hasRef ? `@group(0) @binding(7) var<storage, ${modes[4]}> ref_logprob: array<f32>;` : ""}

@compute @workgroup_size(${WG})
fn main(${BUILTINS}) {
  let i = ${WG_INDEX} * ${WG}u + lid.x;
  if (i >= p.n) { return; }
  let lp = logprob[i];
  let a = adv[i];
  let w = weight[i];
  let x = lp - old_logprob[i];
  let ratio = exp(clamp(x, -20.0, 20.0));
  // torch.clamp passes the gradient on the closed interval only.
  let dratio = select(0.0, ratio, x >= -20.0 && x <= 20.0);
  let l1 = -a * ratio;
  let l2 = -a * clamp(ratio, 1.0 - p.clip_low, 1.0 + p.clip_high);
  let clipped = l2 > l1;
  var loss = max(l1, l2);
  // L2 > L1 only where ρ is outside the clip range, where L2 is constant.
  var g = select(-a * dratio, 0.0, clipped);
  var dual = false;
  if (a < 0.0 && p.clip_c > 1.0) {
    let l3 = -a * p.clip_c;
    if (loss > l3) {
      loss = l3;
      g = 0.0;
      dual = true;
    }
  }
  var kl = 0.0;
  var gk = 0.0;
  ${
  hasRef
    ? `let rf = ref_logprob[i];
  if (p.kl_type == 1u) {
    kl = lp - rf;
    gk = 1.0;
  } else if (p.kl_type == 2u) {
    let d = rf - lp;
    let dc = clamp(d, -20.0, 20.0);
    let e = exp(dc);
    let k = e - dc - 1.0;
    kl = clamp(k, -10.0, 10.0);
    gk = select(0.0, 1.0 - e, d >= -20.0 && d <= 20.0 && k >= -10.0 && k <= 10.0);
  }`
    : ""
}
  // A zero weight gives exactly 0 (no 0·inf from a huge ratio on a prompt token).
  let live = w != 0.0;
  coef[i] = select(0.0, w * (g + p.kl_coef * gk), live);
  let o = i * 4u;
  stats[o] = select(0.0, w * loss, live);
  stats[o + 1u] = select(0.0, 1.0, clipped);
  stats[o + 2u] = select(0.0, 1.0, dual);
  stats[o + 3u] = kl;
}`;

/** Arguments of {@link ppoCoefficients}. */
export interface PpoCoefficientsArgs extends PpoParams {
  /** f32 [tokens]: this step's log softmax(logits · invT) of the target (the forward's output). */
  logprob: View;
  /** f32 [tokens]: the old policy's logprobs (recomputed before the update). */
  oldLogprob: View;
  /** f32 [tokens]: the advantage of each token. */
  advantage: View;
  /** f32 [tokens]: the loss-aggregation weight (0 on prompt and padding tokens). */
  weight: View;
  /** f32 [tokens]: the reference policy's logprobs; required when klType is not none. */
  refLogprob?: View;
  /** f32 [tokens], written: dLoss/dlogprob. */
  coef: View;
  /** f32 [tokens, 4], written: see the module comment. */
  stats: View;
  tokens: number;
}

function checkParams(p: PpoParams, hasRef: boolean): void {
  for (const k of ["clipLow", "clipHigh", "clipC", "klCoef"] as const) {
    if (!Number.isFinite(p[k])) throw new Error(`ppo loss: ${k} must be finite, got ${p[k]}`);
  }
  if (p.clipLow < 0 || p.clipLow >= 1 || p.clipHigh < 0) {
    throw new Error(
      `ppo loss: need 0 <= clipLow < 1 and clipHigh >= 0, got ${p.clipLow}, ${p.clipHigh}`,
    );
  }
  if (![KL_NONE, KL_K1, KL_K3].includes(p.klType)) {
    throw new Error(`ppo loss: klType must be 0 (none), 1 (k1) or 2 (k3), got ${p.klType}`);
  }
  if (p.klType !== KL_NONE && !hasRef) {
    throw new Error("ppo loss: a KL type needs refLogprob");
  }
}

/**
 * Records coef[t] = dLoss/dlogprob[t] and the per-token stats of the PPO-clip loss (see the
 * module comment). Token windows keep every binding under the device's limit; the grid folds.
 */
export async function ppoCoefficients(
  gpu: Gpu,
  rec: Recorder,
  a: PpoCoefficientsArgs,
): Promise<void> {
  const hasRef = a.klType !== KL_NONE;
  checkParams(a, a.refLogprob !== undefined);
  const T = a.tokens;
  const ins: View[] = [a.logprob, a.oldLogprob, a.advantage, a.weight];
  if (hasRef) ins.push(a.refLogprob!);
  for (const [k, v] of ins.entries()) needBytes(v, T * 4, `ppoCoefficients input ${k}`);
  needBytes(a.coef, T * 4, "ppoCoefficients coef");
  needBytes(a.stats, T * 16, "ppoCoefficients stats");
  if (T === 0) return;
  const modes = ins.map((v) => access(v, [a.coef, a.stats]));
  const pipe = await pipeline(gpu, "ppo_loss", PPO_LOSS_WGSL(hasRef, modes));
  // Windows of a multiple of 64 tokens: every window starts 256-byte aligned in each operand.
  for (const w of spans(T, itemsPerWindow(gpu, 16, 64))) {
    const win = (v: View) => bindWindow(v, w.start * 4, w.count * 4);
    const binds = [
      ...ins.slice(0, 4).map(win),
      win(a.coef),
      bindWindow(a.stats, w.start * 16, w.count * 16),
      uniform(
        w.count,
        a.klType,
        0,
        0,
        f32(a.clipLow),
        f32(a.clipHigh),
        f32(a.clipC),
        f32(a.klCoef),
      ),
      ...(hasRef ? [win(ins[4])] : []),
    ];
    rec.dispatch(pipe, binds, foldGrid(gpu, Math.ceil(w.count / WG)), "ppo_loss");
  }
}

/** One token's terms (f64). */
export interface PpoTokenTerms {
  /** w·L + w·klCoef·KL: the token's contribution to the loss. */
  loss: number;
  /** w·L: the policy-loss part. */
  pgLoss: number;
  /** d loss / d logprob. */
  coef: number;
  /** The clip branch is active (L2 > L1). */
  clipped: boolean;
  /** The dual clip is active. */
  dualClipped: boolean;
  /** The KL estimate (0 for none). */
  kl: number;
}

/** The PPO-clip loss of one token and its derivative in logprob, in f64 (the reference's math). */
export function ppoTokenLoss(
  logprob: number,
  oldLogprob: number,
  advantage: number,
  weight: number,
  refLogprob: number,
  p: PpoParams,
): PpoTokenTerms {
  const a = advantage, x = logprob - oldLogprob;
  const ratio = Math.exp(Math.min(Math.max(x, -20), 20));
  const dratio = x >= -20 && x <= 20 ? ratio : 0;
  const l1 = -a * ratio;
  const l2 = -a * Math.min(Math.max(ratio, 1 - p.clipLow), 1 + p.clipHigh);
  const clipped = l2 > l1;
  let loss = Math.max(l1, l2);
  let g = clipped ? 0 : -a * dratio;
  let dualClipped = false;
  if (a < 0 && p.clipC > 1 && loss > -a * p.clipC) {
    loss = -a * p.clipC;
    g = 0;
    dualClipped = true;
  }
  let kl = 0, gk = 0;
  if (p.klType === KL_K1) {
    kl = logprob - refLogprob;
    gk = 1;
  } else if (p.klType === KL_K3) {
    const d = refLogprob - logprob, dc = Math.min(Math.max(d, -20), 20);
    const k = Math.exp(dc) - dc - 1;
    kl = Math.min(Math.max(k, -10), 10);
    gk = d >= -20 && d <= 20 && k >= -10 && k <= 10 ? 1 - Math.exp(dc) : 0;
  }
  if (weight === 0) return { loss: 0, pgLoss: 0, coef: 0, clipped, dualClipped, kl };
  return {
    loss: weight * (loss + p.klCoef * kl),
    pgLoss: weight * loss,
    coef: weight * (g + p.klCoef * gk),
    clipped,
    dualClipped,
    kl,
  };
}

/** Host inputs of {@link ppoCoefficientsRef}. */
export interface PpoInputs {
  logprob: ArrayLike<number>;
  oldLogprob: ArrayLike<number>;
  advantage: ArrayLike<number>;
  weight: ArrayLike<number>;
  refLogprob?: ArrayLike<number>;
}

/** CPU reference of {@link ppoCoefficients} (f64): coef [T] and stats [T, 4]. */
export function ppoCoefficientsRef(
  x: PpoInputs,
  p: PpoParams,
): { coef: Float64Array; stats: Float64Array } {
  checkParams(p, x.refLogprob !== undefined);
  const T = x.logprob.length;
  const coef = new Float64Array(T), stats = new Float64Array(T * 4);
  for (let t = 0; t < T; t++) {
    const r = ppoTokenLoss(
      x.logprob[t],
      x.oldLogprob[t],
      x.advantage[t],
      x.weight[t],
      x.refLogprob ? x.refLogprob[t] : 0,
      p,
    );
    coef[t] = r.coef;
    stats.set([r.pgLoss, r.clipped ? 1 : 0, r.dualClipped ? 1 : 0, r.kl], t * 4);
  }
  return { coef, stats };
}
