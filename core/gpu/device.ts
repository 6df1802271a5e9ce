/**
 * Acquiring the WebGPU device.
 *
 * Order: a hardware adapter (high-performance preference), else the software
 * Vulkan adapter (Mesa lavapipe), else OpenGL (wgpu's default backend set gives
 * this order). The backend can be pinned with `backend` (or
 * DENO_WEBGPU_BACKEND); Deno reads it once per process, at the first adapter
 * request, so it must be chosen before any GPU work. A null adapter is retried
 * once. The device gets the adapter's maximum limits and the optional features
 * our kernels use; its loss becomes a {@link GpuError} on the next use.
 */
import { GpuError } from "../errors.ts";

export const BACKENDS = ["auto", "vulkan", "gl", "metal", "dx12"] as const;
export type Backend = typeof BACKENDS[number];
export const POWER = ["high-performance", "low-power"] as const;
export type PowerPreference = typeof POWER[number];

/** Optional features used when the adapter has them. */
export const WANTED_FEATURES = ["shader-f16", "timestamp-query", "subgroups"] as const;

/** Limit names from the WebGPU spec; each numeric one the adapter reports is requested at its max. */
const LIMIT_NAMES = [
  "maxTextureDimension1D",
  "maxTextureDimension2D",
  "maxTextureDimension3D",
  "maxTextureArrayLayers",
  "maxBindGroups",
  "maxBindGroupsPlusVertexBuffers",
  "maxBindingsPerBindGroup",
  "maxDynamicUniformBuffersPerPipelineLayout",
  "maxDynamicStorageBuffersPerPipelineLayout",
  "maxSampledTexturesPerShaderStage",
  "maxSamplersPerShaderStage",
  "maxStorageBuffersPerShaderStage",
  "maxStorageTexturesPerShaderStage",
  "maxUniformBuffersPerShaderStage",
  "maxUniformBufferBindingSize",
  "maxStorageBufferBindingSize",
  "minUniformBufferOffsetAlignment",
  "minStorageBufferOffsetAlignment",
  "maxVertexBuffers",
  "maxBufferSize",
  "maxVertexAttributes",
  "maxVertexBufferArrayStride",
  "maxInterStageShaderVariables",
  "maxColorAttachments",
  "maxColorAttachmentBytesPerSample",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
] as const;

export interface GpuOptions {
  backend?: Backend;
  powerPreference?: PowerPreference;
}

export interface AdapterDescription {
  description: string;
  vendor: string;
  architecture: string;
  device: string;
  isFallbackAdapter: boolean;
  /** "software" for CPU rasterizers (llvmpipe/lavapipe, SwiftShader, WARP), else "hardware". */
  kind: "software" | "hardware";
  /** The backend asked for ("auto" lets wgpu choose). */
  backendRequested: Backend;
  features: string[];
  limits: Record<string, number>;
}

/** What to install when no adapter is found. */
export const INSTALL_HINT =
  "No WebGPU adapter was found. Install a Vulkan driver: on Debian/Ubuntu " +
  "`apt-get install mesa-vulkan-drivers libvulkan1` (software Vulkan, lavapipe, works " +
  "without a GPU); with an NVIDIA or AMD GPU, its vendor's Vulkan driver. " +
  "Then check with `golongrl info`.";

let chosenBackend: Backend | undefined;

function selectBackend(backend: Backend): Backend {
  const env = Deno.env.get("DENO_WEBGPU_BACKEND");
  if (chosenBackend !== undefined) {
    if (backend !== "auto" && backend !== chosenBackend) {
      throw new GpuError(
        `the WebGPU backend is fixed once per process: already using ${chosenBackend}, ` +
          `cannot switch to ${backend}`,
      );
    }
    return chosenBackend;
  }
  if (backend !== "auto") Deno.env.set("DENO_WEBGPU_BACKEND", backend);
  chosenBackend = backend !== "auto"
    ? backend
    : (env && (BACKENDS as readonly string[]).includes(env) ? env as Backend : "auto");
  return chosenBackend;
}

