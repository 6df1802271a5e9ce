/**
 * The Qwen3 dense decoder on WebGPU: forward and backward written out module by
 * module, in the manner of llm.c, so that a whole training step reads top to
 * bottom. Every function only records kernels into a {@link Recorder}; the
 * caller submits once per step.
 *
 * Sequences are packed: all tokens of a batch form one [T, ...] tensor, with
 * `seqStarts` telling attention where each sequence begins. The LM head and the
 * loss run over vocabulary chunks, so no [T, V] logits tensor exists for long T.
 *
 * Per layer (x is the residual stream, [T, H]):
 *   xn1 = rmsnorm(x); q,k,v = xn1·Wq/Wk/Wv; q,k = rope(rmsnorm_head(q,k));
 *   x  += attention(q, k, v)·Wo
 *   xn2 = rmsnorm(x); x += (silu(xn2·Wgate) * xn2·Wup)·Wdown
 */
import type { Gpu } from "../core/gpu/device.ts";
import type { BufferPool } from "../core/gpu/pool.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { Tensor, View } from "../core/tensor.ts";
import { Scratch } from "./scratch.ts";
import { type Dims, dimsOf, type LayerParams, type ParamSet } from "./params.ts";
import type { Qwen3Config } from "./model_config.ts";
import { matmul } from "../kernels/matmul.ts";
import { rmsnormBackward, rmsnormForward } from "../kernels/rmsnorm.ts";
import { ropeBackward, ropeForward } from "../kernels/rope.ts";
import { swigluBackward, swigluForward } from "../kernels/swiglu.ts";
import { attentionBackward, attentionForward } from "../kernels/attention.ts";
import { embeddingBackward, embeddingForward } from "../kernels/embedding.ts";
import { xentChunkBackward, xentChunkForward, xentFinalize } from "../kernels/xent.ts";
import { transpose } from "../kernels/transpose.ts";
import { addInPlace } from "../kernels/elementwise.ts";

/** Marks a position with no next-token target (the last token of a sequence). */
export const NO_TARGET = 0xffffffff;

/** A packed batch of token sequences, on the host. */
export interface PackedBatch {
  ids: Uint32Array; // [T]
  positions: Uint32Array; // [T], position within its sequence
  seqStarts: Uint32Array; // [S + 1]
  targets: Uint32Array; // [T], next token or NO_TARGET
}

/** Packs sequences; each token's target is the next token of its sequence. */
export function packSequences(seqs: readonly (readonly number[])[]): PackedBatch {
  const T = seqs.reduce((a, s) => a + s.length, 0);
  const ids = new Uint32Array(T), positions = new Uint32Array(T), targets = new Uint32Array(T);
  const seqStarts = new Uint32Array(seqs.length + 1);
  let t = 0;
  for (const [i, s] of seqs.entries()) {
    seqStarts[i] = t;
    for (let j = 0; j < s.length; j++, t++) {
      ids[t] = s[j];
      positions[t] = j;
      targets[t] = j + 1 < s.length ? s[j + 1] : NO_TARGET;
    }
  }
  seqStarts[seqs.length] = t;
  return { ids, positions, seqStarts, targets };
}

/** The batch uploaded for one step. */
interface BatchGpu {
  T: number;
  S: number;
  ids: Tensor;
  positions: Tensor;
  seqStarts: Tensor;
  targets: Tensor;
  idsHost: Uint32Array;
}

/** What one layer's backward needs from its forward. */
export interface LayerActs {
  rstd1: Tensor; // [T]
  xn1: Tensor; // [T, H]
  qRaw: Tensor; // [T, hq*d] before the head norm
  kRaw: Tensor; // [T, hkv*d]
  rstdQ: Tensor; // [T*hq]
  rstdK: Tensor; // [T*hkv]
  q: Tensor; // [T, hq*d] normed and rotated
  k: Tensor; // [T, hkv*d]
  v: Tensor; // [T, hkv*d]
  attn: Tensor; // [T, hq*d]
  lse: Tensor; // [T, hq]
  xMid: Tensor; // [T, H] residual after attention
  rstd2: Tensor; // [T]
  xn2: Tensor; // [T, H]
  gate: Tensor; // [T, I]
  up: Tensor; // [T, I]
  act: Tensor; // [T, I]
}

