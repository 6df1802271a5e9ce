/** `golongrl eval`: long-context benchmarks against a local checkpoint or an OpenAI-compatible endpoint. */
import { command } from "./command.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { getBenchmark, listBenchmarks } from "../eval/benchmarks/mod.ts";
import { runEval } from "../eval/runner.ts";
import { summaryText } from "../eval/report.ts";
import { OpenAIBackend } from "../eval/backends/openai.ts";
import { LocalBackend } from "../eval/backends/local.ts";
import type { ChatBackend } from "../core/chat/backend.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { parseLengths } from "../core/lengths.ts";

type DataFlag = { type: "string"; value: "PATH"; description: string };

/** `--data-<flag> PATH` for every benchmark that reads data. */
const dataFlags: Record<`data-${string}`, DataFlag> = Object.fromEntries(
  [...new Set(listBenchmarks().map((b) => b.dataFlag).filter((f): f is string => Boolean(f)))].map((
    f,
  ) => [
    `data-${f}`,
    {
      type: "string",
      value: "PATH",
      description: `Data for ${f} (official format).`,
    } satisfies DataFlag,
  ]),
);

const EVAL_FLAGS = {
  bench: { type: "string", value: "LIST", description: "Benchmarks to run." },
  model: { type: "string", value: "DIR", description: "Local checkpoint (WebGPU)." },
  endpoint: {
    type: "string",
    value: "URL",
    description: "OpenAI-compatible base URL, e.g. http://host:8000/v1.",
  },
  "model-name": { type: "string", value: "NAME", description: "Model name at the endpoint." },
  "api-key-env": {
    type: "string",
    value: "VAR",
    default: "OPENAI_API_KEY",
    description: "Environment variable with the API key.",
  },
  "judge-endpoint": {
    type: "string",
    value: "URL",
    description: "Judge endpoint (judge-mode benchmarks).",
  },
  "judge-model": { type: "string", value: "NAME", description: "Judge model name." },
  "judge-api-key-env": {
    type: "string",
    value: "VAR",
    description: "Environment variable with the judge's API key [default: the --api-key-env one].",
  },
  out: { type: "string", value: "DIR", description: "Output and cache folder." },
  limit: { type: "integer", value: "N", min: 1, description: "Items per benchmark." },
  "max-input-tokens": {
    type: "integer",
    value: "N",
    min: 16,
    description:
      "Fit every prompt into N tokens: cut the document in its middle, keep system prompts and the question; an item that cannot fit fails.",
  },
  tokenizer: {
    type: "string",
    value: "DIR",
    description: "Tokenizer for truncation and RULER lengths (endpoints).",
  },
  lengths: {
    type: "string",
    value: "LIST",
    default: "4k,16k",
    description: "Context lengths for generated suites (RULER).",
  },
  samples: {
    type: "integer",
    value: "K",
    default: 1,
    min: 1,
    description: "Samples per item (avg@k, pass@k).",
  },
  concurrency: {
    type: "integer",
    value: "C",
    default: 16,
    min: 1,
    description: "Requests in flight.",
  },
  "timeout-s": {
    type: "number",
    value: "S",
    default: 600,
    min: 1,
    description: "Per-request timeout.",
  },
  "max-retries": {
    type: "integer",
    value: "N",
    default: 5,
    min: 0,
    description: "Retries per request.",
  },
  "max-tokens": {
    type: "integer",
    value: "N",
    min: 1,
    description:
      "Generation length for every benchmark [default: each benchmark's own, e.g. LongBench v2 128].",
  },
  temperature: {
    type: "number",
    value: "T",
    min: 0,
    description: "Sampling temperature [default: each benchmark's reference setting].",
  },
  "top-p": {
    type: "number",
    value: "P",
    min: 0,
    max: 1,
    description: "Nucleus mass [default: each benchmark's reference setting].",
  },
  "no-answer-prefix": {
    type: "boolean",
    description: "Do not prefill benchmarks' answer prefixes (RULER) as the assistant's start.",
  },
  seed: {
    type: "integer",
    value: "S",
    default: 0,
    min: 0,
    description: "Seed for sampling and generated suites.",
  },
  rescore: { type: "boolean", description: "Score cached outputs again; generate nothing." },
  dtype: {
    type: "string",
    value: "TYPE",
    choices: ["f32", "f16"],
    default: "f16",
    description: "Local weights storage.",
  },
} as const satisfies Record<string, FlagSpec>;

/** The eval flags, the data flags, then the GPU flags (the help lists them in this order). */
const FLAGS: typeof EVAL_FLAGS & typeof dataFlags & typeof GPU_FLAGS = {
  ...EVAL_FLAGS,
  ...dataFlags,
  ...GPU_FLAGS,
};

