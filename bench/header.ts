/**
 * The machine a benchmark ran on, printed at the top of every bench report so figures from two
 * machines can be compared: CPU model and its vector extensions (what llvmpipe's JIT can use),
 * the llvmpipe knobs from the environment, and the WebGPU adapter (llvmpipe names its LLVM
 * version and vector width there, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)").
 */

/** Host facts of one bench run. */
export interface BenchHost {
  /** CPU model name from /proc/cpuinfo ("unknown" elsewhere). */
  cpu: string;
  /** Logical CPUs the OS reports. */
  cpus: number;
  /** Vector extensions among the CPU flags, widest last (avx2, fma, avx512f, ...). */
  vectorExtensions: string[];
  /** LP_NUM_THREADS (llvmpipe worker threads; unset: one per CPU). */
  lpNumThreads: string | null;
  /** LP_NATIVE_VECTOR_WIDTH (llvmpipe SIMD width in bits; unset: the widest the CPU has). */
  lpNativeVectorWidth: string | null;
  /**
   * GALLIUM_OVERRIDE_CPU_CAPS: Mesa compiles as if the CPU lacked the extensions above the named
   * one ("avx": no AVX-512, as on an AVX2-only CPU); the flags above are then not what llvmpipe uses.
   */
  cpuCapsOverride: string | null;
  /** The adapter's description, or null for benches that use no GPU. */
  adapter: string | null;
}

/** Flags worth reporting, in the order printed (x86 then Arm). */
const VECTOR_FLAGS = [
  "sse4_2",
  "avx",
  "f16c",
  "fma",
  "avx2",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512_vnni",
  "avx512_bf16",
  "avx512_fp16",
  "amx_tile",
  "asimd",
  "asimdhp",
  "sve",
  "sve2",
];

/** Parses /proc/cpuinfo text: model name, logical CPU count, vector flags of the first CPU. */
export function parseCpuinfo(text: string): { cpu: string; cpus: number; flags: string[] } {
  let cpu = "unknown", cpus = 0;
  let flags: string[] | undefined;
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const key = line.slice(0, i).trim(), value = line.slice(i + 1).trim();
    if (key === "processor") cpus++;
    else if (key === "model name" && cpu === "unknown") cpu = value;
    else if ((key === "flags" || key === "Features") && !flags) flags = value.split(/\s+/);
  }
  const have = new Set(flags ?? []);
  return { cpu, cpus, flags: VECTOR_FLAGS.filter((f) => have.has(f)) };
}

/** An environment variable, or null when unset or not readable (no --allow-env). */
export function env(name: string): string | null {
  try {
    return Deno.env.get(name) ?? null;
  } catch {
    return null; // no --allow-env: report as unset
  }
}

/** Facts of this host; `adapter` is the GPU adapter's description when the bench used one. */
export function benchHost(adapter: string | null = null): BenchHost {
  let info = { cpu: "unknown", cpus: 0, flags: [] as string[] };
  try {
    info = parseCpuinfo(Deno.readTextFileSync("/proc/cpuinfo"));
  } catch { /* not Linux: leave unknown */ }
  return {
    cpu: info.cpu,
    cpus: info.cpus || navigator.hardwareConcurrency || 0,
    vectorExtensions: info.flags,
    lpNumThreads: env("LP_NUM_THREADS"),
    lpNativeVectorWidth: env("LP_NATIVE_VECTOR_WIDTH"),
    cpuCapsOverride: env("GALLIUM_OVERRIDE_CPU_CAPS"),
    adapter,
  };
}

/** The header lines printed above every bench report. */
export function formatBenchHeader(h: BenchHost): string {
  return `cpu: ${h.cpu} (${h.cpus} logical CPUs; vector: ${
    h.vectorExtensions.join(" ") || "none reported"
  })\n` +
    `llvmpipe: LP_NUM_THREADS=${h.lpNumThreads ?? "unset"} ` +
    `LP_NATIVE_VECTOR_WIDTH=${h.lpNativeVectorWidth ?? "unset"}${
      h.cpuCapsOverride ? ` GALLIUM_OVERRIDE_CPU_CAPS=${h.cpuCapsOverride}` : ""
    }\n` +
    `adapter: ${h.adapter ?? "none (this bench uses no GPU)"}\n`;
}
