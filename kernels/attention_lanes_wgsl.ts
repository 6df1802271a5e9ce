/**
 * WGSL sources for flash attention on CPU adapters (lavapipe/llvmpipe), where the invocations
 * of a workgroup are the lanes of one SIMD vector on one CPU thread.
 *
 * An invocation owns whole rows: query rows in the forward and dQ kernels, key rows in the
 * dK/dV kernel. A row's operands (q, dOut or k, v) and accumulators live in registers (vec4
 * variables, unrolled in the generated text); the other side's rows (keys and values, or
 * queries and dOut) are read with indices uniform across the workgroup. There is no workgroup
 * memory, no barrier (each barrier is a coroutine switch on llvmpipe) and no cross-lane
 * reduction: the online softmax of a query row is its lane's own running max and sum.
 *
 * llvmpipe (Mesa 22.3) loads storage buffers lane by lane, uniform index or not, so what sets
 * the speed is how many multiply-adds each loaded scalar feeds: a lane owns several rows (the
 * query heads of one kv group for a token, GQA sharing one K/V load, then several tokens), as
 * the matmul's `dot` kernels own several rows and columns. See docs/performance.md.
 *
 * Keys (or queries) go in blocks of `bk`: one max and one rescale of the accumulators per
 * block, and `bk` independent dot products for the CPU to overlap. The workgroup is as wide
 * as the native SIMD vector (8 f32 lanes for 256-bit llvmpipe), so the causal loop bound,
 * which is uniform across the workgroup, wastes at most one vector of rows on the diagonal.
 *
 * Masked scores are -3e38 and the running max starts at -1e30, so exp(masked - max) is 0
 * without a select and a row whose first blocks are all masked keeps a zero accumulator.
 * The tiled kernels in `attention_wgsl.ts` (workgroup-memory tiles) stay the hardware path.
 */
import { bindingsWgsl, decodeParams, prefillParams } from "./attention_wgsl.ts";
import { memoSource } from "../core/gpu/pipelines.ts";

/**
 * Lanes per workgroup, keys (or queries) per block, and rows per lane: `rt` tokens (strided by
 * `wg`) times `rh` query heads of one kv group. Each loaded key scalar then feeds `rt·rh`
 * rows' multiply-adds (register blocking, as in the matmul's `dot` kernels); the dK/dV kernel
 * uses `rt` key tokens per lane.
 */
export interface LaneShape {
  wg: number;
  bk: number;
  rt: number;
  rh: number;
}

const range = (n: number) => [...Array(n).keys()];

// The tiled kernels' uniform layout and sequence lookup, plus the lanes' own constants.
const params = prefillParams + "const NEG: f32 = -3.0e38;\nconst INIT: f32 = -1.0e30;\n";

/** `f(0) + f(1) + ...` of `n` terms. */
const sum = (n: number, f: (j: number) => string) => range(n).map(f).join(" + ");
/** Lines `f(i)` for i < n, indented. */
const lines = (n: number, f: (i: number) => string, pad = "  ") =>
  range(n).map((i) => pad + f(i)).join("\n");

/**
 * The query rows of a lane in the forward and dQ kernels: token `row{ti}` (clamped `rr{ti}`,
 * sequence start `rs{ti}`) and head `h0 + hi`; row r = ti·rh + hi. Workgroup (row block, head
 * block of `rh` heads inside one kv group); keys run from the block's first sequence start to
 * its last token.
 */
function queryRows(d4: number, s: LaneShape): string {
  const span = s.wg * s.rt;
  return /* wgsl */ `
  let h0 = wid.y * ${s.rh}u;
  let g = h0 / (p.hq / p.hkv);
  let r0 = wid.x * ${span}u;
  let kbeg = seqStarts[seqOf(r0)];
  let kend = min(r0 + ${span}u, p.T);
${lines(s.rt, (ti) => `let row${ti} = r0 + t + ${s.wg * ti}u;`)}
${lines(s.rt, (ti) => `let rr${ti} = min(row${ti}, p.T - 1u);`)}
${lines(s.rt, (ti) => `let rs${ti} = seqStarts[seqOf(rr${ti})];`)}
${
    range(s.rt).flatMap((ti) =>
      range(s.rh).map((hi) =>
        `  let qa${ti * s.rh + hi} = (rr${ti} * p.hq + h0 + ${hi}u) * ${d4}u;`
      )
    ).join("\n")
  }`;
}

