/**
 * Helpers shared by the benchmark loaders: stable ids, reading JSON / JSONL files or folders of
 * them, token counting (a tokenizer, else ~4 characters per token), think-stripping, template
 * filling with Python `str.format` / `str.replace` semantics, and length labels.
 *
 * @module
 */

import { removeThinking, truncateMiddleChars } from "../truncate.ts";
import { InputError } from "../../core/errors.ts";
import { pyStrip } from "../../metrics/pystr.ts";
import { readParquetRecords } from "../../core/parquet.ts";
import type { EvalItem, LoadOptions } from "./types.ts";

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
  /** 0-based position in its file (non-blank lines for JSONL, rows for parquet). */
  index: number;
}

/** `JSON.parse` reviver with the V8 source-text context (number literals keep their text). */
export type SourceReviver = (
  this: Record<string, unknown>,
  key: string,
  value: unknown,
  context?: { source?: string },
) => unknown;

/**
 * Where the literal text of each number of a record is kept: `container[NUMBER_SOURCE][key]`
 * (objects and arrays alike), so a scorer can print a value as Python would (`7700.0` for the
 * JSON literal `7700.0` or a parquet double, `7700` for an integer).
 */
export const NUMBER_SOURCE: unique symbol = Symbol("numberSource");

type WithSources = { [NUMBER_SOURCE]?: Record<string, string> };

/** The literal text of the number at `container[key]`, when it was read from a file. */
export function numberSource(container: object, key: string | number): string | undefined {
  return (container as WithSources)[NUMBER_SOURCE]?.[String(key)];
}

const keepNumberSource: SourceReviver = function (key, value, context) {
  if (typeof value === "number" && context?.source !== undefined) {
    const self = this as WithSources;
    (self[NUMBER_SOURCE] ??= {})[key] = context.source;
  }
  return value;
};

/** Data files and folders the loaders read. */
const DATA_EXTS = [".jsonl", ".json", ".parquet"] as const;
const MAX_DEPTH = 4;

async function listDataFiles(dir: string, exts: readonly string[], depth = 0): Promise<string[]> {
  const out: string[] = [];
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith(".")) continue;
    const p = `${dir}/${e.name}`;
    // HF hub snapshots are symlinks into the blob store: follow them.
    let kind: { isFile: boolean; isDirectory: boolean } = e;
    if (e.isSymlink) {
      try {
        kind = await Deno.stat(p);
      } catch {
        continue; // a dangling link
      }
    }
    if (kind.isFile && exts.some((x) => e.name.endsWith(x))) out.push(p);
    // Folders of shards (HF parquet layouts: `2needle/2needle_0.parquet`, `cfg/test-0000….parquet`).
    else if (kind.isDirectory && depth < MAX_DEPTH) {
      out.push(...await listDataFiles(p, exts, depth + 1));
    }
  }
  return out;
}

function parseJson(text: string, file: string, line: number | undefined, reviver?: SourceReviver) {
  const both: SourceReviver = function (key, value, context) {
    keepNumberSource.call(this, key, value, context);
    return reviver ? reviver.call(this, key, value, context) : value;
  };
  try {
    // deno-lint-ignore no-explicit-any -- the reviver's third argument is not in lib.d.ts yet
    return JSON.parse(text, both as any);
  } catch (e) {
    throw new InputError(`invalid JSON: ${(e as Error).message}`, file, line);
  }
}

/** The format of a data file: by its first bytes (parquet's "PAR1"), else by its extension. */
async function formatOf(file: string, hint?: string): Promise<"jsonl" | "json" | "parquet"> {
  const head = new Uint8Array(4);
  let n: number | null = 0;
  try {
    using f = await Deno.open(file);
    n = await f.read(head);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, file);
  }
  if (n === 4 && new TextDecoder().decode(head) === "PAR1") return "parquet";
  if (file.endsWith(".jsonl")) return "jsonl";
  if (file.endsWith(".json")) return "json";
  if (file.endsWith(".parquet")) {
    throw new InputError("not a parquet file (no PAR1 magic)", file);
  }
  const ext = /\.[^./\\]+$/.exec(file)?.[0] ?? "(none)";
  throw new InputError(
    `expected a .jsonl, .json or .parquet file or a folder of them, got a ${ext} file` +
      (hint ? ` (${hint})` : ""),
    file,
  );
}

/**
 * Reads records from a `.jsonl` file (one object a line), a `.json` file (an array of objects,
 * or an object holding one array under `data`), a `.parquet` file (core/parquet.ts, one
 * row group at a time), or a folder of such files and folders of shards (sorted by path).
 * Every number's literal text is kept under {@link NUMBER_SOURCE}. `hint` is added to the
 * error for a file of another type.
 */
