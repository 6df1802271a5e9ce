/** `golongrl bench`: performance against references measured in the same run. */
import { fmtNum, textTable } from "../core/text_table.ts";
import { command } from "./command.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { CONFIG_FLAGS, configFromFlags } from "./config_flags.ts";
import { sharedFolder } from "../core/shared.ts";
import { acquireGpu } from "../core/gpu/device.ts";
import { runtimeBench, runtimeBenchSchema } from "../bench/runtime.ts";
import { writeEffectiveConfig } from "../core/config_schema.ts";
import { writeJsonAtomic } from "../core/fsutil.ts";
import { formatRewardBench, loadBookText, rewardBench } from "../bench/rewards.ts";
import { UsageError } from "../core/errors.ts";
import { formatKernelsReport, kernelsReport, matmulBench } from "../bench/kernels.ts";
import { benchHost, formatBenchHeader } from "../bench/header.ts";
import { attentionBench } from "../bench/attention.ts";
import { generationBench, trainBench } from "../bench/model.ts";
import { formatPresetReport, presetBench } from "../bench/preset.ts";
import { isPreset, PRESET_NAMES } from "../engine/model_config.ts";
import { evalThroughputBench, formatEvalBench } from "../bench/eval.ts";
import { dataBench, formatDataBench } from "../bench/data.ts";
import { parseLengths } from "../core/lengths.ts";
import { Progress } from "../core/progress.ts";
import { formatTrainBench, trainBenchLoop } from "../bench/train.ts";
import { benchAll, PROFILES, SUITE_NAMES } from "../bench/suites.ts";
import { renderBenchMd } from "../bench/report.ts";

const runtime = command({
  name: "runtime",
  summary: "Batched submission and readback against one submit per dispatch.",
  usage: "golongrl bench runtime [--config FILE] [--set KEY=VALUE]... [--out DIR] [--json]",
  description:
    "Settings (defaults): bench.dispatches=128, bench.elements=65536, bench.readbacks=16,\n" +
    "bench.repeats=3. With --out, writes DIR/results.json and the effective DIR/config.json.",
  flags: {
    ...CONFIG_FLAGS,
    out: { type: "string", value: "DIR", description: "Write results.json and config.json here." },
    json: { type: "boolean", description: "Print results as JSON on stdout." },
    ...GPU_FLAGS,
  },
  examples: [
    "golongrl bench runtime",
    "golongrl bench runtime --set bench.dispatches=512 --out runs/bench",
  ],
  async run({ io, flags }) {
    const cfg = await configFromFlags(runtimeBenchSchema, flags, "golongrl bench runtime");
    const gpu = await acquireGpu(gpuOptions(flags));
    const r = await runtimeBench(gpu, cfg, flags.quiet);
    gpu.destroy();
    if (flags.out) {
      const dir = flags.out;
      await writeEffectiveConfig(dir, cfg);
      await writeJsonAtomic(`${dir}/results.json`, r);
    }
    if (flags.json) io.out(JSON.stringify(r, null, 2) + "\n");
    else {
      io.out(
        formatBenchHeader(benchHost(r.adapter)) +
          `${r.dispatches} dispatches of ${r.elements} elements:\n` +
          `  one submit+wait per dispatch (reference)  ${r.perDispatchSubmitMs.toFixed(1)} ms\n` +
          `  one submission (recorder)                 ${r.batchedMs.toFixed(1)} ms   ` +
          `speed-up x${r.batchSpeedup.toFixed(1)}\n` +
          `${r.readbacks} readbacks of 4 KiB:\n` +
          `  one submit+map each (reference)           ${r.separateReadbacksMs.toFixed(1)} ms\n` +
          `  all after one submit (recorder)           ${r.batchedReadbacksMs.toFixed(1)} ms   ` +
          `speed-up x${r.readbackSpeedup.toFixed(1)}\n`,
      );
    }
  },
});

/** The books folder: --books, else shared/corpora/books. */
function findBooks(flag?: string): string {
  if (flag) {
    try {
      if (Deno.statSync(flag).isDirectory) return flag;
    } catch { /* reported below */ }
    throw new UsageError(`--books ${flag}: not a folder`, "golongrl bench rewards --help");
  }
  const dir = sharedFolder("corpora/books");
  if (dir) return dir;
  throw new UsageError(
    "no books folder found; pass --books DIR (a folder of .txt books)",
    "golongrl bench rewards --help",
  );
}