export interface ForwardOptions {
  /** Keep what the backward needs. */
  train?: boolean;
  /** Keep only each layer's input and recompute the rest in the backward (memory ~ L·T·H). */
  checkpoint?: boolean;
  /** Scores logprobs of softmax(logits · invTemperature) (rollout temperature). */
  invTemperature?: number;
}

/** The outputs of a forward, on the GPU; release with {@link Qwen3.release}. */
export interface ForwardState {
  batch: BatchGpu;
  logprobs: Tensor; // [T], 0 where there is no target
  entropy: Tensor; // [T]
  lse: Tensor; // [T]
  /** Residual stream entering each layer, and the final one ([L + 1] x [T, H]). */
  xs: Tensor[];
  acts: (LayerActs | undefined)[];
  rstdF: Tensor;
  xnF: Tensor;
  opts: ForwardOptions;
  scratch: Scratch;
}

/** Largest logits chunk, in bytes: bounds memory for long T (a multiple of 64 vocab rows). */
const LOGITS_CHUNK_BYTES = 32 * 2 ** 20;

/**
 * Vocabulary rows per LM-head chunk for T tokens: the logits chunk stays under 32 MiB and one
 * binding, the weight rows under one binding; a multiple of 64 rows (256-byte aligned windows).
 */
export function vocabChunkFor(
  dims: Pick<Dims, "V" | "H">,
  T: number,
  maxBinding: number,
): number {
  const { V, H } = dims;
  const byLogits = Math.floor(Math.min(LOGITS_CHUNK_BYTES, maxBinding) / (4 * Math.max(T, 1)));
  const byWeight = Math.floor(maxBinding / (4 * H));
  const c = Math.max(64, Math.floor(Math.min(byLogits, byWeight) / 64) * 64);
  return c >= V ? V : c;
}

/** One layer's backward temporaries: allocated once per backward and reused by every layer. */
export interface LayerGradTemps {
  dAct: Tensor; // [T, I]
  dGate: Tensor; // [T, I]
  dUp: Tensor; // [T, I]
  dXn: Tensor; // [T, H]
  dAttn: Tensor; // [T, hq*d]
  dq: Tensor; // [T, hq*d]
  dk: Tensor; // [T, hkv*d]
  dv: Tensor; // [T, hkv*d]
  dqRaw: Tensor; // [T, hq*d]
  dkRaw: Tensor; // [T, hkv*d]
}

export class Qwen3 {
  readonly dims: Dims;

  /** Storage of the weight matrices: f32, or f16 for inference. */
  readonly matrixDtype: "f32" | "f16";

  constructor(
    readonly gpu: Gpu,
    readonly pool: BufferPool,
    readonly config: Qwen3Config,
    readonly weights: ParamSet,
  ) {
    this.dims = dimsOf(config);
    this.matrixDtype = weights.params.embed.dtype === "f16" ? "f16" : "f32";
    this.ntBackward = gpu.description.kind === "software";
  }

  /** The LM-head rows c0 .. c0+n-1 as a view (for f32 or f16 storage). */
  headWindow(c0: number, n: number) {
    const b = this.matrixDtype === "f16" ? 2 : 4;
    const H = this.dims.H;
    return {
      view: {
        buffer: this.p.lmHead.buffer,
        offset: c0 * H * b,
        size: Math.ceil((n * H * b) / 4) * 4,
      },
      bDtype: this.matrixDtype,
    };
  }

  /** Records the embedding lookup of `ids` into `out`. */
  embed(rec: Recorder, ids: View, out: View, n: number) {
    const { H, V } = this.dims;
    return embeddingForward(this.gpu, rec, {
      table: this.p.embed.buffer,
      ids,
      out,
      n,
      dim: H,
      vocab: V,
      tableDtype: this.matrixDtype,
    });
  }

  /** The parameters by role. */
  get p() {
    return this.weights.params;
  }

  /** y[T, out] = x[T, in] · W[out, in]^T (the HF Linear). */
  private linear(rec: Recorder, x: View, w: Tensor, y: View, T: number, accumulate = false) {
    const [out, inp] = w.shape;
    return matmul(this.gpu, rec, {
      a: x,
      b: w.buffer,
      c: y,
      m: T,
      n: out,
      k: inp,
      transB: true,
      accumulate,
      bDtype: w.dtype === "f16" ? "f16" : "f32",
    });
  }

  /**
   * On CPU adapters the tuned matmul is 1.5-3x faster in the NT layout than in NN or TN
   * (measured: LM-head backward 8.4 GFLOP/s NN and TN vs 21 NT), so the backward transposes
   * operands once (a cheap pass; cached for the step) and multiplies in NT.
   */
  private readonly ntBackward: boolean;
  private bw?: { s: Scratch; slots: Map<string, Tensor> };

