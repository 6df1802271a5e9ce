/** Argument checks shared by the attention and KV-cache launchers. */
import type { Gpu } from "../core/gpu/device.ts";
import { sizeOf, type View, windowOf } from "../core/tensor.ts";

/** Checks the head shape shared by every attention kernel; returns d / 4. */
export function checkHeads(name: string, hq: number, hkv: number, headDim: number): number {
  if (!(hkv >= 1 && hq >= hkv && hq % hkv === 0)) {
    throw new Error(`${name}: hq (${hq}) must be a positive multiple of hkv (${hkv})`);
  }
  if (!(headDim >= 4 && headDim <= 256 && headDim % 4 === 0)) {
    throw new Error(`${name}: headDim ${headDim} must be a multiple of 4 in 4..256`);
  }
  return headDim / 4;
}

/**
 * The first `bytes` of a view, checked against its size and the storage binding limit
 * (maxStorageBufferBindingSize): a tensor that does not fit one binding is refused by name.
 */
export function bindWindow(gpu: Gpu, name: string, what: string, v: View, bytes: number): View {
  const size = sizeOf(v);
  if (size < bytes) throw new Error(`${name}: ${what} holds ${size} bytes, needs ${bytes}`);
  const limit = gpu.limits.maxStorageBufferBindingSize;
  if (bytes > limit) {
    throw new Error(
      `${name}: ${what} is ${bytes} bytes, over the ${limit}-byte storage binding limit ` +
        "(maxStorageBufferBindingSize); use fewer tokens per call",
    );
  }
  return windowOf(v, 0, Math.max(4, bytes));
}
