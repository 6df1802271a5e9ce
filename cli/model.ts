/** `golongrl model`: create, inspect, score with and generate from Qwen3 checkpoints. */
import { type Command, command } from "./command.ts";
import { type FlagSpec, requireFlags } from "./args.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { acquireGpu } from "../core/gpu/device.ts";
import { makeConfig, memoryEstimate, paramCount, PRESET_NAMES } from "../engine/model_config.ts";
import { initParams, saveCheckpoint } from "../engine/checkpoint.ts";
import { refuseExistingCheckpoint, verifyCheckpoint } from "../engine/verify.ts";
import { copyTokenizerFiles, loadModel } from "../engine/load.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { readScoreInputs, scoreSequences } from "../engine/score.ts";
import { readPrompts } from "../engine/prompts.ts";
import { rollout } from "../engine/rollout.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import { Progress } from "../core/progress.ts";

const DTYPE_FLAG = {
  dtype: {
    type: "string",
    value: "TYPE",
    choices: ["f32", "f16"],
    default: "f32",
    description: "Storage of the weight matrices on the GPU (f16 halves their memory).",
  },
} as const satisfies Record<string, FlagSpec>;

const init = command({
  name: "init",
  summary: "Create a randomly initialised Qwen3 model in Hugging Face layout.",
  usage: "golongrl model init --preset tiny|small --tokenizer DIR --out DIR [--seed N]",
  description: "The vocabulary size comes from the tokenizer, whose files are copied into --out.",
  flags: {
    preset: {
      type: "string",
      value: "NAME",
      choices: PRESET_NAMES,
      default: "tiny",
      description: "Model size.",
    },
    tokenizer: {
      type: "string",
      value: "DIR",
      description: "Folder with tokenizer.json (and tokenizer_config.json).",
    },
    out: { type: "string", value: "DIR", description: "Folder to write the model to." },
    seed: { type: "integer", value: "N", default: 0, min: 0, description: "Initialisation seed." },
  },
  examples: ["golongrl model init --preset tiny --tokenizer tok/ --out models/tiny"],
  async run({ io, flags }) {
    requireFlags("golongrl model init", flags, ["tokenizer", "out"]);
    const tok = await loadTokenizer(flags.tokenizer);
    const config = makeConfig(flags.preset, tok.vocabSize, {
      eos_token_id: tok.eosIds.length === 1 ? tok.eosIds[0] : tok.eosIds,
    });
    const out = flags.out;
    await refuseExistingCheckpoint(out);
    await Deno.mkdir(out, { recursive: true });
    await saveCheckpoint(out, config, initParams(config, flags.seed));
    await copyTokenizerFiles(flags.tokenizer, out);
    io.out(
      `${out}: Qwen3 ${flags.preset}, ${
        paramCount(config).toLocaleString("en-US")
      } parameters, vocab ${tok.vocabSize}\n`,
    );
  },
});

const info = command({
  name: "info",
  summary: "Parameters, memory and config of a model folder.",
  usage: "golongrl model info DIR [--json]",
  positionals: [{ name: "dir", description: "Model folder (config.json).", required: true }],
  flags: { json: { type: "boolean", description: "Print JSON." } },
  async run({ io, flags, positionals }) {
    // The tensors, not only config.json: a truncated or mismatched checkpoint is an error here.
    const { config } = await verifyCheckpoint(positionals[0]);
    const f32 = memoryEstimate(config, "f32");
    const r = {
      dir: positionals[0],
      params: paramCount(config),
      memory: { f32, f16: memoryEstimate(config, "f16") },
      config,
    };
    if (flags.json) return void io.out(JSON.stringify(r, null, 2) + "\n");
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    io.out(
      `${r.dir}: ${config.architectures?.[0] ?? "Qwen3"}\n` +
        `  parameters   ${r.params.toLocaleString("en-US")}\n` +
        `  layers ${config.num_hidden_layers}, hidden ${config.hidden_size}, mlp ${config.intermediate_size}, ` +
        `heads ${config.num_attention_heads}/${config.num_key_value_heads} kv, head_dim ${config.head_dim}\n` +
        `  vocab ${config.vocab_size}, max positions ${config.max_position_embeddings}, ` +
        `tied embeddings ${config.tie_word_embeddings}, rope theta ${config.rope_theta}\n` +
        `  memory: weights ${mib(f32.weights)} (f32), training ${
          mib(f32.training)
        } (+ activations), ` +
        `KV cache ${(f32.kvPerToken / 1024).toFixed(1)} KiB/token\n`,
    );
  },
});

