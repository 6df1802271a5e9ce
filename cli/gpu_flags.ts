/** Flags shared by every command that uses the GPU. */
import type { FlagsOf, FlagSpec } from "./args.ts";
import { BACKENDS, type GpuOptions, POWER } from "../core/gpu/device.ts";

export const GPU_FLAGS = {
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
} as const satisfies Record<string, FlagSpec>;

export function gpuOptions(
  flags: Pick<FlagsOf<typeof GPU_FLAGS>, "backend" | "power">,
): GpuOptions {
  return { backend: flags.backend, powerPreference: flags.power };
}
