/**
 * Batched generation for rollouts, on the GPU end to end.
 *
 * - Prefill: all prompts packed into one forward; each prompt's keys and values
 *   go to its own KV-cache slot, once.
 * - Decode: each of a prompt's n rollouts has a slot for its generated tokens
 *   and reads the prompt's slot as a shared prefix (no copy, no recompute).
 * - Sampling runs on the GPU; sampled tokens feed the next step's embedding
 *   directly. Steps are recorded `stepsPerReadback` (8) at a time into one
 *   submission, and only then are the new tokens read back to check EOS and
 *   stop strings: at most one readback per 8 decode steps.
 */
import type { Recorder } from "../core/gpu/recorder.ts";
import { addProfile, type Profile, Recorder as Rec } from "../core/gpu/recorder.ts";
import type { Tensor } from "../core/tensor.ts";
import { Scratch } from "./scratch.ts";
import type { LayerActs, Qwen3 } from "./qwen3.ts";
import { attentionForward } from "../kernels/attention.ts";
import { attentionDecode, kvAppend } from "../kernels/kv_cache.ts";
import { sample } from "../kernels/sampling.ts";

export interface GenerateOptions {
  /** Completions per prompt. */
  n: number;
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  /** 0 = no limit. */
  topK: number;
  seed: number;
  /** Token ids that end a completion (kept as its last token). */
  eosIds: number[];
  /** Strings that end a completion (cut before the string); needs `decode`. */
  stop?: string[];
  decode?: (ids: number[]) => string;
  stepsPerReadback?: number;
  /** Sampling streams are keyed by (seed, rowIdBase + prompt·n + sample, step), so a
   * completion does not depend on how prompts were batched. */
  rowIdBase?: number;
  /** Called after each readback with the number of tokens generated so far. */
  onProgress?: (tokens: number) => void;
  /**
   * Time every decode dispatch (`timestamp-query`; ignored where the adapter lacks it) and
   * return the GPU time per kernel label in `stats.decodeProfile`. Each dispatch then runs in
   * its own compute pass, so the total is a little above an unprofiled run's.
   */
  profile?: boolean;
}

export interface Completion {
  prompt: number;
  sample: number;
  tokens: number[];
  /** log softmax(logits / temperature) of each generated token (temperature 1 when greedy). */
  logprobs: number[];
  finishReason: "eos" | "stop" | "length";
  text?: string;
}

export interface GenerateStats {
  decodeSteps: number;
  readbacks: number;
  submits: number;
  /** GPU ms per kernel label over the decode steps (with `profile`; empty otherwise). */
  decodeProfile?: Profile;
}

