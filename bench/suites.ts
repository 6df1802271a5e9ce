/**
 * The suites of `golongrl bench` (no arguments), each turned into report rows: every figure
 * beside its reference measured in the same run. The suites themselves are the ones
 * `golongrl bench <suite>` runs; this module only sizes them (quick or full) and maps their
 * results to rows.
 *
 * Layering note: this module reaches up into train/ (the RL loop's bench), like the other
 * bench modules reach into tasks/ and eval/; bench sits above every layer it measures.
 */
import { acquireGpu, type Gpu, type GpuOptions } from "../core/gpu/device.ts";
import { defaults } from "../core/config_schema.ts";
import { makeConfig, type PRESETS, type Qwen3Config } from "../engine/model_config.ts";
import { runtimeBench, runtimeBenchSchema } from "./runtime.ts";
import { matmulBench, type MatmulBenchRow } from "./kernels.ts";
import { attentionBench } from "./attention.ts";
import { generationBench, matmulRate, trainBench, trainStepFlops } from "./model.ts";
import { loadBookText, rewardBench } from "./rewards.ts";
import { dataBench } from "./data.ts";
import { evalThroughputBench } from "./eval.ts";
import { trainBenchLoop } from "./train.ts";
import { type ReportHeader, runBenchReport, type Suite } from "./all.ts";
import { type BenchReport, type BenchRow, compare, contextRow, num } from "./report.ts";
import { loadAverage, machineInfo, pythonReferences } from "./machine.ts";
import { VERSION } from "../core/version.ts";

/** Everything the suites need from the caller. */
export interface AllBenchContext {
  gpu: GpuOptions;
  /** False with --no-torch. */
  torch: boolean;
  /** What /usr/bin/python3 can import (see pythonReferences). */
  python: { numpy: string | null; torch: string | null; why: string | null };
  /** A folder of .txt books (rewards); the suite fails with this reason when absent. */
  books?: string;
  /** Corpora folders (data). */
  corpora?: string[];
  /** Tokenizer folder for the data build's length buckets (optional). */
  tokenizer?: string;
  quiet: boolean;
  log: (line: string) => void;
}

type Preset = keyof typeof PRESETS;

/** The sizes of every suite under one profile. */
export interface BenchSizes {
  runtime: { dispatches: number; elements: number; readbacks: number; repeats: number };
  kernels: { sizes: number[]; lengths: number[] };
  model: {
    presets: Preset[];
    seqs: number;
    seqLen: number;
    steps: number;
    vocab: number;
    batches: number[];
    promptLen: number;
    newTokens: number;
  };
  train: {
    presets: Preset[];
    prompts: number;
    n: number;
    promptTokens: number;
    newTokens: number;
    steps: number;
  };
  rewards: { tokens: number[]; seconds: number };
  /** sources: the shared corpora folder used when none is given (books alone is quick). */
  data: { lengths: number[]; perTask: number; sources: "corpora/books" | "corpora" };
  eval: { concurrency: number[]; latencyMs: number; requestsPerSlot: number; minRequests: number };
}

/**
 * quick: the default of `golongrl bench`, sized to finish in minutes on a 2-core machine with
 * software Vulkan. full: the defaults of each `golongrl bench <suite>`.
 */
export const PROFILES: Record<"quick" | "full", BenchSizes> = {
  quick: {
    runtime: { dispatches: 64, elements: 65536, readbacks: 16, repeats: 2 },
    kernels: { sizes: [256, 512, 1024], lengths: [512, 1024, 2048] },
    model: {
      presets: ["tiny"],
      seqs: 4,
      seqLen: 128,
      steps: 2,
      vocab: 4096,
      batches: [1, 8],
      promptLen: 64,
      newTokens: 16,
    },
    train: { presets: ["tiny"], prompts: 2, n: 2, promptTokens: 128, newTokens: 16, steps: 1 },
    rewards: { tokens: [2048, 16384], seconds: 0.25 },
    data: { lengths: [4096, 16384], perTask: 1, sources: "corpora/books" },
    eval: { concurrency: [1, 16, 64], latencyMs: 50, requestsPerSlot: 4, minRequests: 32 },
  },
  full: {
    runtime: { dispatches: 128, elements: 65536, readbacks: 16, repeats: 3 },
    kernels: { sizes: [256, 512, 1024, 2048], lengths: [1024, 4096, 16384] },
    model: {
      presets: ["tiny", "small"],
      seqs: 8,
      seqLen: 256,
      steps: 3,
      vocab: 4096,
      batches: [1, 8, 64],
      promptLen: 64,
      newTokens: 32,
    },
    train: {
      presets: ["tiny", "small"],
      prompts: 4,
      n: 4,
      promptTokens: 256,
      newTokens: 32,
      steps: 2,
    },
    rewards: { tokens: [2048, 16384], seconds: 1 },
    data: { lengths: [4096, 16384, 32768], perTask: 4, sources: "corpora" },
    eval: { concurrency: [1, 16, 64], latencyMs: 50, requestsPerSlot: 0, minRequests: 512 },
  },
};

