/**
 * Compute pipelines from WGSL, compiled once per device and source. A WGSL
 * error becomes a {@link GpuError} quoting the compiler's line and message, not
 * a silent invalid pipeline.
 */
import { GpuError } from "../errors.ts";
import type { Gpu } from "./device.ts";

const cache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** Returns the pipeline for `code` (entry point `main` unless given). */
export function pipeline(
  gpu: Gpu,
  label: string,
  code: string,
  entryPoint = "main",
): Promise<GPUComputePipeline> {
  let m = cache.get(gpu.device);
  if (!m) cache.set(gpu.device, m = new Map());
  const key = `${entryPoint}\0${code}`;
  let p = m.get(key);
  if (!p) {
    p = build(gpu, label, code, entryPoint);
    m.set(key, p);
    p.catch(() => m!.delete(key));
  }
  return p;
}

/**
 * Wraps a WGSL source generator so that each distinct argument list builds its text once.
 * Launchers call their generator on every dispatch (hundreds of times a decode step), and the
 * unrolled lane kernels take milliseconds to build (37 KB of text for a 0.6B decode attention:
 * 12.6 ms a step, before this); the pipeline cache then hashes the same string object again,
 * which V8 does once. The arguments must be JSON values that determine the text.
 */
export function memoSource<A extends unknown[]>(
  make: (...args: A) => string,
): (...args: A) => string {
  const built = new Map<string, string>();
  return (...args: A) => {
    const key = JSON.stringify(args);
    let src = built.get(key);
    if (src === undefined) built.set(key, src = make(...args));
    return src;
  };
}

async function build(gpu: Gpu, label: string, code: string, entryPoint: string) {
  gpu.check();
  const device = gpu.device;
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label, code });
  const pipe = device.createComputePipeline({
    label,
    layout: "auto",
    compute: { module, entryPoint },
  });
  const err = await device.popErrorScope();
  if (err) {
    let detail = err.message;
    try {
      const info = await module.getCompilationInfo();
      const msgs = info.messages.filter((m) => m.type === "error");
      if (msgs.length) {
        detail = msgs.map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`).join("; ");
      }
    } catch { /* keep the scope's message */ }
    throw new GpuError(`kernel "${label}" failed to compile: ${detail}`);
  }
  return pipe;
}
