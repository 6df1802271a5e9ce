/**
 * A small, side-effect-free evaluator for the Python expressions DocMath's `normalize` hands to
 * `eval()`: numeric literals (underscores, exponents, hex/octal/binary), `True`/`False`/`None`,
 * string literals, tuples, lists, sets, `+ - * / // % **`, unary `+ - ~`, parentheses,
 * `math.pow/sqrt/log/log10/exp`, `math.pi/e`, `abs`.
 *
 * It never runs model text as code. Anything outside this subset raises `PyEvalError`, which the
 * caller treats exactly like Python's `except Exception` branch. Values carry just enough type
 * to reproduce the later `isinstance` checks: numbers (int/float/bool), and opaque
 * str/list/tuple/set/None.
 *
 * @module
 */

export type PyValue =
  | { kind: "int" | "float" | "bool"; value: number }
  | { kind: "str" | "list" | "none" }
  | { kind: "tuple" | "set"; size: number };

export class PyEvalError extends Error {}

/** CPython's tokenizer refuses deeper bracket nesting ("too many nested parentheses", MAXLEVEL). */
export const MAX_BRACKET_DEPTH = 200;
/**
 * Deepest chain of nested operands (unary signs, `**`, brackets) the parser follows. CPython's
 * parser gives up too ("too complex" / RecursionError); here the limit keeps the JS stack safe,
 * so a hostile `----…1` raises PyEvalError instead of a RangeError that would escape the metric.
 */
export const MAX_NESTING = 1000;

type Tok = { t: "num"; v: PyValue } | { t: "name"; v: string } | { t: "str" } | {
  t: "op";
  v: string;
};

const FLOAT_RE = new RegExp(
  String.raw`^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?` +
    String.raw`|\d(?:_?\d)*\.(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*[eE][+-]?\d(?:_?\d)*)`,
);
const INT_RE =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|[1-9](?:_?\d)*|0(?:_?0)*)/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPS = ["**", "//", "+", "-", "*", "/", "%", "~", "(", ")", "[", "]", "{", "}", ",", "."];

function intLiteral(text: string): number {
  const s = text.replaceAll("_", "");
  const p = s.slice(0, 2).toLowerCase();
  if (p === "0x") return parseInt(s.slice(2), 16);
  if (p === "0o") return parseInt(s.slice(2), 8);
  if (p === "0b") return parseInt(s.slice(2), 2);
  return Number(s);
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let depth = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\f") {
      i++;
      continue;
    }
    if (c === "\n" || c === "\r") {
      // Newlines only continue an expression inside brackets; a trailing one is fine.
      if (depth === 0 && src.slice(i).trim() !== "") throw new PyEvalError("newline");
      i++;
      continue;
    }
    const rest = src.slice(i);
    const f = FLOAT_RE.exec(rest);
    const n = f ? null : INT_RE.exec(rest);
    const num = f ?? n;
    if (num && /^[\d.]/.test(rest)) {
      i += num[0].length;
      // "08", "5x", "1e": Python's tokenizer rejects a literal followed by name characters.
      if (i < src.length && /[A-Za-z0-9_]/.test(src[i])) throw new PyEvalError("bad literal");
      toks.push({
        t: "num",
        v: f
          ? { kind: "float", value: Number(f[0].replaceAll("_", "")) }
          : { kind: "int", value: intLiteral(num[0]) },
      });
      continue;
    }
    const name = NAME_RE.exec(rest);
    if (name) {
      i += name[0].length;
      if (src[i] === "'" || src[i] === '"') throw new PyEvalError("string prefix");
      toks.push({ t: "name", v: name[0] });
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\") j++;
        if (src[j] === "\n") throw new PyEvalError("eol in string");
        j++;
      }
      if (j >= src.length) throw new PyEvalError("unterminated string");
      i = j + 1;
      toks.push({ t: "str" });
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (!op) throw new PyEvalError(`unexpected ${JSON.stringify(c)}`);
    if ("([{".includes(op) && ++depth >= MAX_BRACKET_DEPTH) {
      throw new PyEvalError("SyntaxError: too many nested parentheses");
    }
    if (")]}".includes(op)) depth = Math.max(0, depth - 1);
    toks.push({ t: "op", v: op });
    i += op.length;
  }
  return toks;
}

const num = (kind: "int" | "float", value: number): PyValue => ({ kind, value });
const isNum = (v: PyValue): v is { kind: "int" | "float" | "bool"; value: number } =>
  v.kind === "int" || v.kind === "float" || v.kind === "bool";
const isIntLike = (v: PyValue) => v.kind === "int" || v.kind === "bool";

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}
function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

