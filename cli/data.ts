/** `golongrl data`: build long-context RLVR datasets from real documents, phase by phase or whole. */
import { type Command, command } from "./command.ts";
import { type FlagSpec, requireFlags } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { bucketPhase, buildDataset, constructPhase, ingestPhase } from "../data/build.ts";
import { lengthLabel, parseLengths } from "../core/lengths.ts";
import type { TokenCounter } from "../data/assemble.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { promptCounter } from "../data/prompt_tokens.ts";
import { TASK_TYPES, type TaskType } from "../tasks/types.ts";
import { readSamples, writeSamplesJsonl } from "../data/schema.ts";
import { writeParquet } from "../data/parquet.ts";
import { importDataset, newImportReport } from "../data/importer.ts";
import { buildBenchmarkIndex, decontaminate } from "../data/decontam.ts";
import { statsJson, statsMarkdown } from "../data/stats.ts";
import { auditMarkdown, auditSamples } from "../data/audit.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import { readJsonl } from "../core/jsonl.ts";
import type { Document, Sample } from "../tasks/generators/types.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/fsutil.ts";
import { DEFAULT_DIFFICULTY, filterByDifficulty, type Policy } from "../data/difficulty.ts";
import { endpointPolicy, localPolicy } from "../data/policies.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { Progress } from "../core/progress.ts";

function parseTasks(s: string | undefined, cmd: string): TaskType[] | undefined {
  if (!s) return undefined;
  return s.split(",").map((t) => {
    const v = t.trim() as TaskType;
    if (!TASK_TYPES.includes(v)) {
      throw new UsageError(
        `--tasks: unknown task "${t}" (one of ${TASK_TYPES.join(", ")})`,
        `${cmd} --help`,
      );
    }
    return v;
  });
}

async function counter(
  dir: string | undefined,
): Promise<{ count: TokenCounter; countPrompt?: TokenCounter; name: string }> {
  if (!dir) {
    return { count: (t) => Math.ceil(t.length / 4), name: "approx (4 characters per token)" };
  }
  const tok = await loadTokenizer(dir);
  return { count: (t) => tok.encode(t).length, countPrompt: promptCounter(tok), name: dir };
}

const BUILD_FLAGS = {
  tokenizer: {
    type: "string",
    value: "DIR",
    description: "Tokenizer for length buckets (e.g. the Qwen3 tokenizer); else ~4 chars/token.",
  },
  lengths: {
    type: "string",
    value: "LIST",
    default: "4k,16k,32k",
    description: "Length buckets in tokens.",
  },
  "per-task": {
    type: "integer",
    value: "N",
    default: 4,
    min: 1,
    description: "Samples per task per bucket.",
  },
  tasks: {
    type: "string",
    value: "LIST",
    description: `Task types (default all): ${TASK_TYPES.join(", ")}.`,
  },
  seed: {
    type: "integer",
    value: "S",
    default: 0,
    min: 0,
    description: "Seed: fixes every choice of the build.",
  },
} as const satisfies Record<string, FlagSpec>;