/** Forward: out and lse per (query row, head). */
function forwardLanesSource(d4: number, s: LaneShape): string {
  const R = s.rt * s.rh;
  const ti = (r: number) => Math.floor(r / s.rh);
  return /* wgsl */ `
${params}
${bindingsWgsl.fwd}
@compute @workgroup_size(${s.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
${queryRows(d4, s)}
${range(R).map((r) => lines(d4, (j) => `let q${r}_${j} = q[qa${r} + ${j}u] * p.scale;`)).join("\n")}
${range(R).map((r) => lines(d4, (j) => `var a${r}_${j} = vec4f(0.0);`)).join("\n")}
${lines(R, (r) => `var m${r} = INIT;`)}
${lines(R, (r) => `var l${r} = 0.0;`)}
${
    keyLoop(d4, s.bk, range(R), {
      from: "kbeg",
      to: "kend",
      addr: (c) => `(min(k0 + ${c}u, kend - 1u) * p.hkv + g) * ${d4}u`,
      visible: (r, c) => `k0 + ${c}u <= rr${ti(r)} && k0 + ${c}u >= rs${ti(r)}`,
    })
  }
${
    range(R).map((r) =>
      `  if (row${ti(r)} < p.T) {
    let inv = 1.0 / l${r};
${lines(d4, (j) => `o[qa${r} + ${j}u] = a${r}_${j} * inv;`, "    ")}
    lse[qa${r} / ${d4}u] = m${r} + log(l${r});
  }`
    ).join("\n")
  }
}`;
}

/**
 * dQ per (query row, head): P = exp(s - lse), dP = dOut·v, dS = P ∘ (dP - delta),
 * dQ = scale · Σ dS k over the row's causal keys.
 */
function dqLanesSource(d4: number, s: LaneShape): string {
  const R = s.rt * s.rh, C = range(s.bk);
  const ti = (r: number) => Math.floor(r / s.rh);
  return /* wgsl */ `
${params}
${bindingsWgsl.dq}
@compute @workgroup_size(${s.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
${queryRows(d4, s)}
${lines(R, (r) => `let rl${r} = ld[qa${r} / ${d4}u];`)}
${range(R).map((r) => lines(d4, (j) => `let q${r}_${j} = q[qa${r} + ${j}u] * p.scale;`)).join("\n")}
${range(R).map((r) => lines(d4, (j) => `let o${r}_${j} = dO[qa${r} + ${j}u];`)).join("\n")}
${range(R).map((r) => lines(d4, (j) => `var a${r}_${j} = vec4f(0.0);`)).join("\n")}
  for (var k0 = kbeg; k0 < kend; k0 += ${s.bk}u) {
${lines(s.bk, (c) => `let ka${c} = (min(k0 + ${c}u, kend - 1u) * p.hkv + g) * ${d4}u;`, "    ")}
${C.map((c) => lines(d4, (j) => `let kv${c}_${j} = k[ka${c} + ${j}u];`, "    ")).join("\n")}
${C.map((c) => lines(d4, (j) => `let vv${c}_${j} = v[ka${c} + ${j}u];`, "    ")).join("\n")}
${
    range(R).map((r) =>
      lines(s.bk, (c) =>
        `let s${r}_${c} = select(NEG, ${
          sum(d4, (j) => `dot(q${r}_${j}, kv${c}_${j})`)
        }, ` +
        `k0 + ${c}u <= rr${ti(r)} && k0 + ${c}u >= rs${ti(r)});`, "    ")
    ).join("\n")
  }
${
    range(R).map((r) =>
      lines(s.bk, (c) =>
        `let d${r}_${c} = exp(s${r}_${c} - rl${r}.x) * ` +
        `(${sum(d4, (j) => `dot(o${r}_${j}, vv${c}_${j})`)} - rl${r}.y);`, "    ")
    ).join("\n")
  }
${
    range(R).map((r) =>
      lines(d4, (j) => `a${r}_${j} += ${sum(s.bk, (c) => `d${r}_${c} * kv${c}_${j}`)};`, "    ")
    ).join("\n")
  }
  }
${
    range(R).map((r) =>
      `  if (row${ti(r)} < p.T) {
${lines(d4, (j) => `dq[qa${r} + ${j}u] = a${r}_${j} * p.scale;`, "    ")}
  }`
    ).join("\n")
  }
}`;
}

/**
 * dK, dV per (key row, kv head): over the group's query heads and the queries that see the
 * key (from the workgroup's first key to the end of its last key's sequence), dV += P dOut and
 * dK += dS (scale·q). Each key row has one owner: no atomics. A lane owns `rt` keys (strided
 * by `wg`); workgroup (key block, kv head).
 */
