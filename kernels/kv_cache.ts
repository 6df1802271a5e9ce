/**
 * KV cache for generation: caches kCache and vCache are f32 [slots, hkv, maxLen, d]. A prompt's
 * keys and values fill one slot, each rollout's generated tokens another; decode reads the
 * prompt's slot as a shared prefix followed by the rollout's own slot, so n rollouts of a prompt
 * never copy its KV.
 *
 * Limit: each cache must fit one storage binding (maxStorageBufferBindingSize, 128 MiB here), so
 * slots · hkv · maxLen · d · 4 bytes ≤ that limit per layer cache.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import { sizeOf, type View } from "../core/tensor.ts";
import { grid1d } from "./axpy.ts";
import { bindWindow, checkHeads } from "./attention_util.ts";
import { forwardWgsl } from "./attention_wgsl.ts";
import { decodeLanesWgsl, laneShapeFor } from "./attention_lanes_wgsl.ts";

/** Arguments of {@link kvAppend}. */
export interface KvAppendArgs {
  /** k, v: [tokens, hkv, d]. */
  k: View;
  v: View;
  kCache: View;
  vCache: View;
  /** u32 [tokens]: cache slot of each token. */
  slots: View;
  /** u32 [tokens]: row within the slot of each token. */
  positions: View;
  tokens: number;
  hkv: number;
  headDim: number;
  maxLen: number;
}

const APPEND_WGSL = (d4: number) => /* wgsl */ `
const D4: u32 = ${d4}u;
struct Params { tokens: u32, hkv: u32, maxLen: u32, _a: u32 }
@group(0) @binding(0) var<storage, read> k: array<vec4f>;
@group(0) @binding(1) var<storage, read> v: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> kc: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> vc: array<vec4f>;
@group(0) @binding(4) var<storage, read> slots: array<u32>;
@group(0) @binding(5) var<storage, read> positions: array<u32>;
@group(0) @binding(6) var<uniform> p: Params;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.tokens * p.hkv * D4) { return; }
  let j = i % D4;
  let row = i / D4;          // t * hkv + g
  let g = row % p.hkv;
  let t = row / p.hkv;
  let dst = ((slots[t] * p.hkv + g) * p.maxLen + positions[t]) * D4 + j;
  kc[dst] = k[i];
  vc[dst] = v[i];
}`;

/** Bytes of the whole slots a cache view holds (all of them are bound: slots come from the GPU). */
function cacheBytes(name: string, c: View, hkv: number, maxLen: number, d: number): number {
  const slotBytes = hkv * maxLen * d * 4;
  const whole = Math.floor(sizeOf(c) / slotBytes) * slotBytes;
  if (whole === 0) throw new Error(`${name}: the cache holds less than one slot`);
  return whole;
}

/** Records writing k[t], v[t] into cache row (slots[t], positions[t]) for each token t. */
export async function kvAppend(gpu: Gpu, rec: Recorder, a: KvAppendArgs): Promise<void> {
  const name = "kvAppend";
  const d4 = checkHeads(name, a.hkv, a.hkv, a.headDim);
  if (a.tokens === 0) return;
  const rowBytes = a.tokens * a.hkv * a.headDim * 4;
  const cb = cacheBytes(name, a.kCache, a.hkv, a.maxLen, a.headDim);
  const pipe = await pipeline(gpu, "kv_append", APPEND_WGSL(d4));
  rec.dispatch(
    pipe,
    [
      bindWindow(gpu, name, "k", a.k, rowBytes),
      bindWindow(gpu, name, "v", a.v, rowBytes),
      bindWindow(gpu, name, "kCache", a.kCache, cb),
      bindWindow(gpu, name, "vCache", a.vCache, cb),
      bindWindow(gpu, name, "slots", a.slots, a.tokens * 4),
      bindWindow(gpu, name, "positions", a.positions, a.tokens * 4),
      { uniform: new Uint32Array([a.tokens, a.hkv, a.maxLen, 0]) },
    ],
    grid1d(gpu, a.tokens * a.hkv * d4),
    "kv_append",
  );
}

