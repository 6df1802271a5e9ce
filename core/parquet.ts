/**
 * Streaming parquet reading and writing of plain records, with real nested types.
 *
 * hyparquet-writer writes nested LIST/STRUCT columns when given an explicit schema (its Dremel
 * encoder walks the schema tree); the small schema language below describes such columns. Lists
 * use the standard 3-level layout (`<name> (LIST) → repeated group list → element`); every field
 * is OPTIONAL, as pyarrow writes them.
 *
 * Reading is streaming: one row group at a time, through positioned reads of the file. Writing
 * is streaming: row groups of at most 1,000 rows or ~64 MB of text, written to a temporary file
 * renamed into place when complete. The sample layouts (verl, GoLongRL) are in data/parquet.ts.
 *
 * @module
 */
import { ByteWriter, ParquetWriter, type SchemaElement } from "hyparquet-writer";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { InputError } from "./errors.ts";
import { readFull, withAtomicFile, writeAllSync } from "./fsutil.ts";

// ==================== A small schema language ====================

/** A parquet column type: a primitive, a list of a type, or a struct of named fields. */
export type PqType =
  | "string"
  | "int64"
  | "double"
  | "bool"
  | { list: PqType }
  | { struct: readonly (readonly [string, PqType])[] };

/** A top-level column. */
export interface PqColumn {
  name: string;
  type: PqType;
}

function elements(name: string, t: PqType): SchemaElement[] {
  const opt = "OPTIONAL" as const;
  if (t === "string") {
    return [{ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: opt }];
  }
  if (t === "int64") return [{ name, type: "INT64", repetition_type: opt }];
  if (t === "double") return [{ name, type: "DOUBLE", repetition_type: opt }];
  if (t === "bool") return [{ name, type: "BOOLEAN", repetition_type: opt }];
  if ("list" in t) {
    return [
      { name, repetition_type: opt, converted_type: "LIST", num_children: 1 },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      ...elements("element", t.list),
    ];
  }
  return [
    { name, repetition_type: opt, num_children: t.struct.length },
    ...t.struct.flatMap(([n, c]) => elements(n, c)),
  ];
}

/** The flattened parquet schema (root first) of `columns`. */
export function parquetSchemaOf(columns: readonly PqColumn[]): SchemaElement[] {
  return [
    { name: "root", num_children: columns.length },
    ...columns.flatMap((c) => elements(c.name, c.type)),
  ];
}

// ==================== Streaming file I/O ====================

/** A hyparquet-writer Writer that spills to an open file every ~1 MB. */
class FileByteWriter extends ByteWriter {
  constructor(private file: Deno.FsFile) {
    super(1 << 20);
  }
  private spill(): void {
    writeAllSync(this.file, new Uint8Array(this.buffer, 0, this.index));
    this.index = 0;
  }
  override ensure(size: number): void {
    if (this.index > 1 << 20) this.spill();
    if (this.index + size > this.buffer.byteLength) {
      const next = new ArrayBuffer(Math.max(this.buffer.byteLength * 2, this.index + size));
      new Uint8Array(next).set(new Uint8Array(this.buffer, 0, this.index));
      this.buffer = next;
      this.view = new DataView(next);
    }
  }
  flush(): void {
    this.spill();
  }
  override finish(): void {
    this.spill();
  }
}

/** A value in the form the writer's plain encoder wants: INT64 leaves as bigint. */
function forWriter(v: unknown, t: PqType): unknown {
  if (v === null || v === undefined) return null;
  if (t === "int64") return typeof v === "number" ? BigInt(v) : v;
  if (typeof t === "string") return v;
  if ("list" in t) return Array.isArray(v) ? v.map((x) => forWriter(x, t.list)) : v;
  if (typeof v !== "object" || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, ct] of t.struct) out[name] = forWriter(o[name], ct);
  return out;
}

/** Options of {@link writeRecordsParquet}. */
export interface WriteParquetOptions {
  /** Rows per row group at most (default 1000). */
  rowGroupRows?: number;
  /** Approximate characters of text per row group at most (default 64M). */
  rowGroupChars?: number;
  /** Extra file key-value metadata. */
  kvMetadata?: { key: string; value: string }[];
}

function approxChars(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (Array.isArray(v)) return v.reduce((a: number, x) => a + approxChars(x), 8);
  if (v !== null && typeof v === "object") {
    let n = 8;
    for (const x of Object.values(v)) n += approxChars(x);
    return n;
  }
  return 8;
}

