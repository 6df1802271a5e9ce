/**
 * Streaming JSONL reading with errors that name the file and line. Lines are
 * split on bytes (0x0A never occurs inside a UTF-8 sequence) and parsed one at
 * a time, so files larger than memory stream through.
 */
import { InputError } from "./errors.ts";

export interface JsonlLine {
  line: number;
  value: Record<string, unknown>;
  /** The line as read (without a leading BOM), for callers that keep lines verbatim. */
  text: string;
}

export interface JsonlReadOptions {
  /** A missing file reads as empty instead of throwing (logs that a run has not yet written). */
  missingOk?: boolean;
}

/** One line: the parsed object, or why it is not one. */
export type JsonlResult = JsonlLine | { line: number; error: InputError };

/**
 * Yields every non-blank line, a bad one (invalid JSON, not an object, invalid
 * UTF-8) as an error, and goes on reading: one truncated line does not lose the
 * rest of the file. A missing file throws, unless `missingOk`.
 */
export async function* readJsonlLines(
  path: string,
  opts: JsonlReadOptions = {},
): AsyncGenerator<JsonlResult> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (opts.missingOk && e instanceof Deno.errors.NotFound) return;
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  // Opening a directory succeeds on Linux; reading it fails with a message that names no path.
  if ((await file.stat().catch(() => undefined))?.isDirectory) {
    file.close();
    throw new InputError("is a directory; expected a JSONL file", path);
  }
  const dec = new TextDecoder("utf-8", { fatal: true });
  let line = 0;
  const parse = (bytes: Uint8Array): JsonlResult | undefined => {
    line++;
    let text: string;
    try {
      text = dec.decode(bytes);
    } catch {
      return { line, error: new InputError("not valid UTF-8 text (a binary file?)", path, line) };
    }
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === "") return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { line, error: new InputError(`invalid JSON: ${(e as Error).message}`, path, line) };
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { line, error: new InputError("expected a JSON object", path, line) };
    }
    return { line, value: value as Record<string, unknown>, text };
  };
  let buf = new Uint8Array(0);
  const chunks = async function* () {
    try {
      for await (const chunk of file.readable) yield chunk;
    } catch (e) {
      throw new InputError(`cannot read: ${(e as Error).message}`, path, line || undefined);
    }
  };
  try {
    for await (const chunk of chunks()) {
      const merged = new Uint8Array(buf.length + chunk.length);
      merged.set(buf);
      merged.set(chunk, buf.length);
      let from = 0;
      for (let nl = merged.indexOf(10, from); nl >= 0; nl = merged.indexOf(10, from)) {
        const r = parse(merged.subarray(from, nl));
        from = nl + 1;
        if (r) yield r;
      }
      buf = merged.slice(from);
    }
    if (buf.length) {
      const r = parse(buf);
      if (r) yield r;
    }
  } finally {
    try {
      file.close();
    } catch { /* already closed by the stream */ }
  }
}

/** Yields each non-blank line as a JSON object; the first bad line throws its InputError. */
export async function* readJsonl(
  path: string,
  opts: JsonlReadOptions = {},
): AsyncGenerator<JsonlLine> {
  for await (const r of readJsonlLines(path, opts)) {
    if ("error" in r) throw r.error;
    yield r;
  }
}

/**
 * The objects of a log that may be torn or not yet written: a missing file is empty, and bad
 * lines (a torn last line from a kill) are skipped.
 */
export async function readJsonlTolerant(path: string): Promise<JsonlLine[]> {
  const out: JsonlLine[] = [];
  for await (const r of readJsonlLines(path, { missingOk: true })) if (!("error" in r)) out.push(r);
  return out;
}