export const evalCommand = command({
  name: "eval",
  summary:
    "Long-context benchmarks against a checkpoint or an OpenAI-compatible endpoint; resumable.",
  usage:
    "golongrl eval --bench NAME[,NAME] (--model DIR | --endpoint URL --model-name NAME) --out DIR\n" +
    "              [--judge-endpoint URL --judge-model NAME] [--limit N] [--max-input-tokens N]\n" +
    "              [--samples K] [--concurrency C] [--seed S] [--data-<bench> PATH]...",
  description: `Benchmarks: ${listBenchmarks().map((b) => b.name).join(", ")}.\n` +
    "Every generation is appended to DIR/cache.jsonl as it finishes, keyed by model, prompt and\n" +
    "parameters: a rerun skips what is done, a killed run loses nothing; --rescore rescores the\n" +
    "cache without generating. Writes DIR/results.json, DIR/report.md, DIR/score_vs_length.svg.\n" +
    "API keys come from the environment (--api-key-env, default OPENAI_API_KEY).",
  flags: FLAGS,
  examples: [
    "golongrl eval --bench ruler --model models/tiny --lengths 1k,2k --limit 10 --out runs/eval",
    "golongrl eval --bench longbench-v2 --data-longbench-v2 lbv2.jsonl --endpoint http://localhost:8000/v1 --model-name qwen3 --out runs/lbv2",
  ],
  async run({ io, flags }) {
    const cmd = "golongrl eval";
    if (!flags.bench) throw new UsageError(`${cmd}: --bench is required`, `${cmd} --help`);
    if (!flags.out) throw new UsageError(`${cmd}: --out is required`, `${cmd} --help`);
    if (Boolean(flags.model) === Boolean(flags.endpoint)) {
      throw new UsageError(
        `${cmd}: give exactly one of --model DIR or --endpoint URL`,
        `${cmd} --help`,
      );
    }
    const benches = flags.bench.split(",").map((n) => {
      const b = getBenchmark(n.trim());
      if (!b) {
        throw new UsageError(
          `--bench: unknown benchmark "${n}" (one of ${
            listBenchmarks().map((x) => x.name).join(", ")
          })`,
          `${cmd} --help`,
        );
      }
      return b;
    });
    const dataPaths: Record<string, string> = {};
    for (const b of benches) {
      if (!b.dataFlag) continue;
      const p = flags[`data-${b.dataFlag}`];
      if (!p) {
        throw new UsageError(`${cmd}: ${b.name} needs --data-${b.dataFlag} PATH`, `${cmd} --help`);
      }
      dataPaths[b.dataFlag] = p;
    }
    if (flags["judge-endpoint"] && !flags["judge-model"]) {
      throw new UsageError(`${cmd}: --judge-endpoint needs --judge-model`, `${cmd} --help`);
    }
    if (flags.endpoint && !flags["model-name"]) {
      throw new UsageError(`${cmd}: --endpoint needs --model-name`, `${cmd} --help`);
    }
    let backend: ChatBackend;
    let tokenizer;
    if (flags.model) {
      tokenizer = await loadTokenizer(flags.model);
      backend = await LocalBackend.open(flags.model, {
        gpu: gpuOptions(flags),
        dtype: flags.dtype,
        concurrency: flags.concurrency,
        tokenizer,
      });
    } else {
      if (!flags["model-name"]) {
        throw new UsageError(`${cmd}: --endpoint needs --model-name`, `${cmd} --help`);
      }
      if (!flags.endpoint) {
        throw new UsageError(
          `${cmd}: give exactly one of --model DIR or --endpoint URL`,
          `${cmd} --help`,
        );
      }
      backend = new OpenAIBackend({
        baseUrl: flags.endpoint,
        model: flags["model-name"],
        apiKeyEnv: flags["api-key-env"],
        concurrency: flags.concurrency,
        timeoutMs: flags["timeout-s"] * 1000,
        maxRetries: flags["max-retries"],
      });
      if (flags.tokenizer) tokenizer = await loadTokenizer(flags.tokenizer);
    }
    if (flags["max-input-tokens"] && !tokenizer) {
      throw new UsageError(
        `${cmd}: --max-input-tokens with an endpoint needs --tokenizer DIR`,
        `${cmd} --help`,
      );
    }
    let judge: ChatBackend | undefined;
    if (flags["judge-endpoint"]) {
      if (!flags["judge-model"]) {
        throw new UsageError(`${cmd}: --judge-endpoint needs --judge-model`, `${cmd} --help`);
      }
      judge = new OpenAIBackend({
        baseUrl: flags["judge-endpoint"],
        model: flags["judge-model"],
        apiKeyEnv: flags["judge-api-key-env"] ?? flags["api-key-env"],
        concurrency: flags.concurrency,
        timeoutMs: flags["timeout-s"] * 1000,
        maxRetries: flags["max-retries"],
      });
    }
    const out = flags.out;
    try {
      const r = await runEval({
        benchmarks: benches,
        backend,
        judge,
        out,
        gen: {
          maxTokens: flags["max-tokens"],
          temperature: flags.temperature,
          topP: flags["top-p"],
          answerPrefix: !flags["no-answer-prefix"],
          samples: flags.samples,
          seed: flags.seed,
        },
        dataPaths,
        limit: flags.limit,
        lengths: parseLengths(flags.lengths, cmd),
        lengthsText: flags.lengths,
        maxInputTokens: flags["max-input-tokens"],
        tokenizer,
        rescore: flags.rescore,
        quiet: flags.quiet,
        onLog: (s) => io.err(s),
      });
      io.out(summaryText(r.results, out));
      return r.failures || r.results.average === null ? 1 : 0;
    } finally {
      await backend.close?.();
      await judge?.close?.();
    }
  },
});