const rewards = command({
  name: "rewards",
  summary: "Responses/s of every verifier at 2K and 16K tokens against the targets.",
  usage:
    "golongrl bench rewards [--books DIR] [--tokens 2048,16384] [--seconds S] [--json] [--out DIR]",
  description:
    "Responses are real book text (the thinking) plus an answer; summary references are book\n" +
    "sentences. Tokens are approximated as 4 characters. Targets: 200/s per verifier, 20/s summary.",
  flags: {
    books: {
      type: "string",
      value: "DIR",
      description: "Folder of .txt books [default: ../shared/corpora/books].",
    },
    tokens: {
      type: "string",
      value: "LIST",
      default: "2048,16384",
      description: "Response lengths in tokens.",
    },
    seconds: {
      type: "number",
      value: "S",
      default: 1,
      min: 0.01,
      max: 600,
      description: "Time per cell.",
    },
    verifiers: {
      type: "string",
      value: "LIST",
      description: "Only these verifiers (comma-separated).",
    },
    seed: {
      type: "integer",
      value: "N",
      default: 0,
      min: 0,
      description: "Seed for picking text.",
    },
    json: { type: "boolean", description: "Print results as JSON on stdout." },
    out: { type: "string", value: "DIR", description: "Write DIR/rewards.json." },
  },
  async run({ io, flags }) {
    const tokens = intList("tokens", flags.tokens, "golongrl bench rewards");
    const text = await loadBookText(findBooks(flags.books));
    const rows = rewardBench(text, {
      tokens,
      seconds: flags.seconds,
      seed: flags.seed,
      verifiers: flags.verifiers ? flags.verifiers.split(",").map((s) => s.trim()) : undefined,
      quiet: flags.quiet,
    });
    if (flags.out) {
      await Deno.mkdir(flags.out, { recursive: true });
      await writeJsonAtomic(`${flags.out}/rewards.json`, rows);
    }
    io.out(
      flags.json
        ? JSON.stringify(rows, null, 2) + "\n"
        : formatBenchHeader(benchHost()) + formatRewardBench(rows),
    );
  },
});

function intList(flag: string, value: string, command: string): number[] {
  const xs = value.split(",").map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new UsageError(
      `--${flag} ${value}: expected positive integers separated by commas`,
      `${command} --help`,
    );
  }
  return xs;
}

async function emit(
  io: { out(s: string): void },
  flags: { out?: string; json: boolean },
  name: string,
  result: unknown,
  text: string,
) {
  if (flags.out) {
    await Deno.mkdir(flags.out, { recursive: true });
    await writeJsonAtomic(`${flags.out}/${name}.json`, result);
  }
  io.out(flags.json ? JSON.stringify(result, null, 2) + "\n" : text);
}

const kernels = command({
  name: "kernels",
  summary: "Matmul GFLOP/s (tuned vs naive WGSL vs CPU BLAS) and attention time and memory vs T.",
  usage:
    "golongrl bench kernels [--sizes 256,512,1024,2048] [--lengths 1024,4096,16384] [--json] [--out DIR]",
  description:
    "Targets on a CPU adapter: matmul >= 10 GFLOP/s at 1024; attention memory linear in T.\n" +
    "CPU BLAS is numpy through Debian's /usr/bin/python3, when present.",
  flags: {
    sizes: {
      type: "string",
      value: "LIST",
      default: "256,512,1024,2048",
      description: "Square matmul sizes.",
    },
    lengths: {
      type: "string",
      value: "LIST",
      default: "1024,4096,16384",
      description: "Attention lengths T.",
    },
    "forward-only": {
      type: "boolean",
      description: "Attention forward only (the backward at 16K is slow on a CPU).",
    },
    json: { type: "boolean", description: "Print JSON." },
    out: { type: "string", value: "DIR", description: "Write DIR/kernels.json." },
    ...GPU_FLAGS,
  },
  async run({ io, flags }) {
    const cmd = "golongrl bench kernels";
    const sizes = intList("sizes", flags.sizes, cmd),
      lengths = intList("lengths", flags.lengths, cmd);
    const gpu = await acquireGpu(gpuOptions(flags));
    const progress = new Progress("bench kernels", {
      unit: "cases",
      total: sizes.length + lengths.length,
      quiet: flags.quiet,
    });
    const mm = [];
    for (const size of sizes) {
      mm.push(...await matmulBench(gpu, [size]));
      progress.tick();
    }
    const shape = { hq: 8, hkv: 2, headDim: 64 };
    const att = await attentionBench(gpu, lengths, {
      ...shape,
      forwardOnly: flags["forward-only"],
      onResult: () => progress.tick(),
    });
    progress.finish();
    gpu.destroy();
    const result = kernelsReport(benchHost(gpu.description.description), mm, att, shape);
    const text = formatKernelsReport(result);
    await emit(io, flags, "kernels", result, text);
  },
});

