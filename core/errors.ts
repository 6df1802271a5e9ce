/**
 * Error types shared by every command, and the exit codes they map to.
 *
 * The CLI turns a {@link UsageError} into exit code 2 and any other error into
 * exit code 1, printing only the message (never a stack) unless `GOLONGRL_DEBUG`
 * is set. Messages must name what was wrong: the flag, the config key, the file
 * and line.
 */

/** Exit codes: 0 ok, 1 failure, 2 usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Bad command line: unknown flag, missing value, bad value, unknown command. */
export class UsageError extends Error {
  override name = "UsageError";
  /** Help text to point at, e.g. "golongrl info --help". */
  constructor(message: string, readonly helpHint?: string) {
    super(message);
  }
}

/** Bad configuration: wrong type, out of range, unknown key. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(message: string, readonly key?: string, readonly file?: string) {
    super(message);
  }
}

/** Bad input data: names the file, line and field. */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly field?: string,
  ) {
    super(
      [
        file,
        line !== undefined ? `line ${line}` : undefined,
        field ? `field "${field}"` : undefined,
      ]
        .filter(Boolean).join(", ") + (file || line !== undefined || field ? ": " : "") + message,
    );
  }
}

/** The GPU is missing, lost, or rejected our work. */
export class GpuError extends Error {
  override name = "GpuError";
}