  /**
   * src[rows, cols]^T into the scratch buffer of role `slot`, reused across calls: each
   * transposed operand is consumed by the matmul recorded right after it, and the GPU runs
   * the recording in order, so one buffer per role bounds the extra memory by the largest use.
   */
  private async transposed(
    rec: Recorder,
    src: View,
    rows: number,
    cols: number,
    slot: string,
  ): Promise<Tensor> {
    const bytes = rows * cols * 4;
    let t = this.bw!.slots.get(slot);
    if (!t || t.buffer.size < bytes) {
      t = this.bw!.s.tensor([cols, rows]);
      this.bw!.slots.set(slot, t);
    }
    await transpose(this.gpu, rec, {
      src,
      dst: { buffer: t.buffer, size: Math.max(16, bytes) },
      rows,
      cols,
    });
    return { buffer: t.buffer, shape: [cols, rows], dtype: "f32" };
  }

  /** Whether the NT route applies: a CPU adapter, f32 weights, and operands within one binding. */
  private useNt(...elements: number[]): boolean {
    const max = this.gpu.limits.maxStorageBufferBindingSize;
    return this.ntBackward && this.bw !== undefined && this.matrixDtype === "f32" &&
      elements.every((e) => e * 4 <= max);
  }

  /** dx[T, in] (+)= dy[T, out] · W[out, in]. */
  private async linearBackInput(
    rec: Recorder,
    dy: View,
    w: Tensor,
    dx: View,
    T: number,
    accumulate = false,
  ) {
    const [out, inp] = w.shape;
    if (this.useNt(out * inp, T * out, T * inp)) {
      const wt = await this.transposed(rec, w.buffer, out, inp, "w"); // [in, out]
      return matmul(this.gpu, rec, {
        a: dy,
        b: wt.buffer,
        c: dx,
        m: T,
        n: inp,
        k: out,
        transB: true,
        accumulate,
      });
    }
    return matmul(this.gpu, rec, { a: dy, b: w.buffer, c: dx, m: T, n: inp, k: out, accumulate });
  }

  /** dW[out, in] += dy[T, out]^T · x[T, in]. */
  private async linearBackWeight(rec: Recorder, dy: View, x: View, dw: Tensor, T: number) {
    const [out, inp] = dw.shape;
    if (this.useNt(T * out, T * inp)) {
      const dyT = await this.transposed(rec, dy, T, out, "dy"); // [out, T]
      const xT = await this.transposed(rec, x, T, inp, "x"); // [in, T]
      return matmul(this.gpu, rec, {
        a: dyT.buffer,
        b: xT.buffer,
        c: dw.buffer,
        m: out,
        n: inp,
        k: T,
        transB: true,
        accumulate: true,
      });
    }
    return matmul(this.gpu, rec, {
      a: dy,
      b: x,
      c: dw.buffer,
      m: out,
      n: inp,
      k: T,
      transA: true,
      accumulate: true,
    });
  }

  /** The vocabulary chunk size for T tokens: a multiple of 64 rows (256-byte aligned windows). */
  vocabChunk(T: number): number {
    return vocabChunkFor(this.dims, T, this.gpu.limits.maxStorageBufferBindingSize);
  }

  /** Activation tensors for one layer over T tokens. */
  allocActs(s: Scratch, T: number): LayerActs {
    const { H, I, hq, hkv, d } = this.dims;
    return {
      rstd1: s.tensor([T]),
      xn1: s.tensor([T, H]),
      qRaw: s.tensor([T, hq * d]),
      kRaw: s.tensor([T, hkv * d]),
      rstdQ: s.tensor([T * hq]),
      rstdK: s.tensor([T * hkv]),
      q: s.tensor([T, hq * d]),
      k: s.tensor([T, hkv * d]),
      v: s.tensor([T, hkv * d]),
      attn: s.tensor([T, hq * d]),
      lse: s.tensor([T, hq]),
      xMid: s.tensor([T, H]),
      rstd2: s.tensor([T]),
      xn2: s.tensor([T, H]),
      gate: s.tensor([T, I]),
      up: s.tensor([T, I]),
      act: s.tensor([T, I]),
    };
  }

