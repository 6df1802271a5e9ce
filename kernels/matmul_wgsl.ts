/**
 * WGSL sources for the general matmul: C = alpha·op(A)·op(B) (+ C), generated
 * per configuration so the pipeline cache keys on the text. Three families:
 *
 * - `rows`: one workgroup owns TM rows; its threads run along N, four columns
 *   each. Every thread of a workgroup reads the same A element (a uniform
 *   index), B comes as vec4 rows. The fastest shape on CPU adapters (lavapipe
 *   vectorises across invocations, so a uniform A load is a broadcast).
 * - `dot`: TM rows × TN columns per thread, reducing along K four at a time
 *   with vec4 loads of both operands: suits C = A·Bᵀ where both run along K.
 * - `tile`: workgroup-memory tiling (BM×BN tile, BK deep, TM×TN per thread),
 *   what discrete GPUs want.
 *
 * All read operands through element offsets and leading dimensions from the
 * uniform, so any window of a larger buffer and any batch stride works. Rows
 * and columns past the edge are clamped on load and skipped on store, so every
 * size (1, odd, not a multiple of 4) is correct. B in f16 is read packed in
 * u32 (unpack2x16float needs no feature) and widened to f32 for the math.
 */
import { memoSource } from "../core/gpu/pipelines.ts";

/** The operand layouts: N = as stored, T = transposed (A is [k, m], B is [n, k]). */
export type Layout = "NN" | "NT" | "TN" | "TT";

export type MatmulConfig =
  | { kind: "rows"; tm: number; wg: number; cx?: boolean }
  | { kind: "dot"; tm: number; tn: number; wg: number; cx?: boolean }
  | { kind: "tile"; bm: number; bn: number; bk: number; tm: number; tn: number }
  | { kind: "gemv"; tm: number; tn: number; wg: number };

/** Workgroup memory a gemv configuration's reduction needs (bytes); WebGPU guarantees 16 KiB. */
export const GEMV_MAX_REDUCE_BYTES = 16384;

/** Everything that changes the generated source. */
export interface ShaderKey {
  cfg: MatmulConfig;
  layout: Layout;
  f16b: boolean;
  /** Operands are 4-element aligned along the vectorised dimension (see `alignedFor`). */
  aligned: boolean;
}

/** Parses "rows:tm8:wg64", "dot:tm4:tn4:wg64", "tile:bm64:bn64:bk16:tm4:tn4". */
export function parseConfig(name: string): MatmulConfig {
  const [kind, ...rest] = name.split(":");
  const f: Record<string, number> = {};
  for (const r of rest) {
    const m = /^([a-z]+)(\d+)$/.exec(r);
    if (!m) throw new Error(`matmul: bad config "${name}"`);
    f[m[1]] = Number(m[2]);
  }
  const need = (...keys: string[]) => {
    for (const key of keys) {
      if (!(f[key] > 0)) throw new Error(`matmul: config "${name}" lacks ${key}`);
    }
  };
  if (f.cx !== undefined && (kind === "tile" || kind === "gemv" || f.cx !== 1)) {
    throw new Error(`matmul: config "${name}": cx1 (column blocks along x) is for rows/dot`);
  }
  if (kind === "rows") {
    need("tm", "wg");
    return { kind, tm: f.tm, wg: f.wg, cx: f.cx === 1 };
  }
  if (kind === "dot") {
    need("tm", "tn", "wg");
    return { kind, tm: f.tm, tn: f.tn, wg: f.wg, cx: f.cx === 1 };
  }
  if (kind === "tile") {
    need("bm", "bn", "bk", "tm", "tn");
    const c = { kind, bm: f.bm, bn: f.bn, bk: f.bk, tm: f.tm, tn: f.tn } as const;
    const threads = (c.bm / c.tm) * (c.bn / c.tn);
    if (c.bm % c.tm || c.bn % c.tn || (c.bm * c.bk) % threads || (c.bn * c.bk) % threads) {
      throw new Error(`matmul: config "${name}" does not divide its tile evenly`);
    }
    return c;
  }
  if (kind === "gemv") {
    need("tm", "tn", "wg");
    if (f.tm * f.tn * f.wg * 4 > GEMV_MAX_REDUCE_BYTES) {
      throw new Error(
        `matmul: config "${name}" needs ${f.tm * f.tn * f.wg * 4} bytes of workgroup memory ` +
          `(tm·tn·wg·4 > ${GEMV_MAX_REDUCE_BYTES})`,
      );
    }
    return { kind, tm: f.tm, tn: f.tn, wg: f.wg };
  }
  throw new Error(`matmul: unknown config kind in "${name}"`);
}

