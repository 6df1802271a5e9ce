/**
 * The evaluation cache: one JSONL line per finished (benchmark, item, sample)
 * generation, keyed by a hash of the model, the exact prompt and the generation
 * parameters. Lines are appended one write at a time, so a killed run loses at
 * most the line being written (a truncated last line is ignored on reading) and
 * a resumed run neither repeats nor skips work.
 */

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
  /** Lines skipped on load (a truncated last line from a killed run). */
  skippedLines = 0;

  constructor(readonly path: string) {}

  /** Loads existing entries (later lines win) and opens the file for appending. */
  async open(): Promise<this> {
    let text = "";
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const lines = text.split("\n");
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const v = JSON.parse(line) as T;
        if (typeof v.key === "string") this.entries.set(v.key, v);
      } catch {
        this.skippedLines++;
      }
    }
    // A partial last line would glue onto the next append: end it first.
    this.file = await Deno.open(this.path, { append: true, create: true, write: true });
    if (text.length > 0 && !text.endsWith("\n")) await this.writeRaw("\n");
    return this;
  }

  private async writeRaw(s: string) {
    const bytes = this.enc.encode(s);
    let off = 0;
    while (off < bytes.length) off += await this.file!.write(bytes.subarray(off));
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
