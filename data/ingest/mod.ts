/**
 * P1 of `golongrl data build`: streaming ingestion of real documents. Given
 * files and folders, {@link ingestPaths} walks folders recursively in sorted
 * order (so runs are deterministic), picks a reader by extension and content
 * sniffing, and yields a {@link Document} per document or a {@link Skipped}
 * saying why something could not be used. Nothing a single bad file or line
 * contains stops the run: invalid XML, a truncated JSONL line, a binary file
 * named .txt all become Skipped records naming the file (and line).
 *
 * Readers: `.txt` (Gutenberg books, bAbI), `.md`, `.xml`/`.nxml` (JATS),
 * `.jsonl`/`.ndjson` (QMSum, NQ-Open, LongBench v1/v2, text records such as
 * the State of the Union speeches; sniffed from the first record), `.json`
 * (SGD dialogue files, or an array of such records).
 */
import type { Document, Skipped } from "../../tasks/generators/types.ts";
import { InputError } from "../../core/errors.ts";
import { readJsonlLines } from "../../core/jsonl.ts";
import type { Progress } from "../../core/progress.ts";
import { detectLanguage } from "../lang.ts";
import { decodeTextBytes, readTextFile, skip } from "./common.ts";
import { isBabi, parseBabi } from "./babi.ts";
import { isSgd, qmsumToDocument, sgdToDocument } from "./dialogue.ts";
import { jatsToDocument } from "./jats.ts";
import { parseMarkdown } from "./markdown.ts";
import {
  longbenchToDocument,
  nqToDocuments,
  type RecordFormat,
  sniffRecord,
  textRecordToDocument,
} from "./records.ts";
import { parsePlainText } from "./text.ts";
import { parseXml, XmlError } from "./xml.ts";

export { isSkipped } from "./common.ts";

/** What to keep, and where to report progress. */
export interface IngestOptions {
  /** Documents with fewer characters of text are skipped. */
  minChars?: number;
  /** Documents with more characters of text are skipped. */
  maxChars?: number;
  /** Language codes to keep (see data/lang.ts); others are skipped. */
  languages?: string[];
  /**
   * File names inside walked folders that are not documents (licences,
   * manifests, readmes). Files named explicitly are always read.
   */
  skipNames?: RegExp;
  /** Ticked once per document or skip. */
  progress?: Progress;
  /** Filled in as ingestion runs: files read, bytes, documents, skips. */
  stats?: IngestStats;
}

/** Counters for a run (for reports and throughput). */
export interface IngestStats {
  files: number;
  bytes: number;
  documents: number;
  skipped: number;
}

/** A fresh, zeroed {@link IngestStats}. */
export function newStats(): IngestStats {
  return { files: 0, bytes: 0, documents: 0, skipped: 0 };
}

const DEFAULT_SKIP_NAMES = /^(LICEN[CS]E|COPYING|NOTICE|README|MANIFEST|CHANGELOG)([._-].*)?$/i;

/** Extensions with a reader. */
const KNOWN = new Set(["txt", "md", "markdown", "xml", "nxml", "jsonl", "ndjson", "json"]);

function ext(path: string): string {
  const base = path.split("/").pop() ?? "";
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

/**
 * The files under `paths` in a deterministic order: each argument in the
 * order given, folders walked recursively with entries sorted by name,
 * hidden entries skipped, duplicates dropped. Throws InputError for a path
 * that does not exist.
 */
export async function listFiles(
  paths: string[],
  skipNames = DEFAULT_SKIP_NAMES,
): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const root of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(root);
    } catch (e) {
      throw new InputError(`cannot read: ${(e as Error).message}`, root);
    }
    if (!info.isDirectory) {
      add(root);
      continue;
    }
    // An explicit stack, not recursion: folder depth is whatever the disk holds.
    const stack = [root.replace(/\/+$/, "")];
    const walked = new Set<string>();
    while (stack.length) {
      const dir = stack.pop()!;
      // A symlink loop (or two links to one folder) is walked once.
      const real = await Deno.realPath(dir).catch(() => dir);
      if (walked.has(real)) continue;
      walked.add(real);
      const entries: Deno.DirEntry[] = [];
      for await (const e of Deno.readDir(dir)) if (!e.name.startsWith(".")) entries.push(e);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: string[] = [];
      for (const e of entries) {
        const p = `${dir}/${e.name}`;
        let isDir = e.isDirectory;
        if (e.isSymlink) {
          // Followed: a folder of links is a folder of documents. A dangling link is listed,
          // and ingestFile reports it.
          isDir = (await Deno.stat(p).catch(() => undefined))?.isDirectory ?? false;
        }
        // Everything else is listed too (FIFOs, sockets, devices): ingestFile reports what it
        // cannot read instead of the walk dropping it silently.
        if (isDir) subdirs.push(p);
        else if (!skipNames.test(e.name)) add(p);
      }
      // Files of a folder come before its subfolders, subfolders in name order.
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
    }
  }
  return out;
}

