/**
 * The evaluation runner: items from benchmarks, generations from a backend at
 * bounded concurrency, every result appended to the cache as it arrives (so a
 * killed run resumes without repeats or gaps), rule scores, judge verdicts
 * where the benchmark wants one (cached too), and the reports.
 */
import type { ChatBackend, ChatRequest } from "../core/chat/backend.ts";
import type { Benchmark, EvalItem, ScoreResult } from "./benchmarks/types.ts";
import { type CacheEntry, hashKey, JsonlCache } from "../core/chat/cache.ts";
import {
  aggregate,
  lengthPlotSvg,
  reportMarkdown,
  type Results,
  type ScoredSample,
  type ScoreError,
} from "./report.ts";
import { judgeAny } from "./judge.ts";
import { stripThinking, type ThinkStyle, type TruncTokenizer } from "./truncate.ts";
import { buildRequest } from "./request.ts";
import { samplingRecord } from "./sampling_record.ts";
import { Progress } from "../core/progress.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/fsutil.ts";
import { lengthLabel } from "../core/lengths.ts";

export interface GenerationParams {
  /** Overrides every benchmark's own budget (`meta.maxNewTokens`, else its sampling default). */
  maxTokens?: number;
  /** Overrides the benchmark's sampling temperature. */
  temperature?: number;
  /** Overrides the benchmark's nucleus mass. */
  topP?: number;
  /** false: never prefill a benchmark's answer prefix (RULER). */
  answerPrefix?: boolean;
  /** Samples per item (avg@k, pass@k). */
  samples: number;
  seed: number;
}

export interface RunOptions {
  benchmarks: Benchmark[];
  backend: ChatBackend;
  judge?: ChatBackend;
  out: string;
  gen: GenerationParams;
  /** Per-benchmark data paths (flag name → path). */
  dataPaths: Record<string, string>;
  limit?: number;
  /** Context lengths of generated suites (RULER), in tokens. */
  lengths?: number[];
  /** `lengths` as the user wrote them ("4k,16k"), for config.json; else their labels. */
  lengthsText?: string;
  /** Fits each prompt into this many tokens (eval/fit.ts); an item that cannot fit fails. */
  maxInputTokens?: number;
  /** Counts tokens for truncation and generated lengths (the model's tokenizer when local). */
  tokenizer?: TruncTokenizer;
  /** Score cached outputs again without generating anything. */
  rescore?: boolean;
  quiet?: boolean;
  onLog?: (s: string) => void;
}

interface JudgeEntry {
  key: string;
  correct: boolean;
  raw: string;
  error?: string;
}

interface Work {
  bench: Benchmark;
  item: EvalItem;
  sample: number;
  key: string;
  request: ChatRequest;
  /** Why the item was not sent (its prompt cannot fit). */
  unsendable?: string;
  /** The prompt was cut to fit --max-input-tokens. */
  truncated?: boolean;
}