function dkdvLanesSource(d4: number, s: LaneShape): string {
  const R = s.rt, C = range(s.bk);
  const span = s.wg * s.rt;
  return /* wgsl */ `
${params}
${bindingsWgsl.dkdv}
@compute @workgroup_size(${s.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let g = wid.y;
  let ratio = p.hq / p.hkv;
  let c0 = wid.x * ${span}u;
  let qend = seqStarts[seqOf(min(c0 + ${span}u, p.T) - 1u) + 1u];
${lines(R, (r) => `let key${r} = c0 + t + ${s.wg * r}u;`)}
${lines(R, (r) => `let kr${r} = min(key${r}, p.T - 1u);`)}
${lines(R, (r) => `let qstop${r} = seqStarts[seqOf(kr${r}) + 1u];`)}
${lines(R, (r) => `let ka${r} = (kr${r} * p.hkv + g) * ${d4}u;`)}
${range(R).map((r) => lines(d4, (j) => `let k${r}_${j} = k[ka${r} + ${j}u] * p.scale;`)).join("\n")}
${range(R).map((r) => lines(d4, (j) => `let v${r}_${j} = v[ka${r} + ${j}u];`)).join("\n")}
${range(R).map((r) => lines(d4, (j) => `var ak${r}_${j} = vec4f(0.0);`)).join("\n")}
${range(R).map((r) => lines(d4, (j) => `var av${r}_${j} = vec4f(0.0);`)).join("\n")}
  for (var hh = 0u; hh < ratio; hh++) {
    let h = g * ratio + hh;
    for (var i0 = c0; i0 < qend; i0 += ${s.bk}u) {
${lines(s.bk, (c) => `let qa${c} = (min(i0 + ${c}u, qend - 1u) * p.hq + h) * ${d4}u;`, "      ")}
${lines(s.bk, (c) => `let l${c} = ld[qa${c} / ${d4}u];`, "      ")}
${C.map((c) => lines(d4, (j) => `let qv${c}_${j} = q[qa${c} + ${j}u];`, "      ")).join("\n")}
${C.map((c) => lines(d4, (j) => `let ov${c}_${j} = dO[qa${c} + ${j}u];`, "      ")).join("\n")}
${
    range(R).map((r) =>
      lines(s.bk, (c) =>
        `let e${r}_${c} = select(0.0, exp(${
          sum(d4, (j) => `dot(k${r}_${j}, qv${c}_${j})`)
        } - ` +
        `l${c}.x), i0 + ${c}u < qstop${r} && i0 + ${c}u >= kr${r});`, "      ")
    ).join("\n")
  }
${
    range(R).map((r) =>
      lines(s.bk, (c) =>
        `let d${r}_${c} = e${r}_${c} * (${
          sum(d4, (j) => `dot(v${r}_${j}, ov${c}_${j})`)
        } - ` +
        `l${c}.y);`, "      ")
    ).join("\n")
  }
${
    range(R).map((r) =>
      lines(d4, (j) => `av${r}_${j} += ${sum(s.bk, (c) => `e${r}_${c} * ov${c}_${j}`)};`, "      ")
    ).join("\n")
  }
${
    range(R).map((r) =>
      lines(d4, (j) => `ak${r}_${j} += ${sum(s.bk, (c) => `d${r}_${c} * qv${c}_${j}`)};`, "      ")
    ).join("\n")
  }
    }
  }
${
    range(R).map((r) =>
      `  if (key${r} < p.T) {
${lines(d4, (j) => `dk[ka${r} + ${j}u] = ak${r}_${j} * p.scale;`, "    ")}
${lines(d4, (j) => `dv[ka${r} + ${j}u] = av${r}_${j};`, "    ")}
  }`
    ).join("\n")
  }
}`;
}

/**
 * Decode (one query token per sequence, keys from the KV cache; `kv_cache.ts`). A lane owns
 * `rt` rollouts of one prompt (consecutive sequences sharing its prefix slot; the caller makes
 * `rt` divide the rollouts per prompt) times the `rh` query heads of one kv group: each key of
 * the shared prefix is loaded once for all `rt·rh` rows, each rollout's own keys once for its
 * `rh` rows. Lane i is (rollout block, kv group, head block) = (i / (hkv·hb), (i / hb) % hkv,
 * i % hb) with hb = ratio / rh. A workgroup may span prompts: llvmpipe loads lane by lane, so
 * lanes reading different keys cost no more than lanes reading the same.
 * Params: batch, hq, hkv, maxLen, scale; seqInfo per sequence: (prefix slot, prefix length,
 * own slot, own length).
 */