/** The suites, in the order they run. */
export const SUITE_NAMES = ["runtime", "kernels", "model", "train", "rewards", "data", "eval"];

async function withGpu<T>(opts: GpuOptions, f: (gpu: Gpu) => Promise<T>): Promise<T> {
  const gpu = await acquireGpu(opts);
  try {
    return await f(gpu);
  } finally {
    gpu.destroy();
  }
}

/** Forward FLOPs a generation needs at minimum: prefill (logits of the last token only) + decode. */
export function generationFlops(c: Qwen3Config, promptLen: number, newTokens: number) {
  // trainStepFlops / 3 is the forward over T tokens, causal attention included; differences of
  // it give the forward of the tokens in between, each attending to everything before it.
  const fwd = (t: number) => trainStepFlops(c, 1, t) / 3;
  const head = 2 * c.vocab_size * c.hidden_size;
  return {
    prefill: fwd(promptLen) - (promptLen - 1) * head,
    // The first new token comes from the prefill's logits; each later one is a decode step.
    decode: fwd(promptLen + newTokens - 1) - fwd(promptLen),
  };
}

const runtime = (s: BenchSizes["runtime"]): Suite<AllBenchContext> => ({
  name: "runtime",
  estimateSeconds: 10,
  run: (ctx) =>
    withGpu(ctx.gpu, async (gpu) => {
      const cfg = defaults(runtimeBenchSchema);
      cfg.bench = { ...s };
      const r = await runtimeBench(gpu, cfg, ctx.quiet);
      const suite = "runtime";
      return {
        raw: r,
        rows: [
          compare({
            suite,
            figure: `${r.dispatches} dispatches of ${r.elements} elements, one submission`,
            value: r.batchedMs,
            unit: "ms",
            reference: "one submit + wait per dispatch",
            referenceValue: r.perDispatchSubmitMs,
            better: "lower",
            target: "> 1",
          }),
          compare({
            suite,
            figure: `${r.readbacks} readbacks of 4 KiB after one submit`,
            value: r.batchedReadbacksMs,
            unit: "ms",
            reference: "one submit + map per readback",
            referenceValue: r.separateReadbacksMs,
            better: "lower",
            target: "> 1",
          }),
        ],
      };
    }),
});

/** Forward FLOPs of causal attention over T tokens (QKᵀ and PV on the lower triangle). */
const attentionFwdFlops = (T: number, hq: number, d: number) => 2 * 2 * hq * d * (T * (T + 1)) / 2;

