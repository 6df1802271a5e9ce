/**
 * Numeric evaluation of parsed answers. Each scalar evaluates to a {@link Num}: an exact
 * rational when every step was exact (integers, decimals, fractions, integer powers, perfect
 * roots), plus a double for everything else (`\sqrt{2}`, `\pi`, `\sin`, symbol substitution).
 *
 * `dec` records that a decimal literal took part. Math-Verify compares sympy Floats by rounding
 * to 6 decimal places (so `0.333333` equals `1/3`), and we reproduce that only when `dec` is set.
 *
 * Recursion depth equals AST depth, which the parser bounds (`MAX_DEPTH`), so this cannot
 * overflow on adversarial input.
 */

import type { Node } from "./parse.ts";
import * as R from "./rational.ts";

export interface Num {
  /** Exact value when known. */
  q: R.Rat | null;
  /** Floating approximation (always set; may be ±Infinity). */
  f: number;
  /** A decimal literal contributed to this value (Math-Verify Float semantics). */
  dec: boolean;
}

/** Symbol values for one evaluation trial. */
export type Env = ReadonlyMap<string, number>;

function exact(q: R.Rat, dec = false): Num {
  return { q, f: R.toNumber(q), dec };
}
function approx(f: number, dec: boolean): Num | null {
  return Number.isNaN(f) ? null : { q: null, f, dec };
}

function factorial(n: Num): Num | null {
  if (!n.q || !R.isInt(n.q) || n.q.n < 0n || n.q.n > 300n) return null;
  let acc = 1n;
  for (let i = 2n; i <= n.q.n; i++) acc *= i;
  return exact(R.rat(acc)!);
}

function power(b: Num, e: Num): Num | null {
  const dec = b.dec || e.dec;
  if (b.q && e.q) {
    if (R.isInt(e.q)) {
      const r = R.powInt(b.q, e.q.n);
      if (r) return exact(r, dec);
      if (b.q.n === 0n && e.q.n < 0n) return null; // 0^-1
    } else if (e.q.d <= 64n && e.q.n >= -1000n && e.q.n <= 1000n) {
      const rt = R.root(b.q, Number(e.q.d));
      const r = rt && R.powInt(rt, e.q.n);
      if (r) return exact(r, dec);
    }
  }
  // Odd roots of negatives are real; Math.pow would give NaN.
  if (b.f < 0 && e.q && !R.isInt(e.q) && e.q.d % 2n === 1n) {
    const mag = Math.pow(-b.f, R.toNumber(e.q));
    return approx(e.q.n % 2n === 0n ? mag : -mag, dec);
  }
  return approx(Math.pow(b.f, e.f), dec);
}

const FLOAT_FNS: Record<string, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  cot: (x) => 1 / Math.tan(x),
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  ln: Math.log,
  log: Math.log, // sympy's log (and latex2sympy's \log) is the natural logarithm
  exp: Math.exp,
};

function applyFn(name: string, x: Num, arg2: Num | null | undefined): Num | null {
  if (name === "sqrt") {
    const n = arg2 ?? exact(R.rat(2n)!);
    return power(x, n.q ? exact(R.div(R.ONE, n.q) ?? R.ZERO, n.dec) : approx(1 / n.f, n.dec)!);
  }
  if (name === "abs") {
    return x.q ? exact(x.q.n < 0n ? R.neg(x.q) : x.q, x.dec) : approx(Math.abs(x.f), x.dec);
  }
  if (name === "log" && arg2) return approx(Math.log(x.f) / Math.log(arg2.f), x.dec || arg2.dec);
  const fn = FLOAT_FNS[name];
  if (!fn) return null;
  // Exact special values keep `\ln 1 = 0`, `\sin 0 = 0` exact.
  if (x.q && x.q.n === 0n && (name === "sin" || name === "tan" || name === "arcsin")) {
    return exact(R.ZERO);
  }
  if (x.q && x.q.n === x.q.d && x.q.n === 1n && (name === "ln" || name === "log")) {
    return exact(R.ZERO);
  }
  return approx(fn(x.f), x.dec);
}

