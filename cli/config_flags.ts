/** `--config FILE` and `--set KEY=VALUE`, for commands with many settings. */
import type { FlagSpec, FlagValues } from "./args.ts";
import { type ConfigOf, loadConfig, type Schema } from "../core/config_schema.ts";
import { ConfigError, UsageError } from "../core/errors.ts";

export const CONFIG_FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", value: "FILE", description: "JSON or YAML settings file." },
  set: {
    type: "string",
    value: "KEY=VALUE",
    multiple: true,
    description: "Override one setting, e.g. --set bench.repeats=5.",
  },
};

/** Loads the config; a bad --set is a usage error (exit 2), a bad file a failure (exit 1). */
export async function configFromFlags<S extends Schema>(
  schema: S,
  flags: FlagValues,
  command: string,
): Promise<ConfigOf<S>> {
  try {
    return await loadConfig(schema, {
      file: flags.config as string | undefined,
      overrides: (flags.set as string[] | undefined) ?? [],
    });
  } catch (e) {
    if (e instanceof ConfigError && e.file === undefined) {
      throw new UsageError(e.message, `${command} --help`);
    }
    throw e;
  }
}