const kernels = (s: BenchSizes["kernels"]): Suite<AllBenchContext> => ({
  name: "kernels",
  estimateSeconds: 90,
  run: (ctx) =>
    withGpu(ctx.gpu, async (gpu) => {
      const suite = "kernels";
      const mm: MatmulBenchRow[] = [];
      for (const size of s.sizes) {
        mm.push(...await matmulBench(gpu, [size]));
        if (!ctx.quiet) ctx.log(`  kernels: matmul ${size} done`);
      }
      const blasWhy = ctx.python.numpy
        ? "no reference: the numpy run failed"
        : `no reference: ${ctx.python.why ?? "numpy absent"}`;
      const rows: BenchRow[] = [];
      for (const r of mm) {
        const flops = `matmul ${r.size}x${r.size}x${r.size} ${r.layout}, tuned WGSL (${r.variant})`;
        rows.push(compare({
          suite,
          figure: flops,
          value: r.tunedGflops,
          unit: "GFLOP/s",
          reference: "CPU BLAS (numpy f32, same size)",
          referenceValue: r.cpuBlasGflops,
          better: "higher",
          why: blasWhy,
          gflops: r.tunedGflops,
        }));
        if (r.layout === "NN") {
          rows.push(compare({
            suite,
            figure: `matmul ${r.size} NN, tuned WGSL`,
            value: r.tunedGflops,
            unit: "GFLOP/s",
            reference: "naive WGSL (one thread per output)",
            referenceValue: r.naiveGflops,
            better: "higher",
            target: "> 1",
            gflops: r.tunedGflops,
          }));
        }
      }
      // The attention roofline: its matmul FLOPs at the best tuned rate measured above.
      const best = mm.reduce((a, r) => (r.tunedGflops > a.tunedGflops ? r : a), mm[0]);
      const hq = 8, hkv = 2, d = 64;
      const att = await attentionBench(gpu, s.lengths, {
        hq,
        hkv,
        headDim: d,
        onResult: (r) => !ctx.quiet && ctx.log(`  kernels: attention T=${r.T} done`),
      });
      const ref = `its FLOPs at the best tuned matmul rate (${best.size} ${best.layout}, ${
        num(best.tunedGflops)
      } GFLOP/s)`;
      const perToken = att.map((r) => r.peakBytes / r.T);
      for (const [i, r] of att.entries()) {
        const fwd = attentionFwdFlops(r.T, hq, d);
        const roof = (flops: number) => flops / (best.tunedGflops * 1e6);
        rows.push(compare({
          suite,
          figure: `attention forward, T=${r.T} (hq ${hq}, hkv ${hkv}, d ${d})`,
          value: r.fwdMs,
          unit: "ms",
          reference: ref,
          referenceValue: roof(fwd),
          better: "lower",
          target: "<= 1 (a roofline)",
          gflops: fwd / (r.fwdMs * 1e6),
        }));
        // The backward's matmuls: S recomputed, dP, dQ, dK, dV: 2.5x the forward's two.
        rows.push(compare({
          suite,
          figure: `attention backward, T=${r.T}`,
          value: Number.isFinite(r.bwdMs) ? r.bwdMs : null,
          unit: "ms",
          reference: ref,
          referenceValue: roof(2.5 * fwd),
          better: "lower",
          target: "<= 1 (a roofline)",
          gflops: Number.isFinite(r.bwdMs) ? 2.5 * fwd / (r.bwdMs * 1e6) : null,
        }));
        rows.push(compare({
          suite,
          figure: `attention memory per token, T=${r.T}`,
          value: perToken[i],
          unit: "bytes",
          reference: `memory per token at T=${att[0].T}`,
          referenceValue: perToken[0],
          better: "lower",
          target: "= 1 (linear in T)",
        }));
      }
      return { raw: { adapter: gpu.description.description, matmul: mm, attention: att }, rows };
    }),
});

const model = (s: BenchSizes["model"]): Suite<AllBenchContext> => ({
  name: "model",
  estimateSeconds: 40,
  run: (ctx) =>
    withGpu(ctx.gpu, async (gpu) => {
      const suite = "model";
      const useTorch = ctx.torch && ctx.python.torch !== null;
      const torchWhy = !ctx.torch
        ? "no reference: --no-torch"
        : ctx.python.torch === null
        ? `no reference: ${ctx.python.why ?? "torch absent"}`
        : "no reference: the PyTorch step failed (tools/bench/torch_train_step.py)";
      const rows: BenchRow[] = [];
      const train = [];
      for (const p of s.presets) {
        const r = await trainBench(gpu, p, {
          seqs: s.seqs,
          seqLen: s.seqLen,
          steps: s.steps,
          vocab: s.vocab,
          torch: useTorch,
        });
        train.push(r);
        const figure = `train step, ${p} (${r.params} params), ${s.seqs} x ${s.seqLen} tokens`;
        const gflops = r.stepGflop / (r.msPerStep / 1000);
        rows.push(
          compare({
            suite,
            figure,
            value: r.tokensPerSec,
            unit: "tok/s",
            reference: "PyTorch CPU, same model and batch",
            referenceValue: r.torchTokensPerSec,
            better: "higher",
            why: torchWhy,
            gflops,
          }),
          compare({
            suite,
            figure,
            value: r.tokensPerSec,
            unit: "tok/s",
            reference: `matmul roofline (step FLOPs at ${num(r.matmulGflops)} GFLOP/s)`,
            referenceValue: r.rooflineTokensPerSec,
            better: "higher",
            target: ">= 0.5",
            gflops,
          }),
        );
        if (!ctx.quiet) ctx.log(`  model: train ${p} done`);
      }
      const config = makeConfig("tiny", s.vocab);
      const gen = await generationBench(gpu, "tiny", {
        batches: s.batches,
        promptLen: s.promptLen,
        newTokens: s.newTokens,
        vocab: s.vocab,
      });
      const ceilings = [];
      for (const g of gen) {
        // The engine's own ceiling: the least FLOPs of this generation at its own tuned matmul's
        // rate on the prefill shape (B*P tokens) and on the decode shape (B tokens).
        const f = generationFlops(config, s.promptLen, s.newTokens);
        const H = config.hidden_size, I = config.intermediate_size;
        const prefillRate = await matmulRate(gpu, g.batch * s.promptLen, I, H);
        const decodeRate = await matmulRate(gpu, g.batch, I, H);
        const seconds = (g.batch * f.prefill) / (prefillRate * 1e9) +
          (g.batch * f.decode) / (decodeRate * 1e9);
        const ceiling = (g.batch * s.newTokens) / seconds;
        ceilings.push({ batch: g.batch, prefillRate, decodeRate, tokensPerSec: ceiling });
        const wallS = (g.batch * s.newTokens) / g.tokensPerSec;
        rows.push(
          compare({
            suite,
            figure:
              `generation, tiny, batch ${g.batch}, prompt ${s.promptLen} + ${s.newTokens} new`,
            value: g.tokensPerSec,
            unit: "tok/s",
            reference: `engine ceiling (its FLOPs at its matmul rate: prefill ${
              num(prefillRate)
            }, decode ${num(decodeRate)} GFLOP/s)`,
            referenceValue: ceiling,
            better: "higher",
            target: "<= 1 (a roofline)",
            gflops: g.batch * (f.prefill + f.decode) / wallS / 1e9,
          }),
          compare({
            suite,
            figure: `readbacks per decode step, batch ${g.batch}`,
            value: g.readbacksPerStep,
            unit: "",
            reference: "target 1 per 8 steps",
            referenceValue: 1 / 8,
            better: "lower",
            target: ">= 1",
          }),
        );
      }
      return {
        raw: { adapter: gpu.description.description, train, generation: gen, ceilings },
        rows,
      };
    }),
});

