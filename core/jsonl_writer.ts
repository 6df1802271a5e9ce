/**
 * JSONL output: to a file through a temporary name renamed on success (a failed
 * or killed run leaves no partial file), or to stdout when no path is given.
 */

export class JsonlWriter {
  private pending: string[] = [];
  private readonly enc = new TextEncoder();

  private constructor(
    private readonly file: Deno.FsFile | undefined,
    private readonly tmp: string | undefined,
    readonly path: string | undefined,
    private readonly stdout: (s: string) => void,
  ) {}

  /** Opens `path` (through a temporary name), or stdout when `path` is undefined. */
  static async open(path: string | undefined, stdout: (s: string) => void): Promise<JsonlWriter> {
    if (!path) return new JsonlWriter(undefined, undefined, undefined, stdout);
    const tmp = `${path}.tmp-${Deno.pid}`;
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    return new JsonlWriter(file, tmp, path, stdout);
  }

  /**
   * Opens `path` (or stdout), lets `fill` write, and commits; if `fill` throws, the
   * temporary file is removed and the error goes on. The one way commands write JSONL.
   */
  static async with<T>(
    path: string | undefined,
    stdout: (s: string) => void,
    fill: (w: JsonlWriter) => Promise<T>,
  ): Promise<T> {
    const w = await JsonlWriter.open(path, stdout);
    try {
      const r = await fill(w);
      await w.commit();
      return r;
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  /** Queues one record; written in blocks. */
  async write(record: unknown): Promise<void> {
    this.pending.push(JSON.stringify(record) + "\n");
    if (this.pending.length >= 256) await this.flush();
  }

  private async flush(): Promise<void> {
    const text = this.pending.join("");
    this.pending = [];
    if (!this.file) return this.stdout(text);
    const bytes = this.enc.encode(text);
    let off = 0;
    while (off < bytes.length) off += await this.file.write(bytes.subarray(off));
  }

  /** Flushes and moves the file into place. */
  async commit(): Promise<void> {
    await this.flush();
    if (this.file && this.tmp && this.path) {
      this.file.close();
      await Deno.rename(this.tmp, this.path);
    }
  }

  /** Discards the temporary file (after an error). */
  async abort(): Promise<void> {
    if (!this.file || !this.tmp) return;
    try {
      this.file.close();
    } catch { /* already closed */ }
    await Deno.remove(this.tmp).catch(() => {});
  }
}