const modelBench = command({
  name: "model",
  summary: "Train-step tokens/s vs PyTorch CPU and the matmul roofline; generation tokens/s.",
  usage:
    "golongrl bench model [--presets tiny,small] [--seqs S] [--seq-len T] [--batches 1,8,64] [--json] [--out DIR]\n" +
    "golongrl bench model --preset qwen3-0.6b [--seq-len 1024] [--steps 1] [--checkpoint] [--prompt-len 256] [--new-tokens 8] [--batches 1,16] [--load-only] [--profile]",
  description:
    "Targets: train step >= 50% of its matmul roofline (the step's FLOPs at the measured matmul\n" +
    "rate); at most 1 readback per 8 decode steps. PyTorch is Debian's python3-torch, when present.\n" +
    "With --preset: one model of that shape (random weights, its own vocabulary); a memory plan\n" +
    "first (the knob to turn when it does not fit), then one warm-up and --steps timed train steps\n" +
    "(--steps 0: plan, prefill and decode only), prefill, and decode at batch 1 and at each larger\n" +
    "--batches size (against batch 1 and against its roofline), each with its ratio;\n" +
    "and the weights loaded from an F16 checkpoint (in a temporary folder) against a plain read of\n" +
    "its file (target: load <= 2x read).",
  flags: {
    preset: {
      type: "string",
      value: "NAME",
      choices: PRESET_NAMES,
      description: "Bench one preset at its real shape (see above) instead of --presets.",
    },
    checkpoint: {
      type: "boolean",
      description: "With --preset: recompute activations in the backward.",
    },
    "load-only": {
      type: "boolean",
      description:
        "With --preset: only the plans and the checkpoint load (no step, prefill, decode).",
    },
    profile: {
      type: "boolean",
      description:
        "With --preset: also profile each decode batch (GPU time per kernel per step, from " +
        "timestamp queries).",
    },
    presets: {
      type: "string",
      value: "LIST",
      default: "tiny,small",
      description: "Model presets to train.",
    },
    seqs: { type: "integer", value: "S", default: 8, min: 1, description: "Sequences per step." },
    "seq-len": {
      type: "integer",
      value: "T",
      min: 2,
      description: "Tokens per sequence (default 256; 1024 with --preset).",
    },
    steps: {
      type: "integer",
      value: "N",
      min: 0,
      description: "Timed steps, best kept (default 3; 1 with --preset, where 0 skips training).",
    },
    vocab: {
      type: "integer",
      value: "V",
      default: 4096,
      min: 2,
      description: "Vocabulary size of the random model.",
    },
    batches: {
      type: "string",
      value: "LIST",
      description: "Generation batch sizes (default 1,8,64; 1,16 with --preset).",
    },
    "new-tokens": {
      type: "integer",
      value: "N",
      min: 1,
      description:
        "Generated tokens per sequence (default 32); with --preset, the decode steps timed, " +
        "after as many untimed (default 8).",
    },
    "prompt-len": {
      type: "integer",
      value: "N",
      min: 1,
      description: "Prompt tokens (default 64; 256 with --preset).",
    },
    "no-torch": { type: "boolean", description: "Skip the PyTorch reference." },
    json: { type: "boolean", description: "Print JSON." },
    out: { type: "string", value: "DIR", description: "Write DIR/model.json." },
    ...GPU_FLAGS,
  },
  async run({ io, flags }) {
    const cmd = "golongrl bench model";
    if (flags.preset !== undefined) {
      const gpu = await acquireGpu(gpuOptions(flags));
      const log = (line: string) => {
        if (!flags.quiet) io.err(`bench model: ${line}\n`);
      };
      const r = await presetBench(gpu, flags.preset, {
        seqLen: flags["seq-len"] ?? 1024,
        checkpoint: flags.checkpoint,
        steps: flags.steps ?? 1,
        promptLen: flags["prompt-len"] ?? 256,
        newTokens: flags["new-tokens"] ?? 8,
        decodeBatches: intList("batches", flags.batches ?? "1,16", cmd),
        vocab: flags.vocab,
        loadOnly: flags["load-only"],
        profile: flags.profile,
        log,
      }).finally(() => gpu.destroy());
      const host = benchHost(gpu.description.description);
      return await emit(io, flags, "model", { host, ...r }, formatPresetReport(host, r));
    }
    if (flags["load-only"]) throw new UsageError("--load-only needs --preset", `${cmd} --help`);
    if (flags.profile) throw new UsageError("--profile needs --preset", `${cmd} --help`);
    // Without --preset: the defaults of the small-model bench.
    const seqLen = flags["seq-len"] ?? 256, steps = flags.steps ?? 3;
    const promptLen = flags["prompt-len"] ?? 64, newTokens = flags["new-tokens"] ?? 32;
    if (steps < 1) {
      throw new UsageError("--steps must be at least 1 without --preset", `${cmd} --help`);
    }
    const presets = flags.presets.split(",").map((s) => s.trim()).map((p) => {
      if (!isPreset(p)) throw new UsageError(`--presets: unknown preset "${p}"`, `${cmd} --help`);
      return p;
    });
    const batches = intList("batches", flags.batches ?? "1,8,64", cmd);
    const gpu = await acquireGpu(gpuOptions(flags));
    const progress = new Progress("bench model", {
      unit: "cases",
      total: presets.length + 1,
      quiet: flags.quiet,
    });
    const train = [];
    for (const p of presets) {
      train.push(
        await trainBench(gpu, p, {
          seqs: flags.seqs,
          seqLen: seqLen,
          steps,
          vocab: flags.vocab,
          torch: !flags["no-torch"],
        }),
      );
      progress.tick();
    }
    const gen = await generationBench(gpu, "tiny", {
      batches,
      promptLen: promptLen,
      newTokens: newTokens,
      vocab: flags.vocab,
    });
    progress.finish();
    gpu.destroy();
    const result = { adapter: gpu.description.description, train, generation: gen };
    const text = formatBenchHeader(benchHost(result.adapter)) +
      `\ntrain step (${flags.seqs} x ${seqLen} tokens, vocab ${flags.vocab})\n` +
      textTable(
        [
          "preset",
          "params",
          "tok/s",
          "ms/step",
          "GFLOP/step",
          "matmul GFLOP/s",
          "roofline tok/s",
          "vs roofline",
          "torch tok/s",
          "vs torch",
        ],
        train.map((r) => [
          r.preset,
          r.params,
          fmtNum(r.tokensPerSec, 0),
          fmtNum(r.msPerStep, 0),
          fmtNum(r.stepGflop, 2),
          fmtNum(r.matmulGflops),
          fmtNum(r.rooflineTokensPerSec, 0),
          fmtNum(r.rooflineRatio, 2),
          fmtNum(r.torchTokensPerSec, 0),
          fmtNum(r.torchRatio, 2),
        ]),
      ) +
      `\ngeneration (tiny, prompt ${promptLen}, ${newTokens} new tokens)\n` +
      textTable(
        ["batch", "tok/s", "decode steps", "readbacks", "readbacks/step"],
        gen.map((r) => [
          r.batch,
          fmtNum(r.tokensPerSec, 0),
          r.decodeSteps,
          r.readbacks,
          fmtNum(r.readbacksPerStep, 3),
        ]),
      );
    await emit(io, flags, "model", result, text);
  },
});

