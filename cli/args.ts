/**
 * Declarative flags for commands: parsing (on top of `node:util` parseArgs),
 * value checking, and help text. Every error is a {@link UsageError} naming the
 * flag and, where one is close, the valid spelling.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../core/errors.ts";
import { closest, didYouMean } from "../core/suggest.ts";

export type FlagType = "string" | "boolean" | "number" | "integer";

export interface FlagSpec {
  type: FlagType;
  description: string;
  short?: string;
  /** Placeholder shown in help, e.g. "DIR". */
  value?: string;
  default?: string | number | boolean | string[];
  /** May be given several times; values are collected into an array. */
  multiple?: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

/**
 * The value a flag parses to: boolean, a list for `multiple`, a number, one of its `choices`
 * (when they are literals), or a string.
 */
export type FlagValueOf<S extends FlagSpec> = S extends { type: "boolean" } ? boolean
  : S extends { multiple: true } ? string[]
  : S extends { type: "number" | "integer" } ? number
  : S extends { choices: readonly (infer C extends string)[] } ? C
  : string;

/**
 * The parsed flags of a command, typed from its flag specs (see `command` in command.ts): a
 * boolean flag or one with a default is always set; any other may be undefined until
 * {@link requireFlags} says not. Declare shared groups of specs `as const satisfies
 * Record<string, FlagSpec>` so their literal types reach here.
 */
export type FlagsOf<F extends Record<string, FlagSpec>> =
  & {
    -readonly [K in keyof F]: F[K] extends { type: "boolean" } | { default: unknown }
      ? FlagValueOf<F[K]>
      : FlagValueOf<F[K]> | undefined;
  }
  & { help: boolean; quiet: boolean };

export interface Parsed {
  flags: FlagValues;
  positionals: string[];
}

/** Flags every command accepts. */
export const COMMON_FLAGS = {
  help: { type: "boolean", short: "h", description: "Show this help and exit." },
  quiet: { type: "boolean", short: "q", description: "No progress output on stderr." },
} as const satisfies Record<string, FlagSpec>;

/**
 * Parses `argv` against `flags` (plus {@link COMMON_FLAGS}). `command` names the
 * command in messages, e.g. "golongrl info".
 */
export function parseFlags(
  command: string,
  argv: string[],
  flags: Record<string, FlagSpec>,
  positionals: PositionalSpec[] = [],
): Parsed {
  const all: Record<string, FlagSpec> = { ...COMMON_FLAGS, ...flags };
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = {
      type: spec.type === "boolean" ? "boolean" : "string",
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  const hint = `${command} --help`;
  // parseArgs reads "-3" as a flag; for numeric flags take it as the value.
  const numeric = new Set(
    Object.entries(all).filter(([, f]) => f.type === "number" || f.type === "integer").map(([n]) =>
      n
    ),
  );
  argv = argv.flatMap((a, i) =>
    i > 0 && /^-\.?\d/.test(a) && numeric.has(argv[i - 1].replace(/^--/, "")) ? [] : (
      numeric.has(a.replace(/^--/, "")) && a.startsWith("--") && /^-\.?\d/.test(argv[i + 1] ?? "")
        ? [`${a}=${argv[i + 1]}`]
        : [a]
    )
  );
  let raw: { values: Record<string, unknown>; positionals: string[] };
  try {
    raw = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw translateParseError(e as Error & { code?: string }, command, all, hint);
  }
  const out: FlagValues = {};
  for (const [name, spec] of Object.entries(all)) {
    const v = raw.values[name];
    if (v === undefined) {
      // A boolean flag not given is false, so its type needs no `undefined`.
      out[name] = spec.default ?? (spec.type === "boolean" ? false : undefined);
      continue;
    }
    if (spec.type === "boolean") {
      out[name] = v === true;
      continue;
    }
    const vs = (Array.isArray(v) ? v : [v]).map(String);
    const checked = vs.map((s) => checkValue(name, spec, s, hint));
    out[name] = spec.multiple ? checked.map(String) : checked[0];
  }
  if (!out.help) checkPositionals(command, raw.positionals, positionals, hint);
  return { flags: out, positionals: raw.positionals };
}

function checkValue(name: string, spec: FlagSpec, s: string, hint: string): string | number {
  // parseArgs happily takes the next flag as a value: `--out --quiet`.
  if (s.startsWith("--") && s.length > 2) {
    throw new UsageError(`flag --${name} needs a value, got the flag ${s}`, hint);
  }
  if (spec.choices && !spec.choices.includes(s)) {
    throw new UsageError(
      `flag --${name}: "${s}" is not one of ${spec.choices.join(", ")}` +
        didYouMean(s, spec.choices),
      hint,
    );
  }
  if (spec.type === "number" || spec.type === "integer") {
    const n = Number(s);
    if (s.trim() === "" || !Number.isFinite(n)) {
      throw new UsageError(`flag --${name}: "${s}" is not a number`, hint);
    }
    if (spec.type === "integer" && !Number.isInteger(n)) {
      throw new UsageError(`flag --${name}: "${s}" is not an integer`, hint);
    }
    if (spec.min !== undefined && n < spec.min) {
      throw new UsageError(`flag --${name}: ${s} is below the minimum ${spec.min}`, hint);
    }
    if (spec.max !== undefined && n > spec.max) {
      throw new UsageError(`flag --${name}: ${s} is above the maximum ${spec.max}`, hint);
    }
    return n;
  }
  return s;
}

function checkPositionals(
  command: string,
  got: string[],
  specs: PositionalSpec[],
  hint: string,
): void {
  const required = specs.filter((p) => p.required);
  if (got.length < required.length) {
    throw new UsageError(
      `${command}: missing argument ${required[got.length].name.toUpperCase()}`,
      hint,
    );
  }
  const variadic = specs.some((p) => p.variadic);
  if (!variadic && got.length > specs.length) {
    throw new UsageError(`${command}: unexpected argument "${got[specs.length]}"`, hint);
  }
}

function translateParseError(
  e: Error & { code?: string },
  command: string,
  all: Record<string, FlagSpec>,
  hint: string,
): Error {
  const quoted = /'(-{1,2}[^'\s]+)/.exec(e.message)?.[1] ?? "";
  const bare = quoted.replace(/^-+/, "").replace(/=.*$/, "");
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const names = Object.keys(all);
      const isShort = /^-[^-]/.test(quoted);
      const suggestion = isShort ? "" : didYouMean(bare, names, "--");
      return new UsageError(`${command}: unknown flag ${quoted}${suggestion}`, hint);
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const name = bare;
      if (all[name]?.type === "boolean") {
        return new UsageError(`${command}: flag --${name} takes no value`, hint);
      }
      return new UsageError(`${command}: flag --${name} needs a value`, hint);
    }
    default:
      return new UsageError(`${command}: ${e.message}`, hint);
  }
}