/** A benchmark's score of one cached prediction; a metric that throws gives 0 and the error. */
function scoreSafely(
  bench: Benchmark,
  item: EvalItem,
  prediction: string,
): ScoreResult & { error?: string } {
  try {
    return bench.score(item, stripThinking(prediction, thinkStyle(bench.name)));
  } catch (e) {
    return { score: 0, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** How each benchmark's reference strips thinking before scoring. */
function thinkStyle(benchmark: string): ThinkStyle {
  return benchmark === "mrcr" ? "mrcr" : benchmark === "frames" ? "frames" : "last";
}

/** The run's settings as DIR/config.json records them: what was asked, before any defaults. */
export function evalConfig(o: RunOptions): Record<string, unknown> {
  const perBench = "per benchmark";
  return {
    bench: o.benchmarks.map((b) => b.name),
    model: o.backend.id,
    judge: o.judge?.id ?? null,
    limit: o.limit ?? null,
    max_input_tokens: o.maxInputTokens ?? null,
    samples: o.gen.samples,
    seed: o.gen.seed,
    temperature: o.gen.temperature ?? perBench,
    top_p: o.gen.topP ?? perBench,
    max_tokens: o.gen.maxTokens ?? perBench,
    answer_prefix: o.gen.answerPrefix !== false,
    lengths: o.lengthsText ?? o.lengths?.map(lengthLabel).join(","),
    data: o.dataPaths,
  };
}

/** Runs the benchmarks into `o.out`: config.json first, then the cache, results and reports. */
export async function runEval(
  o: RunOptions,
): Promise<{ results: Results; failures: number; generated: number }> {
  await Deno.mkdir(o.out, { recursive: true });
  await writeJsonAtomic(`${o.out}/config.json`, evalConfig(o));
  const cache = await new JsonlCache<CacheEntry>(`${o.out}/cache.jsonl`).open();
  const judgeCache = await new JsonlCache<JudgeEntry>(`${o.out}/judge_cache.jsonl`).open();
  try {
    return await run(o, cache, judgeCache);
  } finally {
    cache.close();
    judgeCache.close();
  }
}

async function run(
  o: RunOptions,
  cache: JsonlCache<CacheEntry>,
  judgeCache: JsonlCache<JudgeEntry>,
): Promise<{ results: Results; failures: number; generated: number }> {
  const log = o.onLog ?? (() => {});
  // 1. Items and their work units.
  const work: Work[] = [];
  for (const bench of o.benchmarks) {
    const before = work.length;
    const path = bench.dataFlag ? o.dataPaths[bench.dataFlag] : undefined;
    if (bench.dataFlag && !path) {
      throw new Error(`benchmark ${bench.name} needs its data: pass --data-${bench.dataFlag} PATH`);
    }
    for await (
      const item of bench.load({
        path,
        limit: o.limit,
        seed: o.gen.seed,
        lengths: o.lengths,
        tokenizer: o.tokenizer,
      })
    ) {
      const fit = o.maxInputTokens && o.tokenizer
        ? { tokenizer: o.tokenizer, maxInputTokens: o.maxInputTokens }
        : undefined;
      const built = buildRequest(bench, item, o.gen, o.gen.seed, fit);
      for (let s = 0; s < o.gen.samples; s++) {
        const request: ChatRequest = built.ok
          ? { ...built.request, seed: o.gen.seed + s }
          : { messages: [], maxTokens: 0, temperature: 0, topP: 1 };
        const key = await hashKey({
          model: o.backend.id,
          benchmark: bench.name,
          item: item.id,
          request,
          sample: s,
        });
        work.push({
          bench,
          item,
          sample: s,
          key,
          request,
          unsendable: built.ok ? undefined : built.error,
          truncated: built.ok && built.truncated,
        });
      }
    }
    // An empty data file would otherwise report "average 0.0" and exit 0, like a real score.
    if (work.length === before) {
      throw new Error(`benchmark ${bench.name}: no items` + (path ? ` in ${path}` : ""));
    }
  }
  // 2. Generate what the cache lacks (or retry earlier failures), at bounded concurrency.
  const todo = o.rescore ? [] : work.filter((w) => {
    if (w.unsendable) return false;
    const c = cache.get(w.key);
    return !c || c.error !== undefined;
  });
  if (!o.rescore && todo.length < work.length) {
    log(`resuming: ${work.length - todo.length} of ${work.length} generations cached\n`);
  }
  const progress = new Progress("eval", {
    unit: "generations",
    total: todo.length,
    quiet: o.quiet,
  });
  let next = 0, generated = 0;
  const worker = async () => {
    while (next < todo.length) {
      const w = todo[next++];
      const base = { key: w.key, benchmark: w.bench.name, item: w.item.id, sample: w.sample };
      try {
        const [r] = await o.backend.complete(w.request);
        await cache.put({
          ...base,
          prediction: r.text,
          reasoning: r.reasoning,
          finish_reason: r.finishReason,
        });
        generated++;
      } catch (e) {
        await cache.put({
          ...base,
          prediction: "",
          finish_reason: "error",
          error: (e as Error).message,
        });
      }
      progress.tick();
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(o.backend.concurrency, todo.length)) }, worker),
  );
  progress.finish();
  // 3. Score (judge where needed), in work order.
  const scored: ScoredSample[] = [];
  const failures: { benchmark: string; item: string; reason?: string }[] = [];
  const scoreErrors: ScoreError[] = [];
  const judged: {
    w: Work;
    rule: number;
    ask: { question: string; references: string[]; prediction: string };
  }[] = [];
  const pending: Promise<void>[] = [];
  for (const w of work) {
    const c = w.unsendable ? undefined : cache.get(w.key);
    if (!c || c.error !== undefined) {
      failures.push({
        benchmark: w.bench.name,
        item: w.item.id,
        reason: w.unsendable ?? c?.error ?? "not generated",
      });
      continue;
    }
    const r = scoreSafely(w.bench, w.item, c.prediction);
    if (r.error !== undefined) {
      // A metric that throws on a hostile answer scores that item 0 and is recorded; the run
      // goes on (the cached prediction stays, so a fixed metric can --rescore it).
      log(`scoring error: ${w.bench.name} ${w.item.id}#${w.sample}: ${r.error}\n`);
      scoreErrors.push({ benchmark: w.bench.name, item: w.item.id, error: r.error });
    }
    if (r.needsJudge && o.judge) {
      // Several references (LongBench v1): the reference takes the best verdict over them.
      const many = (r.details?.judgeRequests as { reference: string }[] | undefined)?.map((x) =>
        x.reference
      );
      judged.push({
        w,
        rule: r.score,
        ask: {
          question: r.needsJudge.question,
          prediction: r.needsJudge.prediction,
          references: many?.length ? many : [r.needsJudge.reference],
        },
      });
    } else {
      scored.push({
        benchmark: w.bench.name,
        item: w.item.id,
        sample: w.sample,
        subset: w.item.subset,
        lengthBucket: w.item.lengthBucket,
        contextTokens: w.item.contextTokensHint,
        score: w.bench.combine ? w.bench.combine(r, undefined) : r.score,
      });
    }
  }
  if (o.rescore) {
    // What --rescore could not score: no usable cached generation, or a metric that threw.
    const missing = failures.length;
    log(
      `rescore: ${work.length - missing - scoreErrors.length} of ${work.length} cached entries ` +
        `scored; ${missing} missing or failed generations, ${scoreErrors.length} scoring errors` +
        (missing ? ` (${failures.slice(0, 5).map((f) => f.item).join(", ")})` : "") + "\n",
    );
  }
  // Judge calls at the judge's concurrency, cached by (judge, item, prediction).
  let jn = 0;
  const judgeScores = new Map<Work, number>();
  const jworker = async () => {
    while (jn < judged.length) {
      const j = judged[jn++];
      const key = await hashKey({ judge: o.judge!.id, benchmark: j.w.bench.name, ...j.ask });
      let v = judgeCache.get(key);
      if (!v || v.error) {
        try {
          const res = await judgeAny(o.judge!, { ...j.ask, benchmark: j.w.bench.name });
          v = { key, correct: res.correct, raw: res.raw };
        } catch (e) {
          v = { key, correct: false, raw: "", error: (e as Error).message };
        }
        await judgeCache.put(v);
      }
      judgeScores.set(
        j.w,
        v.error
          ? NaN
          : (j.w.bench.combine
            ? j.w.bench.combine({ score: j.rule }, v.correct)
            : (v.correct ? 1 : 0)),
      );
    }
  };
  pending.push(
    ...Array.from(
      { length: Math.max(1, Math.min(o.judge?.concurrency ?? 1, judged.length)) },
      jworker,
    ),
  );
  await Promise.all(pending);
  for (const j of judged) {
    const s = judgeScores.get(j.w)!;
    if (Number.isNaN(s)) {
      failures.push({ benchmark: j.w.bench.name, item: j.w.item.id, reason: "judge failed" });
    } else {
      scored.push({
        benchmark: j.w.bench.name,
        item: j.w.item.id,
        sample: j.w.sample,
        subset: j.w.item.subset,
        lengthBucket: j.w.item.lengthBucket,
        contextTokens: j.w.item.contextTokensHint,
        score: s,
      });
    }
  }
  // 4. Reports (deterministic order: results do not depend on completion order).
  scored.sort((a, b) =>
    a.benchmark.localeCompare(b.benchmark) || a.item.localeCompare(b.item) || a.sample - b.sample
  );
  const primary = Object.fromEntries(o.benchmarks.map((b) => [b.name, b.primaryMetric]));
  const results = aggregate(
    o.backend.name,
    scored,
    failures,
    primary,
    samplingRecord(o.benchmarks, work, o.gen, o.maxInputTokens),
    scoreErrors,
  );
  await writeJsonAtomic(`${o.out}/results.json`, results);
  await writeFileAtomic(`${o.out}/report.md`, reportMarkdown(results));
  await writeFileAtomic(`${o.out}/score_vs_length.svg`, lengthPlotSvg(scored));
  return { results, failures: failures.length, generated };
}