  /**
   * One decoder layer: xOut = layer(xIn), filling `a`. `attend` computes a.attn
   * from a.q, a.k, a.v: causal attention over the packed batch by default; the
   * generator passes one that also writes and reads the KV cache.
   */
  async layerForward(
    rec: Recorder,
    lp: LayerParams,
    xIn: Tensor,
    xOut: Tensor,
    b: { T: number; positions: Tensor; seqStarts?: Tensor; S?: number },
    a: LayerActs,
    attend?: (a: LayerActs) => Promise<void>,
  ) {
    const { gpu } = this;
    const { H, I, hq, hkv, d, eps, theta } = this.dims;
    const T = b.T;
    // Attention block.
    await rmsnormForward(gpu, rec, {
      x: xIn.buffer,
      weight: lp.inNorm.buffer,
      out: a.xn1.buffer,
      rstd: a.rstd1.buffer,
      rows: T,
      dim: H,
      eps,
    });
    await this.linear(rec, a.xn1.buffer, lp.q, a.qRaw.buffer, T);
    await this.linear(rec, a.xn1.buffer, lp.k, a.kRaw.buffer, T);
    await this.linear(rec, a.xn1.buffer, lp.v, a.v.buffer, T);
    await rmsnormForward(gpu, rec, {
      x: a.qRaw.buffer,
      weight: lp.qNorm.buffer,
      out: a.q.buffer,
      rstd: a.rstdQ.buffer,
      rows: T * hq,
      dim: d,
      eps,
    });
    await rmsnormForward(gpu, rec, {
      x: a.kRaw.buffer,
      weight: lp.kNorm.buffer,
      out: a.k.buffer,
      rstd: a.rstdK.buffer,
      rows: T * hkv,
      dim: d,
      eps,
    });
    await ropeForward(gpu, rec, {
      x: a.q.buffer,
      positions: b.positions.buffer,
      tokens: T,
      heads: hq,
      headDim: d,
      theta,
    });
    await ropeForward(gpu, rec, {
      x: a.k.buffer,
      positions: b.positions.buffer,
      tokens: T,
      heads: hkv,
      headDim: d,
      theta,
    });
    if (attend) await attend(a);
    else {
      await attentionForward(gpu, rec, {
        q: a.q.buffer,
        k: a.k.buffer,
        v: a.v.buffer,
        out: a.attn.buffer,
        lse: a.lse.buffer,
        seqStarts: b.seqStarts!.buffer,
        numSeqs: b.S!,
        totalTokens: T,
        hq,
        hkv,
        headDim: d,
        scale: 1 / Math.sqrt(d),
      });
    }
    rec.copy(xIn.buffer, 0, a.xMid.buffer, 0, T * H * 4);
    await this.linear(rec, a.attn.buffer, lp.o, a.xMid.buffer, T, true);
    // MLP block.
    await rmsnormForward(gpu, rec, {
      x: a.xMid.buffer,
      weight: lp.postNorm.buffer,
      out: a.xn2.buffer,
      rstd: a.rstd2.buffer,
      rows: T,
      dim: H,
      eps,
    });
    await this.linear(rec, a.xn2.buffer, lp.gate, a.gate.buffer, T);
    await this.linear(rec, a.xn2.buffer, lp.up, a.up.buffer, T);
    await swigluForward(gpu, rec, {
      gate: a.gate.buffer,
      up: a.up.buffer,
      out: a.act.buffer,
      n: T * I,
    });
    rec.copy(a.xMid.buffer, 0, xOut.buffer, 0, T * H * 4);
    await this.linear(rec, a.act.buffer, lp.down, xOut.buffer, T, true);
  }

