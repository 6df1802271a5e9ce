/**
 * Typed configuration: a schema of sections and fields with defaults, a JSON or
 * YAML file, and dotted overrides (`--set train.lr=2e-6`), validated with errors
 * that name the file, line and key. Commands write the effective config next to
 * their outputs so a run can be reproduced from its folder alone.
 *
 * ```ts
 * const schema = { train: section({ lr: num(1e-6, { min: 0 }), steps: int(100, { min: 1 }) }) };
 * const cfg = await loadConfig(schema, { file: "run.yaml", overrides: ["train.lr=2e-6"] });
 * ```
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { ConfigError } from "./errors.ts";
import { didYouMean } from "./suggest.ts";
import { writeJsonAtomic } from "./fsutil.ts";

interface Base<T> {
  default: T;
  description?: string;
}
export interface NumberField extends Base<number> {
  kind: "number";
  integer?: boolean;
  min?: number;
  max?: number;
}
export interface StringField extends Base<string> {
  kind: "string";
  choices?: readonly string[];
}
export interface BooleanField extends Base<boolean> {
  kind: "boolean";
}
export interface ListField extends Base<string[] | number[]> {
  kind: "list";
  of: "string" | "number";
}
export interface Section {
  kind: "section";
  fields: Schema;
  description?: string;
}
export type Field = NumberField | StringField | BooleanField | ListField;
export type Schema = { [key: string]: Field | Section };

/** The plain object type a schema describes. */
export type ConfigOf<S extends Schema> = {
  [K in keyof S]: S[K] extends Section ? ConfigOf<S[K]["fields"]>
    : S[K] extends Field ? S[K]["default"]
    : never;
};

export const num = (d: number, o: Omit<NumberField, "kind" | "default"> = {}): NumberField => ({
  kind: "number",
  default: d,
  ...o,
});
export const int = (d: number, o: Omit<NumberField, "kind" | "default" | "integer"> = {}) =>
  num(d, { ...o, integer: true });
export const str = (d: string, o: Omit<StringField, "kind" | "default"> = {}): StringField => ({
  kind: "string",
  default: d,
  ...o,
});
export const bool = (d: boolean, description?: string): BooleanField => ({
  kind: "boolean",
  default: d,
  description,
});
export const list = (
  of: "string" | "number",
  d: string[] | number[],
  description?: string,
): ListField => ({ kind: "list", of, default: d, description });
export const section = <S extends Schema>(fields: S, description?: string) => ({
  kind: "section" as const,
  fields,
  description,
});

/** Every dotted key of a schema, e.g. ["train.lr", "train.steps"]. */
export function schemaKeys(schema: Schema, prefix = ""): string[] {
  return Object.entries(schema).flatMap(([k, f]) =>
    f.kind === "section" ? schemaKeys(f.fields, `${prefix}${k}.`) : [`${prefix}${k}`]
  );
}

/** The config made of the schema's defaults. */
export function defaults<S extends Schema>(schema: S): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(schema)) {
    out[k] = f.kind === "section"
      ? defaults(f.fields)
      : Array.isArray(f.default)
      ? [...f.default]
      : f.default;
  }
  return out as ConfigOf<S>;
}

interface Where {
  file?: string;
  lines?: Map<string, number>;
}

function at(where: Where, key: string): string {
  const line = where.lines?.get(key);
  if (!where.file) return "";
  return line !== undefined ? `${where.file}, line ${line}: ` : `${where.file}: `;
}

/** Checks one value against its field, returning the (possibly converted) value. */
function checkField(key: string, f: Field, v: unknown, where: Where): unknown {
  const fail = (msg: string) => new ConfigError(`${at(where, key)}${key}: ${msg}`, key, where.file);
  const show = (x: unknown) => JSON.stringify(x) ?? String(x);
  switch (f.kind) {
    case "number": {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw fail(`expected ${f.integer ? "an integer" : "a number"}, got ${show(v)}`);
      }
      if (f.integer && !Number.isInteger(v)) throw fail(`expected an integer, got ${v}`);
      if (f.min !== undefined && v < f.min) throw fail(`${v} is below the minimum ${f.min}`);
      if (f.max !== undefined && v > f.max) throw fail(`${v} is above the maximum ${f.max}`);
      return v;
    }
    case "string":
      if (typeof v !== "string") throw fail(`expected a string, got ${show(v)}`);
      if (f.choices && !f.choices.includes(v)) {
        throw fail(`"${v}" is not one of ${f.choices.join(", ")}${didYouMean(v, f.choices)}`);
      }
      return v;
    case "boolean":
      if (typeof v !== "boolean") throw fail(`expected true or false, got ${show(v)}`);
      return v;
    case "list":
      if (!Array.isArray(v)) throw fail(`expected a list, got ${show(v)}`);
      for (const [i, x] of v.entries()) {
        if (
          f.of === "number" ? typeof x !== "number" || !Number.isFinite(x) : typeof x !== "string"
        ) {
          throw fail(`item ${i}: expected a ${f.of}, got ${show(x)}`);
        }
      }
      return [...v];
  }
}

