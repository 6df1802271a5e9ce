/**
 * Supervised warm-up: next-token cross-entropy on reference answers (the response each verifier
 * scores as correct, train/data.ts sftTarget), optionally plus an LM loss on the prompt's context
 * and on windows of plain text (a little pretraining for models trained from scratch).
 *
 *   loss = mean CE over response tokens + context_loss · mean CE over context tokens
 *
 * One optimizer step per `batch_tokens` of sequences (gradient accumulation over micro-batches),
 * AdamW with warm-up, checkpoints and resume as `train` (train/checkpoint.ts), metrics in
 * DIR/metrics.jsonl (phase "sft"), the final model in DIR/model.
 */
import { acquireGpu, type GpuOptions } from "../core/gpu/device.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { copyTokenizerFiles, loadModel } from "../engine/load.ts";
import { saveCheckpoint } from "../engine/checkpoint.ts";
import type { Qwen3 } from "../engine/qwen3.ts";
import { promptIds } from "../engine/rollout.ts";
import { type MicroBatch, Trainer } from "../engine/train_step.ts";
import { loadTokenizer, type Tokenizer } from "../core/tokenizer/tokenizer.ts";
import { readCorpus } from "../core/tokenizer/bpe_train.ts";
import type { Sample } from "../tasks/generators/types.ts";
import { writeEffectiveConfig } from "../core/config_schema.ts";
import { joinPath } from "../core/fsutil.ts";
import { mulberry32, subSeed } from "../core/rng.ts";
import { formatDuration } from "../core/progress.ts";
import { microBatches, pack, type TrainSeq } from "./batch.ts";
import { runStart, type RunState, saveRunCheckpoint, truncateLog } from "./checkpoint.ts";
import { learningRate, optimOf, type SftConfig } from "./config.ts";
import { loadSamples, PromptSampler, type SamplerState, sftTarget } from "./data.ts";
import { appendJsonl } from "./log.ts";

export interface SftOptions {
  out: string;
  resume: boolean;
  gpu?: GpuOptions;
  log?: (line: string) => void;
  maxStepsThisRun?: number;
}

/** A sample's supervised sequence: templated prompt, then the target and the end-of-turn token. */
export function sftSequence(
  tok: Tokenizer,
  s: Sample,
  opts: { thinking: boolean; think?: string },
): TrainSeq {
  const prompt = promptIds(tok, { messages: s.prompt }, { enableThinking: opts.thinking });
  const end = tok.tokenToId("<|im_end|>") ?? tok.eosIds[0];
  const target = [...tok.encode(sftTarget(s, opts)), end];
  return { tokens: [...prompt, ...target], respStart: prompt.length };
}

/**
 * Per-token coefficients for one micro-batch: -1/N_resp on response targets and
 * -context_loss/N_ctx on context targets (N counted over the whole optimizer step).
 */
function sftCoef(
  p: ReturnType<typeof pack>,
  seqs: readonly TrainSeq[],
  nResp: number,
  nCtx: number,
  contextLoss: number,
): Float32Array {
  const coef = new Float32Array(p.batch.ids.length);
  for (const [k, i] of p.members.entries()) {
    const start = p.batch.seqStarts[k], s = seqs[i];
    for (let pos = 0; pos < s.tokens.length - 1; pos++) {
      const isResp = pos + 1 >= s.respStart;
      coef[start + pos] = isResp ? -1 / Math.max(1, nResp) : nCtx ? -contextLoss / nCtx : 0;
    }
  }
  return coef;
}

/** Mean response-token loss of `seqs` under `model` (teacher forcing, no update). */
export async function responseLoss(
  model: Qwen3,
  seqs: readonly TrainSeq[],
  budget: number,
): Promise<number> {
  let sum = 0, n = 0;
  for (const m of microBatches(seqs, budget)) {
    const p = pack(seqs, m);
    const rec = new Recorder(model.gpu, model.pool, { label: "sft eval" });
    const st = await model.forward(rec, p.batch);
    const r = rec.read(st.logprobs.buffer, p.batch.ids.length * 4);
    await rec.submit();
    const lp = new Float32Array(await r);
    model.release(st);
    for (const [k, i] of p.members.entries()) {
      const start = p.batch.seqStarts[k], s = seqs[i];
      for (let pos = s.respStart - 1; pos < s.tokens.length - 1; pos++) {
        sum -= lp[start + pos];
        n++;
      }
    }
  }
  return n ? sum / n : NaN;
}