const train = (s: BenchSizes["train"]): Suite<AllBenchContext> => ({
  name: "train",
  estimateSeconds: 40,
  run: async (ctx) => {
    const suite = "train";
    const results = [];
    const rows: BenchRow[] = [];
    for (const p of s.presets) {
      const r = await trainBenchLoop({
        preset: p,
        vocab: p === "tiny" ? 2048 : 4096,
        prompts: s.prompts,
        n: s.n,
        promptTokens: s.promptTokens,
        newTokens: s.newTokens,
        steps: s.steps,
        gpu: ctx.gpu,
        log: ctx.quiet ? undefined : (l) => ctx.log(`  ${l}`),
      });
      results.push(r);
      const shape = `${p}, ${s.prompts} prompts x ${s.n}, ${s.promptTokens}+${s.newTokens} tokens`;
      rows.push(
        contextRow({
          suite,
          figure: `RL loop step, ${shape}`,
          value: r.tokensPerSecond,
          unit: "tok/s",
          why: "context: the loop's phases below carry the ratios",
        }),
        compare({
          suite,
          figure: `generate phase in the loop, ${p}`,
          value: r.generate.loop,
          unit: "s",
          reference: "bare rollout() on the same shapes",
          referenceValue: r.generate.ceiling,
          better: "lower",
          target: "~1 (a ceiling)",
        }),
        compare({
          suite,
          figure: `update phase in the loop, ${p}`,
          value: r.update.loop,
          unit: "s",
          reference: "bare Trainer.run() on the same sequences",
          referenceValue: r.update.ceiling,
          better: "lower",
          target: "~1 (a ceiling)",
        }),
        compare({
          suite,
          figure: `loop overhead (outside engine calls), ${p}`,
          value: 100 * r.overhead,
          unit: "% of step",
          reference: "target",
          referenceValue: 10,
          better: "lower",
          target: ">= 1",
          why: r.overhead === 0 ? "overhead measured as 0% (below timer resolution)" : undefined,
        }),
      );
    }
    return { raw: results, rows };
  },
});

const rewards = (s: BenchSizes["rewards"]): Suite<AllBenchContext> => ({
  name: "rewards",
  estimateSeconds: 15,
  run: async (ctx) => {
    if (!ctx.books) throw new Error("no books folder found (golongrl bench --books DIR)");
    const text = await loadBookText(ctx.books);
    const r = rewardBench(text, {
      tokens: s.tokens,
      seconds: s.seconds,
      seed: 0,
      quiet: ctx.quiet,
    });
    return {
      raw: r,
      rows: r.map((x) =>
        compare({
          suite: "rewards",
          figure: `${x.verifier} verifier, ${x.tokens}-token responses`,
          value: x.responsesPerSec,
          unit: "responses/s",
          reference: "target",
          referenceValue: x.target,
          better: "higher",
          target: ">= 1",
        })
      ),
    };
  },
});