function decodeLanesSource(d4: number, s: LaneShape): string {
  const R = s.rt * s.rh;
  /** Rows of rollout i of the lane's block: r = i·rh + head. */
  const rowsOf = (i: number) => range(s.rh).map((h) => i * s.rh + h);
  return /* wgsl */ `
${decodeParams}const NEG: f32 = -3.0e38;
const INIT: f32 = -1.0e30;

${bindingsWgsl.decode}
@compute @workgroup_size(${s.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let hb = p.hq / p.hkv / ${s.rh}u;
  let lane = wid.x * ${s.wg}u + t;
  let blocks = p.batch / ${s.rt}u;
  let blk = min(lane / (p.hkv * hb), blocks - 1u);
  let g = (lane / hb) % p.hkv;
  let h0 = g * (p.hq / p.hkv) + (lane % hb) * ${s.rh}u;
${lines(s.rt, (i) => `let info${i} = seqInfo[blk * ${s.rt}u + ${i}u];`)}
${
    range(s.rt).flatMap((i) =>
      rowsOf(i).map((r) =>
        `  let qa${r} = ((blk * ${s.rt}u + ${i}u) * p.hq + h0 + ${r % s.rh}u) * ${d4}u;`
      )
    ).join("\n")
  }
${range(R).map((r) => lines(d4, (j) => `let q${r}_${j} = q[qa${r} + ${j}u] * p.scale;`)).join("\n")}
${range(R).map((r) => lines(d4, (j) => `var a${r}_${j} = vec4f(0.0);`)).join("\n")}
${lines(R, (r) => `var m${r} = INIT;`)}
${lines(R, (r) => `var l${r} = 0.0;`)}
  // The shared prefix: every row of the lane.
${keyLoop(d4, s.bk, range(R), ownKeys(d4, "info0.y", "(info0.x * p.hkv + g) * p.maxLen"))}
${
    range(s.rt).map((i) =>
      `  // Rollout ${i}'s own tokens: its rows only.\n` +
      keyLoop(d4, s.bk, rowsOf(i), ownKeys(d4, `info${i}.w`, `(info${i}.z * p.hkv + g) * p.maxLen`))
    ).join("\n")
  }
  if (lane < blocks * p.hkv * hb) {
${
    range(R).map((r) =>
      `    let inv${r} = 1.0 / l${r};
${lines(d4, (j) => `o[qa${r} + ${j}u] = a${r}_${j} * inv${r};`, "    ")}`
    ).join("\n")
  }
  }
}`;
}

/**
 * The keys one online-softmax loop walks: k0 from `from` below `to` in blocks, where key c of a
 * block lives (index of its first vec4) and whether row r sees it (the rest score -3e38).
 */
interface KeyWalk {
  from: string;
  to: string;
  addr: (c: number) => string;
  visible: (r: number, c: number) => string;
}

/** Decode: the first `len` cached rows from row `base` (in d-vectors) of one (slot, kv group). */
function ownKeys(d4: number, len: string, base: string): KeyWalk {
  return {
    from: "0u",
    to: len,
    addr: (c) => `(${base} + min(k0 + ${c}u, ${len} - 1u)) * ${d4}u`,
    visible: (_r, c) => `k0 + ${c}u < ${len}`,
  };
}

/**
 * One online-softmax pass of `rows` over the keys of `w`, `bk` keys a block: each block's keys
 * and values are loaded once for all the rows (the lane kernels' forward and decode).
 */
function keyLoop(d4: number, bk: number, rows: number[], w: KeyWalk): string {
  const C = range(bk), pad = "    ";
  const each = (f: (r: number) => string) => rows.map((r) => pad + f(r)).join("\n");
  return `  for (var k0 = ${w.from}; k0 < ${w.to}; k0 += ${bk}u) {
${lines(bk, (c) => `let ka${c} = ${w.addr(c)};`, pad)}
${C.map((c) => lines(d4, (j) => `let kv${c}_${j} = k[ka${c} + ${j}u];`, pad)).join("\n")}
${
    rows.map((r) =>
      lines(bk, (c) =>
        `let s${r}_${c} = select(NEG, ${
          sum(d4, (j) => `dot(q${r}_${j}, kv${c}_${j})`)
        }, ${w.visible(r, c)});`, pad)
    ).join("\n")
  }
${
    each((r) =>
      `let mx${r} = max(m${r}, ${C.map((c) => `s${r}_${c}`).reduce((x, y) => `max(${x}, ${y})`)});`
    )
  }
${each((r) => `let al${r} = exp(m${r} - mx${r});`)}
${rows.map((r) => lines(bk, (c) => `let e${r}_${c} = exp(s${r}_${c} - mx${r});`, pad)).join("\n")}
${each((r) => `l${r} = l${r} * al${r} + ${sum(bk, (c) => `e${r}_${c}`)};`)}
${each((r) => `m${r} = mx${r};`)}
${C.map((c) => lines(d4, (j) => `let vv${c}_${j} = v[ka${c} + ${j}u];`, pad)).join("\n")}
${
    rows.map((r) =>
      lines(
        d4,
        (j) => `a${r}_${j} = a${r}_${j} * al${r} + ${sum(bk, (c) => `e${r}_${c} * vv${c}_${j}`)};`,
        pad,
      )
    ).join("\n")
  }
  }`;
}

/** Forced shapes (benchmarks and tests): "tiles" forces the workgroup-memory kernels. */
export const laneOverride: Partial<
  Record<"fwd" | "dq" | "dkdv" | "decode", LaneShape | "tiles">
> = {};

/**
 * f32 lanes of the adapter's SIMD vector, from llvmpipe's description ("llvmpipe (LLVM 15.0.6,
 * 256 bits)"); 8 when the description does not say.
 */
export function simdLanes(description: string): number {
  const m = /(\d+) bits/.exec(description);
  const bits = m ? Number(m[1]) : 256;
  return Math.max(4, Math.min(16, Math.floor(bits / 32)));
}

/**
 * The lane-per-row shape for a kernel on a CPU adapter (`software`), undefined on hardware
 * GPUs (they take the tiled kernels). One workgroup is one SIMD vector of rows.
 */
export function laneShapeFor(
  kind: "fwd" | "dq" | "dkdv" | "decode",
  d4: number,
  ratio: number,
  description: string,
  software: boolean,
  /** Decode: rollouts per prompt (sequences sharing a prefix slot), 1 by default. */
  rollouts = 1,
): LaneShape | undefined {
  const forced = laneOverride[kind];
  if (forced === "tiles") return undefined;
  if (forced) return forced;
  if (!software) return undefined;
  // Rows per lane: each loaded key (or query) scalar feeds that many rows' multiply-adds, and
  // on llvmpipe the loads (a per-lane loop each) cost more than the multiply-adds. The limit is
  // LLVM's compile time on the unrolled body, which grows steeply with rows x keys per block:
  // LLVM 15, d 64, Mesa's shader cache off: 4 rows x 2 keys ~10 s, 8 x 2 ~100 s, 8 x 4 over
  // 40 s, but 8 x 1 ~4 s and 16 x 1 ~13 s. One key per block (a rescale per key) with twice
  // the rows ran 1.6x faster than 4 x 2 at T = 4096 (forward 11.9 -> 18.4 GFLOP/s, backward
  // 11.4 -> 18.0; docs/performance.md).
  // As a budget of unrolled rows x d/4 (at most 8 rows): 128 for the backward kernels and
  // decode, 256 for the forward, whose body is smaller (at d 128, 8 rows: forward 9.35 -> 15.3
  // GFLOP/s for ~15 s of compile; dQ and dK/dV at 8 rows would take ~140 s together).
  const rows = Math.max(1, Math.min(8, Math.floor((kind === "fwd" ? 256 : 128) / d4)));
  const wg = simdLanes(description);
  if (kind === "dkdv") return { wg, bk: 1, rt: rows, rh: 1 };
  // Decode: a lane's rows are the heads of one kv group for rollouts of one prompt, so each
  // key of the shared prefix is read once for all of them (rollouts per lane divide the
  // rollouts per prompt). Half a vector per workgroup: at batch 1 the few lanes still make a
  // workgroup per CPU thread.
  if (kind === "decode") {
    const rh = largestDivisorUpTo(ratio, rows);
    return { wg: wg / 2, bk: 1, rt: largestDivisorUpTo(rollouts, Math.floor(rows / rh)), rh };
  }
  const rh = largestDivisorUpTo(ratio, rows);
  return { wg, bk: 1, rt: Math.max(1, Math.floor(rows / rh)), rh };
}

/** The largest divisor of n that is at most cap. */
function largestDivisorUpTo(n: number, cap: number): number {
  for (let x = Math.min(n, cap); x > 1; x--) if (n % x === 0) return x;
  return 1;
}

// The generators above, memoized: launchers call them on every dispatch.
/** {@link forwardLanesSource}, built once per argument list. */
export const forwardLanesWgsl = memoSource(forwardLanesSource);

/** {@link dqLanesSource}, built once per argument list. */
export const dqLanesWgsl = memoSource(dqLanesSource);

/** {@link dkdvLanesSource}, built once per argument list. */
export const dkdvLanesWgsl = memoSource(dkdvLanesSource);

/** {@link decodeLanesSource}, built once per argument list. */
export const decodeLanesWgsl = memoSource(decodeLanesSource);