const buildCmd = command({
  name: "build",
  summary: "All phases: ingest, assign, construct, bucket by length, decontaminate, report.",
  usage:
    "golongrl data build --sources PATH... --out DIR [--tokenizer DIR] [--lengths 4k,16k,32k] [--per-task N]",
  description:
    "Writes DIR/data.jsonl, DIR/stats.json, DIR/stats.md, DIR/report.json, DIR/config.json (and\n" +
    "DIR/data.parquet with --parquet). Two builds with the same inputs and --seed are byte-identical.",
  positionals: [{
    name: "path",
    description: "More sources (after --sources A B ...).",
    variadic: true,
  }],
  flags: {
    sources: {
      type: "string",
      value: "PATH",
      multiple: true,
      description: "Files or folders of documents.",
    },
    out: { type: "string", value: "DIR", description: "Output folder." },
    ...BUILD_FLAGS,
    benchmarks: {
      type: "string",
      value: "FILE",
      multiple: true,
      description: "Benchmark JSONL to decontaminate against (13-gram).",
    },
    parquet: { type: "boolean", description: "Also write verl parquet." },
    heldout: {
      type: "number",
      value: "FRAC",
      default: 0,
      min: 0,
      max: 1,
      description:
        "Share of source documents held out into DIR/heldout.jsonl (for eval --bench ours).",
    },
  },
  examples: [
    "golongrl data build --sources ../shared/corpora --tokenizer ../shared/tokenizers/qwen3 --out data/",
  ],
  async run({ io, flags, positionals }) {
    const cmd = "golongrl data build";
    // `--sources a b c` reads as --sources a plus positionals b c.
    if (positionals.length) {
      flags.sources = [...(flags.sources ?? []), ...positionals];
    }
    requireFlags(cmd, flags, ["sources", "out"]);
    const lengths = parseLengths(flags.lengths, cmd);
    const tasks = parseTasks(flags.tasks, cmd);
    const { count, countPrompt, name } = await counter(flags.tokenizer);
    const out = flags.out;
    const r = await buildDataset({
      sources: flags.sources,
      out,
      tasks,
      lengths,
      perTask: flags["per-task"],
      seed: flags.seed,
      count,
      countPrompt,
      tokenizerName: name,
      benchmarks: flags.benchmarks,
      parquet: flags.parquet,
      heldout: flags.heldout,
      quiet: flags.quiet,
      log: (s) => flags.quiet ? undefined : io.err(s),
    });
    const buckets = lengths.map(lengthLabel);
    // Every task asked for has a row: one that could not be made shows its zeros.
    const rows = [...r.tasks].sort().map((t) =>
      `  ${t.padEnd(22)} ${
        buckets.map((b) => String(r.perTaskBucket[t]?.[b] ?? 0).padStart(6)).join("")
      }`
    );
    const notes = [
      ...r.tasks.flatMap((t) =>
        buckets.filter((b) => (r.perTaskBucket[t]?.[b] ?? 0) < flags["per-task"])
          .map((b) => `  note: ${t}@${b} has fewer samples than asked (too little fitting text)`)
      ),
      ...Object.entries(r.repeats).map(([k, n]) =>
        `  note: ${k}: ${n} samples repeat a question of another bucket (too few drafts)`
      ),
    ];
    io.out(
      `${out}: ${r.samples} samples${
        r.heldout ? ` (+ ${r.heldout} held out)` : ""
      } from ${r.documents} documents (${r.skipped.length} skipped, ` +
        `${r.duplicates.length} duplicates), gold self-check failures: ${r.goldFailures.length}\n` +
        `  ${"task".padEnd(22)} ${buckets.map((b) => b.padStart(6)).join("")}\n${
          rows.join("\n")
        }\n${notes.map((n) => n + "\n").join("")}`,
    );
    return r.goldFailures.length ? 1 : 0;
  },
});

const ingestCmd = command({
  name: "ingest",
  summary: "P1 alone: documents (with metadata) to JSONL, deduplicated; skips reported.",
  usage: "golongrl data ingest --sources PATH... [--out DOCS.jsonl]",
  positionals: [{
    name: "path",
    description: "More sources (after --sources A B ...).",
    variadic: true,
  }],
  flags: {
    sources: { type: "string", value: "PATH", multiple: true, description: "Files or folders." },
    out: { type: "string", value: "FILE", description: "Documents JSONL; stdout when absent." },
  },
  async run({ io, flags, positionals }) {
    if (positionals.length) {
      flags.sources = [...(flags.sources ?? []), ...positionals];
    }
    requireFlags("golongrl data ingest", flags, ["sources"]);
    const r = await ingestPhase(flags.sources, { quiet: flags.quiet });
    await JsonlWriter.with(flags.out, io.out, async (w) => {
      for (const d of r.docs) await w.write(d);
    });
    io.err(
      `${r.docs.length} documents, ${r.skipped.length} skipped, ${r.duplicates.length} duplicates\n`,
    );
    for (const s of r.skipped) io.err(`  skipped ${s.source}: ${s.reason}\n`);
  },
});