export async function generate(
  model: Qwen3,
  prompts: number[][],
  opts: GenerateOptions,
): Promise<{ completions: Completion[]; stats: GenerateStats }> {
  const { gpu, pool } = model;
  const { H, V, L, hkv, d, maxPos } = model.dims;
  const P = prompts.length, n = opts.n, B = P * n;
  if (P === 0 || n < 1) {
    return { completions: [], stats: { decodeSteps: 0, readbacks: 0, submits: 0 } };
  }
  for (const [i, p] of prompts.entries()) {
    if (p.length === 0) throw new Error(`prompt ${i} is empty`);
    if (p.length + opts.maxNewTokens > maxPos) {
      throw new Error(
        `prompt ${i} has ${p.length} tokens; with ${opts.maxNewTokens} new tokens that exceeds ` +
          `max_position_embeddings (${maxPos})`,
      );
    }
    for (const id of p) {
      if (id >= V || id < 0) {
        throw new Error(`prompt ${i}: token id ${id} outside the vocabulary (${V})`);
      }
    }
  }
  const counters0 = { ...gpu.counters };
  const maxPrompt = Math.max(...prompts.map((p) => p.length));
  const maxLen = Math.max(maxPrompt, opts.maxNewTokens);
  const slots = P + B; // prompt slots 0..P-1, rollout slots P..P+B-1
  const scale = 1 / Math.sqrt(d);
  // The decode kernel binds a layer's whole cache: it must fit one storage binding.
  const cacheBytes = slots * hkv * maxLen * d * 4;
  const maxBinding = gpu.limits.maxStorageBufferBindingSize;
  if (cacheBytes > maxBinding) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    throw new Error(
      `KV cache for ${P} prompt(s) x ${n} sample(s) at ${maxLen} positions needs ${
        mib(cacheBytes)
      } per ` +
        `layer, over this adapter's ${
          mib(maxBinding)
        } storage-binding limit: generate fewer prompts ` +
        "at once (--batch-prompts), fewer samples (--n) or shorter prompts/completions",
    );
  }
  const persistent = new Scratch(pool);
  const cacheShape = [slots, hkv, maxLen, d];
  const kCache: Tensor[] = [], vCache: Tensor[] = [];
  for (let l = 0; l < L; l++) {
    kCache.push(persistent.tensor(cacheShape, "f32", `kcache${l}`));
    vCache.push(persistent.tensor(cacheShape, "f32", `vcache${l}`));
  }
  const steps = opts.maxNewTokens;
  const histTokens = persistent.tensor([Math.max(steps, 1), B], "u32");
  const histLogprobs = persistent.tensor([Math.max(steps, 1), B], "f32");
  const feed = persistent.tensor([B], "u32");
  const rowIds = persistent.upload(
    Uint32Array.from({ length: B }, (_, i) => (opts.rowIdBase ?? 0) + i),
  );
  const temperature = opts.temperature;

  const head = (rec: Recorder, s: Scratch, xLast: Tensor, rows: number) =>
    model.head(rec, s, xLast, rows);

  /** Samples one token per rollout from logits [B, V] into history row `step`. */
  const sampleInto = async (
    rec: Recorder,
    s: Scratch,
    logits: Tensor,
    step: number,
  ): Promise<Tensor> => {
    const tokens = s.tensor([B], "u32"), logprobs = s.tensor([B]);
    await sample(gpu, rec, {
      logits: logits.buffer,
      tokens: tokens.buffer,
      logprobs: logprobs.buffer,
      rowIds: rowIds.buffer,
      batch: B,
      vocab: V,
      temperature,
      topK: opts.topK,
      topP: opts.topP,
      seed: opts.seed,
      step,
    });
    rec.copy(tokens.buffer, 0, histTokens.buffer, step * B * 4, B * 4);
    rec.copy(logprobs.buffer, 0, histLogprobs.buffer, step * B * 4, B * 4);
    // The next step reads its input tokens from `feed`, which lives as long as the generation:
    // `tokens` belongs to a scratch that goes back to the pool at the next readback.
    rec.copy(tokens.buffer, 0, feed.buffer, 0, B * 4);
    return feed;
  };

  // ---- Prefill: every prompt once, into its slot; then the first sampled token.
  const g: Gen = { model, kCache, vCache, maxLen, scale, head, sampleInto, P, n, B };
  const scratch = new Scratch(pool);
  let rec = new Rec(gpu, pool, { label: "prefill" });
  let lastTokens: Tensor | undefined;
  if (steps > 0) lastTokens = await prefill(g, rec, scratch, prompts);

  // ---- Decode, `per` steps per submission, reading back only the new rows.
  // Profiled: one step per recording, so every step's dispatches fit the timestamp query set.
  const per = opts.stepsPerReadback ?? (opts.profile ? 1 : 8);
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const logps: number[][] = Array.from({ length: B }, () => []);
  const done = new Array<Completion["finishReason"] | undefined>(B).fill(undefined);
  // Byte-level BPE can spend up to 4 tokens on one character: size the decoded tail for that.
  const stops = (opts.stop ?? []).filter((st) => st.length > 0);
  const stopWindow = 4 * Math.max(0, ...stops.map((st) => st.length));
  const promptLen = Array.from({ length: B }, (_, b) => prompts[Math.floor(b / n)].length);
  let step = 1; // tokens 0..step-1 are sampled (recorded)
  let readUpTo = 0; // history rows already read back
  const decodeScratch = new Scratch(pool);
  const a1 = model.allocActs(decodeScratch, B);
  const xd = [decodeScratch.tensor([B, H]), decodeScratch.tensor([B, H])];
  let decodeSteps = 0;
  const decodeProfile: Profile = new Map();
  while (steps > 0) {
    // Record decode steps until the next readback boundary.
    const until = Math.min(steps, readUpTo + per);
    const stepScratch = new Scratch(pool);
    while (step < until) {
      lastTokens = await decodeStep(g, rec, stepScratch, {
        tokens: lastTokens!,
        step,
        promptLen,
        x: xd,
        acts: a1,
      });
      step++;
      decodeSteps++;
      // Each step goes to the device as soon as it is recorded, without waiting: the device
      // runs it while the next step is recorded (its input token never leaves the device).
      // With one submission per readback, recording (hundreds of dispatches a step at real
      // shapes) and running never overlapped: 0.6B decode, 8 steps, 4 runs alternating on
      // lavapipe: 309-355 ms a step at batch 1 against 379-394, 1006-1248 against 1183-1391 at 16.
      if (step < until) {
        await rec.submit();
        rec = new Rec(gpu, pool, { label: "decode" });
      }
    }
    // One readback for rows readUpTo..until-1.
    const rows = until - readUpTo;
    const rt = rec.read(histTokens.buffer, rows * B * 4, readUpTo * B * 4);
    const rl = rec.read(histLogprobs.buffer, rows * B * 4, readUpTo * B * 4);
    const timed = await rec.submit();
    // The first recording also holds the prefill: its kernels are not decode's.
    if (readUpTo > 0) addProfile(decodeProfile, timed);
    const newTokens = new Uint32Array(await rt), newLogps = new Float32Array(await rl);
    stepScratch.releaseAll();
    scratch.releaseAll();
    for (let r = 0; r < rows; r++) {
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        const id = newTokens[r * B + b];
        tokens[b].push(id);
        logps[b].push(newLogps[r * B + b]);
        if (opts.eosIds.includes(id)) done[b] = "eos";
        else if (stops.length && opts.decode) {
          // Only the tail can hold a stop string that the previous token did not complete:
          // decode a window longer than any stop string (a token is at least one character).
          const text = opts.decode(tokens[b].slice(-(stopWindow + 8)));
          if (stops.some((st) => text.includes(st))) {
            done[b] = "stop";
          }
        }
      }
    }
    readUpTo = until;
    opts.onProgress?.(readUpTo * B);
    if (readUpTo >= steps || done.every(Boolean)) break;
    rec = new Rec(gpu, pool, { label: "decode", profile: opts.profile });
  }
  decodeScratch.releaseAll();
  persistent.releaseAll();
  const completions: Completion[] = [];
  for (let b = 0; b < B; b++) {
    const c: Completion = {
      prompt: Math.floor(b / n),
      sample: b % n,
      tokens: tokens[b],
      logprobs: logps[b],
      finishReason: done[b] ?? "length",
    };
    if (opts.decode) {
      let text = opts.decode(c.tokens);
      if (c.finishReason === "stop") {
        const cut = Math.min(...stops.map((st) => text.indexOf(st)).filter((i) => i >= 0));
        text = text.slice(0, cut);
      }
      c.text = text;
    }
    completions.push(c);
  }
  return {
    completions,
    stats: {
      decodeSteps,
      readbacks: gpu.counters.readbacks - counters0.readbacks,
      submits: gpu.counters.submits - counters0.submits,
      decodeProfile,
    },
  };
}

