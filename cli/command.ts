/** The shape of a CLI command, and the I/O it writes through (swappable in tests). */
import type { FlagsOf, FlagSpec, FlagValues, PositionalSpec } from "./args.ts";
import { writeAllSync } from "../core/fsutil.ts";

export interface Io {
  /** Machine-readable results and requested output. */
  out(s: string): void;
  /** Diagnostics, progress, errors. */
  err(s: string): void;
}

export interface Context<Flags = FlagValues> {
  io: Io;
  flags: Flags;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  flags?: Record<string, FlagSpec>;
  positionals?: PositionalSpec[];
  examples?: string[];
  /** Returns the exit code (0 when omitted). */
  run?: (ctx: Context) => Promise<number | void>;
  subcommands?: Command[];
}

const enc = new TextEncoder();
function writeText(f: { writeSync(p: Uint8Array): number }, s: string) {
  writeAllSync(f, enc.encode(s));
}

/**
 * A command whose `run` sees its flags typed from its own flag specs (no casts): write the
 * specs inline, or spread groups declared `as const satisfies Record<string, FlagSpec>`.
 */
export function command<const F extends Record<string, FlagSpec>>(
  c: Omit<Command, "flags" | "run"> & {
    flags: F;
    run: (ctx: Context<FlagsOf<F>>) => Promise<number | void>;
  },
): Command {
  // The parser fills every flag of `F` by its spec, so the typed view is the same object.
  return c as unknown as Command;
}

/** The process's stdout and stderr. */
export const stdio: Io = {
  out: (s) => writeText(Deno.stdout, s),
  err: (s) => writeText(Deno.stderr, s),
};