const data = (s: BenchSizes["data"]): Suite<AllBenchContext> => ({
  name: "data",
  estimateSeconds: 40,
  run: async (ctx) => {
    if (!ctx.corpora?.length) throw new Error("no corpora found (golongrl bench --sources DIR)");
    const r = await dataBench({
      sources: ctx.corpora,
      tokenizer: ctx.tokenizer,
      lengths: s.lengths,
      perTask: s.perTask,
      quiet: ctx.quiet,
    });
    const suite = "data";
    const why = "context: no other tool builds these samples; ingest vs raw read is the ratio";
    return {
      raw: r,
      rows: [
        compare({
          suite,
          figure: `ingest ${(r.bytes / 2 ** 20).toFixed(1)} MB (${r.documents} documents)`,
          value: r.ingestMBs,
          unit: "MB/s",
          reference: "raw read of the same files",
          referenceValue: r.rawReadMBs,
          better: "higher",
          target: "<= 1 (a ceiling)",
        }),
        contextRow({
          suite,
          figure: "ingest documents",
          value: r.documentsPerSec,
          unit: "docs/s",
          why,
        }),
        contextRow({
          suite,
          figure: `construct ${r.drafts} drafts`,
          value: r.draftsPerSec,
          unit: "drafts/s",
          why,
        }),
        contextRow({
          suite,
          figure: `assemble ${r.samples} samples (${s.lengths.join(", ")} tokens)`,
          value: r.samplesPerSec,
          unit: "samples/s",
          why,
        }),
        contextRow({
          suite,
          figure: "peak resident memory",
          value: r.peakRssMB,
          unit: "MB",
          why: "context: memory has no reference",
        }),
      ],
    };
  },
});

const evalSuite = (s: BenchSizes["eval"]): Suite<AllBenchContext> => ({
  name: "eval",
  estimateSeconds: 10,
  run: async () => {
    const raw = [];
    for (const c of s.concurrency) {
      raw.push(
        ...await evalThroughputBench({
          concurrency: [c],
          latencyMs: s.latencyMs,
          requests: Math.max(s.minRequests, s.requestsPerSlot * c),
        }),
      );
    }
    return {
      raw,
      rows: raw.map((r) =>
        compare({
          suite: "eval",
          figure: `OpenAI client, concurrency ${r.concurrency}, ${r.requests} requests`,
          value: r.requestsPerSec,
          unit: "req/s",
          reference: `ideal: concurrency / ${s.latencyMs} ms server latency`,
          referenceValue: r.ideal,
          better: "higher",
          target: r.concurrency === 64 ? ">= 0.8" : "<= 1 (a ceiling)",
        })
      ),
    };
  },
});

/** The suites of a profile, optionally only those named (in the standard order). */
export function benchSuites(sizes: BenchSizes, only?: string[]): Suite<AllBenchContext>[] {
  const all = [
    runtime(sizes.runtime),
    kernels(sizes.kernels),
    model(sizes.model),
    train(sizes.train),
    rewards(sizes.rewards),
    data(sizes.data),
    evalSuite(sizes.eval),
  ];
  return only ? all.filter((s) => only.includes(s.name)) : all;
}

/** The adapter `acquireGpu` picks with these options, or null when there is none. */
export async function probeAdapter(
  opts: GpuOptions,
): Promise<{ description: string; kind: "software" | "hardware" } | null> {
  try {
    return await withGpu(opts, (gpu) =>
      Promise.resolve({
        description: gpu.description.description,
        kind: gpu.description.kind,
      }));
  } catch {
    return null;
  }
}

/** `golongrl bench` with no suite: every suite (or `only`), then bench.md and bench.json in `out`. */
export async function benchAll(o: {
  profile: keyof typeof PROFILES;
  only?: string[];
  out: string;
  ctx: Omit<AllBenchContext, "python">;
}): Promise<{ report: BenchReport; files: string[] }> {
  const adapter = await probeAdapter(o.ctx.gpu);
  const [machine, python, load] = await Promise.all([
    machineInfo(adapter),
    pythonReferences(),
    loadAverage(),
  ]);
  const header: ReportHeader = {
    version: VERSION,
    profile: o.profile,
    machine,
    python,
    load: "unknown",
  };
  return await runBenchReport(
    benchSuites(PROFILES[o.profile], o.only),
    { ...o.ctx, python },
    header,
    o.out,
    {
      log: o.ctx.quiet ? undefined : o.ctx.log,
      after: async () => {
        const end = await loadAverage();
        return {
          load: load && end
            ? `load average (1, 5, 15 min) ${load.join(", ")} at the start, ${
              end.join(", ")
            } at the end, on ${machine.cores} CPUs`
            : "unknown",
        };
      },
    },
  );
}