/**
 * Rows and columns of C one workgroup covers, and whether row blocks run along
 * grid x (the CPU configurations: CPU adapters walk x first, so neighbouring
 * workgroups then read the same panel of B while it is in cache).
 */
export function workgroupTile(
  cfg: MatmulConfig,
): { rows: number; cols: number; rowsAlongX: boolean } {
  if (cfg.kind === "rows") return { rows: cfg.tm, cols: cfg.wg * 4, rowsAlongX: !cfg.cx };
  if (cfg.kind === "dot") return { rows: cfg.tm, cols: cfg.wg * cfg.tn, rowsAlongX: !cfg.cx };
  if (cfg.kind === "gemv") return { rows: cfg.tm, cols: cfg.tn, rowsAlongX: false };
  return { rows: cfg.bm, cols: cfg.bn, rowsAlongX: false };
}

/** Whether the config's vector loads run along the dimension that must be 4-aligned, per operand. */
export function vectorDims(cfg: MatmulConfig, layout: Layout): { a: boolean; b: boolean } {
  const transA = layout[0] === "T", transB = layout[1] === "T";
  if (cfg.kind === "rows") return { a: false, b: !transB };
  if (cfg.kind === "dot" || cfg.kind === "gemv") return { a: !transA, b: transB };
  return { a: false, b: false };
}

const PARAMS = /* wgsl */ `
struct P {
  m: u32, n: u32, k: u32, acc: u32,
  lda: u32, ldb: u32, ldc: u32, alpha: f32,
  offA: u32, offB: u32, offC: u32, _p0: u32,
  sA: u32, sB: u32, sC: u32, _p1: u32,
}`;

/** WGSL: each kernel's element offsets of A, B and C for its batch item (workgroup z). */
const BATCH_BASES = `  let bA = p.offA + wid.z * p.sA;
  let bB = p.offB + wid.z * p.sB;
  let bC = p.offC + wid.z * p.sC;`;

function bindings(key: ShaderKey): string {
  const { f16b, aligned } = key;
  const vec = vectorDims(key.cfg, key.layout);
  // Aligned vector views of A/B: vec4<f32> (f32), vec2<u32> (four packed f16).
  const aType = vec.a && aligned ? "vec4<f32>" : "f32";
  const bType = f16b
    ? (vec.b && aligned ? "vec2<u32>" : "u32")
    : vec.b && aligned
    ? "vec4<f32>"
    : "f32";
  return `${PARAMS}
@group(0) @binding(0) var<storage, read> a: array<${aType}>;
@group(0) @binding(1) var<storage, read> b: array<${bType}>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
`;
}

