/**
 * Token embedding: out[i] = table[ids[i]] (table f32, or f16 packed two per u32 word), and its
 * backward dTable[ids[i]] += dOut[i].
 *
 * Tables are large (151k × 1024 f32 is 622 MB), so both directions walk the table in windows of
 * at most 128 MiB (a multiple of 128 rows, so f32 and f16 window starts are 256-byte aligned) and
 * the tokens in windows too. The forward runs one workgroup per token per table window; a token
 * whose id lies outside the window returns at once.
 *
 * The backward is deterministic without float atomics: the CPU groups positions by id (from
 * `idsHost`) and the groups travel in uniform buffers, which the recorder owns and frees after
 * the submission, so no temporary storage outlives the call. Each dispatch gives one workgroup
 * to each distinct id, which sums its positions in ascending order and adds the sum to the row.
 * An id never appears twice in one dispatch (an id with more positions than a uniform holds is
 * split across consecutive dispatches), so no two threads write one element.
 */
import type { Gpu } from "../core/gpu/device.ts";
import { pipeline } from "../core/gpu/pipelines.ts";
import type { Recorder } from "../core/gpu/recorder.ts";
import type { View } from "../core/tensor.ts";
import {
  access,
  bindWindow,
  BUILTINS,
  foldGrid,
  itemsPerWindow,
  needBytes,
  spans,
  uniform,
  WG_INDEX,
} from "./elementwise.ts";

function rowWg(dim: number): number {
  return dim <= 256 ? 64 : 256;
}

/** Forward source: one workgroup per token; ids outside [lo, hi) return (or write zeros). */
export const EMBED_FWD_WGSL = (
  wg: number,
  f16: boolean,
  tMode: string,
  iMode: string,
) => /* wgsl */ `
struct P { tokens: u32, dim: u32, lo: u32, hi: u32, vocab: u32, zeroInvalid: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, ${tMode}> table: array<${f16 ? "u32" : "f32"}>;
@group(0) @binding(1) var<storage, ${iMode}> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: P;

fn load(e: u32) -> f32 {
  ${f16 ? "return unpack2x16float(table[e >> 1u])[e & 1u];" : "return table[e];"}
}

@compute @workgroup_size(${wg})
fn main(${BUILTINS}) {
  let t = ${WG_INDEX};
  if (t >= p.tokens) { return; }
  let id = ids[t];
  let o = t * p.dim;
  if (id >= p.vocab) {
    if (p.zeroInvalid != 0u) {
      for (var c = lid.x; c < p.dim; c += ${wg}u) { out[o + c] = 0.0; }
    }
    return;
  }
  if (id < p.lo || id >= p.hi) { return; }
  let b = (id - p.lo) * p.dim;
  for (var c = lid.x; c < p.dim; c += ${wg}u) { out[o + c] = load(b + c); }
}`;

/**
 * Backward source over one uniform chunk of `cap` vec4 words: header (segments, dim, starts
 * offset, positions offset), then each segment's table row, the segments' start offsets into
 * the positions list (one more than segments), then the positions (token indices in the window).
 */
export const EMBED_BWD_WGSL = (wg: number, cap: number, gMode: string) => /* wgsl */ `
struct U { d: array<vec4u, ${cap}> }
@group(0) @binding(0) var<storage, ${gMode}> dout: array<f32>;
@group(0) @binding(1) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(2) var<uniform> u: U;

fn word(k: u32) -> u32 { return u.d[k >> 2u][k & 3u]; }

@compute @workgroup_size(${wg})
fn main(${BUILTINS}) {
  let seg = ${WG_INDEX};
  if (seg >= word(0u)) { return; }
  let dim = word(1u);
  let startsOff = word(2u);
  let posOff = word(3u);
  let row = word(4u + seg) * dim;
  let j0 = word(startsOff + seg);
  let j1 = word(startsOff + seg + 1u);
  for (var c = lid.x; c < dim; c += ${wg}u) {
    var acc = 0.0;
    for (var j = j0; j < j1; j++) { acc += dout[word(posOff + j) * dim + c]; }
    dtable[row + c] = dtable[row + c] + acc;
  }
}`;