const constructCmd = command({
  name: "construct",
  summary: "P2-P3 and length bucketing alone: documents JSONL to samples JSONL.",
  usage:
    "golongrl data construct --docs DOCS.jsonl --out DATA.jsonl [--tokenizer DIR] [--lengths ...]",
  flags: {
    docs: { type: "string", value: "FILE", description: "Documents JSONL (from data ingest)." },
    out: { type: "string", value: "FILE", description: "Samples JSONL." },
    ...BUILD_FLAGS,
  },
  async run({ io, flags }) {
    const cmd = "golongrl data construct";
    requireFlags(cmd, flags, ["docs", "out"]);
    const docs: Document[] = [];
    for await (const { value } of readJsonl(flags.docs)) {
      docs.push(value as unknown as Document);
    }
    const tasks = parseTasks(flags.tasks, cmd) ?? [...TASK_TYPES];
    const { count, countPrompt } = await counter(flags.tokenizer);
    const report = { drafts: {}, draftFailures: [], goldFailures: [] as string[], bucketSkips: {} };
    const byTask = constructPhase(docs, {
      tasks,
      seed: flags.seed,
      perTask: flags["per-task"],
    }, report);
    const samples = bucketPhase(byTask, docs, {
      lengths: parseLengths(flags.lengths, cmd),
      perTask: flags["per-task"],
      seed: flags.seed,
      count,
      countPrompt,
      quiet: flags.quiet,
    }, report);
    await writeSamplesJsonl(flags.out, samples);
    io.err(`${samples.length} samples; gold self-check failures: ${report.goldFailures.length}\n`);
  },
});

const llmCmd = command({
  name: "llm",
  summary: "P3 LLM track: QA pairs from an OpenAI-compatible endpoint, verified, bucketed.",
  usage: "golongrl data llm --docs DOCS.jsonl --endpoint URL --model-name M --out DATA.jsonl\n" +
    "                  [--tasks LIST] [--per-doc N] [--lengths 4k] [--tokenizer DIR] [--cache FILE]\n" +
    "                  [--verifier-endpoint URL --verifier-model M] [--concurrency C] [--seed S]",
  description:
    "For each document and task type, seeded excerpts go to the model with the task's prompt\n" +
    "(docs/llm-track.md); each JSON reply becomes a draft, which must pass evidence matching,\n" +
    "the gold self-check and an answerability check by the verifier model (default: the same\n" +
    "model). Accepted drafts are bucketed by length into samples. Every reply is cached in\n" +
    "--cache, so a rerun sends no request it already has a reply for.",
  flags: {
    docs: { type: "string", value: "FILE", description: "Documents JSONL (from data ingest)." },
    endpoint: { type: "string", value: "URL", description: "OpenAI-compatible base URL." },
    "model-name": { type: "string", value: "NAME", description: "Model that writes QA pairs." },
    out: { type: "string", value: "FILE", description: "Samples JSONL." },
    "drafts-out": {
      type: "string",
      value: "FILE",
      description: "Also write the accepted drafts (JSONL).",
    },
    "verifier-endpoint": {
      type: "string",
      value: "URL",
      description: "Endpoint of the verifier model (default: --endpoint).",
    },
    "verifier-model": {
      type: "string",
      value: "NAME",
      description: "Verifier model (default: --model-name).",
    },
    "api-key-env": {
      type: "string",
      value: "VAR",
      default: "OPENAI_API_KEY",
      description: "Environment variable holding the API key.",
    },
    cache: { type: "string", value: "FILE", description: "JSONL cache of replies (resumable)." },
    tasks: BUILD_FLAGS.tasks,
    "per-doc": {
      type: "integer",
      value: "N",
      default: 1,
      min: 1,
      description: "Excerpts (QA pairs asked for) per document and task.",
    },
    "per-task": {
      type: "integer",
      value: "N",
      min: 1,
      description: "Samples per task per bucket (default: every accepted draft).",
    },
    "max-evidence-chars": {
      type: "integer",
      value: "N",
      default: 6000,
      min: 200,
      description: "Longest excerpt in characters.",
    },
    lengths: { ...BUILD_FLAGS.lengths, default: "4k" },
    tokenizer: BUILD_FLAGS.tokenizer,
    concurrency: {
      type: "integer",
      value: "N",
      default: 8,
      min: 1,
      description: "QA pairs (and endpoint requests) in flight.",
    },
    seed: BUILD_FLAGS.seed,
  },
  examples: [
    "golongrl data llm --docs docs.jsonl --endpoint http://localhost:8000 --model-name deepseek-v3.2 " +
    "--cache llm-cache.jsonl --out llm.jsonl",
  ],
  async run({ io, flags }) {
    const cmd = "golongrl data llm";
    requireFlags(cmd, flags, ["docs", "endpoint", "model-name", "out"]);
    const { buildLlmDataset, readDocuments } = await import("../data/llm_dataset.ts");
    const { OpenAIBackend } = await import("../eval/backends/openai.ts");
    const docs = await readDocuments(flags.docs);
    const tasks = parseTasks(flags.tasks, cmd) ?? [...TASK_TYPES];
    const lengths = parseLengths(flags.lengths, cmd);
    const { count, countPrompt } = await counter(flags.tokenizer);
    const concurrency = flags.concurrency;
    const apiKeyEnv = flags["api-key-env"];
    const backend = new OpenAIBackend({
      baseUrl: flags.endpoint,
      model: flags["model-name"],
      apiKeyEnv,
      concurrency,
    });
    const vEndpoint = flags["verifier-endpoint"];
    const vModel = flags["verifier-model"];
    const verifier = vEndpoint || vModel
      ? new OpenAIBackend({
        baseUrl: vEndpoint ?? flags.endpoint,
        model: vModel ?? flags["model-name"],
        apiKeyEnv,
        concurrency,
      })
      : undefined;
    const progress = new Progress("llm", { unit: "QA pairs", quiet: flags.quiet });
    const r = await buildLlmDataset(docs, backend, {
      tasks,
      perDoc: flags["per-doc"],
      seed: flags.seed,
      maxEvidenceChars: flags["max-evidence-chars"],
      cachePath: flags.cache,
      verifier,
      concurrency,
      onProgress: () => progress.tick(),
      onDraftsDone: () => progress.finish(),
      draftsOut: flags["drafts-out"],
      lengths,
      perTask: flags["per-task"],
      count,
      countPrompt,
      quiet: flags.quiet,
      out: flags.out,
    }, io.out);
    const s = r.stats;
    const reasons = Object.entries(s.rejected).sort(([a], [b]) => a.localeCompare(b));
    io.err(
      `${s.jobs} QA pairs asked for (${s.requests} requests, ${s.cacheHits} cached replies): ` +
        `${s.accepted} accepted, ${r.rejected.length} rejected\n` +
        reasons.map(([k, v]) => `  rejected ${k}: ${v}\n`).join("") +
        Object.entries(r.bucketSkips).map(([k, v]) => `  bucket skip ${k}: ${v}\n`).join("") +
        `${flags.out}: ${r.samples} samples\n`,
    );
    return r.samples > 0 ? 0 : 1;
  },
});