/** Helpers: scalar and 4-wide loads of A and B by element index. */
function loaders(key: ShaderKey): string {
  const { f16b, aligned } = key;
  const vec = vectorDims(key.cfg, key.layout);
  const lines: string[] = [];
  if (vec.a && aligned) {
    lines.push(`fn la4(e: u32) -> vec4f { return a[e >> 2u]; }`);
    lines.push(`fn la(e: u32) -> f32 { return a[e >> 2u][e & 3u]; }`);
  } else {
    lines.push(`fn la(e: u32) -> f32 { return a[e]; }`);
    lines.push(`fn la4(e: u32) -> vec4f { return vec4f(a[e], a[e + 1u], a[e + 2u], a[e + 3u]); }`);
  }
  if (f16b) {
    if (vec.b && aligned) {
      lines.push(
        `fn lb(e: u32) -> f32 { let w = b[e >> 2u]; let h = select(w.x, w.y, (e & 2u) != 0u);
  return unpack2x16float(h)[e & 1u]; }`,
      );
      lines.push(`fn lb4(e: u32) -> vec4f { let w = b[e >> 2u];
  return vec4f(unpack2x16float(w.x), unpack2x16float(w.y)); }`);
    } else {
      lines.push(`fn lb(e: u32) -> f32 { return unpack2x16float(b[e >> 1u])[e & 1u]; }`);
      lines.push(
        `fn lb4(e: u32) -> vec4f { return vec4f(lb(e), lb(e + 1u), lb(e + 2u), lb(e + 3u)); }`,
      );
    }
  } else if (vec.b && aligned) {
    lines.push(`fn lb4(e: u32) -> vec4f { return b[e >> 2u]; }`);
    lines.push(`fn lb(e: u32) -> f32 { return b[e >> 2u][e & 3u]; }`);
  } else {
    lines.push(`fn lb(e: u32) -> f32 { return b[e]; }`);
    lines.push(`fn lb4(e: u32) -> vec4f { return vec4f(b[e], b[e + 1u], b[e + 2u], b[e + 3u]); }`);
  }
  // Store with alpha and optional accumulate.
  lines.push(`fn st(e: u32, v: f32) {
  var r = p.alpha * v;
  if (p.acc != 0u) { r += c[e]; }
  c[e] = r;
}`);
  return lines.join("\n");
}

function rowsSource(key: ShaderKey, cfg: { tm: number; wg: number; cx?: boolean }): string {
  const transA = key.layout[0] === "T", transB = key.layout[1] === "T";
  const { tm, wg } = cfg;
  const R = [...Array(tm).keys()];
  const C4 = [0, 1, 2, 3];
  const vecB = !transB && key.aligned;
  // A element (row r, depth q).
  const aIdx = (r: number) => transA ? `aq + r${r}` : `ar${r} + q`;
  let bLoad: string;
  if (transB) bLoad = `vec4f(${C4.map((j) => `lb(bc${j} + q)`).join(", ")})`;
  else if (vecB) bLoad = `lb4(bB + q * p.ldb + cl)`;
  else bLoad = `vec4f(${C4.map((j) => `lb(bq + j${j})`).join(", ")})`;
  return `${bindings(key)}
${loaders(key)}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${BATCH_BASES}
  // Row blocks run along x (launched first) unless cx: neighbours then share a B panel.
  let row0 = wid.${cfg.cx ? "y" : "x"} * ${tm}u;
  let col = (wid.${cfg.cx ? "x" : "y"} * ${wg}u + lid.x) * 4u;
${R.map((r) => `  let r${r} = min(row0 + ${r}u, p.m - 1u);`).join("\n")}
${transA ? "" : R.map((r) => `  let ar${r} = bA + r${r} * p.lda;`).join("\n")}
${C4.map((j) => `  let j${j} = min(col + ${j}u, p.n - 1u);`).join("\n")}
${transB ? C4.map((j) => `  let bc${j} = bB + j${j} * p.ldb;`).join("\n") : ""}
  let cl = min(col, p.n - 4u * u32(p.n >= 4u));
${R.map((r) => `  var acc${r} = vec4f(0.0);`).join("\n")}
  for (var q = 0u; q < p.k; q++) {
${transA ? "    let aq = bA + q * p.lda;" : ""}
${!transB && !vecB ? "    let bq = bB + q * p.ldb;" : ""}
    let bv = ${bLoad};
${R.map((r) => `    acc${r} += la(${aIdx(r)}) * bv;`).join("\n")}
  }
${
    R.map((r) =>
      `  if (row0 + ${r}u < p.m) {
    let e = bC + (row0 + ${r}u) * p.ldc + col;
${C4.map((j) => `    if (col + ${j}u < p.n) { st(e + ${j}u, acc${r}[${j}]); }`).join("\n")}
  }`
    ).join("\n")
  }
}`;
}

