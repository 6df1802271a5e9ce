/** `golongrl bench`: performance against references measured in the same run. */
import type { Command } from "./command.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { CONFIG_FLAGS, configFromFlags } from "./config_flags.ts";
import { acquireGpu } from "../core/gpu/device.ts";
import { runtimeBench, runtimeBenchSchema } from "../core/bench/runtime.ts";
import { writeEffectiveConfig } from "../core/config.ts";
import { writeJsonAtomic } from "../core/fsutil.ts";
import { formatRewardBench, loadBookText, rewardBench } from "../core/bench/rewards.ts";
import { UsageError } from "../core/errors.ts";

const runtime: Command = {
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
    const r = await runtimeBench(gpu, cfg, flags.quiet as boolean);
    gpu.destroy();
    if (flags.out) {
      const dir = flags.out as string;
      await writeEffectiveConfig(dir, cfg);
      await writeJsonAtomic(`${dir}/results.json`, r);
    }
    if (flags.json) io.out(JSON.stringify(r, null, 2) + "\n");
    else {
      io.out(
        `adapter: ${r.adapter}\n` +
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
};

/** The books folder: --books, else shared/corpora/books beside the checkout or the working directory. */
function findBooks(flag?: string): string {
  const candidates = flag ? [flag] : [
    new URL("../../shared/corpora/books", import.meta.url).pathname,
    "../shared/corpora/books",
    "shared/corpora/books",
  ];
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isDirectory) return c;
    } catch { /* try the next */ }
  }
  throw new UsageError(
    flag
      ? `--books ${flag}: not a folder`
      : "no books folder found; pass --books DIR (a folder of .txt books)",
    "golongrl bench rewards --help",
  );
}

const rewards: Command = {
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
    const tokens = String(flags.tokens).split(",").map((s) => Number(s.trim()));
    if (tokens.some((t) => !Number.isInteger(t) || t < 1)) {
      throw new UsageError(
        `--tokens ${flags.tokens}: expected positive integers`,
        "golongrl bench rewards --help",
      );
    }
    const text = await loadBookText(findBooks(flags.books as string | undefined));
    const rows = rewardBench(text, {
      tokens,
      seconds: flags.seconds as number,
      seed: flags.seed as number,
      verifiers: flags.verifiers
        ? String(flags.verifiers).split(",").map((s) => s.trim())
        : undefined,
      quiet: flags.quiet as boolean,
    });
    if (flags.out) {
      await Deno.mkdir(flags.out as string, { recursive: true });
      await writeJsonAtomic(`${flags.out}/rewards.json`, rows);
    }
    io.out(flags.json ? JSON.stringify(rows, null, 2) + "\n" : formatRewardBench(rows));
  },
};

export const bench: Command = {
  name: "bench",
  summary: "Performance, as ratios against references measured in the same run.",
  usage: "golongrl bench <benchmark> [flags]",
  subcommands: [runtime, rewards],
};
