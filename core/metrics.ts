/**
 * A JSONL metrics log: one JSON object per line, each with a wall-clock time,
 * appended and flushed line by line so that a killed run keeps what it logged.
 */

export type Metrics = Record<string, number | string | boolean | null>;

export class MetricsWriter {
  private file: Deno.FsFile;
  private readonly enc = new TextEncoder();

  private constructor(file: Deno.FsFile, readonly path: string) {
    this.file = file;
  }

  /** Opens `path` for appending (created if missing). */
  static async open(path: string): Promise<MetricsWriter> {
    const f = await Deno.open(path, { append: true, create: true, write: true });
    return new MetricsWriter(f, path);
  }

  /** Appends one record; non-finite numbers become null so the line stays valid JSON. */
  async write(record: Metrics): Promise<void> {
    const clean: Metrics = { time: new Date().toISOString() };
    for (const [k, v] of Object.entries(record)) {
      clean[k] = typeof v === "number" && !Number.isFinite(v) ? null : v;
    }
    const bytes = this.enc.encode(JSON.stringify(clean) + "\n");
    let off = 0;
    while (off < bytes.length) off += await this.file.write(bytes.subarray(off));
  }

  close(): void {
    this.file.close();
  }
}

/** Reads a metrics log back; a truncated last line (a killed writer) is skipped. */
export async function readMetrics(path: string): Promise<Metrics[]> {
  const text = await Deno.readTextFile(path);
  const out: Metrics[] = [];
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      if (i === lines.length - 1) break; // partial final line from a killed run
      throw new Error(`${path}, line ${i + 1}: invalid JSON: ${(e as Error).message}`);
    }
  }
  return out;
}
