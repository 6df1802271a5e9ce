/** The shape of a CLI command, and the I/O it writes through (swappable in tests). */
import type { FlagSpec, FlagValues, PositionalSpec } from "./args.ts";
import { writeAllSync } from "../core/fsutil.ts";

export interface Io {
  /** Machine-readable results and requested output. */
  out(s: string): void;
  /** Diagnostics, progress, errors. */
  err(s: string): void;
}

export interface Context {
  io: Io;
  flags: FlagValues;
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

/** The process's stdout and stderr. */
export const stdio: Io = {
  out: (s) => writeText(Deno.stdout, s),
  err: (s) => writeText(Deno.stderr, s),
};
