/**
 * Model benchmarks, each against a reference measured in the same run:
 * - train-step tokens/s for a preset, against the same model and batch in
 *   PyTorch on the CPU (Debian's python3-torch, when present) and against the
 *   matmul roofline (the step's FLOPs at the measured matmul rate);
 * - generation tokens/s at several batch sizes, with readbacks per decode step.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { makeConfig, paramCount, type PRESETS, type Qwen3Config } from "../engine/model_config.ts";
import { initParams } from "../engine/checkpoint.ts";
import { ParamSet } from "../engine/params.ts";
import { packSequences, Qwen3 } from "../engine/qwen3.ts";
import { meanCeCoef, Trainer } from "../engine/train_step.ts";
import { generate } from "../engine/generate.ts";
import { matmul } from "../kernels/matmul.ts";
import { mulberry32 } from "../core/rng.ts";
import { empty } from "../core/tensor.ts";

/** FLOPs of one training step (forward + backward = 3x forward) over S sequences of T tokens. */
export function trainStepFlops(c: Qwen3Config, S: number, T: number): number {
  const H = c.hidden_size, I = c.intermediate_size, d = c.head_dim;
  const hq = c.num_attention_heads, hkv = c.num_key_value_heads, L = c.num_hidden_layers;
  const linearPerToken = 2 * (H * hq * d * 2 + 2 * H * hkv * d + 3 * H * I);
  const headPerToken = 2 * c.vocab_size * H;
  const attnPerSeq = L * 4 * d * hq * (T * (T + 1)) / 2;
  const forward = S * T * (L * linearPerToken + headPerToken) + S * attnPerSeq;
  return 3 * forward;
}

/**
 * The tuned matmul's GFLOP/s at m x n x k (B stored [n, k]): products recorded back to back in one
 * submission, timed at R and 2R products and rated on the difference, so the fixed cost of a
 * submit and wait (about 10 ms here, more than a decode-shaped product takes) cancels out. R grows
 * for small products until each run does at least 2^24 multiply-adds.
 */