/** Documents and skips from one JSONL file, the reader chosen by its first good record. */
async function* ingestJsonl(path: string): AsyncGenerator<Document | Skipped> {
  let format: RecordFormat | undefined;
  let index = 0;
  const seen = new Set<string>();
  for await (const l of readJsonlLines(path)) {
    if ("error" in l) {
      yield skip(`${path}:${l.line}`, l.error.message);
      continue;
    }
    const r = l.value;
    if (!format) {
      format = sniffRecord(r);
      if (!format) {
        yield skip(
          path,
          `unrecognised JSONL records (fields: ${Object.keys(r).slice(0, 8).join(", ")})`,
        );
        return;
      }
    }
    const i = index++;
    switch (format) {
      case "qmsum":
        yield qmsumToDocument(r, path, l.line, i);
        break;
      case "nq":
        yield* nqToDocuments(r, path, l.line, i);
        break;
      case "longbench-v2":
      case "longbench-v1":
        yield longbenchToDocument(r, path, l.line, format === "longbench-v2");
        break;
      case "text":
        yield textRecordToDocument(r, path, l.line, seen);
        break;
    }
  }
}

/** Documents and skips from one file of any supported kind. */
async function* ingestFile(path: string, stats: IngestStats): AsyncGenerator<Document | Skipped> {
  const e = ext(path);
  if (!KNOWN.has(e)) {
    yield skip(path, `unsupported file type${e ? ` .${e}` : " (no extension)"}`);
    return;
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    yield skip(path, `cannot read: ${(err as Error).message} (a dangling link?)`);
    return;
  }
  if (!info.isFile) {
    // Reading a FIFO would block the build forever; a device is no document.
    yield skip(path, "not a regular file (a FIFO, socket or device)");
    return;
  }
  stats.files++;
  stats.bytes += info.size;
  if (e === "jsonl" || e === "ndjson") {
    try {
      yield* ingestJsonl(path);
    } catch (err) {
      yield skip(path, `cannot read: ${(err as Error).message}`);
    }
    return;
  }
  const r = await readTextFile(path);
  if ("error" in r) {
    yield skip(path, r.error);
    return;
  }
  const text = r.text;
  if (e === "txt") {
    if (isBabi(text)) yield* parseBabi(text, path);
    else if (!text.trim()) yield skip(path, "empty file");
    else yield parsePlainText(text, path);
  } else if (e === "md" || e === "markdown") {
    if (!text.trim()) yield skip(path, "empty file");
    else yield parseMarkdown(text, path);
  } else if (e === "xml" || e === "nxml") {
    let doc: Document | string;
    try {
      doc = jatsToDocument(parseXml(text), path);
    } catch (err) {
      if (!(err instanceof XmlError)) throw err;
      yield skip(path, `invalid XML: ${err.message}`);
      return;
    }
    yield typeof doc === "string" ? skip(path, doc) : doc;
  } else if (e === "json") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      yield skip(path, `invalid JSON: ${(err as Error).message}`);
      return;
    }
    if (isSgd(v)) {
      for (let i = 0; i < v.length; i++) yield sgdToDocument(v[i], path, i);
    } else yield skip(path, "unrecognised JSON (expected an SGD dialogues array)");
  }
}

/** Why `doc` fails the filters, or undefined when it passes. */
function filterReason(doc: Document, opts: IngestOptions): string | undefined {
  const n = doc.text.length;
  if (opts.minChars !== undefined && n < opts.minChars) {
    return `too short: ${n} chars < ${opts.minChars}`;
  }
  if (opts.maxChars !== undefined && n > opts.maxChars) {
    return `too long: ${n} chars > ${opts.maxChars}`;
  }
  if (opts.languages && !opts.languages.includes(doc.lang)) {
    return `language "${doc.lang}" not in ${opts.languages.join(",")}`;
  }
  return undefined;
}

/**
 * Ingests files and folders, yielding Documents (language detected, filters
 * applied) and Skipped records, in a deterministic order. Ids are unique
 * within a run: a clash gets a `~2`, `~3` suffix. Throws only for a path
 * argument that does not exist.
 */
export async function* ingestPaths(
  paths: string[],
  opts: IngestOptions = {},
): AsyncGenerator<Document | Skipped> {
  const stats = opts.stats ?? newStats();
  const ids = new Map<string, number>();
  for (const path of await listFiles(paths, opts.skipNames ?? DEFAULT_SKIP_NAMES)) {
    for await (const item of ingestFile(path, stats)) {
      opts.progress?.tick();
      if ("skipped" in item) {
        stats.skipped++;
        yield item;
        continue;
      }
      if (item.lang === "und") item.lang = detectLanguage(item.text);
      const why = filterReason(item, opts);
      if (why) {
        stats.skipped++;
        yield skip(item.source, `${item.id}: ${why}`);
        continue;
      }
      const n = (ids.get(item.id) ?? 0) + 1;
      ids.set(item.id, n);
      if (n > 1) item.id = `${item.id}~${n}`;
      stats.documents++;
      yield item;
    }
  }
}

/** Decodes a byte buffer the way ingestion does (exported for callers holding bytes). */
export { decodeTextBytes };