/** Table rows per window: a multiple of 128 so both f32 and packed-f16 starts are aligned. */
function tableRowsPerWindow(gpu: Gpu, dim: number, bytes: number): number {
  return itemsPerWindow(gpu, dim * bytes, 128);
}

/** Records out[i, :] = table[ids[i], :] for `n` tokens (zeros for an id ≥ vocab). */
export async function embeddingForward(
  gpu: Gpu,
  rec: Recorder,
  a: {
    table: View;
    ids: View;
    out: View;
    n: number;
    dim: number;
    vocab: number;
    tableDtype?: "f32" | "f16";
  },
): Promise<void> {
  const { n, dim, vocab } = a;
  const f16 = a.tableDtype === "f16", eb = f16 ? 2 : 4;
  needBytes(a.table, Math.ceil((vocab * dim * eb) / 4) * 4, "embedding table");
  needBytes(a.ids, n * 4, "embedding ids");
  needBytes(a.out, n * dim * 4, "embedding out");
  if (n === 0 || dim === 0) return;
  const wg = rowWg(dim);
  const code = EMBED_FWD_WGSL(wg, f16, access(a.table, [a.out]), access(a.ids, [a.out]));
  const pipe = await pipeline(gpu, "embedding_fwd", code);
  const tableWins = spans(vocab, tableRowsPerWindow(gpu, dim, eb));
  for (const tw of spans(n, itemsPerWindow(gpu, dim * 4, 64))) {
    const ids = bindWindow(a.ids, tw.start * 4, tw.count * 4);
    const out = bindWindow(a.out, tw.start * dim * 4, tw.count * dim * 4);
    tableWins.forEach((vw, k) => {
      rec.dispatch(
        pipe,
        [
          bindWindow(a.table, vw.start * dim * eb, vw.count * dim * eb),
          ids,
          out,
          uniform(tw.count, dim, vw.start, vw.start + vw.count, vocab, k === 0 ? 1 : 0),
        ],
        foldGrid(gpu, tw.count),
        "embedding_fwd",
      );
    });
  }
}

/** Uniform capacity in vec4 words: the binding limit, at most 64 KiB. */
function uniformCapVec4(gpu: Gpu): number {
  return Math.floor(Math.min(gpu.limits.maxUniformBufferBindingSize, 65536) / 16);
}

/**
 * Packs segments (table row, ascending positions) into uniform chunks of at most `capWords`
 * words, splitting an id whose positions overflow a chunk across consecutive chunks.
 */
export function packEmbeddingChunks(
  segs: { row: number; pos: number[] }[],
  dim: number,
  capWords: number,
): Uint32Array[] {
  const chunks: Uint32Array[] = [];
  let rows: number[] = [], starts: number[] = [], pos: number[] = [];
  const flush = () => {
    if (!rows.length) return;
    const nseg = rows.length, startsOff = 4 + nseg, posOff = startsOff + nseg + 1;
    const w = new Uint32Array(posOff + pos.length);
    w.set([nseg, dim, startsOff, posOff]);
    w.set(rows, 4);
    w.set([...starts, pos.length], startsOff);
    w.set(pos, posOff);
    chunks.push(w);
    rows = [], starts = [], pos = [];
  };
  for (const s of segs) {
    let j = 0;
    while (j < s.pos.length) {
      // Words in use with this segment added: header, rows, starts + sentinel, positions.
      const space = capWords - (4 + 2 * (rows.length + 1) + 1 + pos.length);
      if (space < 1) {
        flush();
        continue;
      }
      const take = Math.min(space, s.pos.length - j);
      rows.push(s.row);
      starts.push(pos.length);
      for (let q = j; q < j + take; q++) pos.push(s.pos[q]);
      j += take;
      if (j < s.pos.length) flush(); // the rest of this id goes to the next chunk
    }
  }
  flush();
  return chunks;
}