export async function matmulRate(
  gpu: Gpu,
  m: number,
  n: number,
  k: number,
  reps = 4,
): Promise<number> {
  const R = Math.max(reps, Math.min(1024, Math.ceil(2 ** 24 / (m * n * k))));
  const pool = new BufferPool(gpu);
  const a = empty(gpu, [m, k]), b = empty(gpu, [n, k]), c = empty(gpu, [m, n]);
  const run = async (count: number) => {
    const rec = new Recorder(gpu, pool);
    for (let i = 0; i < count; i++) {
      await matmul(gpu, rec, { a: a.buffer, b: b.buffer, c: c.buffer, m, n, k, transB: true });
    }
    const t0 = performance.now();
    await rec.submit();
    await gpu.device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await run(1); // autotune and compile outside the timing
  let once = Infinity, twice = Infinity;
  for (let i = 0; i < 2; i++) {
    once = Math.min(once, await run(R));
    twice = Math.min(twice, await run(2 * R));
  }
  for (const t of [a, b, c]) t.buffer.destroy();
  // Timer noise can leave the difference near zero; then the R-product run's rate (an underestimate).
  const ms = twice - once > 0.25 * once ? twice - once : once;
  return (2 * m * n * k * R) / (ms / 1000) / 1e9;
}

export interface TrainBenchResult {
  preset: string;
  params: number;
  seqs: number;
  seqLen: number;
  tokensPerSec: number;
  msPerStep: number;
  stepGflop: number;
  matmulGflops: number;
  rooflineTokensPerSec: number;
  /** tokensPerSec / rooflineTokensPerSec (target >= 0.5). */
  rooflineRatio: number;
  torchTokensPerSec: number | null;
  /** tokensPerSec / torchTokensPerSec. */
  torchRatio: number | null;
}

/** Runs the PyTorch reference step (tools/bench/torch_train_step.py) when Debian's torch exists. */
export async function torchReference(
  config: Qwen3Config,
  seqs: number,
  seqLen: number,
  steps: number,
): Promise<number | null> {
  const script = new URL("../tools/bench/torch_train_step.py", import.meta.url);
  if (script.protocol !== "file:") return null;
  try {
    const p = new Deno.Command("/usr/bin/python3", {
      args: [script.pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(
      new TextEncoder().encode(
        JSON.stringify({ config, seqs, seq_len: seqLen, steps, threads: 2 }),
      ),
    );
    await w.close();
    const out = await p.output();
    if (out.code !== 0) return null;
    return JSON.parse(new TextDecoder().decode(out.stdout)).tokens_per_s as number;
  } catch {
    return null;
  }
}

/** Train-step throughput of a preset on random tokens. */
export async function trainBench(
  gpu: Gpu,
  preset: keyof typeof PRESETS,
  opts: { seqs: number; seqLen: number; steps: number; vocab: number; torch: boolean },
): Promise<TrainBenchResult> {
  const config = makeConfig(preset, opts.vocab);
  const pool = new BufferPool(gpu);
  const weights = ParamSet.fromHost(gpu, config, initParams(config, 0));
  const model = new Qwen3(gpu, pool, config, weights);
  const trainer = new Trainer(model);
  const rand = mulberry32(1);
  const seqs = Array.from(
    { length: opts.seqs },
    () => Array.from({ length: opts.seqLen }, () => Math.floor(rand() * opts.vocab)),
  );
  const batch = packSequences(seqs);
  const coef = meanCeCoef(batch);
  await trainer.trainStep(batch, coef); // warm-up: compile, autotune
  let best = Infinity;
  for (let i = 0; i < opts.steps; i++) {
    const t0 = performance.now();
    await trainer.trainStep(batch, coef);
    best = Math.min(best, performance.now() - t0);
  }
  trainer.destroy();
  weights.destroy();
  pool.trim();
  const tokens = opts.seqs * opts.seqLen;
  const flops = trainStepFlops(config, opts.seqs, opts.seqLen);
  const rate = await matmulRate(gpu, tokens, config.intermediate_size, config.hidden_size);
  const tokensPerSec = tokens / (best / 1000);
  const roofline = rate * 1e9 / (flops / tokens);
  const torch = opts.torch
    ? await torchReference(config, opts.seqs, opts.seqLen, Math.max(2, opts.steps))
    : null;
  return {
    preset,
    params: paramCount(config),
    seqs: opts.seqs,
    seqLen: opts.seqLen,
    tokensPerSec,
    msPerStep: best,
    stepGflop: flops / 1e9,
    matmulGflops: rate,
    rooflineTokensPerSec: roofline,
    rooflineRatio: tokensPerSec / roofline,
    torchTokensPerSec: torch,
    torchRatio: torch ? tokensPerSec / torch : null,
  };
}

export interface GenBenchResult {
  batch: number;
  promptLen: number;
  newTokens: number;
  tokensPerSec: number;
  decodeSteps: number;
  readbacks: number;
  /** readbacks / decode steps (target <= 1/8). */
  readbacksPerStep: number;
}

/** Generation throughput of a preset at each batch size (random weights; no early EOS). */
export async function generationBench(
  gpu: Gpu,
  preset: keyof typeof PRESETS,
  opts: { batches: number[]; promptLen: number; newTokens: number; vocab: number },
): Promise<GenBenchResult[]> {
  const config = makeConfig(preset, opts.vocab);
  const pool = new BufferPool(gpu);
  const weights = ParamSet.fromHost(gpu, config, initParams(config, 0));
  const model = new Qwen3(gpu, pool, config, weights);
  const rand = mulberry32(2);
  const out: GenBenchResult[] = [];
  for (const B of opts.batches) {
    const prompts = Array.from(
      { length: B },
      () => Array.from({ length: opts.promptLen }, () => Math.floor(rand() * opts.vocab)),
    );
    const run = () =>
      generate(model, prompts, {
        n: 1,
        maxNewTokens: opts.newTokens,
        temperature: 1,
        topP: 1,
        topK: 0,
        seed: 0,
        eosIds: [],
      });
    await run(); // warm-up
    const t0 = performance.now();
    const { stats } = await run();
    const s = (performance.now() - t0) / 1000;
    out.push({
      batch: B,
      promptLen: opts.promptLen,
      newTokens: opts.newTokens,
      tokensPerSec: (B * opts.newTokens) / s,
      decodeSteps: stats.decodeSteps,
      readbacks: stats.readbacks,
      readbacksPerStep: stats.readbacks / Math.max(1, stats.decodeSteps + 1),
    });
  }
  weights.destroy();
  pool.trim();
  return out;
}