function dotSource(
  key: ShaderKey,
  cfg: { tm: number; tn: number; wg: number; cx?: boolean },
): string {
  const transA = key.layout[0] === "T", transB = key.layout[1] === "T";
  const { tm, tn, wg } = cfg;
  const R = [...Array(tm).keys()];
  const N = [...Array(tn).keys()];
  // A is read along K: contiguous unless transposed; B likewise unless not transposed.
  const { a4, a1, b4, b1 } = kLoads(key);
  return `${bindings(key)}
${loaders(key)}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${BATCH_BASES}
  // Row blocks run along x (launched first) unless cx: neighbours then share a B panel.
  let row0 = wid.${cfg.cx ? "y" : "x"} * ${tm}u;
  // Columns interleave across threads: col = base + j * wg + lid.
  let col0 = wid.${cfg.cx ? "x" : "y"} * ${wg * tn}u + lid.x;
${R.map((r) => `  let r${r} = min(row0 + ${r}u, p.m - 1u);`).join("\n")}
${transA ? "" : R.map((r) => `  let ar${r} = bA + r${r} * p.lda;`).join("\n")}
${N.map((j) => `  let j${j} = min(col0 + ${j * wg}u, p.n - 1u);`).join("\n")}
${transB ? N.map((j) => `  let bc${j} = bB + j${j} * p.ldb;`).join("\n") : ""}
${R.flatMap((r) => N.map((j) => `  var acc${r}_${j} = 0.0;`)).join("\n")}
  let k4 = p.k & ~3u;
  var q = 0u;
  for (; q < k4; q += 4u) {
${R.map((r) => `    let av${r} = ${a4(r)};`).join("\n")}
${N.map((j) => `    let bv${j} = ${b4(j)};`).join("\n")}
${R.flatMap((r) => N.map((j) => `    acc${r}_${j} += dot(av${r}, bv${j});`)).join("\n")}
  }
  for (; q < p.k; q++) {
${R.map((r) => `    let av${r} = ${a1(r)};`).join("\n")}
${N.map((j) => `    let bv${j} = ${b1(j)};`).join("\n")}
${R.flatMap((r) => N.map((j) => `    acc${r}_${j} += av${r} * bv${j};`)).join("\n")}
  }
${
    R.map((r) =>
      `  if (row0 + ${r}u < p.m) {
    let e = bC + (row0 + ${r}u) * p.ldc + col0;
${
        N.map((j) => `    if (col0 + ${j * wg}u < p.n) { st(e + ${j * wg}u, acc${r}_${j}); }`)
          .join("\n")
      }
  }`
    ).join("\n")
  }
}`;
}

