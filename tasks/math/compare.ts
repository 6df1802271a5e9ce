/**
 * Mathematical equivalence of two parsed answers, modeled on Math-Verify's `sympy_expr_eq`
 * (gold first, prediction second; the rules are not quite symmetric, as in Math-Verify):
 *
 * - Numbers compare exactly as rationals; if a decimal literal took part, both sides are also
 *   compared after rounding to 6 decimal places (Math-Verify's `float_rounding=6`).
 * - Expressions with symbols compare by evaluating both at fixed pseudo-random points
 *   (polynomial identity testing), our stand-in for `sympy.simplify(a - b) == 0`.
 * - `x = 5` vs `5`: an assignment is unwrapped to its right-hand side when the other side is not
 *   one; two equations compare by `lhs - rhs`.
 * - Tuples are ordered, sets and bare lists are order-insensitive, intervals need equal
 *   endpoints and equal open/closed ends.
 * - `50%` equals both `0.5` and `50` (a percent answer is tried with and without the `/100`).
 */

import { type Env, evalNum, freeVars, type Num } from "./evaluate.ts";
import type { Node, RelOp } from "./parse.ts";
import * as R from "./rational.ts";

/** Evaluation points for symbolic comparison. Three points make accidental agreement unlikely. */
const TRIALS = 3;
/** Relative tolerance for inexact values without decimal literals (roots, `\pi`, symbols). */
const REL_TOL = 1e-9;

/** Deterministic pseudo-random value in [0.6, 2.6) for a symbol in a trial (FNV-1a hash). */
function sampleValue(name: string, trial: number): number {
  let h = 2166136261 ^ (trial * 16777619);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return 0.6 + ((h >>> 0) % 1000003) / 500001.5;
}

function round6Eq(a: number, b: number): boolean {
  const big = Math.max(Math.abs(a), Math.abs(b));
  if (big >= 1e9) return Math.abs(a - b) <= 1e-12 * big;
  return Math.round(a * 1e6) === Math.round(b * 1e6);
}

function relEq(a: number, b: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= REL_TOL * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Equality of two evaluated scalars. */
export function numEq(a: Num, b: Num): boolean {
  if (a.q && b.q && R.eq(a.q, b.q)) return true;
  if (!Number.isFinite(a.f) || !Number.isFinite(b.f)) return a.f === b.f;
  if (a.dec || b.dec) return round6Eq(a.f, b.f);
  if (a.q && b.q) return false; // two exact rationals that differ
  return relEq(a.f, b.f);
}

function scalarEq(a: Node, b: Node): boolean {
  const vars = freeVars(b, freeVars(a));
  if (vars.size === 0) {
    const x = evalNum(a, new Map());
    const y = x && evalNum(b, new Map());
    return x !== null && y !== null && numEq(x, y);
  }
  let agreed = 0;
  for (let t = 0; t < TRIALS; t++) {
    const env: Env = new Map([...vars].map((v) => [v, sampleValue(v, t)]));
    const x = evalNum(a, env);
    const y = evalNum(b, env);
    if (x === null && y === null) continue; // both undefined here (e.g. log of a negative)
    if (x === null || y === null) return false;
    // Symbolic values are floats even when decimals are present, so use the relative test.
    if (!(x.f === y.f || relEq(x.f, y.f))) return false;
    agreed++;
  }
  return agreed > 0;
}

const SCALAR_KINDS = new Set([
  "num",
  "var",
  "const",
  "add",
  "mul",
  "neg",
  "pow",
  "fn",
  "pct",
  "fact",
]);
function isScalar(n: Node): boolean {
  return SCALAR_KINDS.has(n.k);
}

/** `50%` may be meant as 0.5 or as the number 50; try both readings. */
function percentReadings(n: Node): Node[] {
  return n.k === "pct" ? [n, n.x] : [n];
}

function onlySymbols(n: Node): boolean {
  if (n.k === "var") return true;
  if (n.k === "mul") return n.factors.every((f, i) => !n.inv[i] && f.k === "var");
  if (n.k === "tuple") return n.items.every((f) => f.k === "var"); // f(x) reads as f*(x)
  return false;
}

function isAssignment(n: Node): boolean {
  return n.k === "rel" && n.ops.every((o) => o === "=") && onlySymbols(n.sides[0]);
}
function isEquation(n: Node): boolean {
  return n.k === "rel" && n.ops.every((o) => o === "=");
}
function lastSide(n: Node): Node {
  return n.k === "rel" ? n.sides[n.sides.length - 1] : n;
}

function difference(l: Node, r: Node): Node {
  return { k: "add", terms: [l, r], neg: [false, true] };
}

const FLIPPED: Partial<Record<RelOp, RelOp>> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=" };

function relationEq(g: Node & { k: "rel" }, p: Node & { k: "rel" }, depth: number): boolean {
  if (g.ops.length !== 1 || p.ops.length !== 1) {
    // Chains: same operators and pairwise-equivalent sides.
    return g.ops.length === p.ops.length && g.ops.every((o, i) => o === p.ops[i]) &&
      g.sides.every((s, i) => equivalentNodes(s, p.sides[i], depth + 1));
  }
  const gd = difference(g.sides[0], g.sides[1]);
  if (g.ops[0] === p.ops[0] && scalarEq(gd, difference(p.sides[0], p.sides[1]))) return true;
  const flippedMatch = g.ops[0] === "=" ? p.ops[0] === "=" : FLIPPED[g.ops[0]] === p.ops[0];
  return flippedMatch && scalarEq(gd, difference(p.sides[1], p.sides[0]));
}

/** Unordered matching of two item lists (greedy; lists are short). */
function unorderedEq(a: Node[], b: Node[], depth: number): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  for (const x of a) {
    let hit = -1;
    for (let j = 0; j < b.length && hit < 0; j++) {
      if (!used[j] && equivalentNodes(x, b[j], depth + 1)) hit = j;
    }
    if (hit < 0) return false;
    used[hit] = true;
  }
  return true;
}

