/** `golongrl info`: the GPU adapter, backend, features, limits, and versions. */
import { command } from "./command.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { formatReport, gpuReport } from "../core/gpu/report.ts";

export const info = command({
  name: "info",
  summary: "Show the GPU adapter, backend, features and limits, and versions.",
  usage: "golongrl info [--json] [--backend NAME] [--power PREF] [--no-detect]",
  description:
    "Exits 1 when no WebGPU adapter is found, with what to install. The backend is detected\n" +
    "by probing each one in a child process, unless --backend pins it or --no-detect is given.",
  flags: {
    json: { type: "boolean", description: "Print the report as JSON on stdout." },
    "no-detect": { type: "boolean", description: "Do not probe backends in child processes." },
    ...GPU_FLAGS,
  },
  examples: ["golongrl info", "golongrl info --json --backend vulkan"],
  async run({ io, flags }) {
    const report = await gpuReport({ ...gpuOptions(flags), detect: !flags["no-detect"] });
    io.out(flags.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report));
    if (!report.adapter) {
      if (flags.json) io.err(`golongrl: error: ${report.error}\n`);
      return 1;
    }
  },
});