function tileSource(
  key: ShaderKey,
  cfg: { bm: number; bn: number; bk: number; tm: number; tn: number },
): string {
  const transA = key.layout[0] === "T", transB = key.layout[1] === "T";
  const { bm, bn, bk, tm, tn } = cfg;
  const tx = bn / tn, ty = bm / tm, threads = tx * ty;
  const R = [...Array(tm).keys()];
  const N = [...Array(tn).keys()];
  // Each thread loads (bm*bk)/threads of A and (bn*bk)/threads of B per K step; the
  // element order follows memory order of the operand so neighbouring threads
  // read neighbouring addresses.
  const aLoads = (bm * bk) / threads, bLoads = (bn * bk) / threads;
  const aCoord = transA
    ? `let kk = e / ${bm}u; let i = e % ${bm}u;`
    : `let i = e / ${bk}u; let kk = e % ${bk}u;`;
  const aAddr = transA ? `bA + (t0 + kk) * p.lda + row` : `bA + row * p.lda + t0 + kk`;
  const bCoord = transB
    ? `let j = e / ${bk}u; let kk = e % ${bk}u;`
    : `let kk = e / ${bn}u; let j = e % ${bn}u;`;
  const bAddr = transB ? `bB + colc * p.ldb + t0 + kk` : `bB + (t0 + kk) * p.ldb + colc`;
  return `${bindings(key)}
${loaders(key)}
var<workgroup> As: array<f32, ${bk * bm}>;
var<workgroup> Bs: array<f32, ${bk * bn}>;
@compute @workgroup_size(${tx}, ${ty})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${BATCH_BASES}
  let rowT = wid.y * ${bm}u;
  let colT = wid.x * ${bn}u;
  let t = lid.y * ${tx}u + lid.x;
${R.flatMap((r) => N.map((j) => `  var acc${r}_${j} = 0.0;`)).join("\n")}
  for (var t0 = 0u; t0 < p.k; t0 += ${bk}u) {
    for (var s = 0u; s < ${aLoads}u; s++) {
      let e = t + s * ${threads}u;
      ${aCoord}
      let row = min(rowT + i, p.m - 1u);
      var v = 0.0;
      if (t0 + kk < p.k) { v = la(${aAddr}); }
      As[kk * ${bm}u + i] = v;
    }
    for (var s = 0u; s < ${bLoads}u; s++) {
      let e = t + s * ${threads}u;
      ${bCoord}
      let colc = min(colT + j, p.n - 1u);
      var v = 0.0;
      if (t0 + kk < p.k) { v = lb(${bAddr}); }
      Bs[kk * ${bn}u + j] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk++) {
${R.map((r) => `      let a${r} = As[kk * ${bm}u + lid.y + ${r * ty}u];`).join("\n")}
${N.map((j) => `      let b${j} = Bs[kk * ${bn}u + lid.x + ${j * tx}u];`).join("\n")}
${R.flatMap((r) => N.map((j) => `      acc${r}_${j} += a${r} * b${j};`)).join("\n")}
    }
    workgroupBarrier();
  }
${
    R.map((r) =>
      `  let row${r} = rowT + lid.y + ${r * ty}u;
  if (row${r} < p.m) {
${
        N.map((j) =>
          `    if (colT + lid.x + ${j * tx}u < p.n) { st(bC + row${r} * p.ldc + colT + lid.x + ${
            j * tx
          }u, acc${r}_${j}); }`
        ).join("\n")
      }
  }`
    ).join("\n")
  }
}`;
}

/**
 * WGSL expressions that load the k-th element (`a1`, `b1`) or the 4 elements from k (`a4`, `b4`)
 * of row r of A and column j of B, at `q`: one vec4 load where the operand is contiguous along K
 * (A not transposed, B transposed), four scalar loads otherwise. Shared by the dot and gemv kernels.
 */
function kLoads(key: ShaderKey) {
  const transA = key.layout[0] === "T", transB = key.layout[1] === "T";
  return {
    a4: (r: number) =>
      transA
        ? `vec4f(la(bA + q * p.lda + r${r}), la(bA + (q + 1u) * p.lda + r${r}), ` +
          `la(bA + (q + 2u) * p.lda + r${r}), la(bA + (q + 3u) * p.lda + r${r}))`
        : `la4(ar${r} + q)`,
    a1: (r: number) => transA ? `la(bA + q * p.lda + r${r})` : `la(ar${r} + q)`,
    b4: (j: number) =>
      transB
        ? `lb4(bc${j} + q)`
        : `vec4f(lb(bB + q * p.ldb + j${j}), lb(bB + (q + 1u) * p.ldb + j${j}), ` +
          `lb(bB + (q + 2u) * p.ldb + j${j}), lb(bB + (q + 3u) * p.ldb + j${j}))`,
    b1: (j: number) => transB ? `lb(bc${j} + q)` : `lb(bB + q * p.ldb + j${j})`,
  };
}