/**
 * Writes records (objects keyed by column name, nested values as plain JS lists/objects, null
 * for missing) to `path` with the given columns, streaming row groups into a temporary file that
 * is renamed into place at the end. Returns the row count.
 */
export async function writeRecordsParquet(
  path: string,
  columns: readonly PqColumn[],
  records: Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>,
  opts: WriteParquetOptions = {},
): Promise<number> {
  const maxRows = opts.rowGroupRows ?? 1000;
  const maxChars = opts.rowGroupChars ?? 64 << 20;
  let rows = 0;
  await withAtomicFile(path, async (file) => {
    const writer = new FileByteWriter(file);
    const pq = new ParquetWriter({
      writer,
      schema: parquetSchemaOf(columns),
      createdBy: "golongrl (hyparquet-writer 0.17.0)",
      kvMetadata: opts.kvMetadata,
    });
    let batch: Record<string, unknown>[] = [];
    let chars = 0;
    const flush = () => {
      if (batch.length === 0) return;
      pq.write({
        columnData: columns.map((c) => ({
          name: c.name,
          data: batch.map((r) => forWriter(r[c.name], c.type)),
        })),
        rowGroupSize: batch.length,
      });
      batch = [];
      chars = 0;
    };
    for await (const r of records) {
      batch.push(r);
      rows++;
      chars += approxChars(r);
      if (batch.length >= maxRows || chars >= maxChars) flush();
    }
    flush();
    pq.finish();
  });
  return rows;
}

/** An AsyncBuffer over an open file; reads are serialized (seek + read share one position). */
function fileAsyncBuffer(file: Deno.FsFile, size: number): AsyncBuffer {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    byteLength: size,
    slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const job = chain.then(async () => {
        const buf = new Uint8Array(Math.max(0, stop - start));
        await file.seek(start, Deno.SeekMode.Start);
        const got = await readFull(file, buf);
        if (got < buf.length) throw new Error(`unexpected end of file at byte ${start + got}`);
        return buf.buffer;
      });
      chain = job.catch(() => {});
      return job;
    },
  };
}

/** One parquet row with its 0-based row number and the file's key-value metadata. */
export interface ParquetRecord {
  row: number;
  value: Record<string, unknown>;
  kv: Record<string, string>;
  /** Top-level columns of floating-point type (their integral values are still floats). */
  doubles: ReadonlySet<string>;
}

/** Names of the top-level DOUBLE/FLOAT leaf columns of a parquet schema (flattened, DFS order). */
function floatColumns(schema: readonly SchemaElement[]): Set<string> {
  const out = new Set<string>();
  let i = 1;
  const skip = (): void => {
    const n = schema[i++]?.num_children ?? 0;
    for (let c = 0; c < n; c++) skip();
  };
  for (let c = 0; c < (schema[0]?.num_children ?? 0) && i < schema.length; c++) {
    const el = schema[i];
    if (!el.num_children && (el.type === "DOUBLE" || el.type === "FLOAT")) out.add(el.name);
    skip();
  }
  return out;
}

/** Streams the rows of a parquet file as plain objects (one row group in memory at a time). */
export async function* readParquetRecords(path: string): AsyncGenerator<ParquetRecord> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  try {
    const size = (await file.stat()).size;
    const buf = fileAsyncBuffer(file, size);
    let metadata;
    try {
      metadata = await parquetMetadataAsync(buf);
    } catch (e) {
      throw new InputError(`not a parquet file: ${(e as Error).message}`, path);
    }
    const kv: Record<string, string> = {};
    for (const { key, value } of metadata.key_value_metadata ?? []) kv[key] = value ?? "";
    const doubles = floatColumns(metadata.schema as SchemaElement[]);
    let start = 0;
    for (const rg of metadata.row_groups) {
      const n = Number(rg.num_rows);
      if (n === 0) continue;
      const rows = await parquetReadObjects({
        file: buf,
        metadata,
        rowStart: start,
        rowEnd: start + n,
      });
      for (let i = 0; i < rows.length; i++) {
        yield {
          row: start + i,
          value: plainValue(rows[i]) as Record<string, unknown>,
          kv,
          doubles,
        };
      }
      start += n;
    }
  } finally {
    try {
      file.close();
    } catch { /* closed */ }
  }
}

const UTF8 = new TextDecoder();

/** hyparquet values → JSON values: bigint → number (string when unsafe), bytes → UTF-8 text. */
export function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (v instanceof Uint8Array) return UTF8.decode(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plainValue);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, plainValue);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainValue(x);
    return out;
  }
  return v;
}