const score = command({
  name: "score",
  summary: "Per-token logprobs of sequences under a model (teacher forcing).",
  usage:
    "golongrl model score --model DIR --input FILE.jsonl [--out FILE.jsonl] [--batch-tokens N]",
  description:
    'Input lines: {"id", "tokens": [...]} or {"id", "text"} (tokenized with the model\'s tokenizer).\n' +
    'Output lines: {"id", "logprobs": [...]}, logprobs[i] = log p(token[i+1] | tokens[..i]).',
  flags: {
    model: { type: "string", value: "DIR", description: "Model folder." },
    input: { type: "string", value: "FILE", description: "JSONL sequences." },
    out: { type: "string", value: "FILE", description: "JSONL output; stdout when absent." },
    "batch-tokens": {
      type: "integer",
      value: "N",
      default: 8192,
      min: 1,
      description: "Tokens per forward.",
    },
    ...DTYPE_FLAG,
    ...GPU_FLAGS,
  },
  async run({ io, flags }) {
    requireFlags("golongrl model score", flags, ["model", "input"]);
    const dir = flags.model;
    const gpu = await acquireGpu(gpuOptions(flags));
    const { model } = await loadModel(gpu, dir, { matrices: flags.dtype });
    const tok = await loadTokenizer(dir).catch(() => undefined);
    const inputs = await readScoreInputs(flags.input, tok);
    const progress = new Progress("score", {
      unit: "sequences",
      total: inputs.length,
      quiet: flags.quiet,
    });
    await JsonlWriter.with(
      flags.out,
      io.out,
      (out) =>
        scoreSequences(model, inputs, flags["batch-tokens"], async (r) => {
          await out.write(r);
          progress.tick();
        }),
    );
    progress.finish();
    gpu.destroy();
  },
});

const gen = command({
  name: "generate",
  summary: "Sample completions with their token logprobs (batched, KV cache, on the GPU).",
  usage:
    "golongrl model generate --model DIR --prompts FILE.jsonl [--n K] [--temperature T] [--top-p P]\n" +
    "                        [--top-k K] [--max-new-tokens M] [--seed S] [--stop STR]... [--out FILE]",
  description:
    'Prompt lines: {"id", "prompt": "text"} (raw), {"id", "messages": [...]} (chat template), or\n' +
    '{"id", "tokens": [...]}. Output lines: {"id", "sample", "text", "tokens", "logprobs",\n' +
    '"finish_reason"}; "text" is the response as rewards read it (special tokens skipped, a\n' +
    "trailing EOS removed, cut before a stop string). A prompt's KV cache is computed once and\n" +
    "shared by its --n completions.",
  flags: {
    model: { type: "string", value: "DIR", description: "Model folder (with tokenizer files)." },
    prompts: { type: "string", value: "FILE", description: "JSONL prompts." },
    out: { type: "string", value: "FILE", description: "JSONL output; stdout when absent." },
    n: {
      type: "integer",
      value: "K",
      default: 1,
      min: 1,
      max: 1024,
      description: "Completions per prompt.",
    },
    temperature: { type: "number", value: "T", default: 1, min: 0, description: "0 = greedy." },
    "top-p": {
      type: "number",
      value: "P",
      default: 1,
      min: 0,
      max: 1,
      description: "Nucleus mass.",
    },
    "top-k": { type: "integer", value: "K", default: 0, min: 0, description: "0 = no limit." },
    "max-new-tokens": {
      type: "integer",
      value: "M",
      default: 128,
      min: 1,
      description: "Completion length limit.",
    },
    seed: { type: "integer", value: "S", default: 0, min: 0, description: "Sampling seed." },
    stop: { type: "string", value: "STR", multiple: true, description: "Stop string." },
    "enable-thinking": {
      type: "boolean",
      description: "Chat template with thinking on (for messages prompts).",
    },
    "batch-prompts": {
      type: "integer",
      value: "N",
      default: 16,
      min: 1,
      description: "Prompts per batch.",
    },
    ...DTYPE_FLAG,
    ...GPU_FLAGS,
  },
  async run({ io, flags }) {
    requireFlags("golongrl model generate", flags, ["model", "prompts"]);
    const dir = flags.model;
    const gpu = await acquireGpu(gpuOptions(flags));
    const { model } = await loadModel(gpu, dir, { matrices: flags.dtype });
    const tok = await loadTokenizer(dir);
    const prompts = await readPrompts(flags.prompts, tok, {
      enableThinking: flags["enable-thinking"],
    });
    const n = flags.n;
    const per = flags["batch-prompts"];
    const progress = new Progress("generate", {
      unit: "prompts",
      total: prompts.length,
      quiet: flags.quiet,
    });
    await JsonlWriter.with(flags.out, io.out, async (out) => {
      // Batches of --batch-prompts, written as each finishes (a long run keeps its output).
      for (let i = 0; i < prompts.length; i += per) {
        const batch = prompts.slice(i, i + per);
        const rolls = await rollout(model, tok, batch.map((p) => p.tokens), {
          n,
          maxNewTokens: flags["max-new-tokens"],
          temperature: flags.temperature,
          topP: flags["top-p"],
          topK: flags["top-k"],
          seed: flags.seed,
          rowIdBase: i * n,
          stop: flags.stop,
        });
        for (const r of rolls) {
          await out.write({
            id: batch[r.prompt].id,
            sample: r.sample,
            text: r.text,
            tokens: r.tokens,
            logprobs: r.logprobs,
            finish_reason: r.finishReason,
          });
        }
        progress.tick(batch.length);
      }
    });
    progress.finish();
    gpu.destroy();
  },
});

export const modelCommand: Command = {
  name: "model",
  summary: "Create, inspect, score with and generate from Qwen3 models (HF layout).",
  usage: "golongrl model <init|info|score|generate> [flags]",
  subcommands: [init, info, score, gen],
};
