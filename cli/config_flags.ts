/** `--config FILE` and `--set KEY=VALUE`, for commands with many settings. */
import type { FlagsOf, FlagSpec } from "./args.ts";
import { type ConfigOf, loadConfig, type Schema } from "../core/config_schema.ts";
import { ConfigError, UsageError } from "../core/errors.ts";

export const CONFIG_FLAGS = {
  config: { type: "string", value: "FILE", description: "JSON or YAML settings file." },
  set: {
    type: "string",
    value: "KEY=VALUE",
    multiple: true,
    description: "Override one setting, e.g. --set bench.repeats=5.",
  },
} as const satisfies Record<string, FlagSpec>;

/** Loads the config; a bad --set is a usage error (exit 2), a bad file a failure (exit 1). */
export async function configFromFlags<S extends Schema>(
  schema: S,
  flags: Pick<FlagsOf<typeof CONFIG_FLAGS>, "config" | "set">,
  command: string,
): Promise<ConfigOf<S>> {
  try {
    return await loadConfig(schema, { file: flags.config, overrides: flags.set ?? [] });
  } catch (e) {
    if (e instanceof ConfigError && e.file === undefined) {
      throw new UsageError(e.message, `${command} --help`);
    }
    throw e;
  }
}
