/** `golongrl bench`: performance against references measured in the same run. */
import type { Command } from "./command.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { CONFIG_FLAGS, configFromFlags } from "./config_flags.ts";
import { acquireGpu } from "../core/gpu/device.ts";
import { runtimeBench, runtimeBenchSchema } from "../core/bench/runtime.ts";
import { writeEffectiveConfig } from "../core/config.ts";
import { writeJsonAtomic } from "../core/fsutil.ts";

const runtime: Command = {
  name: "runtime",
  summary: "Batched submission and readback against one submit per dispatch.",
  usage: "golongrl bench runtime [--config FILE] [--set KEY=VALUE]... [--out DIR] [--json]",
  description:
    "Settings (defaults): bench.dispatches=128, bench.elements=65536, bench.readbacks=16,\n" +
    "bench.repeats=3. With --out, writes DIR/results.json and the effective DIR/config.json.",
  flags: {
    ...CONFIG_FLAGS,
    out: { type: "string", value: "DIR", description: "Write results.json and config.json here." },
    json: { type: "boolean", description: "Print results as JSON on stdout." },
    ...GPU_FLAGS,
  },
  examples: [
    "golongrl bench runtime",
    "golongrl bench runtime --set bench.dispatches=512 --out runs/bench",
  ],
  async run({ io, flags }) {
    const cfg = await configFromFlags(runtimeBenchSchema, flags, "golongrl bench runtime");
    const gpu = await acquireGpu(gpuOptions(flags));
    const r = await runtimeBench(gpu, cfg, flags.quiet as boolean);
    gpu.destroy();
    if (flags.out) {
      const dir = flags.out as string;
      await writeEffectiveConfig(dir, cfg);
      await writeJsonAtomic(`${dir}/results.json`, r);
    }
    if (flags.json) io.out(JSON.stringify(r, null, 2) + "\n");
    else {
      io.out(
        `adapter: ${r.adapter}\n` +
          `${r.dispatches} dispatches of ${r.elements} elements:\n` +
          `  one submit+wait per dispatch (reference)  ${r.perDispatchSubmitMs.toFixed(1)} ms\n` +
          `  one submission (recorder)                 ${r.batchedMs.toFixed(1)} ms   ` +
          `speed-up x${r.batchSpeedup.toFixed(1)}\n` +
          `${r.readbacks} readbacks of 4 KiB:\n` +
          `  one submit+map each (reference)           ${r.separateReadbacksMs.toFixed(1)} ms\n` +
          `  all after one submit (recorder)           ${r.batchedReadbacksMs.toFixed(1)} ms   ` +
          `speed-up x${r.readbackSpeedup.toFixed(1)}\n`,
      );
    }
  },
};

export const bench: Command = {
  name: "bench",
  summary: "Performance, as ratios against references measured in the same run.",
  usage: "golongrl bench <benchmark> [flags]",
  subcommands: [runtime],
};