  /**
   * One layer's backward. On entry dX holds dLoss/dxOut; on exit dLoss/dxIn.
   * Weight gradients accumulate into `g`.
   */
  private async layerBackward(
    rec: Recorder,
    tmp: LayerGradTemps,
    lp: LayerParams,
    g: LayerParams,
    xIn: Tensor,
    a: LayerActs,
    dX: Tensor,
    b: BatchGpu,
  ) {
    const { gpu } = this;
    const { H, I, hq, hkv, d, theta } = this.dims;
    const T = b.T;
    // MLP block. The temporaries are shared by all layers: each is written before it is read
    // within this layer, and the GPU runs the recording in order.
    const { dAct, dGate, dUp, dXn, dAttn, dq, dk, dv, dqRaw, dkRaw } = tmp;
    await this.linearBackInput(rec, dX.buffer, lp.down, dAct.buffer, T);
    await this.linearBackWeight(rec, dX.buffer, a.act.buffer, g.down, T);
    await swigluBackward(gpu, rec, {
      gate: a.gate.buffer,
      up: a.up.buffer,
      dOut: dAct.buffer,
      dGate: dGate.buffer,
      dUp: dUp.buffer,
      n: T * I,
    });
    await this.linearBackInput(rec, dGate.buffer, lp.gate, dXn.buffer, T);
    await this.linearBackInput(rec, dUp.buffer, lp.up, dXn.buffer, T, true);
    await this.linearBackWeight(rec, dGate.buffer, a.xn2.buffer, g.gate, T);
    await this.linearBackWeight(rec, dUp.buffer, a.xn2.buffer, g.up, T);
    await rmsnormBackward(gpu, rec, {
      x: a.xMid.buffer,
      weight: lp.postNorm.buffer,
      rstd: a.rstd2.buffer,
      dOut: dXn.buffer,
      dX: dX.buffer,
      dWeight: g.postNorm.buffer,
      rows: T,
      dim: H,
      accumulateDX: true,
    });
    // Attention block.
    await this.linearBackInput(rec, dX.buffer, lp.o, dAttn.buffer, T);
    await this.linearBackWeight(rec, dX.buffer, a.attn.buffer, g.o, T);
    await attentionBackward(gpu, rec, {
      q: a.q.buffer,
      k: a.k.buffer,
      v: a.v.buffer,
      out: a.attn.buffer,
      lse: a.lse.buffer,
      dOut: dAttn.buffer,
      dq: dq.buffer,
      dk: dk.buffer,
      dv: dv.buffer,
      seqStarts: b.seqStarts.buffer,
      numSeqs: b.S,
      totalTokens: T,
      hq,
      hkv,
      headDim: d,
      scale: 1 / Math.sqrt(d),
    });
    await ropeBackward(gpu, rec, {
      dx: dq.buffer,
      positions: b.positions.buffer,
      tokens: T,
      heads: hq,
      headDim: d,
      theta,
    });
    await ropeBackward(gpu, rec, {
      dx: dk.buffer,
      positions: b.positions.buffer,
      tokens: T,
      heads: hkv,
      headDim: d,
      theta,
    });
    await rmsnormBackward(gpu, rec, {
      x: a.qRaw.buffer,
      weight: lp.qNorm.buffer,
      rstd: a.rstdQ.buffer,
      dOut: dq.buffer,
      dX: dqRaw.buffer,
      dWeight: g.qNorm.buffer,
      rows: T * hq,
      dim: d,
    });
    await rmsnormBackward(gpu, rec, {
      x: a.kRaw.buffer,
      weight: lp.kNorm.buffer,
      rstd: a.rstdK.buffer,
      dOut: dk.buffer,
      dX: dkRaw.buffer,
      dWeight: g.kNorm.buffer,
      rows: T * hkv,
      dim: d,
    });
    await this.linearBackInput(rec, dqRaw.buffer, lp.q, dXn.buffer, T);
    await this.linearBackInput(rec, dkRaw.buffer, lp.k, dXn.buffer, T, true);
    await this.linearBackInput(rec, dv.buffer, lp.v, dXn.buffer, T, true);
    await this.linearBackWeight(rec, dqRaw.buffer, a.xn1.buffer, g.q, T);
    await this.linearBackWeight(rec, dkRaw.buffer, a.xn1.buffer, g.k, T);
    await this.linearBackWeight(rec, dv.buffer, a.xn1.buffer, g.v, T);
    await rmsnormBackward(gpu, rec, {
      x: xIn.buffer,
      weight: lp.inNorm.buffer,
      rstd: a.rstd1.buffer,
      dOut: dXn.buffer,
      dX: dX.buffer,
      dWeight: g.inNorm.buffer,
      rows: T,
      dim: H,
      accumulateDX: true,
    });
  }