async function loadData(path: string): Promise<Sample[]> {
  const out: Sample[] = [];
  const it = path.endsWith(".parquet") ? importDataset(path) : readSamples(path);
  for await (const s of it) out.push(s);
  return out;
}

const statsCmd = command({
  name: "stats",
  summary: "Diagnostics of any dataset: counts, answer lengths, gold self-check.",
  usage: "golongrl data stats --data FILE [--json] [--out DIR]",
  flags: {
    data: { type: "string", value: "FILE", description: "Samples (JSONL or parquet)." },
    json: { type: "boolean", description: "Print JSON." },
    out: { type: "string", value: "DIR", description: "Write DIR/stats.json and DIR/stats.md." },
  },
  async run({ io, flags }) {
    requireFlags("golongrl data stats", flags, ["data"]);
    const stats = statsJson(await loadData(flags.data));
    if (flags.out) {
      await Deno.mkdir(flags.out, { recursive: true });
      await writeJsonAtomic(`${flags.out}/stats.json`, stats);
      await writeFileAtomic(`${flags.out}/stats.md`, statsMarkdown(stats));
    }
    io.out(flags.json ? JSON.stringify(stats, null, 2) + "\n" : statsMarkdown(stats));
  },
});

const auditCmd = command({
  name: "audit",
  summary: "Shortcut audit: no-reading baselines scored through the verifiers vs a random answer.",
  usage: "golongrl data audit DIR [--json]",
  description:
    "Reads DIR/data.jsonl and DIR/heldout.jsonl (or one samples file) and prints, per task, the\n" +
    "scores of answers that need no reading (label order, every candidate, the most common gold\n" +
    "of the generator, the question alone) beside a random answer's; a baseline more than 0.05\n" +
    "above random is flagged, as are dominant golds, answers inside questions and repeats.",
  positionals: [{ name: "dir", description: "A build folder or a samples JSONL.", required: true }],
  flags: { json: { type: "boolean", description: "Print JSON." } },
  async run({ io, flags, positionals }) {
    const path = positionals[0];
    const files = (await Deno.stat(path)).isDirectory
      ? [`${path}/data.jsonl`, `${path}/heldout.jsonl`]
      : [path];
    const samples: Sample[] = [];
    for (const f of files) {
      const exists = await Deno.stat(f).then(() => true, () => false);
      if (exists) samples.push(...await loadData(f));
      else if (f === files[0]) {
        throw new UsageError(`no samples file: ${f}`, "golongrl data audit --help");
      }
    }
    const a = auditSamples(samples);
    io.out(flags.json ? JSON.stringify(a, null, 2) + "\n" : auditMarkdown(a));
  },
});

