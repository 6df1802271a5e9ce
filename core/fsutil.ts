/**
 * File helpers: the one atomic write (a temporary file in the same folder, renamed into place when
 * complete, so a killed run never leaves a half-written output) and the one full-write loop.
 */

/**
 * Opens a temporary file beside `path`, lets `fill` write it, closes it and renames it to `path`.
 * If `fill` throws, the temporary file is removed and the error goes on. Every output file of
 * golongrl is written through here (JSONL, parquet, safetensors, JSON).
 */
export async function withAtomicFile<T>(
  path: string,
  fill: (file: Deno.FsFile) => Promise<T>,
): Promise<T> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    const result = await fill(file);
    file.close();
    await Deno.rename(tmp, path);
    return result;
  } catch (e) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes `data` to `path` atomically (see {@link withAtomicFile}). */
export function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return withAtomicFile(path, (file) => writeAll(file, bytes));
}

/** Writes pretty JSON atomically, with a trailing newline. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Writes all of `bytes`: one `write` may take fewer bytes than it was given. */
export async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

/** {@link writeAll}, synchronously. */
export function writeAllSync(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/**
 * Reads into all of `buf` from the file's current position; returns the bytes read, fewer than
 * `buf.length` only at the end of the file.
 */
export async function readFull(
  r: { read(p: Uint8Array): Promise<number | null> },
  buf: Uint8Array,
): Promise<number> {
  let off = 0;
  while (off < buf.length) {
    const n = await r.read(buf.subarray(off));
    if (n === null) break;
    off += n;
  }
  return off;
}

/** Joins path segments with "/" (enough for our own output layout; avoids @std/path). */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/");
}