  /** Uploads a packed batch, checking ids and positions against the model. */
  private uploadBatch(s: Scratch, batch: PackedBatch): BatchGpu {
    const { V, maxPos } = this.dims;
    const T = batch.ids.length;
    if (T === 0) throw new Error("empty batch");
    for (let t = 0; t < T; t++) {
      if (batch.ids[t] >= V) {
        throw new Error(
          `token id ${batch.ids[t]} at position ${t} is outside the vocabulary (${V})`,
        );
      }
    }
    for (let t = 0; t < T; t++) {
      if (batch.targets[t] !== NO_TARGET && batch.targets[t] >= V) {
        throw new Error(
          `target id ${batch.targets[t]} at position ${t} is outside the vocabulary (${V})`,
        );
      }
      if (batch.positions[t] >= maxPos) {
        throw new Error(
          `sequence longer than max_position_embeddings (${maxPos}): position ${
            batch.positions[t]
          }`,
        );
      }
    }
    return {
      T,
      S: batch.seqStarts.length - 1,
      ids: s.upload(batch.ids),
      positions: s.upload(batch.positions),
      seqStarts: s.upload(batch.seqStarts),
      targets: s.upload(batch.targets),
      idsHost: batch.ids,
    };
  }

  /** Records the forward: per-token logprobs of the targets, entropies and log-sum-exps. */
  async forward(
    rec: Recorder,
    batch: PackedBatch,
    opts: ForwardOptions = {},
  ): Promise<ForwardState> {
    const { gpu } = this;
    const { H, L, eps } = this.dims;
    const s = new Scratch(this.pool);
    const b = this.uploadBatch(s, batch);
    const T = b.T;
    // The residual stream: one buffer per layer boundary when training, else two in turn.
    const xs: Tensor[] = [];
    const nx = opts.train ? L + 1 : 2;
    for (let i = 0; i < nx; i++) xs.push(s.tensor([T, H], "f32", `x${i}`));
    const x = (l: number) => xs[opts.train ? l : l % 2];
    if (opts.train && this.matrixDtype !== "f32") {
      throw new Error("training needs f32 weights (load without f16)");
    }
    await this.embed(rec, b.ids.buffer, x(0).buffer, T);
    const acts: (LayerActs | undefined)[] = [];
    const shared = opts.train && !opts.checkpoint ? undefined : this.allocActs(s, T);
    for (let l = 0; l < L; l++) {
      const a = shared ?? this.allocActs(s, T);
      await this.layerForward(rec, this.p.layers[l], x(l), x(l + 1), b, a);
      acts.push(shared ? undefined : a);
    }
    const xL = x(L);
    const rstdF = s.tensor([T]), xnF = s.tensor([T, H]);
    await rmsnormForward(gpu, rec, {
      x: xL.buffer,
      weight: this.p.norm.buffer,
      out: xnF.buffer,
      rstd: rstdF.buffer,
      rows: T,
      dim: H,
      eps,
    });
    const logprobs = s.tensor([T]), entropy = s.tensor([T]), lse = s.tensor([T]);
    await this.headForward(rec, s, xnF, b, logprobs, entropy, lse, opts.invTemperature ?? 1);
    return {
      batch: b,
      logprobs,
      entropy,
      lse,
      xs: opts.train ? xs : [],
      acts,
      rstdF,
      xnF,
      opts,
      scratch: s,
    };
  }

  /** Logits chunk by chunk into running softmax statistics, then logprobs, lse, entropy. */
  private async headForward(
    rec: Recorder,
    s: Scratch,
    xnF: Tensor,
    b: BatchGpu,
    logprobs: Tensor,
    entropy: Tensor,
    lse: Tensor,
    invTemperature: number,
  ) {
    const { V, H } = this.dims;
    const T = b.T;
    const chunk = this.vocabChunk(T);
    const logits = s.tensor([T, chunk]);
    const stats = s.tensor([T, 4]);
    for (let c0 = 0; c0 < V; c0 += chunk) {
      const n = Math.min(chunk, V - c0);
      const w = this.headWindow(c0, n);
      await matmul(this.gpu, rec, {
        a: xnF.buffer,
        b: w.view,
        c: logits.buffer,
        m: T,
        n,
        k: H,
        transB: true,
        bDtype: w.bDtype,
      });
      await xentChunkForward(this.gpu, rec, {
        logits: logits.buffer,
        targets: b.targets.buffer,
        stats: stats.buffer,
        tokens: T,
        chunkStart: c0,
        chunkSize: n,
        first: c0 === 0,
        invTemperature,
      });
    }
    await xentFinalize(this.gpu, rec, {
      stats: stats.buffer,
      logprobs: logprobs.buffer,
      lse: lse.buffer,
      entropy: entropy.buffer,
      tokens: T,
    });
  }

