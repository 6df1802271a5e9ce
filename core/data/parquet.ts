/**
 * verl parquet export and import of {@link Sample}s, with real nested parquet types.
 *
 * hyparquet-writer writes nested LIST/STRUCT columns when given an explicit schema (its Dremel
 * encoder walks the schema tree), so `prompt`, `reward_model` and `extra_info` are real parquet
 * nested types that pyarrow, pandas and HF `datasets` (hence verl's `RLHFDataset`) read as
 * lists of dicts and dicts. Lists use the standard 3-level layout
 * (`<name> (LIST) → repeated group list → element`); every field is OPTIONAL, as pyarrow
 * writes them.
 *
 * The "verl" layout (ours; lossless; file key-value metadata `golongrl.layout = verl-v1`):
 *
 * | column | parquet type |
 * | --- | --- |
 * | `data_source` | string |
 * | `prompt` | list<struct{content: string, role: string}> |
 * | `ability` | string |
 * | `reward_model` | struct{ground_truth: struct{doc_ids: list<string>, golden_label: string, summary: string}, style: string} |
 * | `extra_info` | struct{index, question, reward_mode, generator: string, source_docs: list<struct{id, title, kind, licence: string}>, length_bucket: string, tokens: int64, needle_depth: double, difficulty: struct{band: string, k: int64, pass_rate: double, policy: string}, extra_json: string} |
 * | `id` | string (extra column; verl passes unknown columns through untouched) |
 *
 * `extra_info.extra_json` holds, as one JSON object text (keys sorted), every `extra_info` key
 * that has no typed column, and any typed key whose value does not fit its column exactly
 * (e.g. an explicit null, a non-integer `tokens`, a source doc with extra keys); it is null
 * when there is nothing left over. Reading merges it back, so write → read is deep-equal.
 * verl itself never reads these fields (it reads `data_source`, `prompt`, `reward_model`,
 * `extra_info` and `extra_info.index`), and a custom reward function receives `extra_info` as a
 * dict with `extra_json` still a string — the reward server ignores it.
 *
 * The "golongrl" layout reproduces the released `Kwai-Klear/GoLongRL` fields only: no `id`
 * column, `extra_info` = struct{index: int64, question, reward_mode}, `ability` as originally
 * named (`extra_info.ability_raw` when import mapped it). It drops our provenance (and a
 * non-integer index becomes the row number); use it to hand data to a stock verl recipe,
 * and the verl layout to keep everything.
 *
 * Reading is streaming: one row group at a time, through positioned reads of the file. Writing
 * is streaming: row groups of at most 1,000 rows or ~64 MB of text, written to a temporary file
 * renamed into place when complete. Output bytes depend only on the samples.
 *
 * @module
 */
import { ByteWriter, ParquetWriter, type SchemaElement } from "hyparquet-writer";
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { InputError } from "../errors.ts";
import { sortKeysDeep, validateSample } from "./schema.ts";
import type { Sample } from "./types.ts";

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
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    let off = 0;
    while (off < bytes.length) off += this.file.writeSync(bytes.subarray(off));
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
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  let rows = 0;
  try {
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
    file.close();
    await Deno.rename(tmp, path);
  } catch (e) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
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
        let off = 0;
        while (off < buf.length) {
          const n = await file.read(buf.subarray(off));
          if (n === null) throw new Error(`unexpected end of file at byte ${start + off}`);
          off += n;
        }
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

// ==================== The verl layout ====================

const STR = "string" as const;

/** GoLongRL's prompt, ability, data_source and reward_model columns (shared by both layouts). */
const COMMON_HEAD: PqColumn[] = [
  { name: "data_source", type: STR },
  { name: "prompt", type: { list: { struct: [["content", STR], ["role", STR]] } } },
  { name: "ability", type: STR },
  {
    name: "reward_model",
    type: {
      struct: [
        [
          "ground_truth",
          { struct: [["doc_ids", { list: STR }], ["golden_label", STR], ["summary", STR]] },
        ],
        ["style", STR],
      ],
    },
  },
];

/** Our lossless verl layout (see the module doc). */
export const VERL_COLUMNS: readonly PqColumn[] = [
  ...COMMON_HEAD,
  {
    name: "extra_info",
    type: {
      struct: [
        ["index", STR],
        ["question", STR],
        ["reward_mode", STR],
        ["generator", STR],
        [
          "source_docs",
          { list: { struct: [["id", STR], ["title", STR], ["kind", STR], ["licence", STR]] } },
        ],
        ["length_bucket", STR],
        ["tokens", "int64"],
        ["needle_depth", "double"],
        [
          "difficulty",
          { struct: [["band", STR], ["k", "int64"], ["pass_rate", "double"], ["policy", STR]] },
        ],
        ["extra_json", STR],
      ],
    },
  },
  { name: "id", type: STR },
];

/** The released GoLongRL fields only (see the module doc). */
export const GOLONGRL_COLUMNS: readonly PqColumn[] = [
  ...COMMON_HEAD,
  {
    name: "extra_info",
    type: { struct: [["index", "int64"], ["question", STR], ["reward_mode", STR]] },
  },
];

/** Key-value metadata marking our layout (readers merge `extra_json` only when it is set). */
export const LAYOUT_KEY = "golongrl.layout";
/** The value of {@link LAYOUT_KEY} in files of our verl layout. */
export const LAYOUT_VERL = "verl-v1";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hasOnlyKeys(o: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(o).every((k) => allowed.includes(k));
}

function typedDocs(v: unknown): boolean {
  return Array.isArray(v) &&
    v.every((d) =>
      isObj(d) && hasOnlyKeys(d, ["id", "title", "kind", "licence"]) &&
      typeof d.id === "string" && typeof d.title === "string" && typeof d.kind === "string" &&
      (d.licence === undefined || typeof d.licence === "string")
    );
}