/** Runs (or resumes) supervised training; returns the final model folder. */
export async function trainSft(
  cfg: SftConfig,
  opts: SftOptions,
): Promise<{ model: string; steps: number }> {
  const log = opts.log ?? (() => {});
  const out = opts.out;
  if (!cfg.model.path) throw new Error("model.path is required (the start checkpoint)");
  if (!cfg.data.train && !(cfg.data.text as string[]).length) {
    throw new Error("data.train (samples) or data.text (plain text) is required");
  }
  await Deno.mkdir(out, { recursive: true });
  const resume = await runStart(out, opts.resume);
  const modelDir = resume?.dir ?? cfg.model.path;
  const gpu = await acquireGpu(opts.gpu);
  try {
    const tok = await loadTokenizer(modelDir);
    const { model } = await loadModel(gpu, modelDir, { matrices: "f32" });
    const trainer = new Trainer(model, optimOf(cfg.optim));
    const thinking = { thinking: cfg.sft.enable_thinking, think: cfg.sft.think };
    const maxPos = model.dims.maxPos;
    const tasks = cfg.data.tasks as string[];
    const samples = cfg.data.train ? await loadSamples(cfg.data.train, tasks) : [];
    const seqs = samples.map((s) => sftSequence(tok, s, thinking));
    const keep = seqs.map((s) => s.tokens.length <= maxPos);
    const trainSamples = samples.filter((_, i) => keep[i]);
    const trainSeqs = seqs.filter((_, i) => keep[i]);
    if (trainSeqs.length < seqs.length) {
      log(`data: ${seqs.length - trainSeqs.length} sample(s) longer than the context were dropped`);
    }
    const heldSeqs = cfg.data.heldout
      ? (await loadSamples(cfg.data.heldout, tasks)).map((s) => sftSequence(tok, s, thinking))
        .filter((s) => s.tokens.length <= maxPos).slice(0, 256)
      : [];
    // Plain text for LM loss: one token stream, windows drawn at seeded offsets.
    const textFiles = cfg.data.text as string[];
    const stream: number[] = [];
    if (textFiles.length && cfg.sft.text_fraction > 0) {
      for (const doc of await readCorpus(textFiles)) {
        for (const id of tok.encode(doc)) stream.push(id);
        stream.push(tok.eosIds[0]);
      }
    }
    const seqLen = Math.min(cfg.sft.seq_len, maxPos);
    if (cfg.sft.text_fraction > 0 && stream.length <= seqLen) {
      throw new Error(
        `data.text holds ${stream.length} tokens: too little for windows of ${seqLen}`,
      );
    }
    if (!trainSeqs.length && !stream.length) throw new Error("no training data left");
    const sampler = trainSeqs.length
      ? new PromptSampler(trainSamples, "natural", cfg.seed)
      : undefined;

    let step = 0, nonfiniteStreak = 0, nonfiniteTotal = 0;
    if (resume) {
      await trainer.loadState(resume.dir);
      if (sampler) sampler.restore(resume.state.sampler as SamplerState);
      step = resume.state.step;
      nonfiniteStreak = resume.state.nonfiniteStreak;
      nonfiniteTotal = resume.state.nonfiniteTotal;
      await truncateLog(joinPath(out, "metrics.jsonl"), step);
      log(`resumed from ${resume.dir} (step ${step})`);
    } else await Deno.remove(joinPath(out, "metrics.jsonl")).catch(() => {});
    await writeEffectiveConfig(out, cfg);
    const metricsPath = joinPath(out, "metrics.jsonl");
    const save = async () => {
      const state: RunState = {
        step,
        sampler: sampler?.state() ?? null,
        nonfiniteStreak,
        nonfiniteTotal,
        config: cfg,
      };
      await saveRunCheckpoint(out, model, trainer, state, {
        tokenizerDir: modelDir,
        keep: cfg.checkpoint.keep,
      });
    };

    const t0 = performance.now(), startStep = step;
    while (step < cfg.sft.steps) {
      if (opts.maxStepsThisRun !== undefined && step - startStep >= opts.maxStepsThisRun) break;
      step++;
      const tStep = performance.now();
      // The step's sequences: text windows for text_fraction of the budget, then samples.
      const batch: TrainSeq[] = [];
      let used = 0;
      const textBudget = stream.length ? cfg.sft.batch_tokens * cfg.sft.text_fraction : 0;
      const rnd = mulberry32(subSeed(cfg.seed, `sft/text/${step}`));
      while (used < textBudget) {
        const at = Math.floor(rnd() * (stream.length - seqLen));
        batch.push({ tokens: stream.slice(at, at + seqLen), respStart: seqLen }); // all context
        used += seqLen;
      }
      while (sampler && used < cfg.sft.batch_tokens) {
        const s = trainSeqs[sampler.next(1)[0]];
        batch.push(s);
        used += s.tokens.length;
      }
      let nResp = 0, nCtx = 0;
      for (const s of batch) {
        nResp += s.tokens.length - s.respStart;
        nCtx += Math.max(0, s.respStart - 1);
      }
      const packs = microBatches(batch, cfg.sft.micro_batch_tokens).map((m) => pack(batch, m));
      const micro: MicroBatch[] = packs.map((p) => ({
        batch: p.batch,
        coef: sftCoef(p, batch, nResp, nCtx, cfg.sft.context_loss),
      }));
      const lr = learningRate(cfg.optim, trainer.step + 1, cfg.sft.steps);
      const r = await trainer.run(micro, { lr });
      // Split the loss into its response and context parts (logprobs read back with the step).
      let lossResp = 0, lossCtx = 0;
      for (const [pi, p] of packs.entries()) {
        for (const [k, i] of p.members.entries()) {
          const start = p.batch.seqStarts[k], s = batch[i];
          for (let pos = 0; pos < s.tokens.length - 1; pos++) {
            const lp = r.micro[pi].logprobs[start + pos];
            if (pos + 1 >= s.respStart) lossResp -= lp;
            else lossCtx -= lp;
          }
        }
      }
      if (r.skipped) {
        nonfiniteStreak++;
        nonfiniteTotal++;
        log(`warning: step ${step}: non-finite gradient; update skipped`);
        if (nonfiniteStreak >= cfg.guards.max_nonfinite) {
          throw new Error(`${nonfiniteStreak} non-finite steps in a row: aborting`);
        }
      } else nonfiniteStreak = 0;
      const seconds = (performance.now() - tStep) / 1000;
      const tokens = batch.reduce((a, s) => a + s.tokens.length, 0);
      const m: Record<string, unknown> = {
        phase: "sft",
        step,
        loss: r.loss,
        loss_response: nResp ? lossResp / nResp : null,
        loss_context: nCtx ? lossCtx / nCtx : null,
        lr,
        grad_norm: r.gradNorm,
        tokens,
        response_tokens: nResp,
        tokens_per_s: tokens / seconds,
        time: { update: seconds, total: seconds },
        skipped: r.skipped,
      };
      const isSave = step % cfg.checkpoint.every === 0 || step === cfg.sft.steps;
      if (isSave && heldSeqs.length) {
        m.val_loss = await responseLoss(model, heldSeqs, cfg.sft.micro_batch_tokens);
      }
      await appendJsonl(metricsPath, m);
      const el = (performance.now() - t0) / 1000;
      const eta = (el / (step - startStep)) * (cfg.sft.steps - step);
      const f = (x: unknown) => typeof x === "number" ? x.toFixed(4) : "-";
      log(
        `sft ${step}/${cfg.sft.steps} loss ${f(m.loss)} (response ${f(m.loss_response)}, ` +
          `context ${f(m.loss_context)})${
            m.val_loss !== undefined ? ` val ${f(m.val_loss)}` : ""
          } ` +
          `lr ${lr.toExponential(2)} gnorm ${r.gradNorm.toFixed(3)} ` +
          `${(tokens / seconds).toFixed(0)} tok/s ETA ${formatDuration(eta)}`,
      );
      if (isSave) await save();
    }
    // The final model, in HF layout, for eval and train.
    const final = joinPath(out, "model");
    if (step >= cfg.sft.steps) {
      const host = await model.weights.toHost(gpu, new Recorder(gpu, model.pool));
      await saveCheckpoint(final, model.config, host);
      await copyTokenizerFiles(modelDir, final);
    }
    trainer.destroy();
    return { model: final, steps: step };
  } finally {
    gpu.destroy();
  }
}
