/** `golongrl doctor`: report the GPU and run real kernels against CPU results. */
import { command } from "./command.ts";
import { GPU_FLAGS, gpuOptions } from "./gpu_flags.ts";
import { acquireGpu } from "../core/gpu/device.ts";
import { formatReport, gpuReport } from "../core/gpu/report.ts";
import { runSelfChecks } from "../engine/selfcheck.ts";
import { writeJsonAtomic } from "../core/fsutil.ts";

export const doctor = command({
  name: "doctor",
  summary: "Check the set-up: adapter, backend, and GPU kernels against CPU results.",
  usage: "golongrl doctor [--json] [--out DIR] [--seed N] [--backend NAME]",
  description: "Exits 0 when every check passes, 1 otherwise or when no adapter is found.",
  flags: {
    json: { type: "boolean", description: "Print the report as JSON on stdout." },
    out: { type: "string", value: "DIR", description: "Also write the report to DIR/doctor.json." },
    seed: {
      type: "integer",
      value: "N",
      default: 0,
      min: 0,
      description: "Seed for the test data.",
    },
    ...GPU_FLAGS,
  },
  examples: ["golongrl doctor", "golongrl doctor --json --out runs/doctor"],
  async run({ io, flags }) {
    const opts = gpuOptions(flags);
    const report = await gpuReport({ ...opts, detect: true });
    if (!report.adapter) {
      io.out(
        flags.json
          ? JSON.stringify({ ...report, checks: [], ok: false }, null, 2) + "\n"
          : formatReport(report),
      );
      io.err(`golongrl: error: ${report.error}\n`);
      return 1;
    }
    const gpu = await acquireGpu(opts);
    const checks = await runSelfChecks(gpu, flags.seed);
    gpu.destroy();
    const ok = checks.every((c) => c.ok);
    const full = { ...report, checks, ok };
    if (flags.out) {
      await Deno.mkdir(flags.out, { recursive: true });
      await writeJsonAtomic(`${flags.out}/doctor.json`, full);
    }
    if (flags.json) {
      io.out(JSON.stringify(full, null, 2) + "\n");
    } else {
      io.out(formatReport(report) + "\nchecks:\n");
      for (const c of checks) {
        io.out(
          `  ${c.ok ? "PASS" : "FAIL"}  ${c.name.padEnd(34)} max|gpu-cpu| ${
            c.error.toExponential(2)
          } ` +
            `(tol ${c.tolerance})  ${c.ms.toFixed(0)} ms  ${c.detail}\n`,
        );
      }
      io.out(
        ok
          ? `all ${checks.length} checks passed\n`
          : `${checks.filter((c) => !c.ok).length} check(s) FAILED\n`,
      );
    }
    return ok ? 0 : 1;
  },
});