const exportCmd = command({
  name: "export",
  summary: "Samples JSONL to verl parquet (GoLongRL's fields).",
  usage: "golongrl data export --data DATA.jsonl --out DATA.parquet [--layout verl|golongrl]",
  flags: {
    data: { type: "string", value: "FILE", description: "Samples JSONL." },
    out: { type: "string", value: "FILE", description: "Parquet file." },
    layout: {
      type: "string",
      value: "NAME",
      choices: ["verl", "golongrl"],
      default: "verl",
      description: "verl: lossless; golongrl: only the released dataset's fields.",
    },
  },
  async run({ io, flags }) {
    requireFlags("golongrl data export", flags, ["data", "out"]);
    const samples = await loadData(flags.data);
    const n = await writeParquet(flags.out, samples, { layout: flags.layout });
    io.err(`${flags.out}: ${n} rows\n`);
  },
});

const importCmd = command({
  name: "import",
  summary: "GoLongRL-format parquet or JSONL (e.g. the released dataset) to our JSONL.",
  usage: "golongrl data import --input FILE|DIR --out DATA.jsonl",
  flags: {
    input: {
      type: "string",
      value: "PATH",
      description: "Parquet, JSONL, JSON or a folder of them.",
    },
    out: { type: "string", value: "FILE", description: "Samples JSONL." },
  },
  async run({ io, flags }) {
    requireFlags("golongrl data import", flags, ["input", "out"]);
    const report = newImportReport();
    const samples: Sample[] = [];
    for await (const s of importDataset(flags.input, { report })) samples.push(s);
    await writeSamplesJsonl(flags.out, samples);
    io.err(`${flags.out}: ${samples.length} samples\n`);
    io.out(JSON.stringify(report) + "\n");
  },
});

const decontamCmd = command({
  name: "decontam",
  summary: "13-gram decontamination of questions against benchmark files.",
  usage: "golongrl data decontam --data DATA.jsonl --benchmarks FILE... --out KEPT.jsonl",
  flags: {
    data: { type: "string", value: "FILE", description: "Samples." },
    benchmarks: {
      type: "string",
      value: "FILE",
      multiple: true,
      description: "Benchmark JSONL files.",
    },
    out: { type: "string", value: "FILE", description: "Kept samples JSONL." },
  },
  async run({ io, flags }) {
    requireFlags("golongrl data decontam", flags, ["data", "benchmarks", "out"]);
    const index = await buildBenchmarkIndex(flags.benchmarks);
    const r = decontaminate(await loadData(flags.data), index);
    await writeSamplesJsonl(flags.out, r.kept);
    io.err(`kept ${r.kept.length}, removed ${r.removed.length}\n`);
    for (const x of r.removed) io.out(JSON.stringify({ id: x.sample.id, reason: x.reason }) + "\n");
  },
});