export async function* readRecords(
  path: string,
  opts: { exts?: readonly string[]; reviver?: SourceReviver; hint?: string } = {},
): AsyncGenerator<SourcedRecord> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  const exts = opts.exts ?? DATA_EXTS;
  const files = stat.isDirectory ? await listDataFiles(path, exts) : [path];
  if (files.length === 0) {
    throw new InputError(
      `no ${exts.join("/")} files in this folder` + (opts.hint ? ` (${opts.hint})` : ""),
      path,
    );
  }
  for (const file of files) {
    const format = await formatOf(file, opts.hint);
    if (format === "parquet") {
      yield* parquetRecords(file);
      continue;
    }
    const text = (await Deno.readTextFile(file)).replace(/^\uFEFF/, "");
    if (format === "jsonl") {
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

/** Rows of a parquet file; doubles keep a float's text (Python prints `7700.0`). */
async function* parquetRecords(file: string): AsyncGenerator<SourcedRecord> {
  for await (const r of readParquetRecords(file)) {
    const rec = r.value as Record<string, unknown> & WithSources;
    markFloats(rec, r.doubles);
    yield { record: rec, file, index: r.row };
  }
}

function markFloats(rec: Record<string, unknown> & WithSources, doubles: ReadonlySet<string>) {
  for (const k of doubles) {
    const v = rec[k];
    if (typeof v === "number") (rec[NUMBER_SOURCE] ??= {})[k] = pyFloatRepr(v);
  }
}

/** Python `repr(float)`: shortest round-trip digits, `.0` on integers, `e+XX` outside 1e-4…1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expS] = x.toExponential().split("e");
  const exp = Number(expS);
  if (exp < -4 || exp >= 16) {
    return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const digits = mant.replace("-", "").replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (exp >= 0) {
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    return `${sign}${int}.${frac || "0"}`;
  }
  return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
}

/** Python `str()` of a number given its literal text (int stays int, any float prints as repr). */
function pyNumber(value: number, source?: string): string {
  const src = source ?? String(value);
  if (/^[-+]?\d+$/.test(src)) return BigInt(src.replace(/^\+/, "")).toString();
  if (/^(-?(nan|inf))$/.test(src)) return src;
  return pyFloatRepr(value);
}

/** Python `repr()` of a string: single quotes unless it holds ' and no ". */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === q) out += "\\" + q;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + q;
}

/**
 * Python `str()` of a value read by {@link readRecords} (`container[key]`): strings as they are,
 * numbers by their literal text (`7700.0`), True/False/None, lists and dicts as Python prints
 * them (`['a', 7700.0]`). Depth is bounded.
 */
export function pyStr(container: object, key: string | number, depth = 0): string {
  const v = (container as Record<string, unknown>)[key];
  if (typeof v === "string") return v;
  return pyReprOf(container, key, depth);
}

function pyReprOf(container: object, key: string | number, depth: number): string {
  const v = (container as Record<string, unknown>)[key];
  if (depth > 32) return "...";
  if (typeof v === "string") return pyStrRepr(v);
  if (typeof v === "number") {
    return pyNumber(v, (container as WithSources)[NUMBER_SOURCE]?.[String(key)]);
  }
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === null || v === undefined) return "None";
  if (Array.isArray(v)) return `[${v.map((_, i) => pyReprOf(v, i, depth + 1)).join(", ")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).map((k) => `${pyStrRepr(k)}: ${pyReprOf(o, k, depth + 1)}`).join(", ")
    }}`;
  }
  return String(v);
}

/** The file name without folders, extension and HF shard suffix ("complong_testmini"); for HF
 * parquet layouts (`<config>/<split>-00000-of-00001.parquet`, `<config>/<split>/0000.parquet`)
 * "<config>_<split>". */
export function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  const stem = (parts.pop() ?? "").replace(/\.(jsonl|json|parquet)$/, "")
    .replace(/-\d{5}-of-\d{5}$/, "");
  const SPLITS = /^(test|testmini|validation|dev|train)$/;
  if (/^\d+$/.test(stem) && parts.length >= 2 && SPLITS.test(parts[parts.length - 1])) {
    return `${parts[parts.length - 2]}_${parts[parts.length - 1]}`;
  }
  if (SPLITS.test(stem) && parts.length >= 1 && parts[parts.length - 1]) {
    return `${parts[parts.length - 1]}_${stem}`;
  }
  return stem;
}

/** A required string field, with an error naming the file and record. */
export function strField(r: SourcedRecord, key: string): string {
  const v = r.record[key];
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return pyStr(r.record, key);
  throw new InputError(`record ${r.index}: field "${key}" must be a string`, r.file);
}

/**
 * The loader of a benchmark read from record files: `--data-<flag>` is required, records are read
 * in order and each becomes one item (`toItem`, given the token counter of `opts.tokenizer`);
 * reading stops after `opts.limit` items.
 */
export async function* loadRecordItems(
  opts: LoadOptions,
  data: { flag: string; what: string; hint?: string },
  toItem: (r: SourcedRecord, count: TokenCounter) => EvalItem,
): AsyncGenerator<EvalItem> {
  const path = requirePath(opts.path, data.flag, data.what);
  const count = tokenCounter(opts.tokenizer);
  let n = 0;
  for await (const r of readRecords(path, { hint: data.hint })) {
    if (opts.limit !== undefined && n >= opts.limit) return;
    yield toItem(r, count);
    n++;
  }
}

/** Throws a clear error when a benchmark needs `--data-<flag>`. */
export function requirePath(path: string | undefined, flag: string, what: string): string {
  if (!path) {
    throw new InputError(`no data for ${flag}: pass --data-${flag} PATH (${what})`);
  }
  return path;
}