/** Throws a usage error naming the first of `names` that was not given. */
export function requireFlags<F extends object, K extends keyof F & string>(
  command: string,
  flags: F,
  names: K[],
): asserts flags is F & { [P in K]-?: NonNullable<F[P]> } {
  for (const n of names) {
    const v = (flags as Record<string, unknown>)[n];
    if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) {
      throw new UsageError(`${command}: --${n} is required`, `${command} --help`);
    }
  }
}

/** Suggests a command name for a misspelling. */
export function suggestCommand(word: string, names: string[]): string {
  const c = closest(word, names);
  return c ? ` (did you mean ${c}?)` : "";
}

/** Help text for one command. */
export function formatHelp(opts: {
  usage: string;
  summary: string;
  description?: string;
  flags?: Record<string, FlagSpec>;
  positionals?: PositionalSpec[];
  subcommands?: { name: string; summary: string }[];
  examples?: string[];
}): string {
  const lines = [`Usage: ${opts.usage}`, "", opts.summary];
  if (opts.description) lines.push("", opts.description);
  if (opts.subcommands?.length) {
    lines.push("", "Commands:");
    const w = Math.max(...opts.subcommands.map((s) => s.name.length));
    for (const s of opts.subcommands) lines.push(`  ${s.name.padEnd(w)}  ${s.summary}`);
  }
  if (opts.positionals?.length) {
    lines.push("", "Arguments:");
    for (const p of opts.positionals) {
      lines.push(`  ${p.name.toUpperCase()}${p.variadic ? "..." : ""}  ${p.description}`);
    }
  }
  const flags: Record<string, FlagSpec> = { ...(opts.flags ?? {}), ...COMMON_FLAGS };
  lines.push("", "Flags:");
  const rows = Object.entries(flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${
      f.type === "boolean" ? "" : ` ${f.value ?? (f.type === "string" ? "VALUE" : "N")}`
    }`;
    let right = f.description;
    if (f.choices) right += ` One of: ${f.choices.join(", ")}.`;
    if (f.default !== undefined && f.type !== "boolean") right += ` [default: ${f.default}]`;
    if (f.multiple) right += " (repeatable)";
    return [left, right];
  });
  const w = Math.max(...rows.map(([l]) => l.length));
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(w)}  ${r}`);
  if (opts.examples?.length) {
    lines.push("", "Examples:");
    for (const ex of opts.examples) lines.push(`  ${ex}`);
  }
  return lines.join("\n") + "\n";
}