function orderedEq(a: Node[], b: Node[], depth: number): boolean {
  return a.length === b.length && a.every((x, i) => equivalentNodes(x, b[i], depth + 1));
}

/** Maximum structural depth compared (tuples of tuples of ...). The parser already bounds it. */
const MAX_COMPARE_DEPTH = 80;

/** Gold-vs-prediction equivalence of two parsed answers. */
export function equivalentNodes(gold: Node, pred: Node, depth = 0): boolean {
  if (depth > MAX_COMPARE_DEPTH) return false;
  // Assignment unwrapping, as in Math-Verify: `x = 5` matches `5` but `x = 5` ≠ `y = 5`.
  const ga = isAssignment(gold);
  const pa = isAssignment(pred);
  if (ga && pa && gold.k === "rel" && pred.k === "rel") {
    return equivalentNodes(gold.sides[0], pred.sides[0], depth + 1) &&
      equivalentNodes(lastSide(gold), lastSide(pred), depth + 1);
  }
  if (ga) gold = lastSide(gold);
  if (pa) pred = lastSide(pred);
  if (!ga && !pa && isEquation(pred) && !isEquation(gold)) pred = lastSide(pred); // 7+1 = 8 → 8

  if (gold.k === "rel" || pred.k === "rel") {
    return gold.k === "rel" && pred.k === "rel" && relationEq(gold, pred, depth);
  }
  if (isScalar(gold) && isScalar(pred)) {
    for (const g of percentReadings(gold)) {
      for (const p of percentReadings(pred)) if (scalarEq(g, p)) return true;
    }
    return false;
  }
  if (gold.k === "interval" || pred.k === "interval") {
    return gold.k === "interval" && pred.k === "interval" && gold.loOpen === pred.loOpen &&
      gold.hiOpen === pred.hiOpen && equivalentNodes(gold.lo, pred.lo, depth + 1) &&
      equivalentNodes(gold.hi, pred.hi, depth + 1);
  }
  if (gold.k === "union" || pred.k === "union") {
    return gold.k === "union" && pred.k === "union" && unorderedEq(gold.items, pred.items, depth);
  }
  // A lone value equals a one-element set or list (Math-Verify wraps non-sets in a FiniteSet).
  const gi = "items" in gold ? gold.items : [gold];
  const pi = "items" in pred ? pred.items : [pred];
  if (gold.k === "tuple" && pred.k === "tuple") return orderedEq(gi, pi, depth);
  if (gold.k === "set" || pred.k === "set" || (gold.k === "list" && pred.k === "list")) {
    return unorderedEq(gi, pi, depth);
  }
  // tuple vs bare list, or a scalar vs a one-item list: positional.
  return orderedEq(gi, pi, depth);
}