function binary(op: string, a: PyValue, b: PyValue): PyValue {
  if (isNum(a) && isNum(b)) {
    const ints = isIntLike(a) && isIntLike(b);
    const x = a.value;
    const y = b.value;
    switch (op) {
      case "+":
        return num(ints ? "int" : "float", x + y);
      case "-":
        return num(ints ? "int" : "float", x - y);
      case "*":
        return num(ints ? "int" : "float", x * y);
      case "/":
        if (y === 0) throw new PyEvalError("ZeroDivisionError");
        return num("float", x / y);
      case "//":
        if (y === 0) throw new PyEvalError("ZeroDivisionError");
        return num(ints ? "int" : "float", floorDiv(x, y));
      case "%":
        if (y === 0) throw new PyEvalError("ZeroDivisionError");
        return num(ints ? "int" : "float", pyMod(x, y));
      case "**": {
        if (x === 0 && y < 0) throw new PyEvalError("ZeroDivisionError");
        if (x < 0 && !Number.isInteger(y)) throw new PyEvalError("complex result");
        const r = Math.pow(x, y);
        const intResult = ints && y >= 0;
        // Python floats raise OverflowError where JS gives Infinity; ints are unbounded.
        if (!Number.isFinite(r) && !intResult) throw new PyEvalError("OverflowError");
        return num(intResult ? "int" : "float", r);
      }
    }
  }
  // Sequence concatenation / repetition keep the sequence type; everything else is a TypeError.
  const seq = (v: PyValue) => v.kind === "str" || v.kind === "list" || v.kind === "tuple";
  if (op === "+" && seq(a) && a.kind === b.kind) {
    return a.kind === "tuple" && b.kind === "tuple" ? { kind: "tuple", size: a.size + b.size } : a;
  }
  if (op === "*" && ((seq(a) && isIntLike(b)) || (isIntLike(a) && seq(b)))) {
    const s = seq(a) ? a : b;
    const k = (seq(a) ? b : a) as { value: number };
    return s.kind === "tuple" ? { kind: "tuple", size: Math.max(0, k.value) * s.size } : s;
  }
  if (op === "%" && a.kind === "str") return a; // printf-style formatting yields a str
  throw new PyEvalError("TypeError");
}

const MATH_CONST: Record<string, number> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI };

function mathCall(fn: string, args: PyValue[]): PyValue {
  const xs = args.map((a) => {
    if (!isNum(a)) throw new PyEvalError("TypeError");
    return a.value;
  });
  const need = (n: number) => {
    if (xs.length !== n) throw new PyEvalError("TypeError");
  };
  const domain = (ok: boolean) => {
    if (!ok) throw new PyEvalError("ValueError");
  };
  switch (fn) {
    case "pow": {
      need(2);
      if (xs[0] === 0 && xs[1] < 0) throw new PyEvalError("ValueError");
      domain(!(xs[0] < 0 && !Number.isInteger(xs[1])));
      const r = Math.pow(xs[0], xs[1]);
      if (!Number.isFinite(r)) throw new PyEvalError("OverflowError");
      return num("float", r);
    }
    case "sqrt":
      need(1);
      domain(xs[0] >= 0);
      return num("float", Math.sqrt(xs[0]));
    case "log10":
      need(1);
      domain(xs[0] > 0);
      return num("float", Math.log10(xs[0]));
    case "log":
      domain(xs.length === 1 || xs.length === 2);
      domain(xs.every((x) => x > 0));
      return num("float", xs.length === 1 ? Math.log(xs[0]) : Math.log(xs[0]) / Math.log(xs[1]));
    case "exp": {
      need(1);
      const r = Math.exp(xs[0]);
      if (!Number.isFinite(r)) throw new PyEvalError("OverflowError");
      return num("float", r);
    }
  }
  throw new PyEvalError(`AttributeError: math.${fn}`);
}

class Parser {
  private i = 0;
  private nesting = 0;
  constructor(private readonly toks: Tok[]) {}