const evalBench = command({
  name: "eval",
  summary:
    "Eval harness requests/s against a mock server with fixed latency, vs concurrency/latency.",
  usage:
    "golongrl bench eval [--concurrency 1,16,64] [--latency-ms 50] [--requests 512] [--json] [--out DIR]",
  description: "Target: at least 80% of the ideal (concurrency / latency) at concurrency 64.",
  flags: {
    concurrency: {
      type: "string",
      value: "LIST",
      default: "1,16,64",
      description: "Concurrency levels.",
    },
    "latency-ms": {
      type: "integer",
      value: "MS",
      default: 50,
      min: 1,
      description: "Mock server latency.",
    },
    requests: {
      type: "integer",
      value: "N",
      default: 512,
      min: 1,
      description: "Requests per level.",
    },
    json: { type: "boolean", description: "Print JSON." },
    out: { type: "string", value: "DIR", description: "Write DIR/eval.json." },
  },
  async run({ io, flags }) {
    const levels = intList("concurrency", flags.concurrency, "golongrl bench eval");
    const rows = await evalThroughputBench({
      concurrency: levels,
      latencyMs: flags["latency-ms"],
      requests: flags.requests,
    });
    const text = formatEvalBench(rows, flags["latency-ms"]);
    await emit(io, flags, "eval", rows, formatBenchHeader(benchHost()) + text);
  },
});

