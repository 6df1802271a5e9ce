/**
 * verl parquet export and import of {@link Sample}s, with real nested parquet types.
 *
 * core/parquet.ts writes nested LIST/STRUCT columns from an explicit schema, so `prompt`,
 * `reward_model` and `extra_info` are real parquet nested types that pyarrow, pandas and HF
 * `datasets` (hence verl's `RLHFDataset`) read as lists of dicts and dicts.
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
 * Reading and writing stream (core/parquet.ts). Output bytes depend only on the samples.
 *
 * @module
 */
import {
  type PqColumn,
  readParquetRecords,
  type WriteParquetOptions,
  writeRecordsParquet,
} from "../core/parquet.ts";
import { sortKeysDeep, validateSample } from "./schema.ts";
import type { Sample } from "../tasks/generators/types.ts";

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
