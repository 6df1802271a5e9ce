/** Flags shared by every command that uses the GPU. */
import type { FlagSpec } from "./args.ts";
import { BACKENDS, type GpuOptions, POWER } from "../core/gpu/device.ts";
import type { FlagValues } from "./args.ts";

export const GPU_FLAGS: Record<string, FlagSpec> = {
  backend: {
    type: "string",
    value: "NAME",
    choices: BACKENDS,
    default: "auto",
    description: "WebGPU backend (auto: hardware first, then software Vulkan, then OpenGL).",
  },
  power: {
    type: "string",
    value: "PREF",
    choices: POWER,
    default: "high-performance",
    description: "Adapter power preference.",
  },
};

export function gpuOptions(flags: FlagValues): GpuOptions {
  return {
    backend: flags.backend as GpuOptions["backend"],
    powerPreference: flags.power as GpuOptions["powerPreference"],
  };
}