function typedDifficulty(v: unknown): boolean {
  return isObj(v) && hasOnlyKeys(v, ["pass_rate", "band", "k", "policy"]) &&
    typeof v.pass_rate === "number" && Number.isFinite(v.pass_rate) &&
    typeof v.band === "string" && Number.isSafeInteger(v.k) && typeof v.policy === "string";
}

/** A sample as one row of the verl layout. */
export function sampleToVerlRow(s: Sample): Record<string, unknown> {
  const ei = s.extra_info as Record<string, unknown>;
  const rest: Record<string, unknown> = {};
  const typed: Record<string, unknown> = {};
  const fits: Record<string, (v: unknown) => boolean> = {
    index: (v) => typeof v === "string",
    question: (v) => typeof v === "string",
    reward_mode: (v) => typeof v === "string",
    generator: (v) => typeof v === "string",
    source_docs: typedDocs,
    length_bucket: (v) => typeof v === "string",
    tokens: (v) => Number.isSafeInteger(v),
    needle_depth: (v) => typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0),
    difficulty: typedDifficulty,
  };
  for (const [k, v] of Object.entries(ei)) {
    if (v === undefined) continue;
    if (Object.hasOwn(fits, k) && fits[k](v)) typed[k] = v;
    else rest[k] = v;
  }
  typed.extra_json = Object.keys(rest).length > 0 ? JSON.stringify(sortKeysDeep(rest)) : null;
  return {
    data_source: s.data_source,
    prompt: s.prompt.map((m) => ({ content: m.content, role: m.role })),
    ability: s.ability,
    reward_model: {
      ground_truth: {
        doc_ids: s.reward_model.ground_truth.doc_ids,
        golden_label: s.reward_model.ground_truth.golden_label,
        summary: s.reward_model.ground_truth.summary,
      },
      style: s.reward_model.style,
    },
    extra_info: typed,
    id: s.id,
  };
}

/** A sample as one row of the released GoLongRL layout (`row` stands in for a non-integer index). */
export function sampleToGoLongRLRow(
  s: Sample,
  row: number,
  opts: { omitIndex?: boolean } = {},
): Record<string, unknown> {
  const r = sampleToVerlRow(s);
  delete r.id;
  // The released layout has the original ability names; restore one that import mapped.
  const raw = s.extra_info.ability_raw;
  if (typeof raw === "string") r.ability = raw;
  const idx = s.extra_info.index;
  r.extra_info = {
    index: opts.omitIndex ? null : /^\d{1,15}$/.test(idx) ? Number(idx) : row,
    question: s.extra_info.question,
    reward_mode: s.extra_info.reward_mode,
  };
  return r;
}

function dropNulls(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/**
 * A plain parquet row → a raw record for {@link validateSample}: null struct fields are dropped
 * (pandas/arrow fill a key missing from some rows with null), and in our layout (`ours`)
 * `extra_info.extra_json` is merged back.
 */
export function parquetRowToRaw(
  row: Record<string, unknown>,
  ours: boolean,
): Record<string, unknown> {
  const r = dropNulls(row);
  if (isObj(r.extra_info)) {
    const ei = dropNulls(r.extra_info);
    if (Array.isArray(ei.source_docs)) {
      ei.source_docs = ei.source_docs.map((d) => isObj(d) ? dropNulls(d) : d);
    }
    if (ours && typeof ei.extra_json === "string") {
      let rest: unknown;
      try {
        rest = JSON.parse(ei.extra_json);
      } catch {
        rest = undefined;
      }
      if (isObj(rest)) {
        delete ei.extra_json;
        Object.assign(ei, rest);
      }
    }
    r.extra_info = ei;
  }
  return r;
}

/** Options of {@link writeParquet}. */
export interface WriteSamplesParquetOptions extends WriteParquetOptions {
  /** "verl" (ours, lossless; default) or "golongrl" (the released fields only). */
  layout?: "verl" | "golongrl";
  /** golongrl layout: leave `extra_info.index` null (as some released rows lack it). */
  omitIndex?: boolean;
}

/** Writes samples as a verl parquet file (streaming, atomic). Returns the row count. */
export async function writeParquet(
  path: string,
  samples: Iterable<Sample> | AsyncIterable<Sample>,
  opts: WriteSamplesParquetOptions = {},
): Promise<number> {
  const golongrl = opts.layout === "golongrl";
  async function* rows() {
    let i = 0;
    for await (const s of samples) {
      yield golongrl ? sampleToGoLongRLRow(s, i, opts) : sampleToVerlRow(s);
      i++;
    }
  }
  const kv = golongrl ? [] : [{ key: LAYOUT_KEY, value: LAYOUT_VERL }];
  return await writeRecordsParquet(path, golongrl ? GOLONGRL_COLUMNS : VERL_COLUMNS, rows(), {
    ...opts,
    kvMetadata: [...kv, ...(opts.kvMetadata ?? [])],
  });
}

/** Streams the samples of a parquet file (our layout or any GoLongRL-like layout), validated. */
export async function* readParquetSamples(path: string): AsyncGenerator<Sample> {
  for await (const { row, value, kv } of readParquetRecords(path)) {
    const raw = parquetRowToRaw(value, kv[LAYOUT_KEY] === LAYOUT_VERL);
    yield validateSample(raw, { file: path, line: row + 1 }, { defaultIndex: row });
  }
}

/** All samples of a parquet file (for files that fit in memory; else {@link readParquetSamples}). */
export async function readParquet(path: string): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of readParquetSamples(path)) out.push(s);
  return out;
}
