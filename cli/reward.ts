/** `golongrl reward`: score responses offline, or serve the verifiers over HTTP. */
import { command } from "./command.ts";
import { formatTaskTable, loadSampleRefs, scoreResponses } from "../reward/score_file.ts";
import { DEFAULT_LIMITS, isLoopback, rewardService } from "../reward/server.ts";
import { ScorePool } from "../reward/pool.ts";
import { serveHttp1 } from "../core/net/http1.ts";
import { Progress } from "../core/progress.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import type { RewardOptions } from "../tasks/types.ts";
import { type FlagsOf, type FlagSpec, requireFlags } from "./args.ts";
import { verifierErrors } from "../tasks/registry.ts";
import { setChineseSegmenter, ZH_SEGMENTERS } from "../metrics/segment.ts";

const REWARD_FLAGS = {
  format: {
    type: "string",
    value: "GATE",
    choices: ["thinking", "none"],
    default: "thinking",
    description:
      "Format gate: 'thinking' (faithful: exactly one </think>, at most one <think>) or 'none' for non-thinking models.",
  },
  "strip-think": {
    type: "boolean",
    description: "Verifiers that read the whole response read only the text after </think>.",
  },
  "zh-segmenter": {
    type: "string",
    value: "NAME",
    choices: ZH_SEGMENTERS,
    default: "icu",
    description: "Chinese word segmentation for ROUGE: icu (built in) or jieba (as the reference).",
  },
} as const satisfies Record<string, FlagSpec>;

async function rewardOptions(flags: FlagsOf<typeof REWARD_FLAGS>): Promise<RewardOptions> {
  await setChineseSegmenter(flags["zh-segmenter"]);
  return { format: flags.format, stripThink: flags["strip-think"] };
}

const JSON_HEADERS = { "content-type": "application/json" };

