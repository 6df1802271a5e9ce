/**
 * `golongrl bench model --preset NAME`: a model of a real shape (random weights made on the fly,
 * no download) trained and run at that shape, every figure beside a reference measured in the
 * same run:
 * - the memory plan first (engine/memory_plan.ts): whether the step fits the adapter and host,
 *   and the knob to turn when it does not; the step is not attempted when it does not fit;
 * - one full train step (forward, backward, AdamW) of T tokens: its time against its matmul
 *   roofline (the step's FLOPs at the tuned NT matmul's rate on the step's dominant shape), its
 *   device memory against the plan, and the process's peak resident memory;
 * - prefill of P tokens against its matmul roofline, and decode at batch 1 against its
 *   bandwidth limit (bytes of weights and KV cache read per step at the copy bandwidth);
 * - decode at larger batches (n rollouts of one prompt, as RL samples them) against batch 1's
 *   tokens/s: a step reads the weights once for the whole batch, so tokens/s should grow with it;
 * - loading the weights from an F16 checkpoint (written to a temporary folder) onto the device
 *   with f16 matrices, against a plain read of its file (bench/checkpoint_load.ts). With
 *   `loadOnly`, only the plans and the load.
 */
import { fmtNum, textTable } from "../core/text_table.ts";
import type { Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { mulberry32 } from "../core/rng.ts";
import { empty } from "../core/tensor.ts";
import {
  makeConfig,
  paramCount,
  type PresetName,
  PRESETS,
  type Qwen3Config,
} from "../engine/model_config.ts";
import { initParams } from "../engine/checkpoint.ts";
import { ParamSet } from "../engine/params.ts";
import { packSequences, Qwen3 } from "../engine/qwen3.ts";
import { DEFAULT_OPTIM, meanCeCoef, Trainer } from "../engine/train_step.ts";
import { generate } from "../engine/generate.ts";
import { readSum, readSumLanes } from "../kernels/read_sum.ts";
import {
  formatPlan,
  type MemoryBudget,
  memoryBudget,
  type MemoryPlan,
  planGeneration,
  planTrainStep,
} from "../engine/memory_plan.ts";
import { matmulRate, trainStepFlops } from "./model.ts";
import { timeBest } from "./kernels.ts";
import { type BenchRow, compare, contextRow, num } from "./report.ts";
import { type BenchHost, formatBenchHeader } from "./header.ts";
import { checkpointLoadBench, type CheckpointLoadFigures } from "./checkpoint_load.ts";

export interface PresetBenchOptions {
  /** Tokens of the train step (one sequence). */
  seqLen: number;
  /** Recompute activations in the backward. */
  checkpoint: boolean;
  /** Timed train steps after one warm-up step (compiles and autotunes); 0 skips training. */
  steps: number;
  promptLen: number;
  /** Decode steps timed at each batch size. */
  newTokens: number;
  /** Decode batch sizes (1 is always measured: the bandwidth row and the others' reference). */
  decodeBatches: number[];
  /** Vocabulary when the preset has none of its own. */
  vocab: number;
  /** Only the plans and the checkpoint load: no train step, prefill or decode. */
  loadOnly?: boolean;
  /** After the timed decode at each batch, a profiled one: GPU time per kernel per step. */
  profile?: boolean;
  log: (line: string) => void;
}

/** GPU time of one kernel label in a decode step (a profiled generation). */
export interface DecodeKernelTime {
  label: string;
  msPerStep: number;
  dispatchesPerStep: number;
}

export interface PresetBenchResult {
  preset: string;
  config: Qwen3Config;
  params: number;
  /** Tokens of the train step (planned, and run unless trainSkipped). */
  seqLen: number;
  /** Prompt tokens and decode steps (planned, and run unless generationSkipped). */
  promptLen: number;
  newTokens: number;
  budget: MemoryBudget;
  trainPlan: MemoryPlan;
  generationPlan: MemoryPlan;
  train: {
    tokens: number;
    checkpoint: boolean;
    warmupMs: number;
    msPerStep: number;
    loss: number;
    stepGflop: number;
    /** The tuned NT matmul on the step's dominant shape (tokens x I x H). */
    ntGflops: number;
    rooflineMs: number;
    /** Weights, gradients, moments and the step's scratch (pool high-water). */
    deviceBytes: number;
  } | null;
  /** Why there is no train figure (the plan said it does not fit, or --steps 0). */
  trainSkipped: string | null;
  prefill: {
    tokens: number;
    ms: number;
    gflop: number;
    ntGflops: number;
    rooflineMs: number;
  } | null;
  decode: {
    tokens: number;
    msPerToken: number;
    bytesPerStep: number;
    /** Copy bandwidth measured in this run (bytes read + written per second). */
    bandwidthGBs: number;
    limitMs: number;
    /**
     * The shader read ceiling measured in this run: bytes per second a plain read kernel
     * streams (kernels/read_sum.ts), the most any decode kernel can read weights at.
     */
    shaderReadGBs: number;
    /** bytesPerStep at the shader read ceiling. */
    shaderReadLimitMs: number;
  } | null;
  /**
   * Decode at each batch size (batch 1 first), with its roofline: the slower of reading the
   * weights and KV cache at the copy bandwidth and doing the step's FLOPs at the NT matmul rate.
   * Empty when generation did not run.
   */
  decodeByBatch: {
    batch: number;
    msPerStep: number;
    tokensPerSec: number;
    rooflineMs: number;
    /** With `profile`: GPU time per kernel label, largest first (timestamp queries). */
    kernels?: DecodeKernelTime[];
  }[];
  /** Why there is no prefill or decode figure (--load-only). */
  generationSkipped: string | null;
  /** Loading the weights as an F16 checkpoint against reading its file. */
  load: CheckpointLoadFigures;
  /** The process's peak resident memory (VmHWM) up to the end of the load, bytes; null off Linux. */
  loadPeakRssBytes: number | null;
  /**
   * The process's peak resident memory (VmHWM), bytes; null off Linux. When the model phases
   * ran and Linux let the high-water mark be reset after the load (`peakRssReset`), the peak of
   * those phases alone (what it was before the load was measured).
   */
  peakRssBytes: number | null;
  peakRssReset: boolean;
  rows: BenchRow[];
}

/** Peak resident memory of this process (Linux /proc/self/status VmHWM), or null. */
export function peakRss(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets this process's VmHWM to its current resident size (Linux >= 4.0); false if not. */
export function resetPeakRss(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** Device copy bandwidth, bytes read + written per second (copies of a 256 MiB buffer). */
export async function copyBandwidth(gpu: Gpu, bytes = 256 * 2 ** 20, reps = 4): Promise<number> {
  const size = Math.min(bytes, Math.floor(gpu.limits.maxBufferSize / 256) * 256);
  const a = empty(gpu, [size / 4]), b = empty(gpu, [size / 4]);
  // The first submission also touches the new buffers' memory: best of 3.
  const ms = await timeBest(gpu, 3, reps, (rec) => rec.copy(a.buffer, 0, b.buffer, 0, size));
  a.buffer.destroy();
  b.buffer.destroy();
  return (2 * size) / (ms / 1000);
}

/**
 * Shader read ceiling, bytes read per second: a plain read kernel (kernels/read_sum.ts) over a
 * buffer of one storage binding (at most 128 MiB, beyond any CPU's last-level cache), `reps`
 * passes per submission, best of three. On lavapipe every storage load is a loop over the SIMD
 * lanes, so this sits well under the copy bandwidth; on a GPU the two should be close.
 */
export async function shaderReadBandwidth(gpu: Gpu, bytes = 128 * 2 ** 20, reps = 4) {
  const max = Math.min(bytes, gpu.limits.maxStorageBufferBindingSize);
  const elements = Math.floor(max / 4 / 2 ** 16) * 2 ** 16;
  const lanes = readSumLanes(elements);
  const x = empty(gpu, [elements]), out = empty(gpu, [lanes * 4]);
  const ms = await timeBest(
    gpu,
    3,
    reps,
    (rec) => readSum(gpu, rec, x.buffer, out.buffer, elements, lanes),
  );
  x.buffer.destroy();
  out.buffer.destroy();
  return (elements * 4) / (ms / 1000);
}

/** Bytes a batch-1 decode step reads: every weight matrix and norm once, and the KV cache. */
export function decodeBytesPerStep(c: Qwen3Config, context: number, weightBytes: number): number {
  const kv = 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim * 4 * context;
  return paramCount(c) * weightBytes + kv;
}

const GIB = 2 ** 30;
const sec = (ms: number) => ms < 10_000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;

/** Runs the preset bench (see the module comment). */
export async function presetBench(
  gpu: Gpu,
  preset: PresetName,
  o: PresetBenchOptions,
): Promise<PresetBenchResult> {
  const config = makeConfig(preset, PRESETS[preset].vocab_size ?? o.vocab);
  const params = paramCount(config);
  const T = o.seqLen;
  const budget = memoryBudget(gpu.device.limits, gpu.description.kind);
  const maxBindingSize = gpu.device.limits.maxStorageBufferBindingSize;
  const trainPlan = planTrainStep(config, {
    tokens: T,
    checkpoint: o.checkpoint,
    ntBackward: gpu.description.kind === "software",
    maxBindingSize,
  }, budget);
  const generationPlan = planGeneration(config, {
    batch: 1,
    positions: o.promptLen + 2 * o.newTokens,
    prefillTokens: o.promptLen,
    weights: "f32",
    maxBindingSize,
  }, budget);
  o.log(formatPlan(`memory plan, train step of ${T} tokens`, trainPlan).trimEnd());
  o.log(formatPlan(`memory plan, prefill ${o.promptLen} + decode`, generationPlan).trimEnd());
  const generationSkipped = o.loadOnly ? "not run (--load-only)" : null;
  const trainSkipped = generationSkipped ??
    (o.steps === 0
      ? "not run (--steps 0)"
      : trainPlan.fits === false
      ? `does not fit: ${trainPlan.reasons.join("; ")}; knob: ${trainPlan.knob}`
      : null);
  if (!generationSkipped && generationPlan.fits === false) {
    throw new Error(
      `${preset}: generation does not fit: ${generationPlan.reasons.join("; ")}; knob: ${
        generationPlan.knob ?? "none"
      }`,
    );
  }

  let t0 = performance.now();
  o.log(`building ${params.toLocaleString("en-US")} random f32 parameters (${preset}, seed 0)`);
  let host: Map<string, Float32Array> | undefined = initParams(config, 0);
  o.log(`parameters built in ${sec(performance.now() - t0)}`);
  const load = await checkpointLoadBench(gpu, config, host, { log: o.log });
  const loadPeakRssBytes = peakRss();
  // The load's transient memory (the file read, the f16 model) is not the model phases' peak.
  const peakRssReset = !generationSkipped && resetPeakRss();
  let ran: Pick<PresetBenchResult, "train" | "prefill" | "decode" | "decodeByBatch"> = {
    train: null,
    prefill: null,
    decode: null,
    decodeByBatch: [],
  };
  if (!generationSkipped) {
    t0 = performance.now();
    const weights = ParamSet.fromHost(gpu, config, host);
    host = undefined; // the device holds them now; let the host copy go
    o.log(`weights on the device after ${sec(performance.now() - t0)}`);
    ran = await runModel(gpu, config, weights, o, trainSkipped);
  }
  const result: Omit<PresetBenchResult, "rows"> = {
    preset,
    config,
    params,
    seqLen: T,
    promptLen: o.promptLen,
    newTokens: o.newTokens,
    budget,
    trainPlan,
    generationPlan,
    ...ran,
    trainSkipped,
    generationSkipped,
    load,
    loadPeakRssBytes,
    peakRssBytes: peakRss(),
    peakRssReset,
  };
  return { ...result, rows: presetRows(result) };
}

/** The train step (unless skipped), prefill and decode on the uploaded weights. */
async function runModel(
  gpu: Gpu,
  config: Qwen3Config,
  weights: ParamSet,
  o: PresetBenchOptions,
  trainSkipped: string | null,
): Promise<Pick<PresetBenchResult, "train" | "prefill" | "decode" | "decodeByBatch">> {
  const T = o.seqLen, params = paramCount(config);
  const pool = new BufferPool(gpu);
  const model = new Qwen3(gpu, pool, config, weights);
  const rand = mulberry32(1);
  const V = config.vocab_size;
  const randomIds = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * V));

  let train: PresetBenchResult["train"] = null;
  if (!trainSkipped) {
    const trainer = new Trainer(model, { ...DEFAULT_OPTIM, checkpoint: o.checkpoint });
    const batch = packSequences([randomIds(T)]);
    const coef = meanCeCoef(batch);
    o.log(`train step 1 (warm-up: compiles and autotunes) of ${T} tokens...`);
    let t = performance.now();
    await trainer.trainStep(batch, coef);
    const warmupMs = performance.now() - t;
    o.log(`warm-up step: ${sec(warmupMs)}`);
    let best = Infinity, loss = NaN;
    for (let i = 0; i < o.steps; i++) {
      o.log(`timed train step ${i + 1}/${o.steps}...`);
      t = performance.now();
      const r = await trainer.trainStep(batch, coef);
      const ms = performance.now() - t;
      if (ms < best) [best, loss] = [ms, r.loss];
      o.log(`train step ${i + 1}: ${sec(ms)}, loss ${r.loss.toFixed(4)}`);
    }
    const deviceBytes = 4 * params * 4 + pool.stats.allocatedBytes;
    trainer.destroy();
    pool.trim();
    o.log("measuring the NT matmul on the step's shape...");
    const ntGflops = await matmulRate(gpu, T, config.intermediate_size, config.hidden_size);
    const flops = trainStepFlops(config, 1, T);
    train = {
      tokens: T,
      checkpoint: o.checkpoint,
      warmupMs,
      msPerStep: best,
      loss,
      stepGflop: flops / 1e9,
      ntGflops,
      rooflineMs: flops / (ntGflops * 1e6),
      deviceBytes,
    };
  } else o.log(`train step: ${trainSkipped}`);

  // Prefill: a generation of 1 new token (the prefill samples it). Decode: timed below between
  // two readbacks. At batch B the B rollouts share the prompt's prefill.
  const prompt = randomIds(o.promptLen);
  const gen = (
    batch: number,
    n: number,
    opts: { profile?: boolean; per?: number; onProgress?: () => void } = {},
  ) =>
    generate(model, [prompt], {
      n: batch,
      maxNewTokens: n,
      temperature: 1,
      topP: 1,
      topK: 0,
      seed: 0,
      eosIds: [],
      profile: opts.profile,
      stepsPerReadback: opts.per,
      onProgress: opts.onProgress,
    });
  const batches = [1, ...new Set(o.decodeBatches.filter((b) => b > 1))];
  const decodeByBatch: PresetBenchResult["decodeByBatch"] = [];
  let prefillMs = NaN;
  for (const B of batches) {
    o.log(`generation warm-up (compiles), batch ${B}: prompt ${o.promptLen} + 2 tokens...`);
    await gen(B, 2);
    o.log(`prefill, batch ${B}...`);
    const t = performance.now();
    await gen(B, 1);
    const pre = performance.now() - t;
    if (B === 1) prefillMs = pre;
    o.log(`prefill: ${sec(pre)}; decode of ${o.newTokens} tokens at batch ${B}...`);
    // Two readbacks of N tokens each: the first holds the prefill and N - 1 decode steps, the
    // second exactly N decode steps, timed between the two (with its one readback, as in any
    // generation). Subtracting a separately timed prefill instead let the prefill's own
    // run-to-run spread (seconds at this size) swamp N decode steps, even below zero.
    const N = o.newTokens, marks: number[] = [];
    await gen(B, 2 * N, { per: N, onProgress: () => marks.push(performance.now()) });
    if (marks.length !== 2) throw new Error(`decode timing: ${marks.length} readbacks, not 2`);
    const msPerStep = (marks[1] - marks[0]) / N;
    decodeByBatch.push({
      batch: B,
      msPerStep,
      tokensPerSec: (B * 1000) / msPerStep,
      rooflineMs: 0,
    });
    o.log(`decode, batch ${B}: ${sec(msPerStep)} per step`);
    if (o.profile && gpu.hasTimestamps) {
      o.log(`profiled decode of ${o.newTokens} tokens at batch ${B}...`);
      const r = await gen(B, 1 + o.newTokens, { profile: true });
      const steps = r.stats.decodeSteps;
      decodeByBatch.at(-1)!.kernels = [...r.stats.decodeProfile ?? []]
        .map(([label, e]) => ({
          label,
          msPerStep: e.ms / steps,
          dispatchesPerStep: e.count / steps,
        }))
        .sort((a, b) => b.msPerStep - a.msPerStep);
    } else if (o.profile) o.log("profile: this adapter has no timestamp queries");
  }
  const decodeMs = decodeByBatch[0].msPerStep;
  weights.destroy();
  pool.trim();
  o.log("measuring the NT matmul on the prefill shape and the copy bandwidth...");
  const prefillNt = await matmulRate(
    gpu,
    o.promptLen,
    config.intermediate_size,
    config.hidden_size,
  );
  const bandwidth = await copyBandwidth(gpu);
  const shaderRead = await shaderReadBandwidth(gpu);
  const prefillFlops = trainStepFlops(config, 1, o.promptLen) / 3;
  // The timed steps are tokens N..2N - 1 after the prompt.
  const context = o.promptLen + 1.5 * o.newTokens;
  const bytesPerStep = decodeBytesPerStep(config, context, 4);
  // A decode step of B rollouts reads the weights once and each rollout's KV cache, and does B
  // tokens' forward FLOPs (attention over the context is small beside the matmuls at this T).
  const kvBytes = bytesPerStep - decodeBytesPerStep(config, 0, 4);
  const flopsPerToken = trainStepFlops(config, 1, 1) / 3;
  for (const d of decodeByBatch) {
    const readMs = (bytesPerStep + (d.batch - 1) * kvBytes) / bandwidth * 1000;
    d.rooflineMs = Math.max(readMs, (d.batch * flopsPerToken) / (prefillNt * 1e6));
  }
  return {
    train,
    prefill: {
      tokens: o.promptLen,
      ms: prefillMs,
      gflop: prefillFlops / 1e9,
      ntGflops: prefillNt,
      rooflineMs: prefillFlops / (prefillNt * 1e6),
    },
    decode: {
      tokens: o.newTokens,
      msPerToken: decodeMs,
      bytesPerStep,
      bandwidthGBs: bandwidth / 1e9,
      limitMs: bytesPerStep / bandwidth * 1000,
      shaderReadGBs: shaderRead / 1e9,
      shaderReadLimitMs: bytesPerStep / shaderRead * 1000,
    },
    decodeByBatch,
  };
}

/** The report rows: each figure beside its reference, as a ratio (above 1: better). */
export function presetRows(r: Omit<PresetBenchResult, "rows">): BenchRow[] {
  const suite = "model";
  const p = r.preset, rows: BenchRow[] = [];
  const tr = r.train;
  const stepFigure =
    `train step, ${p} (${r.params} params), 1 x ${r.seqLen} tokens, forward + backward + AdamW${
      tr?.checkpoint ? ", recompute" : ""
    }`;
  rows.push(
    compare({
      suite,
      figure: stepFigure,
      value: tr?.msPerStep ?? null,
      unit: "ms",
      reference: `matmul roofline (step FLOPs at the tuned NT rate, ${
        num(tr?.ntGflops ?? null)
      } GFLOP/s)`,
      referenceValue: tr?.rooflineMs ?? null,
      better: "lower",
      target: ">= 0.5",
      why: r.trainSkipped ?? undefined,
      gflops: tr ? tr.stepGflop / (tr.msPerStep / 1000) : null,
    }),
    compare({
      suite,
      figure: `train step device memory, ${p} (weights, gradients, moments, scratch)`,
      value: tr ? tr.deviceBytes / GIB : null,
      unit: "GiB",
      reference: "the memory plan's estimate",
      referenceValue: r.trainPlan.deviceBytes / GIB,
      better: "lower",
      target: "~1 (an estimate)",
      why: r.trainSkipped ?? undefined,
    }),
    compare({
      suite,
      figure: `prefill, ${p}, ${r.promptLen} tokens, batch 1`,
      value: r.prefill?.ms ?? null,
      unit: "ms",
      reference: `matmul roofline (forward FLOPs at the tuned NT rate, ${
        num(r.prefill?.ntGflops ?? null)
      } GFLOP/s)`,
      referenceValue: r.prefill?.rooflineMs ?? null,
      better: "lower",
      target: ">= 0.5",
      why: r.generationSkipped ?? undefined,
      gflops: r.prefill ? r.prefill.gflop / (r.prefill.ms / 1000) : null,
    }),
    compare({
      suite,
      figure: `decode, ${p}, batch 1, tokens ${r.newTokens + 1}-${
        2 * r.newTokens
      } after the prompt`,
      value: r.decode?.msPerToken ?? null,
      unit: "ms/token",
      reference: r.decode
        ? `bandwidth limit (${num(r.decode.bytesPerStep / 2 ** 20)} MiB read per step at ${
          num(r.decode.bandwidthGBs)
        } GB/s copy bandwidth)`
        : "bandwidth limit (bytes read per step at the copy bandwidth)",
      referenceValue: r.decode?.limitMs ?? null,
      better: "lower",
      target: ">= 0.5",
      why: r.generationSkipped ?? undefined,
    }),
    compare({
      suite,
      figure: "shader read ceiling: a plain read kernel streaming 128 MiB (kernels/read_sum.ts)",
      value: r.decode?.shaderReadGBs ?? null,
      unit: "GB/s",
      reference: "copy bandwidth (bytes read + written per second by a buffer copy)",
      referenceValue: r.decode?.bandwidthGBs ?? null,
      better: "higher",
      target: "context: the most of the bandwidth limit any decode kernel can reach here",
      why: r.generationSkipped ?? undefined,
    }),
    compare({
      suite,
      figure: `decode, ${p}, batch 1, against the shader read ceiling`,
      value: r.decode?.msPerToken ?? null,
      unit: "ms/token",
      reference: r.decode
        ? `${num(r.decode.bytesPerStep / 2 ** 20)} MiB per step at the shader read ceiling (${
          num(r.decode.shaderReadGBs)
        } GB/s)`
        : "bytes read per step at the shader read ceiling",
      referenceValue: r.decode?.shaderReadLimitMs ?? null,
      better: "lower",
      target: "context: how near the decode kernels are to the adapter's own read rate",
      why: r.generationSkipped ?? undefined,
    }),
    ...r.decodeByBatch.slice(1).flatMap((d) => [
      compare({
        suite,
        figure: `decode, ${p}, batch ${d.batch} (${d.batch} rollouts of one prompt), tokens/s`,
        value: d.tokensPerSec,
        unit: "tokens/s",
        reference: "batch 1's tokens/s in this run",
        referenceValue: r.decodeByBatch[0].tokensPerSec,
        better: "higher",
        target: `>= ${d.batch / 2}`,
      }),
      compare({
        suite,
        figure: `decode, ${p}, batch ${d.batch}, ms per step (${d.batch} tokens)`,
        value: d.msPerStep,
        unit: "ms",
        reference: `roofline: slower of the weights and KV read at the copy bandwidth and the ` +
          `FLOPs at the NT rate (${num(r.prefill?.ntGflops ?? null)} GFLOP/s)`,
        referenceValue: d.rooflineMs,
        better: "lower",
        target: ">= 0.5",
      }),
    ]),
    compare({
      suite,
      figure: `checkpoint load, ${p}, ${num(r.load.fileBytes / GIB)} GiB ${r.load.stored} file ` +
        `-> ${r.load.matrices} matrices on the device`,
      value: r.load.loadMs,
      unit: "ms",
      reference: `plain read of the file into memory (warm cache${
        r.load.rounds > 1 ? `, best of ${r.load.rounds}` : ""
      })`,
      referenceValue: r.load.readMs,
      better: "lower",
      target: ">= 0.5 (load <= 2x read)",
    }),
    contextRow({
      suite,
      figure: `the same file streamed through one 16 MiB buffer (warm cache, nothing kept)`,
      value: r.load.streamMs,
      unit: "ms",
      why: "context: the page cache's rate when no new memory is touched",
    }),
    contextRow({
      suite,
      figure: "peak resident memory up to the end of the checkpoint load",
      value: r.loadPeakRssBytes === null ? null : r.loadPeakRssBytes / GIB,
      unit: "GiB",
      why: "context: the f32 host weights, the F16 file read whole and the f16 model",
    }),
    contextRow({
      suite,
      figure: `peak resident memory of the process${
        r.peakRssReset ? " after the checkpoint load (train step, prefill, decode)" : ""
      }`,
      value: r.peakRssBytes === null ? null : r.peakRssBytes / GIB,
      unit: "GiB",
      why: r.budget.unified
        ? "context: a software adapter's memory is this process's, so this includes the device's"
        : "context: host memory only; the device's is above",
    }),
  );
  return rows;
}

/** The per-kernel decode tables of a profiled run (empty without --profile). */
function formatDecodeProfiles(r: PresetBenchResult): string {
  return r.decodeByBatch.filter((d) => d.kernels?.length).map((d) => {
    const total = d.kernels!.reduce((a, k) => a + k.msPerStep, 0);
    return `\ndecode at batch ${d.batch}, GPU time per step by kernel (timestamps; ${
      num(total)
    } ms of ${num(d.msPerStep)} ms wall):\n` +
      textTable(
        ["kernel", "ms/step", "share", "dispatches/step"],
        d.kernels!.map((k) => [
          k.label,
          num(k.msPerStep),
          `${(100 * k.msPerStep / total).toFixed(1)}%`,
          num(k.dispatchesPerStep),
        ]),
      );
  }).join("");
}

/** The text report. */
export function formatPresetReport(host: BenchHost, r: PresetBenchResult): string {
  const c = r.config;
  return formatBenchHeader(host) +
    `\n${r.preset}: ${
      r.params.toLocaleString("en-US")
    } parameters (random, f32); vocab ${c.vocab_size}, ` +
    `hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, heads ${c.num_attention_heads}/` +
    `${c.num_key_value_heads} kv x ${c.head_dim}, mlp ${c.intermediate_size}, tied ${c.tie_word_embeddings}\n\n` +
    formatPlan(`memory plan, train step of ${r.seqLen} tokens`, r.trainPlan) +
    formatPlan(`memory plan, prefill ${r.promptLen} + decode`, r.generationPlan) +
    (r.train
      ? `\ntrain step: warm-up ${sec(r.train.warmupMs)} (compiles), best timed ${
        sec(r.train.msPerStep)
      }, loss ${r.train.loss.toFixed(4)}, ${fmtNum(r.train.stepGflop, 1)} GFLOP\n`
      : `\ntrain step: ${r.trainSkipped}\n`) +
    formatDecodeProfiles(r) +
    "\nratio: above 1 means better than the reference (reference / figure for times)\n" +
    textTable(
      ["figure", "value", "reference", "reference value", "ratio", "target"],
      r.rows.map((row) => [
        row.figure,
        row.value === null ? "-" : `${num(row.value)} ${row.unit}`,
        row.reference,
        row.referenceValue === null ? "-" : `${num(row.referenceValue)} ${row.unit}`,
        row.ratio !== null ? num(row.ratio) : `none: ${row.noRatio}`,
        row.target,
      ]),
    );
}