function isSoftware(info: GPUAdapterInfo): boolean {
  return info.isFallbackAdapter ||
    /llvmpipe|lavapipe|softpipe|swiftshader|warp|basic render/i.test(info.description ?? "");
}

/** Describes an adapter: identity, features and limits. */
export function describeAdapter(adapter: GPUAdapter, backend: Backend): AdapterDescription {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[name];
    if (typeof v === "number") limits[name] = v;
  }
  return {
    description: info.description ?? "",
    vendor: info.vendor ?? "",
    architecture: info.architecture ?? "",
    device: info.device ?? "",
    isFallbackAdapter: info.isFallbackAdapter ?? false,
    kind: isSoftware(info) ? "software" : "hardware",
    backendRequested: backend,
    features: [...adapter.features].sort(),
    limits,
  };
}

/** Requests an adapter, retrying a null answer once. */
export async function requestAdapter(
  opts: GpuOptions = {},
): Promise<{ adapter: GPUAdapter; backend: Backend }> {
  const backend = selectBackend(opts.backend ?? "auto");
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
    throw new GpuError("this Deno runtime has no WebGPU (navigator.gpu is missing)");
  }
  const req = { powerPreference: opts.powerPreference ?? "high-performance" } as const;
  let adapter = await navigator.gpu.requestAdapter(req);
  if (!adapter) {
    await new Promise((r) => setTimeout(r, 200));
    adapter = await navigator.gpu.requestAdapter(req);
  }
  if (!adapter) {
    const pinned = backend !== "auto" ? ` with the ${backend} backend` : "";
    throw new GpuError(INSTALL_HINT.replace("was found", `was found${pinned}`));
  }
  return { adapter, backend };
}

/** An acquired device with what we know about it. */
export class Gpu {
  lostInfo?: GPUDeviceLostInfo;
  readonly errors: string[] = [];
  readonly features: Set<string>;
  /** Work counters: each submit and each readback (map) costs milliseconds in Deno, so we count them. */
  readonly counters = { submits: 0, readbacks: 0, dispatches: 0 };

  constructor(
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly description: AdapterDescription,
  ) {
    this.features = new Set(device.features);
    device.lost.then((info) => {
      this.lostInfo = info;
    });
    device.addEventListener("uncapturederror", (ev) => {
      this.errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  get hasF16(): boolean {
    return this.features.has("shader-f16");
  }
  get hasTimestamps(): boolean {
    return this.features.has("timestamp-query");
  }
  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws if the device was lost or reported an error since the last check. */
  check(): void {
    if (this.lostInfo && this.lostInfo.reason !== "destroyed") {
      throw new GpuError(
        `the GPU device was lost (${this.lostInfo.reason || "unknown reason"}): ` +
          `${this.lostInfo.message || "no message"}. Results since the last check are unusable; ` +
          "rerun, and if it repeats, lower the batch or sequence size (out of memory or a " +
          "driver timeout are the usual causes).",
      );
    }
    if (this.lostInfo) throw new GpuError("the GPU device was destroyed and cannot be used");
    if (this.errors.length) {
      const msg = this.errors.splice(0).join("; ");
      throw new GpuError(`the GPU reported an error: ${msg}`);
    }
  }

  destroy(): void {
    this.device.destroy();
  }
}

/** Acquires the adapter and a device with maximal limits and wanted features. */
export async function acquireGpu(opts: GpuOptions = {}): Promise<Gpu> {
  const { adapter, backend } = await requestAdapter(opts);
  const description = describeAdapter(adapter, backend);
  const requiredFeatures = WANTED_FEATURES.filter((f) =>
    adapter.features.has(f)
  ) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = { ...description.limits };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (e) {
    throw new GpuError(
      `could not create a GPU device on ${description.description}: ${(e as Error).message}`,
    );
  }
  return new Gpu(adapter, device, description);
}