/**
 * `gemv`: for a few rows of A (decode: m = batch), where blocking over rows has
 * nothing to reuse. One workgroup owns TN columns of C (TN rows of Bᵀ, the
 * weights) and TM rows; its WG threads split k, thread t taking the 4-element
 * chunks t, t + WG, ..., so each weight row is streamed once, front to back,
 * with neighbouring threads on neighbouring addresses. Every thread keeps
 * TM·TN partial sums; one barrier later they are summed across the workgroup
 * from workgroup memory (no subgroups needed), thread o finishing output o.
 */
function gemvSource(key: ShaderKey, cfg: { tm: number; tn: number; wg: number }): string {
  const transA = key.layout[0] === "T", transB = key.layout[1] === "T";
  const { tm, tn, wg } = cfg;
  const R = [...Array(tm).keys()];
  const N = [...Array(tn).keys()];
  const outs = tm * tn;
  const { a4, a1, b4, b1 } = kLoads(key);
  return `${bindings(key)}
${loaders(key)}
var<workgroup> red: array<f32, ${outs * wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${BATCH_BASES}
  let row0 = wid.y * ${tm}u;
  let col0 = wid.x * ${tn}u;
  let t = lid.x;
${R.map((r) => `  let r${r} = min(row0 + ${r}u, p.m - 1u);`).join("\n")}
${transA ? "" : R.map((r) => `  let ar${r} = bA + r${r} * p.lda;`).join("\n")}
${N.map((j) => `  let j${j} = min(col0 + ${j}u, p.n - 1u);`).join("\n")}
${transB ? N.map((j) => `  let bc${j} = bB + j${j} * p.ldb;`).join("\n") : ""}
${R.flatMap((r) => N.map((j) => `  var acc${r}_${j} = 0.0;`)).join("\n")}
  let k4 = p.k & ~3u;
  for (var q = t * 4u; q < k4; q += ${wg * 4}u) {
${R.map((r) => `    let av${r} = ${a4(r)};`).join("\n")}
${N.map((j) => `    let bv${j} = ${b4(j)};`).join("\n")}
${R.flatMap((r) => N.map((j) => `    acc${r}_${j} += dot(av${r}, bv${j});`)).join("\n")}
  }
  for (var q = k4 + t; q < p.k; q += ${wg}u) {
${R.map((r) => `    let av${r} = ${a1(r)};`).join("\n")}
${N.map((j) => `    let bv${j} = ${b1(j)};`).join("\n")}
${R.flatMap((r) => N.map((j) => `    acc${r}_${j} += av${r} * bv${j};`)).join("\n")}
  }
${R.flatMap((r) => N.map((j) => `  red[${(r * tn + j) * wg}u + t] = acc${r}_${j};`)).join("\n")}
  workgroupBarrier();
  for (var o = t; o < ${outs}u; o += ${wg}u) {
    let row = row0 + o / ${tn}u;
    let col = col0 + o % ${tn}u;
    var s = 0.0;
    for (var i = 0u; i < ${wg}u; i++) { s += red[o * ${wg}u + i]; }
    if (row < p.m && col < p.n) { st(bC + row * p.ldc + col, s); }
  }
}`;
}

/** The WGSL source for one configuration, layout, B dtype and alignment. */
function matmulText(key: ShaderKey): string {
  const cfg = key.cfg;
  if (cfg.kind === "rows") return rowsSource(key, cfg);
  if (cfg.kind === "dot") return dotSource(key, cfg);
  if (cfg.kind === "gemv") return gemvSource(key, cfg);
  return tileSource(key, cfg);
}

// The generators above, memoized: launchers call them on every dispatch.
/** {@link matmulText}, built once per argument list. */
export const matmulSource = memoSource(matmulText);
