/**
 * The evaluation cache: one JSONL line per finished (benchmark, item, sample)
 * generation, keyed by a hash of the model, the exact prompt and the generation
 * parameters. Lines are appended one write at a time, so a killed run loses at
 * most the line being written (a truncated last line is ignored on reading) and
 * a resumed run neither repeats nor skips work.
 */
import { readFull, writeAll } from "../fsutil.ts";
import { readJsonlLines } from "../jsonl.ts";

export interface CacheEntry {
  key: string;
  benchmark: string;
  item: string;
  sample: number;
  prediction: string;
  reasoning?: string;
  finish_reason: string;
  /** Set when every retry failed; such entries are retried on the next run. */
  error?: string;
}

/** SHA-256 hex of a JSON-serialisable value (stable key order for plain objects). */
export async function hashKey(value: unknown): Promise<string> {
  const text = JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
  );
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class JsonlCache<T extends { key: string }> {
  readonly entries = new Map<string, T>();
  private file?: Deno.FsFile;
  private readonly enc = new TextEncoder();
  /** Lines skipped on load (a truncated last line from a killed run, or any line that is not a JSON object). */
  skippedLines = 0;

  constructor(readonly path: string) {}

  /** Loads existing entries (later lines win) and opens the file for appending. */
  async open(): Promise<this> {
    let size = 0;
    try {
      size = (await Deno.stat(this.path)).size;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (size > 0) {
      for await (const r of readJsonlLines(this.path)) {
        if ("error" in r) {
          this.skippedLines++;
          continue;
        }
        const v = r.value as T;
        if (typeof v.key === "string") this.entries.set(v.key, v);
      }
    }
    // A partial last line would glue onto the next append: end it first.
    this.file = await Deno.open(this.path, { append: true, create: true, write: true });
    if (size > 0 && !(await endsWithNewline(this.path, size))) await this.writeRaw("\n");
    return this;
  }

  private async writeRaw(s: string) {
    await writeAll(this.file!, this.enc.encode(s));
  }

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  private queue: Promise<void> = Promise.resolve();

  /** Appends one entry and records it; concurrent puts are written one after another. */
  put(entry: T): Promise<void> {
    this.entries.set(entry.key, entry);
    const line = JSON.stringify(entry) + "\n";
    // A failed write rejects this put only; the queue goes on for the next ones.
    const done = this.queue.then(() => this.writeRaw(line));
    this.queue = done.catch(() => {});
    return done;
  }

  close(): void {
    this.file?.close();
    this.file = undefined;
  }
}

async function endsWithNewline(path: string, size: number): Promise<boolean> {
  const f = await Deno.open(path);
  try {
    await f.seek(size - 1, Deno.SeekMode.Start);
    const last = new Uint8Array(1);
    return (await readFull(f, last)) === 1 && last[0] === 10;
  } finally {
    f.close();
  }
}