/** What the prefill and the decode steps of one generation share. */
interface Gen {
  model: Qwen3;
  kCache: Tensor[];
  vCache: Tensor[];
  /** Positions per cache slot. */
  maxLen: number;
  scale: number;
  /** Final norm and LM head over rows of x [rows, H] into logits [rows, V]. */
  head(rec: Recorder, s: Scratch, x: Tensor, rows: number): Promise<Tensor>;
  /** Samples one token per rollout from logits [B, V] into history row `step`. */
  sampleInto(rec: Recorder, s: Scratch, logits: Tensor, step: number): Promise<Tensor>;
  /** Prompts, rollouts per prompt, rollouts (P * n). */
  P: number;
  n: number;
  B: number;
}

/**
 * The one attention builder: layer `l`'s attention for a forward of `tokens` rows. The rows' keys
 * and values go into the cache at (`slots`, `positions`) first; then `attend` reads them (over
 * the packed prompts in the prefill, over the cache in a decode step).
 */
function cachedAttention(
  g: Gen,
  rec: Recorder,
  l: number,
  rows: { slots: Tensor; positions: Tensor; tokens: number },
  attend: (a: LayerActs) => Promise<void>,
): (a: LayerActs) => Promise<void> {
  const { hkv, d } = g.model.dims;
  return async (a: LayerActs) => {
    await kvAppend(g.model.gpu, rec, {
      k: a.k.buffer,
      v: a.v.buffer,
      kCache: g.kCache[l].buffer,
      vCache: g.vCache[l].buffer,
      slots: rows.slots.buffer,
      positions: rows.positions.buffer,
      tokens: rows.tokens,
      hkv,
      headDim: d,
      maxLen: g.maxLen,
    });
    await attend(a);
  };
}

/** Every layer over x[0] (then alternating buffers); the output is x[L % 2]. */
async function forwardLayers(
  g: Gen,
  rec: Recorder,
  x: Tensor[],
  fwd: { T: number; positions: Tensor },
  acts: LayerActs,
  attention: (l: number) => (a: LayerActs) => Promise<void>,
): Promise<void> {
  const { model } = g;
  for (let l = 0; l < model.dims.L; l++) {
    await model.layerForward(
      rec,
      model.p.layers[l],
      x[l % 2],
      x[(l + 1) % 2],
      fwd,
      acts,
      attention(l),
    );
  }
}