/** Evaluates a scalar expression; `null` for non-scalars, undefined values, or division by 0. */
export function evalNum(node: Node, env: Env): Num | null {
  switch (node.k) {
    case "num": {
      const q = R.fromDecimal(node.text);
      const dec = /[.eE]/.test(node.text);
      return q ? exact(q, dec) : approx(parseFloat(node.text), true);
    }
    case "var": {
      const v = env.get(node.name);
      return v === undefined ? null : { q: null, f: v, dec: false };
    }
    case "const":
      return node.name === "pi"
        ? approx(Math.PI, false)
        : node.name === "e"
        ? approx(Math.E, false)
        : approx(Infinity, false);
    case "neg": {
      const x = evalNum(node.x, env);
      return x && (x.q ? exact(R.neg(x.q), x.dec) : approx(-x.f, x.dec));
    }
    case "add": {
      let acc: Num = exact(R.ZERO);
      for (let i = 0; i < node.terms.length; i++) {
        const t = evalNum(node.terms[i], env);
        if (!t) return null;
        const dec = acc.dec || t.dec;
        const q = acc.q && t.q && (node.neg[i] ? R.sub(acc.q, t.q) : R.add(acc.q, t.q));
        const next = q ? exact(q, dec) : approx(node.neg[i] ? acc.f - t.f : acc.f + t.f, dec);
        if (!next) return null;
        acc = next;
      }
      return acc;
    }
    case "mul": {
      let acc: Num = exact(R.ONE);
      for (let i = 0; i < node.factors.length; i++) {
        const t = evalNum(node.factors[i], env);
        if (!t) return null;
        if (node.inv[i] && t.f === 0) return null;
        const dec = acc.dec || t.dec;
        const q = acc.q && t.q && (node.inv[i] ? R.div(acc.q, t.q) : R.mul(acc.q, t.q));
        const next = q ? exact(q, dec) : approx(node.inv[i] ? acc.f / t.f : acc.f * t.f, dec);
        if (!next) return null;
        acc = next;
      }
      return acc;
    }
    case "pow": {
      const b = evalNum(node.base, env);
      const e = b && evalNum(node.exp, env);
      return b && e ? power(b, e) : null;
    }
    case "fn": {
      const x = evalNum(node.arg, env);
      if (!x) return null;
      const a2 = node.arg2 ? evalNum(node.arg2, env) : undefined;
      if (a2 === null) return null;
      return applyFn(node.name, x, a2);
    }
    case "pct": {
      const x = evalNum(node.x, env);
      if (!x) return null;
      return x.q ? exact(R.div(x.q, R.rat(100n)!)!, x.dec) : approx(x.f / 100, x.dec);
    }
    case "fact": {
      const x = evalNum(node.x, env);
      return x && factorial(x);
    }
    default:
      return null;
  }
}

/** Free symbol names of an expression (iterative walk). */
export function freeVars(root: Node, out: Set<string> = new Set()): Set<string> {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    switch (n.k) {
      case "var":
        out.add(n.name);
        break;
      case "add":
        stack.push(...n.terms);
        break;
      case "mul":
        stack.push(...n.factors);
        break;
      case "neg":
      case "pct":
      case "fact":
        stack.push(n.x);
        break;
      case "pow":
        stack.push(n.base, n.exp);
        break;
      case "fn":
        stack.push(n.arg);
        if (n.arg2) stack.push(n.arg2);
        break;
      case "tuple":
      case "list":
      case "set":
      case "union":
        stack.push(...n.items);
        break;
      case "interval":
        stack.push(n.lo, n.hi);
        break;
      case "rel":
        stack.push(...n.sides);
        break;
    }
  }
  return out;
}
