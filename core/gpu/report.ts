/**
 * What `golongrl info` reports: the adapter golongrl would use, which backend
 * serves it, and the runtime's versions. The backend is detected by asking each
 * backend for its adapter in a child process (Deno fixes the backend once per
 * process) and matching it with the adapter chosen here.
 */
import {
  type AdapterDescription,
  type Backend,
  describeAdapter,
  type GpuOptions,
  requestAdapter,
} from "./device.ts";
import { packageVersions, runtimeVersions } from "../version.ts";
import { selfCommand } from "../self.ts";

export interface Report {
  versions: Record<string, string>;
  packages: Record<string, string>;
  adapter: AdapterDescription | null;
  /** The backend serving the adapter: pinned, detected, or "unknown". */
  backend: string;
  /** Per-backend probe results (only when detection ran). */
  backends?: Record<string, { description: string; kind: string } | null>;
  error?: string;
}

/** Backends worth probing on this OS, in wgpu's preference order. */
export function probeOrder(): Backend[] {
  switch (Deno.build.os) {
    case "darwin":
      return ["metal", "vulkan", "gl"];
    case "windows":
      return ["vulkan", "dx12", "gl"];
    default:
      return ["vulkan", "gl"];
  }
}

/** Runs `info --json --no-detect --backend B` in a child process. */
async function probe(backend: Backend, power: string): Promise<AdapterDescription | null> {
  const self = selfCommand();
  const cmd = new Deno.Command(self.cmd, {
    args: [...self.args, "info", "--json", "--no-detect", "--backend", backend, "--power", power],
    cwd: self.cwd,
    env: { DENO_WEBGPU_BACKEND: backend },
    stdout: "piped",
    stderr: "null",
  });
  try {
    const out = await cmd.output();
    const r = JSON.parse(new TextDecoder().decode(out.stdout)) as Report;
    return r.adapter;
  } catch {
    return null;
  }
}

function same(a: AdapterDescription, b: AdapterDescription): boolean {
  return a.description === b.description && a.vendor === b.vendor && a.device === b.device &&
    JSON.stringify(a.features) === JSON.stringify(b.features) &&
    JSON.stringify(a.limits) === JSON.stringify(b.limits);
}

/** Builds the report; `detect` probes each backend in child processes. */
export async function gpuReport(opts: GpuOptions & { detect?: boolean } = {}): Promise<Report> {
  const report: Report = {
    versions: runtimeVersions(),
    packages: packageVersions(),
    adapter: null,
    backend: "unknown",
  };
  let chosen: Backend = "auto";
  try {
    const { adapter, backend } = await requestAdapter(opts);
    chosen = backend;
    report.adapter = describeAdapter(adapter, backend);
  } catch (e) {
    report.error = (e as Error).message;
  }
  if (chosen !== "auto") report.backend = chosen;
  else if (opts.detect !== false && report.adapter) {
    report.backends = {};
    const found = await Promise.all(
      probeOrder().map((b) => probe(b, opts.powerPreference ?? "high-performance")),
    );
    for (const [i, b] of probeOrder().entries()) {
      const d = found[i];
      report.backends[b] = d ? { description: d.description, kind: d.kind } : null;
      if (d && report.backend === "unknown" && same(d, report.adapter)) report.backend = b;
    }
  }
  return report;
}

/** A human-readable rendering of the report. */
export function formatReport(r: Report): string {
  const lines: string[] = [];
  const v = r.versions;
  lines.push(
    `golongrl ${v.golongrl}  (deno ${v.deno}, v8 ${v.v8}, typescript ${v.typescript}, ${v.os}/${v.arch})`,
  );
  const pk = Object.entries(r.packages).map(([k, ver]) => `${k}@${ver}`).join(", ");
  if (pk) lines.push(`packages: ${pk}`);
  if (!r.adapter) {
    lines.push(`adapter:  none`, `error:    ${r.error ?? "unknown"}`);
    return lines.join("\n") + "\n";
  }
  const a = r.adapter;
  lines.push(
    `adapter:  ${a.description} (${a.kind}${
      a.isFallbackAdapter ? ", fallback" : ""
    }; vendor ${a.vendor}${a.architecture ? `, ${a.architecture}` : ""})`,
    `backend:  ${r.backend}`,
  );
  if (r.backends) {
    const bs = Object.entries(r.backends).map(([b, d]) => `${b}: ${d ? d.description : "none"}`)
      .join("; ");
    lines.push(`probed:   ${bs}`);
  }
  lines.push(`features: ${a.features.join(", ")}`);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  const L = a.limits;
  lines.push(
    `limits:   storage binding ${mib(L.maxStorageBufferBindingSize)}, buffer ${
      mib(L.maxBufferSize)
    }, ` +
      `${L.maxStorageBuffersPerShaderStage} storage buffers/stage, workgroup memory ${L.maxComputeWorkgroupStorageSize} B, ` +
      `${L.maxComputeInvocationsPerWorkgroup} invocations/workgroup, ${L.maxComputeWorkgroupsPerDimension} workgroups/dim`,
  );
  return lines.join("\n") + "\n";
}