const dataBenchCmd = command({
  name: "data",
  summary: "A full data build: documents/s, samples/s, peak memory; ingest vs raw read rate.",
  usage:
    "golongrl bench data [--sources DIR] [--tokenizer DIR] [--lengths 4k,16k,32k] [--per-task N] [--json]",
  flags: {
    sources: {
      type: "string",
      value: "DIR",
      multiple: true,
      description: "Corpora [default: ../shared/corpora].",
    },
    tokenizer: {
      type: "string",
      value: "DIR",
      description:
        "Tokenizer for length buckets [default: ../shared/tokenizers/qwen3 when present].",
    },
    lengths: {
      type: "string",
      value: "LIST",
      default: "4k,16k,32k",
      description: "Length buckets.",
    },
    "per-task": {
      type: "integer",
      value: "N",
      default: 4,
      min: 1,
      description: "Samples per task per bucket.",
    },
    json: { type: "boolean", description: "Print JSON." },
    out: { type: "string", value: "DIR", description: "Write DIR/data.json." },
  },
  async run({ io, flags }) {
    const corpora = sharedFolder("corpora");
    const sources = flags.sources ?? (corpora ? [corpora] : []);
    if (!sources.length) {
      throw new UsageError("no corpora found; pass --sources DIR", "golongrl bench data --help");
    }
    const tok = flags.tokenizer ?? sharedFolder("tokenizers/qwen3");
    const r = await dataBench({
      sources,
      tokenizer: tok,
      lengths: parseLengths(flags.lengths, "golongrl bench data"),
      perTask: flags["per-task"],
      quiet: flags.quiet,
    });
    await emit(io, flags, "data", r, formatBenchHeader(benchHost()) + formatDataBench(r));
  },
});

const trainBenchCmd = command({
  name: "train",
  summary: "The RL loop's step time by phase, each phase against its bare engine ceiling.",
  usage: "golongrl bench train [--presets tiny,small] [--prompts P] [--n N] [--prompt-tokens T]\n" +
    "                     [--new-tokens M] [--steps S] [--json] [--out DIR]",
  description:
    "Runs `train` on a random model of each preset (summary prompts over the embedded books) and\n" +
    "times the same rollout and update calls bare on the same shapes. Target: the loop's own\n" +
    "overhead (time outside the engine calls) under 10% of a step.",
  flags: {
    presets: { type: "string", value: "LIST", default: "tiny,small", description: "Presets." },
    prompts: { type: "integer", value: "P", default: 4, min: 1, description: "Prompts per step." },
    n: { type: "integer", value: "N", default: 4, min: 1, description: "Rollouts per prompt." },
    "prompt-tokens": {
      type: "integer",
      value: "T",
      default: 256,
      min: 8,
      description: "Prompt length (about).",
    },
    "new-tokens": {
      type: "integer",
      value: "M",
      default: 32,
      min: 1,
      description: "Response length.",
    },
    steps: { type: "integer", value: "S", default: 2, min: 1, description: "Timed loop steps." },
    json: { type: "boolean", description: "Print JSON." },
    out: { type: "string", value: "DIR", description: "Write results.json here." },
    ...GPU_FLAGS,
  },
  async run({ io, flags }) {
    const presets = flags.presets.split(",").map((s) => s.trim()).filter(Boolean).map((p) => {
      if (!isPreset(p)) {
        throw new UsageError(`unknown preset "${p}" (${PRESET_NAMES.join(", ")})`);
      }
      return p;
    });
    const results = [];
    for (const p of presets) {
      results.push(
        await trainBenchLoop({
          preset: p,
          vocab: p === "tiny" ? 2048 : 4096,
          prompts: flags.prompts,
          n: flags.n,
          promptTokens: flags["prompt-tokens"],
          newTokens: flags["new-tokens"],
          steps: flags.steps,
          gpu: gpuOptions(flags),
          log: flags.quiet ? undefined : (s) => io.err(s + "\n"),
        }),
      );
    }
    io.out(
      flags.json
        ? JSON.stringify(results, null, 2) + "\n"
        : formatBenchHeader(benchHost(results[0]?.adapter ?? null)) + formatTrainBench(results),
    );
    if (flags.out) {
      await Deno.mkdir(flags.out, { recursive: true });
      await writeJsonAtomic(`${flags.out}/results.json`, results);
    }
  },
});