const filterCmd = command({
  name: "filter",
  summary: "Difficulty filtering: k rollouts per sample by a policy; pass-rate bands.",
  usage:
    "golongrl data filter --data DATA.jsonl --out KEPT.jsonl (--policy-model DIR | --policy-endpoint URL --policy-name M)\n" +
    "                     [--stage2-model DIR | --stage2-endpoint URL --stage2-name M] [--k 8]",
  description:
    "Stage 1 labels easy (pass rate >= --easy), medium, or unsolved (<= --unsolved); with a stage-2\n" +
    "policy, unsolved samples become medium (>= --medium2), hard (> 0) or discard (0). Bands are\n" +
    "recorded in extra_info.difficulty.",
  flags: {
    data: { type: "string", value: "FILE", description: "Samples." },
    out: { type: "string", value: "FILE", description: "Kept samples JSONL." },
    "policy-model": {
      type: "string",
      value: "DIR",
      description: "Stage-1 policy: a local checkpoint.",
    },
    "policy-endpoint": {
      type: "string",
      value: "URL",
      description: "Stage-1 policy: OpenAI-compatible endpoint.",
    },
    "policy-name": { type: "string", value: "NAME", description: "Model name at the endpoint." },
    "stage2-model": {
      type: "string",
      value: "DIR",
      description: "Stage-2 policy: a local checkpoint.",
    },
    "stage2-endpoint": { type: "string", value: "URL", description: "Stage-2 policy endpoint." },
    "stage2-name": { type: "string", value: "NAME", description: "Stage-2 model name." },
    k: {
      type: "integer",
      value: "K",
      default: DEFAULT_DIFFICULTY.k,
      min: 1,
      description: "Rollouts per sample.",
    },
    easy: {
      type: "number",
      value: "P",
      default: DEFAULT_DIFFICULTY.easy,
      min: 0,
      max: 1,
      description: "Easy threshold.",
    },
    unsolved: {
      type: "number",
      value: "P",
      default: DEFAULT_DIFFICULTY.unsolved,
      min: 0,
      max: 1,
      description: "Unsolved threshold.",
    },
    medium2: {
      type: "number",
      value: "P",
      default: DEFAULT_DIFFICULTY.medium2,
      min: 0,
      max: 1,
      description: "Stage-2 medium threshold.",
    },
    "drop-easy": { type: "boolean", description: "Drop easy samples." },
    "max-new-tokens": {
      type: "integer",
      value: "N",
      default: 512,
      min: 1,
      description: "Rollout length.",
    },
    temperature: {
      type: "number",
      value: "T",
      default: 1,
      min: 0,
      description: "Rollout temperature.",
    },
    seed: { type: "integer", value: "S", default: 0, min: 0, description: "Sampling seed." },
    concurrency: {
      type: "integer",
      value: "N",
      default: 16,
      min: 1,
      description: "Endpoint requests in flight.",
    },
    ...GPU_FLAGS,
  },
  async run({ io, flags }) {
    const cmd = "golongrl data filter";
    requireFlags(cmd, flags, ["data", "out"]);
    const samples = await loadData(flags.data);
    const sampling = {
      maxNewTokens: flags["max-new-tokens"],
      temperature: flags.temperature,
      topP: 1,
      seed: flags.seed,
      enableThinking: true,
      batch: 8,
    };
    const policyFrom = async (
      model?: string,
      endpoint?: string,
      name?: string,
    ): Promise<Policy | undefined> => {
      if (model) {
        const { acquireGpu } = await import("../core/gpu/device.ts");
        const { loadModel } = await import("../engine/load.ts");
        const gpu = await acquireGpu(gpuOptions(flags));
        const { model: m } = await loadModel(gpu, model);
        return localPolicy(model, m, await loadTokenizer(model), sampling);
      }
      if (endpoint) {
        if (!name) {
          throw new UsageError(`${cmd}: an endpoint policy needs its model name`, `${cmd} --help`);
        }
        const { OpenAIBackend } = await import("../eval/backends/openai.ts");
        const backend = new OpenAIBackend({
          baseUrl: endpoint,
          model: name,
          concurrency: flags.concurrency,
        });
        return endpointPolicy(backend, sampling);
      }
      return undefined;
    };
    const p1 = await policyFrom(
      flags["policy-model"],
      flags["policy-endpoint"],
      flags["policy-name"],
    );
    if (!p1) {
      throw new UsageError(`${cmd}: give --policy-model or --policy-endpoint`, `${cmd} --help`);
    }
    const p2 = await policyFrom(
      flags["stage2-model"],
      flags["stage2-endpoint"],
      flags["stage2-name"],
    );
    const progress = new Progress("filter", {
      unit: "samples",
      total: samples.length,
      quiet: flags.quiet,
    });
    const r = await filterByDifficulty(samples, p2 ? [p1, p2] : [p1], {
      ...DEFAULT_DIFFICULTY,
      k: flags.k,
      easy: flags.easy,
      unsolved: flags.unsolved,
      medium2: flags.medium2,
      keepEasy: !flags["drop-easy"],
    }, (n) => progress.tick(n));
    progress.finish();
    await writeSamplesJsonl(flags.out, r.kept);
    io.out(
      JSON.stringify({ kept: r.kept.length, removed: r.removed.length, bands: r.counts }) + "\n",
    );
  },
});

export const data: Command = {
  name: "data",
  summary:
    "Build long-context RLVR datasets (9 task types) from real documents; export, import, stats.",
  usage: "golongrl data <build|ingest|construct|llm|filter|decontam|stats|export|import> [flags]",
  subcommands: [
    buildCmd,
    ingestCmd,
    constructCmd,
    llmCmd,
    filterCmd,
    decontamCmd,
    statsCmd,
    auditCmd,
    exportCmd,
    importCmd,
  ],
};
