/**
 * Imports GoLongRL-format datasets (the released `Kwai-Klear/GoLongRL` parquet, verl parquet
 * written by pandas/HF `datasets`, or JSONL) as {@link Sample}s, so they can be trained on and
 * evaluated directly.
 *
 * Accepted inputs: a `.parquet` file (nested struct/list columns, or columns holding JSON
 * strings), a `.jsonl` file, a `.json` file holding one JSON array, or a folder (every such file
 * under it, recursively, in sorted path order — the HF snapshot layout `data/train-*.parquet`).
 *
 * Normalizations (all in `validateSample`, see data/schema.ts; counted in the
 * {@link ImportReport}): JSON-string columns are parsed; `ground_truth` as a list uses its last
 * element; a missing `extra_info.index` is the 0-based row number across the whole import;
 * a missing `id` is `<idPrefix><index>`; an `ability` alias ("EM", "F1", "NDCG", "Precise
 * Retrieval", …) maps to our task type with the raw value kept in `extra_info.ability_raw`; an
 * unknown ability is kept verbatim (scoring routes by `data_source`, not ability) and counted.
 *
 * @module
 */
import { InputError } from "../core/errors.ts";
import { readJsonl } from "../core/jsonl.ts";
import { routeVerifier } from "../tasks/registry.ts";
import { TASK_TYPES } from "../tasks/types.ts";
import { readParquetRecords } from "../core/parquet.ts";
import { LAYOUT_KEY, LAYOUT_VERL, parquetRowToRaw } from "./parquet.ts";
import { validateSample } from "./schema.ts";
import type { Sample } from "../tasks/generators/types.ts";

/** What an import did (filled while the generator runs). */
export interface ImportReport {
  files: string[];
  rows: number;
  /** Rows whose `extra_info.index` was assigned from the row number. */
  indexAssigned: number;
  /** "raw → task type" → rows. */
  abilityMapped: Record<string, number>;
  /** Abilities kept verbatim because they name none of the 9 task types. */
  abilityUnknown: Record<string, number>;
  /** Columns given as JSON strings (prompt, reward_model, ground_truth, extra_info) → rows. */
  jsonStrings: Record<string, number>;
  /** Rows whose ground_truth was a list (its last element was used). */
  groundTruthList: number;
  /** data_source values no verifier handles → rows (they would score 0). */
  unroutable: Record<string, number>;
}

/** A fresh, empty report. */
export function newImportReport(): ImportReport {
  return {
    files: [],
    rows: 0,
    indexAssigned: 0,
    abilityMapped: {},
    abilityUnknown: {},
    jsonStrings: {},
    groundTruthList: 0,
    unroutable: {},
  };
}

/** Options of {@link importDataset}. */
export interface ImportOptions {
  /** Filled as rows are imported. */
  report?: ImportReport;
  /** Prefix of ids derived from the index (default ""). */
  idPrefix?: string;
}

const EXTS = [".parquet", ".jsonl", ".json"];

async function listFiles(path: string): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  if (!info.isDirectory) return [path];
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = `${dir.replace(/\/+$/, "")}/${e.name}`;
      if (e.isDirectory && !e.name.startsWith(".")) await walk(p);
      else if (e.isFile && EXTS.some((x) => e.name.endsWith(x))) out.push(p);
    }
  };
  await walk(path);
  if (out.length === 0) throw new InputError("no .parquet, .jsonl or .json files found", path);
  return out;
}

/** Raw records of one file with their 1-based line (JSONL) or row (parquet, JSON array). */
async function* rawRecords(
  path: string,
): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  if (path.endsWith(".parquet")) {
    for await (const { row, value, kv } of readParquetRecords(path)) {
      yield { line: row + 1, value: parquetRowToRaw(value, kv[LAYOUT_KEY] === LAYOUT_VERL) };
    }
    return;
  }
  if (path.endsWith(".json")) {
    const text = await Deno.readTextFile(path).catch((e) => {
      throw new InputError(`cannot read: ${(e as Error).message}`, path);
    });
    if (text.trimStart().startsWith("[")) {
      let arr: unknown;
      try {
        arr = JSON.parse(text);
      } catch (e) {
        throw new InputError(`invalid JSON: ${(e as Error).message}`, path);
      }
      const rows = arr as unknown[];
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i];
        if (v === null || typeof v !== "object" || Array.isArray(v)) {
          throw new InputError("expected a JSON object", path, i + 1);
        }
        yield { line: i + 1, value: v as Record<string, unknown> };
      }
      return;
    }
  }
  yield* readJsonl(path);
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

function noteRaw(raw: Record<string, unknown>, report: ImportReport): void {
  for (const k of ["prompt", "reward_model", "extra_info"]) {
    if (typeof raw[k] === "string" && /^\s*[[{]/.test(raw[k] as string)) {
      bump(report.jsonStrings, k);
    }
  }
  let rm = raw.reward_model;
  if (typeof rm === "string") {
    try {
      rm = JSON.parse(rm);
    } catch { /* validateSample reports it */ }
  }
  if (rm !== null && typeof rm === "object" && !Array.isArray(rm)) {
    const gt = (rm as Record<string, unknown>).ground_truth;
    if (typeof gt === "string" && /^\s*[[{]/.test(gt)) bump(report.jsonStrings, "ground_truth");
    if (Array.isArray(gt) || (typeof gt === "string" && gt.trimStart().startsWith("["))) {
      report.groundTruthList++;
    }
  }
}

/**
 * Streams the samples of a GoLongRL-format dataset (file or folder; see the module doc),
 * validated and normalized, filling `opts.report` as it goes.
 */
export async function* importDataset(
  path: string,
  opts: ImportOptions = {},
): AsyncGenerator<Sample> {
  const report = opts.report ?? newImportReport();
  const files = await listFiles(path);
  let row = 0;
  for (const file of files) {
    report.files.push(file);
    for await (const { line, value } of rawRecords(file)) {
      noteRaw(value, report);
      const ei = value.extra_info;
      const hasIndex = typeof ei === "string"
        ? /"index"\s*:/.test(ei)
        : ei !== null && typeof ei === "object" && (ei as Record<string, unknown>).index != null;
      const s = validateSample(value, { file, line }, {
        defaultIndex: row,
        idPrefix: opts.idPrefix,
      });
      if (!hasIndex) report.indexAssigned++;
      const raw = s.extra_info.ability_raw;
      if (typeof raw === "string" && raw === value.ability) {
        bump(report.abilityMapped, `${raw} → ${s.ability}`);
      }
      if (!(TASK_TYPES as readonly string[]).includes(s.ability)) {
        bump(report.abilityUnknown, s.ability);
      }
      if ("error" in routeVerifier(s.data_source, s.extra_info)) {
        bump(report.unroutable, s.data_source);
      }
      report.rows++;
      row++;
      yield s;
    }
  }
}

/** Collects {@link importDataset} into an array (for datasets that fit in memory). */
export async function importAll(path: string, opts: ImportOptions = {}): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of importDataset(path, opts)) out.push(s);
  return out;
}
