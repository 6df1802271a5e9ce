/**
 * Streaming JSONL reading with errors that name the file and line. Lines are
 * read one at a time, so files larger than memory stream through.
 */
import { InputError } from "./errors.ts";

export interface JsonlLine {
  line: number;
  value: Record<string, unknown>;
}

/** Yields each non-blank line of `path` parsed as a JSON object. */
export async function* readJsonl(path: string): AsyncGenerator<JsonlLine> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let buf = "";
  let line = 0;
  const parse = (text: string): JsonlLine | undefined => {
    line++;
    if (text.trim() === "") return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new InputError(`invalid JSON: ${(e as Error).message}`, path, line);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new InputError("expected a JSON object", path, line);
    }
    return { line, value: value as Record<string, unknown> };
  };
  try {
    for await (const chunk of file.readable) {
      try {
        buf += decoder.decode(chunk, { stream: true });
      } catch {
        throw new InputError("not valid UTF-8 text (a binary file?)", path, line + 1);
      }
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const r = parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (r) yield r;
      }
    }
    const r = parse(buf + decoder.decode());
    if (r) yield r;
  } finally {
    try {
      file.close();
    } catch { /* already closed by the stream */ }
  }
}