  /**
   * Records the backward of sum_t coef[t] · logprob[t] into `grads` (accumulated:
   * clear them first for a fresh step). For cross-entropy, coef = -1/N on target tokens.
   * With `entCoef` [T], the loss also has sum_t entCoef[t] · H_t, H_t the forward's entropy
   * (on every token, targets or not; an entropy bonus β is entCoef = -β · weight).
   */
  async backward(
    rec: Recorder,
    st: ForwardState,
    coef: Tensor,
    grads: ParamSet,
    entCoef?: Tensor,
  ): Promise<void> {
    if (!st.opts.train) throw new Error("backward needs a forward with train: true");
    const { gpu } = this;
    const { V, H, L } = this.dims;
    const s = st.scratch;
    const b = st.batch;
    const T = b.T;
    const G = grads.params;
    const invT = st.opts.invTemperature ?? 1;
    this.bw = { s, slots: new Map() };
    // Head: recompute each logits chunk, turn it into dlogits, push into dxnF and dW.
    const chunk = this.vocabChunk(T);
    const logits = s.tensor([T, chunk]);
    const dxnF = s.tensor([T, H]);
    rec.clear(dxnF.buffer, 0, T * H * 4);
    const nt = this.useNt(T * chunk, T * H, chunk * H);
    // NT route: accumulate dxnF^T [H, T] and produce each dW_c^T [H, n]; m = H rows with long
    // n and k runs at ~26 GFLOP/s on lavapipe against ~10 for the [T, H] / [n, H] outputs.
    const xnFT = nt ? await this.transposed(rec, st.xnF.buffer, T, H, "xnF") : undefined; // [H, T]
    const dxnFT = nt ? s.tensor([H, T]) : undefined;
    if (dxnFT) rec.clear(dxnFT.buffer, 0, T * H * 4);
    const dwT = nt ? s.tensor([H, chunk]) : undefined;
    const dwTmp = nt ? s.tensor([chunk, H]) : undefined;
    for (let c0 = 0; c0 < V; c0 += chunk) {
      const n = Math.min(chunk, V - c0);
      const w = { buffer: this.p.lmHead.buffer, offset: c0 * H * 4, size: n * H * 4 };
      const dw = { buffer: G.lmHead.buffer, offset: c0 * H * 4, size: n * H * 4 };
      await matmul(gpu, rec, {
        a: st.xnF.buffer,
        b: w,
        c: logits.buffer,
        m: T,
        n,
        k: H,
        transB: true,
      });
      await xentChunkBackward(gpu, rec, {
        logits: logits.buffer,
        targets: b.targets.buffer,
        lse: st.lse.buffer,
        coef: coef.buffer,
        ...(entCoef ? { entCoef: entCoef.buffer, entropy: st.entropy.buffer } : {}),
        tokens: T,
        chunkStart: c0,
        chunkSize: n,
        invTemperature: invT,
      });
      if (nt) {
        // dxnF^T [H, T] += W_c^T [H, n] · dlogits [T, n]^T.
        const wT = await this.transposed(rec, w, n, H, "wHead"); // [H, n]
        await matmul(gpu, rec, {
          a: wT.buffer,
          b: logits.buffer,
          c: dxnFT!.buffer,
          m: H,
          n: T,
          k: n,
          transB: true,
          accumulate: true,
        });
        // dW_c^T [H, n] = xnF^T [H, T] · (dlogits^T [n, T])^T, then dW_c += its transpose.
        const dlT = await this.transposed(rec, logits.buffer, T, n, "dl"); // [n, T]
        await matmul(gpu, rec, {
          a: xnFT!.buffer,
          b: dlT.buffer,
          c: dwT!.buffer,
          m: H,
          n,
          k: T,
          transB: true,
        });
        await transpose(gpu, rec, { src: dwT!.buffer, dst: dwTmp!.buffer, rows: H, cols: n });
        await addInPlace(gpu, rec, { x: dw, y: dwTmp!.buffer, n: n * H });
        continue;
      }
      await matmul(gpu, rec, {
        a: logits.buffer,
        b: w,
        c: dxnF.buffer,
        m: T,
        n: H,
        k: n,
        accumulate: true,
      });
      await matmul(gpu, rec, {
        a: logits.buffer,
        b: st.xnF.buffer,
        c: dw,
        m: n,
        n: H,
        k: T,
        transA: true,
        accumulate: true,
      });
    }
    if (dxnFT) await transpose(gpu, rec, { src: dxnFT.buffer, dst: dxnF.buffer, rows: H, cols: T });
    const dX = s.tensor([T, H]);
    await rmsnormBackward(gpu, rec, {
      x: st.xs[L].buffer,
      weight: this.p.norm.buffer,
      rstd: st.rstdF.buffer,
      dOut: dxnF.buffer,
      dX: dX.buffer,
      dWeight: G.norm.buffer,
      rows: T,
      dim: H,
    });
    // Layers, last to first; with checkpointing, recompute each layer's activations first.
    const recompute = st.opts.checkpoint ? this.allocActs(s, T) : undefined;
    const scratchOut = recompute ? s.tensor([T, H]) : undefined;
    const { I, hq, hkv, d } = this.dims;
    const tmp: LayerGradTemps = {
      dAct: s.tensor([T, I]),
      dGate: s.tensor([T, I]),
      dUp: s.tensor([T, I]),
      dXn: s.tensor([T, H]),
      dAttn: s.tensor([T, hq * d]),
      dq: s.tensor([T, hq * d]),
      dk: s.tensor([T, hkv * d]),
      dv: s.tensor([T, hkv * d]),
      dqRaw: s.tensor([T, hq * d]),
      dkRaw: s.tensor([T, hkv * d]),
    };
    for (let l = L - 1; l >= 0; l--) {
      let a = st.acts[l];
      if (!a) {
        a = recompute!;
        await this.layerForward(rec, this.p.layers[l], st.xs[l], scratchOut!, b, a);
      }
      await this.layerBackward(rec, tmp, this.p.layers[l], G.layers[l], st.xs[l], a, dX, b);
    }
    await embeddingBackward(gpu, rec, {
      ids: b.ids.buffer,
      dOut: dX.buffer,
      dTable: G.embed.buffer,
      n: T,
      dim: H,
      vocab: V,
      idsHost: b.idsHost,
    });
    this.bw = undefined;
  }

