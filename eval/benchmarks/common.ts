/**
 * Helpers shared by the benchmark loaders: stable ids, reading JSON / JSONL files or folders of
 * them, token counting (a tokenizer, else ~4 characters per token), think-stripping, template
 * filling with Python `str.format` / `str.replace` semantics, and length labels.
 *
 * @module
 */

import { removeThinking, truncateMiddleChars } from "../truncate.ts";
import { InputError } from "../../core/errors.ts";
import { pyStrip } from "../metrics/pystr.ts";

/** FNV-1a (64-bit) of a string's UTF-8 bytes, as 16 hex digits: short stable ids for records without one. */
export function stableHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  const p = 0x100000001b3n;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * p) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/** A 32-bit seed derived from any parts (for per-item random streams that do not depend on order). */
export function seedFrom(...parts: (string | number)[]): number {
  const hex = stableHash(parts.join("\u241f"));
  return Number.parseInt(hex.slice(0, 8), 16) >>> 0;
}

/** Counts tokens: the tokenizer's `encode` length, else `ceil(chars / 4)` (UTF-16 units). */
export type TokenCounter = (text: string) => number;

/** The token counter for an optional tokenizer (see {@link TokenCounter}). */
export function tokenCounter(tokenizer?: { encode(t: string): number[] }): TokenCounter {
  if (tokenizer) return (t) => tokenizer.encode(t).length;
  return (t) => Math.ceil(t.length / 4);
}

/** Tokens of every message's content together (no chat template). */
export function messagesTokens(
  messages: readonly { content: string }[],
  count: TokenCounter,
): number {
  let n = 0;
  for (const m of messages) n += count(m.content);
  return n;
}

/**
 * Thinking removal of GoLongRL's scorers (`strip_thinking` in mrcr_eval.py, `strip_think` in
 * score_frame.py): drop every `<think>…</think>` block, then keep what follows the last
 * remaining `</think>` (vLLM drops the opening tag), then Python-strip.
 */
export function stripThink(text: string): string {
  return pyStrip(removeThinking(text, "frames"));
}

/** "1k", "4k", "128k", "1m" for powers-of-two-ish token counts; the number itself otherwise. */
export function lengthLabel(tokens: number): string {
  if (tokens >= 1 << 20 && tokens % (1 << 20) === 0) return `${tokens / (1 << 20)}m`;
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}k`;
  return String(tokens);
}

/**
 * Python `template.format(**vars)` for plain `{name}` fields: one pass over the template, so
 * braces inside substituted values are left alone. Unknown fields stay as written.
 */
export function formatTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/**
 * A chain of Python `str.replace(old, new)` calls, in order (LongBench v2's `$DOC$`, `$Q$`, …):
 * every occurrence, and `$` in the new text is literal.
 */
export function replaceChain(template: string, pairs: readonly [string, string][]): string {
  let out = template;
  for (const [from, to] of pairs) out = out.split(from).join(to);
  return out;
}

/**
 * GoLongRL's `middle_truncate` (lbv1qa_eval.py): keep the first and last `max/2` characters
 * (code points) with "\n...[truncated]...\n" between them.
 */
export function middleTruncateChars(text: string, maxChars: number): string {
  return truncateMiddleChars(text, maxChars);
}

/** A record read from a data file, with where it came from. */
export interface SourcedRecord {
  record: Record<string, unknown>;
  file: string;
  /** 0-based position in its file (non-blank lines for JSONL). */
  index: number;
}

/** `JSON.parse` reviver with the V8 source-text context (number literals keep their text). */
export type SourceReviver = (
  this: Record<string, unknown>,
  key: string,
  value: unknown,
  context?: { source?: string },
) => unknown;

async function listDataFiles(dir: string, exts: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && exts.some((x) => e.name.endsWith(x))) out.push(`${dir}/${e.name}`);
  }
  return out.sort();
}

function parseJson(text: string, file: string, line: number | undefined, reviver?: SourceReviver) {
  try {
    // deno-lint-ignore no-explicit-any -- the reviver's third argument is not in lib.d.ts yet
    return JSON.parse(text, reviver as any);
  } catch (e) {
    throw new InputError(`invalid JSON: ${(e as Error).message}`, file, line);
  }
}

/**
 * Reads records from a `.jsonl` file (one object a line), a `.json` file (an array of objects,
 * or an object holding one array under `data`), or a folder of such files (sorted by name).
 */
export async function* readRecords(
  path: string,
  opts: { exts?: readonly string[]; reviver?: SourceReviver } = {},
): AsyncGenerator<SourcedRecord> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  const files = stat.isDirectory
    ? await listDataFiles(path, opts.exts ?? [".jsonl", ".json"])
    : [path];
  if (files.length === 0) throw new InputError("no .json/.jsonl files in this folder", path);
  for (const file of files) {
    const text = (await Deno.readTextFile(file)).replace(/^\uFEFF/, "");
    if (file.endsWith(".jsonl")) {
      let index = 0;
      const lines = text.split("\n");
      for (let ln = 0; ln < lines.length; ln++) {
        if (lines[ln].trim() === "") continue;
        const v = parseJson(lines[ln], file, ln + 1, opts.reviver);
        if (v === null || typeof v !== "object" || Array.isArray(v)) {
          throw new InputError("expected a JSON object", file, ln + 1);
        }
        yield { record: v, file, index: index++ };
      }
    } else {
      const v = parseJson(text, file, undefined, opts.reviver);
      const arr = Array.isArray(v) ? v : (v && Array.isArray(v.data) ? v.data : undefined);
      if (!arr) throw new InputError("expected a JSON array of records", file);
      for (let i = 0; i < arr.length; i++) {
        if (arr[i] === null || typeof arr[i] !== "object" || Array.isArray(arr[i])) {
          throw new InputError(`record ${i} is not a JSON object`, file);
        }
        yield { record: arr[i], file, index: i };
      }
    }
  }
}

/** The file name without folders and extension ("…/complong_testmini.jsonl" → "complong_testmini"). */
export function baseName(file: string): string {
  return file.replace(/^.*[\\/]/, "").replace(/\.(jsonl|json)$/, "");
}

/** A required string field, with an error naming the file and record. */
export function strField(r: SourcedRecord, key: string): string {
  const v = r.record[key];
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new InputError(`record ${r.index}: field "${key}" must be a string`, r.file);
}

/** Throws a clear error when a benchmark needs `--data-<flag>`. */
export function requirePath(path: string | undefined, flag: string, what: string): string {
  if (!path) {
    throw new InputError(`no data for ${flag}: pass --data-${flag} PATH (${what})`);
  }
  return path;
}