const serve = command({
  name: "serve",
  summary: "Serve POST /score over HTTP with verl's custom-reward arguments.",
  usage: "golongrl reward serve [--port N] [--host ADDR] [--max-body-mb N] [--workers N]",
  description: "Single: {data_source, solution_str, ground_truth, extra_info} -> {score, ...}.\n" +
    "Batched: a JSON array, {batch: [...]}, or {data_sources, solution_strs, ground_truths, extra_infos}\n" +
    "-> {scores, results}. Requests must be Content-Type: application/json (415 otherwise).\n" +
    "Caps (work = words(response) x words(ground truth)): a request over --max-request-work is\n" +
    "refused with 413; an item over --max-item-work, or not scored within --time-budget-s, scores\n" +
    "0 with an error. Scoring runs in --workers worker threads, so /health stays fast.\n" +
    "See docs/verl-reward.md for a ready verl custom_reward_function.",
  flags: {
    port: {
      type: "integer",
      value: "N",
      default: 8077,
      min: 0,
      max: 65535,
      description: "Port (0: any free port).",
    },
    host: {
      type: "string",
      value: "ADDR",
      default: "127.0.0.1",
      description: "Address to listen on (on loopback, Host and Origin must be loopback too).",
    },
    "max-body-mb": {
      type: "number",
      value: "N",
      default: 64,
      min: 0.001,
      description: "Largest request body.",
    },
    workers: {
      type: "integer",
      value: "N",
      default: navigator.hardwareConcurrency || 1,
      min: 0,
      max: 256,
      description: "Scoring worker threads (default: one per core; 0: score in process).",
    },
    "time-budget-s": {
      type: "number",
      value: "S",
      default: DEFAULT_LIMITS.timeBudgetMs / 1000,
      min: 0.001,
      max: 86400,
      description: "Per-request time budget; items not scored in time score 0 with an error.",
    },
    "max-item-work": {
      type: "number",
      value: "W",
      default: DEFAULT_LIMITS.maxItemWork,
      min: 1,
      description: "Largest work of one item (more: score 0 with an error).",
    },
    "max-request-work": {
      type: "number",
      value: "W",
      default: DEFAULT_LIMITS.maxRequestWork,
      min: 1,
      description: "Largest total work of one request (more: 413).",
    },
    "max-connections": {
      type: "integer",
      value: "N",
      default: 1024,
      min: 1,
      description: "Open connections beyond this are answered 503 and closed.",
    },
    "header-timeout-s": {
      type: "number",
      value: "S",
      default: 10,
      min: 0.001,
      max: 3600,
      description: "A request head must arrive within this time (slow clients are cut off).",
    },
    "idle-timeout-s": {
      type: "number",
      value: "S",
      default: 30,
      min: 0.001,
      max: 86400,
      description: "Keep-alive connections idle this long are closed.",
    },
    "shutdown-timeout-s": {
      type: "number",
      value: "S",
      default: 10,
      min: 0,
      max: 3600,
      description: "On SIGINT/SIGTERM, wait this long for requests in flight, then exit.",
    },
    ...REWARD_FLAGS,
  },
  examples: [
    "golongrl reward serve --port 8077",
    "golongrl reward serve --host 0.0.0.0 --format none --workers 8",
  ],
  async run({ io, flags }) {
    const reward = await rewardOptions(flags);
    const pool = await ScorePool.start({
      workers: flags.workers,
      reward,
      zhSegmenter: flags["zh-segmenter"],
      log: io.err,
    });
    const host = flags.host;
    const maxBodyBytes = Math.round(flags["max-body-mb"] * 2 ** 20);
    const service = rewardService({
      maxBodyBytes,
      reward,
      pool,
      loopback: isLoopback(host),
      limits: {
        timeBudgetMs: flags["time-budget-s"] * 1000,
        maxItemWork: flags["max-item-work"],
        maxRequestWork: flags["max-request-work"],
      },
    });
    const server = serveHttp1({
      hostname: host,
      port: flags.port,
      maxConnections: flags["max-connections"],
      headerTimeoutMs: flags["header-timeout-s"] * 1000,
      idleTimeoutMs: flags["idle-timeout-s"] * 1000,
      // A body may take as long as the head's deadline per MB, at least the head's deadline.
      bodyTimeoutMs: flags["header-timeout-s"] * 1000 *
        Math.max(1, maxBodyBytes / 2 ** 20),
      maxHeaderBytes: 64 * 1024,
      maxBodyBytes,
      onListen: ({ hostname, port }) =>
        io.err(
          `golongrl reward serve: listening on http://${hostname}:${port}/score ` +
            `(${
              pool.mode === "workers" ? `${pool.size} scoring workers` : "scoring in process"
            })\n`,
        ),
    }, async (req) => {
      const r = await service({ ...req, body: () => Promise.resolve(req.body) });
      return { status: r.status, headers: JSON_HEADERS, body: JSON.stringify(r.json) };
    });
    const stop = async () => {
      const deadline = flags["shutdown-timeout-s"] * 1000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<boolean>((r) => timer = setTimeout(() => r(true), deadline));
      if (await Promise.race([server.shutdown().then(() => false), late])) {
        io.err(`golongrl reward serve: shutdown deadline of ${deadline / 1000} s; closing\n`);
        server.abort();
      }
      clearTimeout(timer);
      pool.close();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await server.finished;
    pool.close();
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  },
});

export const reward = command({
  name: "reward",
  summary: "Score responses with their samples' verifiers; or serve them over HTTP.",
  usage: "golongrl reward --data SAMPLES.jsonl --responses RESPONSES.jsonl [--out SCORES.jsonl]",
  description:
    "Joins responses to samples by id and writes one {id, sample, task, task_key, verifier, reward,\n" +
    "details} line per response (to --out, atomically, or stdout), then a per-task table (n, mean,\n" +
    "zeros, errors) on stderr. Samples use the verl/GoLongRL schema (data_source,\n" +
    "reward_model.ground_truth, extra_info); responses are {id, response} lines.",
  flags: {
    data: { type: "string", value: "FILE", description: "Samples (JSONL)." },
    responses: { type: "string", value: "FILE", description: "Responses (JSONL): {id, response}." },
    out: { type: "string", value: "FILE", description: "Scores (JSONL); stdout when absent." },
    ...REWARD_FLAGS,
  },
  examples: [
    "golongrl reward --data samples.jsonl --responses rollouts.jsonl --out scores.jsonl",
    "golongrl reward serve --port 8077",
  ],
  subcommands: [serve],
  async run({ io, flags }) {
    requireFlags("golongrl reward", flags, ["data", "responses"]);
    const opts = await rewardOptions(flags);
    const samples = await loadSampleRefs(flags.data);
    const progress = new Progress("reward", { unit: "responses", quiet: flags.quiet });
    const table = await JsonlWriter.with(
      flags.out,
      io.out,
      (out) =>
        scoreResponses(
          samples,
          flags.responses,
          opts,
          (s) => out.write(s),
          () => progress.tick(),
        ),
    );
    progress.finish();
    io.err(formatTaskTable(table));
    const errs = Object.entries(verifierErrors()).filter(([, n]) => n > 0);
    if (errs.length) io.err(`verifier errors: ${errs.map(([k, n]) => `${k} ${n}`).join(", ")}\n`);
  },
});