  private peekOp(v: string): boolean {
    const t = this.toks[this.i];
    return t !== undefined && t.t === "op" && t.v === v;
  }
  private eat(v: string): boolean {
    if (this.peekOp(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expect(v: string) {
    if (!this.eat(v)) throw new PyEvalError(`expected ${v}`);
  }
  private atEnd(): boolean {
    return this.i >= this.toks.length;
  }
  parseAll(): PyValue {
    if (this.atEnd()) throw new PyEvalError("empty");
    const v = this.exprList(")");
    if (!this.atEnd()) throw new PyEvalError("trailing tokens");
    return v;
  }

  /** `a, b, c` → tuple; a single item without a comma → the item. */
  private exprList(close: string): PyValue {
    const first = this.arith();
    if (!this.peekOp(",")) return first;
    let size = 1;
    while (this.eat(",")) {
      if (this.atEnd() || this.peekOp(close)) break;
      this.arith();
      size++;
    }
    return { kind: "tuple", size };
  }

  private items(close: string): number {
    let n = 0;
    while (!this.peekOp(close)) {
      this.arith();
      n++;
      if (!this.eat(",")) break;
    }
    this.expect(close);
    return n;
  }

  private arith(): PyValue {
    let v = this.term();
    for (;;) {
      if (this.eat("+")) v = binary("+", v, this.term());
      else if (this.eat("-")) v = binary("-", v, this.term());
      else return v;
    }
  }

  private term(): PyValue {
    let v = this.factor();
    for (;;) {
      const t = this.toks[this.i];
      if (t?.t === "op" && ["*", "/", "//", "%"].includes(t.v)) {
        this.i++;
        v = binary(t.v, v, this.factor());
      } else {
        return v;
      }
    }
  }

  private factor(): PyValue {
    if (++this.nesting > MAX_NESTING) throw new PyEvalError("SyntaxError: too complex");
    try {
      return this.factorInner();
    } finally {
      this.nesting--;
    }
  }

  private factorInner(): PyValue {
    if (this.eat("-")) {
      const v = this.factor();
      if (!isNum(v)) throw new PyEvalError("TypeError");
      return { kind: v.kind === "float" ? "float" : "int", value: -v.value };
    }
    if (this.eat("+")) {
      const v = this.factor();
      if (!isNum(v)) throw new PyEvalError("TypeError");
      return { kind: v.kind === "float" ? "float" : "int", value: +v.value };
    }
    if (this.eat("~")) {
      const v = this.factor();
      if (!isIntLike(v)) throw new PyEvalError("TypeError");
      return num("int", -(v as { value: number }).value - 1);
    }
    return this.power();
  }

  private power(): PyValue {
    const base = this.primary();
    if (this.eat("**")) return binary("**", base, this.factor());
    return base;
  }

  private primary(): PyValue {
    const t = this.toks[this.i++];
    if (!t) throw new PyEvalError("unexpected end");
    if (t.t === "num") return t.v;
    if (t.t === "str") {
      // Adjacent string literals concatenate.
      while (this.toks[this.i]?.t === "str") this.i++;
      return { kind: "str" };
    }
    if (t.t === "name") return this.name(t.v);
    if (t.v === "(") {
      if (this.eat(")")) return { kind: "tuple", size: 0 };
      const v = this.exprList(")");
      this.expect(")");
      return v;
    }
    if (t.v === "[") {
      this.items("]");
      return { kind: "list" };
    }
    if (t.v === "{") {
      const n = this.items("}");
      // `{}` is an (empty) dict, which get_acc rejects like any other non-number.
      return n === 0 ? { kind: "none" } : { kind: "set", size: n };
    }
    throw new PyEvalError(`unexpected ${t.v}`);
  }

  private callArgs(): PyValue[] {
    this.expect("(");
    const args: PyValue[] = [];
    while (!this.peekOp(")")) {
      args.push(this.arith());
      if (!this.eat(",")) break;
    }
    this.expect(")");
    return args;
  }

  private name(id: string): PyValue {
    if (id === "True" || id === "False") return { kind: "bool", value: id === "True" ? 1 : 0 };
    if (id === "None") return { kind: "none" };
    if (id === "math" && this.eat(".")) {
      const attr = this.toks[this.i++];
      if (attr?.t !== "name") throw new PyEvalError("SyntaxError");
      if (this.peekOp("(")) return mathCall(attr.v, this.callArgs());
      // Own keys only: `math.constructor` or `math.__proto__` must not reach Object.prototype.
      if (Object.hasOwn(MATH_CONST, attr.v)) return num("float", MATH_CONST[attr.v]);
      throw new PyEvalError(`AttributeError: math.${attr.v}`);
    }
    if (id === "abs" && this.peekOp("(")) {
      const args = this.callArgs();
      if (args.length !== 1 || !isNum(args[0])) throw new PyEvalError("TypeError");
      const a = args[0];
      return { kind: a.kind === "float" ? "float" : "int", value: Math.abs(a.value) };
    }
    throw new PyEvalError(`NameError: ${id}`);
  }
}

/** Evaluate `src` like Python `eval(src)` restricted to the subset above; throws PyEvalError. */
export function pyEval(src: string): PyValue {
  // eval() ignores leading spaces and tabs of its source.
  const toks = tokenize(src.replace(/^[ \t]+/, ""));
  return new Parser(toks).parseAll();
}