/** Arguments of {@link attentionDecode}. */
export interface AttentionDecodeArgs {
  /** [batch, hq, d]: one query token per sequence. */
  q: View;
  kCache: View;
  vCache: View;
  /** [batch, hq, d]. */
  out: View;
  /** u32 [batch, 4] = (prefixSlot, prefixLen, ownSlot, ownLen); prefixLen may be 0. */
  seqInfo: View;
  batch: number;
  hq: number;
  hkv: number;
  headDim: number;
  maxLen: number;
  scale: number;
  /**
   * Sequences come in runs of this many that share one prefix (slot and length): the rollouts
   * of one prompt, as generation lays them out. CPU adapters then read each prefix key once per
   * run instead of once per sequence. Default 1 (no sharing assumed).
   */
  rolloutsPerPrompt?: number;
}

/**
 * Records single-token attention for each sequence b: its query attends to the first prefixLen
 * rows of slot prefixSlot, then the first ownLen rows of slot ownSlot (prefixLen + ownLen ≥ 1).
 * One workgroup per (sequence, kv head) serves all query heads of the group, so each cached
 * key is read once per group.
 */
export async function attentionDecode(
  gpu: Gpu,
  rec: Recorder,
  a: AttentionDecodeArgs,
): Promise<void> {
  const name = "attentionDecode";
  const d4 = checkHeads(name, a.hq, a.hkv, a.headDim);
  if (a.batch === 0) return;
  const ratio = a.hq / a.hkv;
  const qBytes = a.batch * a.hq * a.headDim * 4;
  const cb = cacheBytes(name, a.kCache, a.hkv, a.maxLen, a.headDim);
  const buf = new ArrayBuffer(32);
  new Uint32Array(buf, 0, 4).set([a.batch, a.hq, a.hkv, a.maxLen]);
  new Float32Array(buf, 16, 1)[0] = a.scale;
  const bindings = [
    bindWindow(gpu, name, "q", a.q, qBytes),
    bindWindow(gpu, name, "kCache", a.kCache, cb),
    bindWindow(gpu, name, "vCache", a.vCache, cb),
    bindWindow(gpu, name, "out", a.out, qBytes),
    bindWindow(gpu, name, "seqInfo", a.seqInfo, a.batch * 16),
    { uniform: new Uint8Array(buf) },
  ];
  // CPU adapters: a lane per (sequence, kv group), no workgroup memory or barriers
  // (attention_lanes_wgsl.ts). The tiles below are the hardware path.
  const desc = gpu.description;
  const lanes = laneShapeFor(
    "decode",
    d4,
    ratio,
    desc.description,
    desc.kind === "software",
    a.rolloutsPerPrompt,
  );
  if (lanes) {
    const pipe = await pipeline(gpu, "attention_decode_lanes", decodeLanesWgsl(d4, lanes));
    if (a.batch % lanes.rt !== 0) {
      throw new Error(`${name}: ${lanes.rt} rollouts per lane do not divide the batch ${a.batch}`);
    }
    const laneCount = (a.batch / lanes.rt) * a.hkv * (ratio / lanes.rh);
    rec.dispatch(pipe, bindings, Math.ceil(laneCount / lanes.wg), "attention_decode");
    return;
  }
  const limit = gpu.limits.maxComputeWorkgroupStorageSize;
  let bk = 64;
  const bytes = (bk: number) => 16 * (ratio + bk) * d4 + 4 * ratio * bk + 16 * ratio + 64;
  while (bk > 8 && bytes(bk) > limit) bk /= 2;
  if (bytes(bk) > limit) {
    throw new Error(
      `${name}: ${ratio} query heads per kv head at d=${a.headDim} need more than the ${limit} ` +
        "bytes of workgroup memory (maxComputeWorkgroupStorageSize)",
    );
  }
  const pipe = await pipeline(
    gpu,
    "attention_decode",
    forwardWgsl("decode", d4, { bq: ratio, bk }),
  );
  rec.dispatch(pipe, bindings, [a.batch, a.hkv], "attention_decode");
}