  /** Returns the step's scratch memory to the pool (after its submission). */
  release(st: ForwardState): void {
    st.scratch.releaseAll();
  }

  /**
   * Final norm and LM head over rows of x [rows, H] into logits [rows, V] (in `s`), one
   * vocabulary chunk at a time when [rows, V] is over the chunk limit: generation's head, and
   * {@link logits}'s.
   */
  async head(rec: Recorder, s: Scratch, x: Tensor, rows: number): Promise<Tensor> {
    const { gpu } = this;
    const { H, V, eps } = this.dims;
    const xn = s.tensor([rows, H]), rstd = s.tensor([rows]), logits = s.tensor([rows, V]);
    await rmsnormForward(gpu, rec, {
      x: x.buffer,
      weight: this.p.norm.buffer,
      out: xn.buffer,
      rstd: rstd.buffer,
      rows,
      dim: H,
      eps,
    });
    const chunk = this.vocabChunk(rows);
    const part = chunk >= V ? logits : s.tensor([rows, chunk]);
    for (let c0 = 0; c0 < V; c0 += chunk) {
      const cn = Math.min(chunk, V - c0);
      const w = this.headWindow(c0, cn);
      await matmul(gpu, rec, {
        a: xn.buffer,
        b: w.view,
        c: part.buffer,
        m: rows,
        n: cn,
        k: H,
        transB: true,
        bDtype: w.bDtype,
      });
      if (part === logits) continue;
      for (let r = 0; r < rows; r++) {
        rec.copy(part.buffer, r * cn * 4, logits.buffer, (r * V + c0) * 4, cn * 4);
      }
    }
    return logits;
  }

  /** Full logits [T, V] for a batch (tests and small vocabularies only). */
  async logits(rec: Recorder, batch: PackedBatch): Promise<Float32Array> {
    const { H, L, V } = this.dims;
    const s = new Scratch(this.pool);
    const b = this.uploadBatch(s, batch);
    const T = b.T;
    if (T * V * 4 > this.gpu.limits.maxStorageBufferBindingSize) {
      throw new Error("logits: T x V too large; use forward()");
    }
    const xs = [s.tensor([T, H]), s.tensor([T, H])];
    await this.embed(rec, b.ids.buffer, xs[0].buffer, T);
    const a = this.allocActs(s, T);
    for (let l = 0; l < L; l++) {
      await this.layerForward(rec, this.p.layers[l], xs[l % 2], xs[(l + 1) % 2], b, a);
    }
    const out = await this.head(rec, s, xs[L % 2], T);
    const r = rec.read(out.buffer, T * V * 4);
    await rec.submit();
    const result = new Float32Array(await r);
    s.releaseAll();
    return result;
  }
}