/**
 * Records dTable[ids[i], :] += dOut[i, :] for `n` tokens, deterministically (see the module
 * comment). The grouping comes from `idsHost`, which must hold the same ids as `ids`; positions
 * with an id ≥ vocab are skipped.
 */
export async function embeddingBackward(
  gpu: Gpu,
  rec: Recorder,
  a: {
    ids: View;
    dOut: View;
    dTable: View;
    n: number;
    dim: number;
    vocab: number;
    idsHost: Uint32Array;
  },
): Promise<void> {
  const { n, dim, vocab, idsHost } = a;
  if (idsHost.length < n) {
    throw new Error(`embeddingBackward: idsHost has ${idsHost.length} < ${n}`);
  }
  needBytes(a.dOut, n * dim * 4, "embedding dOut");
  needBytes(a.dTable, vocab * dim * 4, "embedding dTable");
  if (n === 0 || dim === 0) return;
  const wg = rowWg(dim);
  const maxCap = uniformCapVec4(gpu);
  const tableWins = spans(vocab, tableRowsPerWindow(gpu, dim, 4));
  for (const tw of spans(n, itemsPerWindow(gpu, dim * 4, 64))) {
    // Positions of this token window, ordered by (id, position).
    const order = Array.from({ length: tw.count }, (_, i) => i)
      .filter((i) => idsHost[tw.start + i] < vocab)
      .sort((x, y) => idsHost[tw.start + x] - idsHost[tw.start + y] || x - y);
    const dOut = bindWindow(a.dOut, tw.start * dim * 4, tw.count * dim * 4);
    let q = 0;
    for (const vw of tableWins) {
      const segs: { row: number; pos: number[] }[] = [];
      const hi = vw.start + vw.count;
      while (q < order.length && idsHost[tw.start + order[q]] < hi) {
        const id = idsHost[tw.start + order[q]];
        const pos: number[] = [];
        while (q < order.length && idsHost[tw.start + order[q]] === id) pos.push(order[q++]);
        segs.push({ row: id - vw.start, pos });
      }
      if (!segs.length) continue;
      const dTable = bindWindow(a.dTable, vw.start * dim * 4, vw.count * dim * 4);
      for (const words of packEmbeddingChunks(segs, dim, maxCap * 4)) {
        let cap = 64;
        while (cap * 4 < words.length) cap *= 2;
        cap = Math.min(cap, maxCap);
        const u = new Uint32Array(cap * 4);
        u.set(words);
        const pipe = await pipeline(
          gpu,
          "embedding_bwd",
          EMBED_BWD_WGSL(wg, cap, access(a.dOut, [a.dTable])),
        );
        rec.dispatch(
          pipe,
          [dOut, dTable, { uniform: new Uint8Array(u.buffer) }],
          foldGrid(gpu, words[0]),
          "embedding_bwd",
        );
      }
    }
  }
}

/** CPU reference of the forward (f64 copy; f16 tables given as their f32 values). */
export function embeddingForwardRef(
  table: ArrayLike<number>,
  ids: ArrayLike<number>,
  dim: number,
  vocab: number,
): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= vocab) continue;
    for (let c = 0; c < dim; c++) out[i * dim + c] = table[ids[i] * dim + c];
  }
  return out;
}

/** CPU reference (f64) of the backward: dTable + Σ over positions of dOut rows. */
export function embeddingBackwardRef(
  dTable: ArrayLike<number>,
  ids: ArrayLike<number>,
  dOut: ArrayLike<number>,
  dim: number,
  vocab: number,
): Float64Array {
  const out = Float64Array.from(dTable);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= vocab) continue;
    for (let c = 0; c < dim; c++) out[ids[i] * dim + c] += dOut[i * dim + c];
  }
  return out;
}