/** Merges a parsed object into `target`, validating every key against `schema`. */
function merge(
  target: Record<string, unknown>,
  schema: Schema,
  obj: unknown,
  where: Where,
  prefix = "",
) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    const key = prefix.replace(/\.$/, "") || "(top level)";
    throw new ConfigError(`${at(where, key)}${key}: expected a mapping of keys`, key, where.file);
  }
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const key = `${prefix}${k}`;
    const f = schema[k];
    if (!f) {
      throw new ConfigError(
        `${at(where, key)}unknown key ${key}${
          didYouMean(
            key,
            schemaKeys(schema, prefix).concat(
              Object.keys(schema).map((s) => prefix + s),
            ),
          )
        }`,
        key,
        where.file,
      );
    }
    if (f.kind === "section") {
      merge(target[k] as Record<string, unknown>, f.fields, v, where, `${key}.`);
    } else target[k] = checkField(key, f, v, where);
  }
}

/** Finds the field for a dotted key, or throws naming the closest key. */
function lookup(schema: Schema, key: string, source: string): Field {
  let s: Schema = schema;
  const parts = key.split(".");
  for (const [i, p] of parts.entries()) {
    const f = s[p];
    const last = i === parts.length - 1;
    if (!f || (last && f.kind === "section") || (!last && f.kind !== "section")) {
      throw new ConfigError(
        `${source}: no config key ${key}${didYouMean(key, schemaKeys(schema))}`,
        key,
      );
    }
    if (last) return f as Field;
    s = (f as Section).fields;
  }
  throw new ConfigError(`${source}: empty config key`, key);
}

/** Parses an override's text value for its field: numbers, booleans, lists. */
function parseOverrideValue(key: string, f: Field, text: string): unknown {
  const t = text.trim();
  switch (f.kind) {
    case "number":
      return t === "" ? NaN : Number(t);
    case "boolean":
      return t === "true" ? true : t === "false" ? false : t;
    case "string":
      return text;
    case "list": {
      if (t.startsWith("[")) {
        try {
          return JSON.parse(t);
        } catch {
          throw new ConfigError(`--set ${key}: "${text}" is not a JSON list`, key);
        }
      }
      const items = t === "" ? [] : t.split(",").map((x) => x.trim());
      return f.of === "number" ? items.map((x) => (x === "" ? NaN : Number(x))) : items;
    }
  }
}

/** Applies `key=value` overrides in order. */
export function applyOverrides(schema: Schema, cfg: Record<string, unknown>, overrides: string[]) {
  for (const o of overrides) {
    const eq = o.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError(`--set "${o}": expected KEY=VALUE, e.g. train.lr=2e-6`);
    }
    const key = o.slice(0, eq).trim();
    const f = lookup(schema, key, "--set");
    const value = checkField(key, f, parseOverrideValue(key, f, o.slice(eq + 1)), {});
    const parts = key.split(".");
    let t = cfg;
    for (const p of parts.slice(0, -1)) t = t[p] as Record<string, unknown>;
    t[parts[parts.length - 1]] = value;
  }
}

/** Maps each dotted key in a YAML/JSON document to its 1-based line. */
function keyLines(text: string): Map<string, number> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const lines = new Map<string, number>();
  const walk = (node: unknown, prefix: string) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = `${prefix}${String(pair.key.value)}`;
      const start = pair.key.range?.[0];
      if (start !== undefined) lines.set(key, lc.linePos(start).line);
      if (!isSeq(pair.value)) walk(pair.value, `${key}.`);
    }
  };
  walk(doc.contents, "");
  return lines;
}

/** Parses config text (JSON when the name ends in .json, else YAML). */
export function parseConfigText(
  text: string,
  file: string,
): { obj: unknown; lines: Map<string, number> } {
  if (file.endsWith(".json")) {
    try {
      JSON.parse(text);
    } catch (e) {
      const m = /position (\d+)/.exec((e as Error).message);
      const line = m ? text.slice(0, Number(m[1])).split("\n").length : undefined;
      throw new ConfigError(
        `${file}${line ? `, line ${line}` : ""}: invalid JSON: ${(e as Error).message}`,
        undefined,
        file,
      );
    }
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(
      `${file}${line ? `, line ${line}` : ""}: invalid ${
        file.endsWith(".json") ? "JSON" : "YAML"
      }: ${e.message.split("\n")[0]}`,
      undefined,
      file,
    );
  }
  return { obj: doc.toJS() ?? {}, lines: keyLines(text) };
}

export interface LoadOptions {
  /** A JSON or YAML file; keys override the defaults. */
  file?: string;
  /** `key=value` strings applied after the file. */
  overrides?: string[];
}

/** Defaults, then the file, then the overrides; every step validated. */
export async function loadConfig<S extends Schema>(
  schema: S,
  opts: LoadOptions = {},
): Promise<ConfigOf<S>> {
  const cfg = defaults(schema) as Record<string, unknown>;
  if (opts.file) {
    let text: string;
    try {
      text = await Deno.readTextFile(opts.file);
    } catch (e) {
      throw new ConfigError(
        `cannot read config file ${opts.file}: ${(e as Error).message}`,
        undefined,
        opts.file,
      );
    }
    const { obj, lines } = parseConfigText(text, opts.file);
    merge(cfg, schema, obj, { file: opts.file, lines });
  }
  applyOverrides(schema, cfg, opts.overrides ?? []);
  return cfg as ConfigOf<S>;
}

/** Writes the effective config as `config.json` in `dir`, atomically. */
export async function writeEffectiveConfig(dir: string, cfg: unknown): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/config.json`;
  await writeJsonAtomic(path, cfg);
  return path;
}