/**
 * The prefill: every prompt once, packed into one forward, its keys and values into its own
 * cache slot; then the first token of each rollout, sampled from its prompt's last position.
 */
async function prefill(
  g: Gen,
  rec: Recorder,
  scratch: Scratch,
  prompts: number[][],
): Promise<Tensor> {
  const { model, P, n, B } = g;
  const { gpu } = model;
  const { H, L, hq, hkv, d } = model.dims;
  const Tp = prompts.reduce((a, p) => a + p.length, 0);
  const ids = new Uint32Array(Tp), pos = new Uint32Array(Tp), slotOf = new Uint32Array(Tp);
  const starts = new Uint32Array(P + 1);
  let t = 0;
  for (const [i, p] of prompts.entries()) {
    starts[i] = t;
    for (let j = 0; j < p.length; j++, t++) [ids[t], pos[t], slotOf[t]] = [p[j], j, i];
  }
  starts[P] = Tp;
  const gIds = scratch.upload(ids), gPos = scratch.upload(pos), gSlots = scratch.upload(slotOf);
  const gStarts = scratch.upload(starts);
  const xs = [scratch.tensor([Tp, H]), scratch.tensor([Tp, H])];
  await model.embed(rec, gIds.buffer, xs[0].buffer, Tp);
  const a = model.allocActs(scratch, Tp);
  const rows = { slots: gSlots, positions: gPos, tokens: Tp };
  await forwardLayers(
    g,
    rec,
    xs,
    { T: Tp, positions: gPos },
    a,
    (l) =>
      cachedAttention(g, rec, l, rows, async (a) => {
        await attentionForward(gpu, rec, {
          q: a.q.buffer,
          k: a.k.buffer,
          v: a.v.buffer,
          out: a.attn.buffer,
          lse: a.lse.buffer,
          seqStarts: gStarts.buffer,
          numSeqs: P,
          totalTokens: Tp,
          hq,
          hkv,
          headDim: d,
          scale: g.scale,
        });
      }),
  );
  // Each rollout starts from its prompt's last hidden state.
  const xLast = scratch.tensor([B, H]);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j < n; j++) {
      rec.copy(
        xs[L % 2].buffer,
        (starts[i + 1] - 1) * H * 4,
        xLast.buffer,
        (i * n + j) * H * 4,
        H * 4,
      );
    }
  }
  const logits = await g.head(rec, scratch, xLast, B);
  return await g.sampleInto(rec, scratch, logits, 0);
}

/**
 * One decode step: each rollout's token `step - 1` (at position promptLen + step - 1) goes into
 * its own slot's row `step - 1`, attends over its prompt's slot and its own rows, and token
 * `step` is sampled.
 */
async function decodeStep(
  g: Gen,
  rec: Recorder,
  stepScratch: Scratch,
  s: { tokens: Tensor; step: number; promptLen: number[]; x: Tensor[]; acts: LayerActs },
): Promise<Tensor> {
  const { model, P, n, B } = g;
  const { gpu } = model;
  const { L, hq, hkv, d } = model.dims;
  const { step, promptLen } = s;
  const pos = Uint32Array.from(promptLen, (p) => p + step - 1);
  const info = new Uint32Array(B * 4);
  for (let b = 0; b < B; b++) info.set([Math.floor(b / n), promptLen[b], P + b, step], b * 4);
  const gPos = stepScratch.upload(pos), gInfo = stepScratch.upload(info);
  const gSlots = stepScratch.upload(Uint32Array.from({ length: B }, (_, b) => P + b));
  const gOwnPos = stepScratch.upload(new Uint32Array(B).fill(step - 1));
  await model.embed(rec, s.tokens.buffer, s.x[0].buffer, B);
  const rows = { slots: gSlots, positions: gOwnPos, tokens: B };
  await forwardLayers(
    g,
    rec,
    s.x,
    { T: B, positions: gPos },
    s.acts,
    (l) =>
      cachedAttention(g, rec, l, rows, async (a) => {
        await attentionDecode(gpu, rec, {
          q: a.q.buffer,
          kCache: g.kCache[l].buffer,
          vCache: g.vCache[l].buffer,
          out: a.attn.buffer,
          seqInfo: gInfo.buffer,
          batch: B,
          hq,
          hkv,
          headDim: d,
          maxLen: g.maxLen,
          scale: g.scale,
          rolloutsPerPrompt: n,
        });
      }),
  );
  const logits = await g.head(rec, stepScratch, s.x[L % 2], B);
  return await g.sampleInto(rec, stepScratch, logits, step);
}
