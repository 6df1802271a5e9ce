/**
 * What a benchmark ran on: the CPU (model line, vector extensions, cores), the software
 * rasterizer's thread count, the WebGPU adapter, and the adapter's published FP32 peak when it
 * is one we know. Figures without this header cannot be compared across machines.
 */

import { env, parseCpuinfo } from "./header.ts";

/** The machine header of a bench report. */
export interface MachineInfo {
  /** `lscpu`'s "Model name" (else /proc/cpuinfo's "model name"); null when neither answers. */
  cpuModel: string | null;
  /** Vector extensions among the first CPU's flags (bench/header.ts; empty when unknown). */
  vectorExtensions: string[];
  /** Logical CPUs of the machine (`lscpu` "CPU(s)", else /proc/cpuinfo, else `usableCores`). */
  cores: number;
  /** Logical CPUs this process may use (affinity, cgroup quota): navigator.hardwareConcurrency. */
  usableCores: number;
  /** LP_NUM_THREADS (lavapipe's thread count), or null when unset. */
  lpNumThreads: string | null;
  /** GALLIUM_OVERRIDE_CPU_CAPS (Mesa compiles for fewer extensions than the CPU has), or null. */
  cpuCapsOverride: string | null;
  /** The adapter's description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"; null without one. */
  adapter: string | null;
  adapterKind: "software" | "hardware" | null;
  /** The adapter's published FP32 peak (GFLOP/s), or null with the reason in peakWhy. */
  peakGflops: number | null;
  peakWhy: string | null;
}

/** The "Model name" value of `lscpu` output, or null. */
export function lscpuModelName(text: string): string | null {
  const m = text.match(/^\s*Model name:\s*(.+?)\s*$/m);
  return m ? m[1] : null;
}

/** The "CPU(s)" count of `lscpu` output, or null. */
export function lscpuCpus(text: string): number | null {
  const m = text.match(/^\s*CPU\(s\):\s*(\d+)\s*$/m);
  return m ? Number(m[1]) : null;
}

/**
 * Published dense FP32 (non-tensor-core) peaks, in GFLOP/s, of adapters whose WebGPU
 * description names one product unambiguously. Vendor datasheet figures at boost clock; an
 * adapter not listed gets no peak (never an estimate).
 */
export const KNOWN_PEAKS: { pattern: RegExp; name: string; gflops: number }[] = [
  { pattern: /\bH200 NVL\b/i, name: "NVIDIA H200 NVL", gflops: 60_000 },
  { pattern: /\bH200\b(?!\s*NVL)/i, name: "NVIDIA H200 SXM", gflops: 67_000 },
  { pattern: /\bH100 PCIe\b/i, name: "NVIDIA H100 PCIe", gflops: 51_000 },
  { pattern: /\bH100 (80GB )?HBM3\b/i, name: "NVIDIA H100 SXM", gflops: 67_000 },
  { pattern: /\bA100\b/i, name: "NVIDIA A100", gflops: 19_500 },
  { pattern: /\bL40S\b/i, name: "NVIDIA L40S", gflops: 91_600 },
  { pattern: /\bL4\b/i, name: "NVIDIA L4", gflops: 30_300 },
  { pattern: /\bA10\b/i, name: "NVIDIA A10", gflops: 31_200 },
  { pattern: /\bTesla T4\b|\bT4\b/i, name: "NVIDIA T4", gflops: 8_100 },
  { pattern: /\bRTX 4090\b/i, name: "NVIDIA GeForce RTX 4090", gflops: 82_600 },
  { pattern: /\bRTX 3090\b(?!\s*Ti)/i, name: "NVIDIA GeForce RTX 3090", gflops: 35_600 },
];

/** The adapter's FP32 peak, or null and why (software adapter, unknown product, no adapter). */
export function adapterPeak(
  description: string | null,
  kind: "software" | "hardware" | null,
): { gflops: number | null; why: string | null } {
  if (description === null || kind === null) return { gflops: null, why: "no adapter" };
  if (kind === "software") {
    return { gflops: null, why: "software adapter (the CPU runs the shaders): no GPU peak" };
  }
  const hit = KNOWN_PEAKS.find((p) => p.pattern.test(description));
  return hit ? { gflops: hit.gflops, why: null } : {
    gflops: null,
    why: `peak unknown for "${description}" (not in the table of known adapters)`,
  };
}

async function commandText(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** Reads the machine header; the adapter comes from the caller (it owns the GPU). */
export async function machineInfo(
  adapter: { description: string; kind: "software" | "hardware" } | null,
): Promise<MachineInfo> {
  const lscpu = await commandText("lscpu", []);
  let cpuinfo = "";
  try {
    cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  } catch { /* not Linux: extensions stay unknown */ }
  const peak = adapterPeak(adapter?.description ?? null, adapter?.kind ?? null);
  const ci = parseCpuinfo(cpuinfo); // the same parse as every suite's text header
  return {
    cpuModel: (lscpu ? lscpuModelName(lscpu) : null) ?? (ci.cpu === "unknown" ? null : ci.cpu),
    vectorExtensions: ci.flags,
    cores: (lscpu ? lscpuCpus(lscpu) : null) ?? (ci.cpus || navigator.hardwareConcurrency),
    usableCores: navigator.hardwareConcurrency,
    lpNumThreads: env("LP_NUM_THREADS"),
    cpuCapsOverride: env("GALLIUM_OVERRIDE_CPU_CAPS"),
    adapter: adapter?.description ?? null,
    adapterKind: adapter?.kind ?? null,
    peakGflops: peak.gflops,
    peakWhy: peak.why,
  };
}

const PY_PROBE = `
import json
out = {}
for m in ("numpy", "torch"):
    try:
        out[m] = __import__(m).__version__
    except Exception:
        out[m] = None
print(json.dumps(out))
`;

/** Which Python references Debian's /usr/bin/python3 can import (numpy: CPU BLAS; torch). */
export async function pythonReferences(
  python = "/usr/bin/python3",
): Promise<{ numpy: string | null; torch: string | null; why: string | null }> {
  try {
    await Deno.stat(python);
  } catch {
    return { numpy: null, torch: null, why: `${python} not found` };
  }
  const text = await commandText(python, ["-c", PY_PROBE]);
  if (text === null) return { numpy: null, torch: null, why: `${python} failed to start` };
  try {
    const v = JSON.parse(text);
    const missing = ["numpy", "torch"].filter((m) => !v[m]);
    return {
      numpy: v.numpy ?? null,
      torch: v.torch ?? null,
      why: missing.length
        ? `${python} cannot import ${missing.join(" or ")} (Debian: python3-${
          missing.join(", python3-")
        })`
        : null,
    };
  } catch {
    return { numpy: null, torch: null, why: `${python} printed no module list` };
  }
}

/** The 1-, 5- and 15-minute load averages, or null off Linux. */
export async function loadAverage(): Promise<number[] | null> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).trim().split(/\s+/).slice(0, 3).map(Number);
  } catch {
    return null;
  }
}