export const bench = command({
  name: "bench",
  summary: "Performance, as ratios against references measured in the same run.",
  usage: "golongrl bench [--out DIR] [--profile quick|full] [--suites LIST] [flags]\n" +
    "       golongrl bench <benchmark> [flags]",
  description: "With no benchmark, runs every suite (" + SUITE_NAMES.join(", ") + ") one by one\n" +
    "and writes DIR/bench.md and DIR/bench.json: each figure beside its reference measured in\n" +
    "the same run, as a ratio, or the reason it has none. A suite that fails is reported and\n" +
    "the others still run. --profile quick (default) is sized for minutes on a quiet 2-core machine;\n" +
    "full uses each benchmark's own defaults. See docs/performance.md.",
  flags: {
    out: {
      type: "string",
      value: "DIR",
      default: "runs/bench",
      description: "Write bench.md and bench.json here.",
    },
    profile: {
      type: "string",
      value: "NAME",
      choices: ["quick", "full"],
      default: "quick",
      description: "Sizes of every suite.",
    },
    suites: {
      type: "string",
      value: "LIST",
      description: `Only these suites (comma-separated; ${SUITE_NAMES.join(", ")}).`,
    },
    "no-torch": { type: "boolean", description: "Skip the PyTorch reference." },
    books: {
      type: "string",
      value: "DIR",
      description: "Folder of .txt books for rewards [default: ../shared/corpora/books].",
    },
    sources: {
      type: "string",
      value: "DIR",
      multiple: true,
      description:
        "Corpora for data [default: ../shared/corpora/books with quick, ../shared/corpora with full].",
    },
    tokenizer: {
      type: "string",
      value: "DIR",
      description: "Tokenizer for data [default: ../shared/tokenizers/qwen3 when present].",
    },
    json: { type: "boolean", description: "Print bench.json on stdout (else bench.md)." },
    ...GPU_FLAGS,
  },
  examples: [
    "golongrl bench",
    "golongrl bench --profile full --out runs/bench-full",
    "golongrl bench --suites kernels,model --no-torch",
  ],
  subcommands: [runtime, rewards, kernels, modelBench, trainBenchCmd, evalBench, dataBenchCmd],
  async run({ io, flags }) {
    const only = flags.suites === undefined
      ? undefined
      : flags.suites.split(",").map((s) => s.trim()).filter(Boolean);
    for (const name of only ?? []) {
      if (!SUITE_NAMES.includes(name)) {
        throw new UsageError(
          `--suites: unknown suite "${name}" (${SUITE_NAMES.join(", ")})`,
          "golongrl bench --help",
        );
      }
    }
    if (only && !only.length) {
      throw new UsageError("--suites: no suite named", "golongrl bench --help");
    }
    const profile = flags.profile;
    const corpora = sharedFolder(PROFILES[profile].data.sources);
    const { report, files } = await benchAll({
      profile,
      only,
      out: flags.out,
      ctx: {
        gpu: gpuOptions(flags),
        torch: !flags["no-torch"],
        books: flags.books !== undefined ? findBooks(flags.books) : sharedFolder("corpora/books"),
        corpora: flags.sources ?? (corpora ? [corpora] : undefined),
        tokenizer: flags.tokenizer ?? sharedFolder("tokenizers/qwen3"),
        quiet: flags.quiet,
        log: (line) => io.err(line + "\n"),
      },
    });
    io.out(flags.json ? JSON.stringify(report, null, 2) + "\n" : renderBenchMd(report));
    if (!flags.quiet) io.err(`wrote ${files.join(", ")}\n`);
    return report.suites.some((s) => s.status === "failed") ? 1 : 0;
  },
});
