/**
 * The LLM track end to end (`golongrl data llm`, docs/llm-track.md): drafts from a chat model
 * (data/llm_track.ts), optionally saved as they are, then bucketed into samples by the
 * rule-based track's assembly (data/build.ts) and written as JSONL.
 */
import type { ChatBackend } from "../core/chat/backend.ts";
import { JsonlWriter } from "../core/jsonl_writer.ts";
import { readJsonl } from "../core/jsonl.ts";
import type { TaskType } from "../tasks/types.ts";
import type { Document, Draft } from "../tasks/generators/types.ts";
import type { TokenCounter } from "./assemble.ts";
import { bucketPhase } from "./build.ts";
import { generateLlmDrafts, type LlmTrackOptions, type LlmTrackResult } from "./llm_track.ts";
import { writeSamplesJsonl } from "./schema.ts";

export interface LlmDatasetOptions extends LlmTrackOptions {
  /** Length buckets in tokens. */
  lengths: number[];
  /** Samples per task and bucket (default: as many as the task with the most drafts has). */
  perTask?: number;
  count: TokenCounter;
  countPrompt?: TokenCounter;
  /** Where the accepted drafts go before bucketing, when set. */
  draftsOut?: string;
  /** Where the samples go (JSONL). */
  out: string;
  quiet?: boolean;
  /** Called when generation is over, before bucketing (to close a progress line). */
  onDraftsDone?: () => void;
}

export interface LlmDatasetResult extends LlmTrackResult {
  samples: number;
  /** Drafts that fit no bucket, by reason. */
  bucketSkips: Record<string, number>;
}

/** Reads the documents of a JSONL file (one {@link Document} a line). */
export async function readDocuments(path: string): Promise<Document[]> {
  const docs: Document[] = [];
  for await (const { value } of readJsonl(path)) docs.push(value as unknown as Document);
  return docs;
}

/** Generates, verifies, buckets and writes the LLM track's samples. */
export async function buildLlmDataset(
  docs: Document[],
  backend: ChatBackend,
  opts: LlmDatasetOptions,
  stdout: (s: string) => void,
): Promise<LlmDatasetResult> {
  const r = await generateLlmDrafts(docs, backend, opts);
  opts.onDraftsDone?.();
  if (opts.draftsOut) {
    await JsonlWriter.with(opts.draftsOut, stdout, async (w) => {
      for (const d of r.drafts) await w.write(d);
    });
  }
  const byTask = new Map<TaskType, Draft[]>();
  for (const d of r.drafts) byTask.set(d.task, [...(byTask.get(d.task) ?? []), d]);
  const most = Math.max(0, ...[...byTask.values()].map((l) => l.length));
  const report = { bucketSkips: {} as Record<string, number> };
  const samples = bucketPhase(byTask, docs, {
    lengths: opts.lengths,
    perTask: opts.perTask ?? most,
    seed: opts.seed,
    count: opts.count,
    countPrompt: opts.countPrompt,
    quiet: opts.quiet,
  }, report);
  await writeSamplesJsonl(opts.out, samples);
  return { ...r, samples: samples.length, bucketSkips: report.bucketSkips };
}
