/**
 * JSONL output: to a file through a temporary name renamed on success (a failed
 * or killed run leaves no partial file), or to stdout when no path is given.
 */
import { withAtomicFile, writeAll } from "./fsutil.ts";

export class JsonlWriter {
  private pending: string[] = [];
  private readonly enc = new TextEncoder();

  private constructor(
    private readonly file: Deno.FsFile | undefined,
    private readonly stdout: (s: string) => void,
  ) {}

  /**
   * Opens `path` (or stdout), lets `fill` write, and commits; if `fill` throws, the
   * temporary file is removed and the error goes on. The one way commands write JSONL.
   */
  static async with<T>(
    path: string | undefined,
    stdout: (s: string) => void,
    fill: (w: JsonlWriter) => Promise<T>,
  ): Promise<T> {
    const run = async (file: Deno.FsFile | undefined) => {
      const w = new JsonlWriter(file, stdout);
      const r = await fill(w);
      await w.flush();
      return r;
    };
    return path ? await withAtomicFile(path, run) : await run(undefined);
  }

  /** Queues one record; written in blocks. */
  write(record: unknown): Promise<void> {
    return this.writeLine(JSON.stringify(record));
  }

  /** Queues one line of JSON text already serialised (without its newline). */
  async writeLine(json: string): Promise<void> {
    this.pending.push(json + "\n");
    if (this.pending.length >= 256) await this.flush();
  }

  private async flush(): Promise<void> {
    const text = this.pending.join("");
    this.pending = [];
    if (!this.file) return this.stdout(text);
    await writeAll(this.file, this.enc.encode(text));
  }
}
