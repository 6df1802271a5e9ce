/** `--config FILE` and `--set KEY=VALUE`, for commands with many settings. */
import type { FlagSpec, FlagValues } from "./args.ts";
import { type ConfigOf, loadConfig, type Schema } from "../core/config.ts";

export const CONFIG_FLAGS: Record<string, FlagSpec> = {
  config: { type: "string", value: "FILE", description: "JSON or YAML settings file." },
  set: {
    type: "string",
    value: "KEY=VALUE",
    multiple: true,
    description: "Override one setting, e.g. --set bench.repeats=5.",
  },
};

export function configFromFlags<S extends Schema>(schema: S, flags: FlagValues): Promise<ConfigOf<S>> {
  return loadConfig(schema, {
    file: flags.config as string | undefined,
    overrides: (flags.set as string[] | undefined) ?? [],
  });
}
