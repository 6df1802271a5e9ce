/**
 * Tokenizer and parser for one normalized answer (see `latex.ts`) into a small AST.
 * It understands the LaTeX and plain-text math that final answers use: numbers (thousands
 * separators, decimals, `1.5e3`), `\frac`, `\sqrt`, powers, implicit products, `\pi`, `\infty`,
 * functions, percent, factorial, tuples, intervals, sets, unions and (in)equations.
 *
 * The parser is recursive descent with an explicit nesting budget ({@link MAX_DEPTH}); deeper
 * input is reported as unparsable instead of overflowing the stack. Sums and products are built
 * as flat n-ary nodes in loops, so long chains like `1+1+...+1` do not deepen the tree.
 */

import { FUNCTION_NAMES, MATH_WORDS } from "./latex.ts";

/** Maximum parser nesting (brackets, unary signs, exponents) before giving up. */
export const MAX_DEPTH = 64;

/** Relation operators, normalized. */
export type RelOp = "=" | "<" | ">" | "<=" | ">=" | "!=";

export type Node =
  | { k: "num"; text: string }
  | { k: "var"; name: string }
  | { k: "const"; name: "pi" | "inf" | "e" }
  | { k: "add"; terms: Node[]; neg: boolean[] }
  | { k: "mul"; factors: Node[]; inv: boolean[] }
  | { k: "neg"; x: Node }
  | { k: "pow"; base: Node; exp: Node }
  | { k: "fn"; name: string; arg: Node; arg2?: Node }
  | { k: "pct"; x: Node }
  | { k: "fact"; x: Node }
  | { k: "tuple"; items: Node[] }
  | { k: "list"; items: Node[] }
  | { k: "set"; items: Node[] }
  | { k: "interval"; lo: Node; hi: Node; loOpen: boolean; hiOpen: boolean }
  | { k: "union"; items: Node[] }
  | { k: "rel"; ops: RelOp[]; sides: Node[] };

interface Tok {
  t: "num" | "var" | "word" | "cmd" | "op";
  v: string;
}

/** Thrown internally for any unparsable input; never escapes {@link parseMath}. */
class ParseFail extends Error {}

const FUNCTIONS = new Set<string>(FUNCTION_NAMES);

/** LaTeX commands that have no meaning as an answer value: refuse rather than guess. */
const REFUSED = new Set(["begin", "end", "pm", "mp", "to", "rightarrow", "implies", "iff"]);

const RELS: Record<string, RelOp> = {
  "=": "=",
  "<": "<",
  ">": ">",
  "\\le": "<=",
  "\\ge": ">=",
  "\\lt": "<",
  "\\gt": ">",
  "\\ne": "!=",
  "\\neq": "!=",
};

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let depth = 0; // bracket depth; thousands separators are only recognized outside brackets
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === " " || c === "\t" || c === "\n") {
      i++;
      continue;
    }
    if ((c >= "0" && c <= "9") || (c === "." && /\d/.test(s[i + 1] ?? ""))) {
      const rest = s.slice(i, i + 400);
      const thousands = depth === 0 ? /^\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)/.exec(rest) : null;
      const m = thousands ?? /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+(?![A-Za-z]))?/.exec(rest)!;
      out.push({ t: "num", v: m[0].replace(/,/g, "") });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      const run = /^[A-Za-z]+/.exec(s.slice(i, i + 64))![0];
      if (MATH_WORDS.has(run)) out.push({ t: "word", v: run });
      else for (const ch of run) out.push({ t: "var", v: ch });
      i += run.length;
      continue;
    }
    if (c === "\\") {
      const m = /^\\([A-Za-z]+|.)/.exec(s.slice(i, i + 64));
      if (!m) throw new ParseFail("dangling backslash");
      const name = m[1];
      if (name === "{") {
        depth++;
        out.push({ t: "op", v: "\\{" });
      } else if (name === "}") {
        depth--;
        out.push({ t: "op", v: "\\}" });
      } else if (name === "%") out.push({ t: "op", v: "%" });
      else out.push({ t: "cmd", v: name });
      i += m[0].length;
      continue;
    }
    if (c === "<" || c === ">" || c === "!") {
      if (s[i + 1] === "=") {
        out.push({ t: "cmd", v: c === "<" ? "le" : c === ">" ? "ge" : "ne" });
        i += 2;
        continue;
      }
    }
    if ("([".includes(c)) depth++;
    if (")]".includes(c)) depth--;
    if ("+-*/^_()[]{},=<>!%|'".includes(c)) {
      out.push({ t: "op", v: c });
      i++;
      continue;
    }
    // Greek and other single letters written directly in Unicode act as symbols.
    if (/\p{L}/u.test(c)) {
      out.push({ t: "var", v: c });
      i++;
      continue;
    }
    throw new ParseFail(`unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private isOp(v: string): boolean {
    const t = this.toks[this.i];
    return t !== undefined && t.t === "op" && t.v === v;
  }
  private expectOp(v: string): void {
    if (!this.isOp(v)) throw new ParseFail(`expected ${v}`);
    this.i++;
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseFail("nesting too deep");
  }
  private leave(): void {
    this.depth--;
  }

  /** Whole answer: a comma-separated list of relations. */
  parseAll(): Node {
    const items = this.parseItems();
    if (this.i !== this.toks.length) throw new ParseFail("trailing tokens");
    return items.length === 1 ? items[0] : { k: "list", items };
  }

  private parseItems(): Node[] {
    const items = [this.parseRelation()];
    while (this.isOp(",")) {
      this.i++;
      items.push(this.parseRelation());
    }
    return items;
  }

  private relOp(): RelOp | null {
    const t = this.peek();
    if (!t) return null;
    if (t.t === "op" && (t.v === "=" || t.v === "<" || t.v === ">")) return RELS[t.v];
    if (t.t === "cmd") return RELS["\\" + t.v] ?? null;
    return null;
  }

  private parseRelation(): Node {
    const sides = [this.parseUnion()];
    const ops: RelOp[] = [];
    for (let op = this.relOp(); op !== null; op = this.relOp()) {
      this.i++;
      ops.push(op);
      sides.push(this.parseUnion());
    }
    return ops.length === 0 ? sides[0] : { k: "rel", ops, sides };
  }

  private parseUnion(): Node {
    const items = [this.parseSum()];
    while (this.peek()?.t === "cmd" && this.peek()!.v === "cup") {
      this.i++;
      items.push(this.parseSum());
    }
    return items.length === 1 ? items[0] : { k: "union", items };
  }

  private parseSum(): Node {
    const terms: Node[] = [];
    const neg: boolean[] = [];
    terms.push(this.parseTerm());
    neg.push(false);
    while (this.isOp("+") || this.isOp("-")) {
      neg.push(this.peek()!.v === "-");
      this.i++;
      terms.push(this.parseTerm());
    }
    return terms.length === 1 ? terms[0] : { k: "add", terms, neg };
  }

  /** Can the next token begin an implicitly multiplied factor (`2x`, `3\pi`, `2(1+x)`)? */
  private startsFactor(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.t === "num" || t.t === "var" || t.t === "word") return true;
    if (t.t === "op") return t.v === "(" || t.v === "{";
    return !(t.v in { le: 1, ge: 1, lt: 1, gt: 1, ne: 1, neq: 1, cup: 1 });
  }

  private parseTerm(): Node {
    const factors: Node[] = [this.parseUnary()];
    const inv: boolean[] = [false];
    for (;;) {
      if (this.isOp("*") || this.isOp("/")) {
        inv.push(this.peek()!.v === "/");
        this.i++;
        factors.push(this.parseUnary());
      } else if (this.startsFactor()) {
        inv.push(false);
        factors.push(this.parsePower());
      } else break;
    }
    return factors.length === 1 ? factors[0] : { k: "mul", factors, inv };
  }

  private parseUnary(): Node {
    if (this.isOp("-") || this.isOp("+")) {
      const minus = this.peek()!.v === "-";
      this.i++;
      this.enter();
      const x = this.parseUnary();
      this.leave();
      return minus ? { k: "neg", x } : x;
    }
    return this.parsePower();
  }

  private parsePower(): Node {
    let base = this.parsePostfix();
    if (this.isOp("^")) {
      this.i++;
      this.enter();
      const exp = this.isOp("{") ? this.parseGroupArg() : this.parseUnaryExponent();
      this.leave();
      base = { k: "pow", base, exp };
      base = this.parsePostfixOps(base);
    }
    return base;
  }

  /** Exponent without braces: an optional sign and one primary (`2^-1`, `x^2`, `e^{x}`). */
  private parseUnaryExponent(): Node {
    if (this.isOp("-")) {
      this.i++;
      this.enter();
      const x = this.parseUnaryExponent();
      this.leave();
      return { k: "neg", x };
    }
    return this.parsePower();
  }

  private parsePostfix(): Node {
    return this.parsePostfixOps(this.parsePrimary());
  }

  private parsePostfixOps(x: Node): Node {
    for (;;) {
      if (this.isOp("!")) {
        this.i++;
        x = { k: "fact", x };
      } else if (this.isOp("%")) {
        this.i++;
        x = { k: "pct", x };
      } else return x;
    }
  }

  /** `{...}` group used as a command argument or exponent. */
  private parseGroupArg(): Node {
    this.expectOp("{");
    this.enter();
    const items = this.parseItems();
    this.leave();
    this.expectOp("}");
    return items.length === 1 ? items[0] : { k: "list", items };
  }

  /** Argument of `\frac`/`\sqrt`: a group, or a single digit / symbol (`\frac12`, `\sqrt2`). */
  private parseArg(): Node {
    const t = this.peek();
    if (!t) throw new ParseFail("missing argument");
    if (t.t === "op" && t.v === "{") return this.parseGroupArg();
    if (t.t === "num") {
      if (/^\d\d/.test(t.v)) {
        this.toks[this.i] = { t: "num", v: t.v.slice(1) };
        return { k: "num", text: t.v[0] };
      }
      this.i++;
      return { k: "num", text: t.v };
    }
    if (t.t === "var") {
      this.i++;
      return { k: "var", name: t.v };
    }
    if (t.t === "cmd") return this.parsePrimary();
    throw new ParseFail("bad argument");
  }

  private parseBracketed(open: "(" | "["): Node {
    this.i++;
    this.enter();
    const items = this.parseItems();
    this.leave();
    const close = this.peek();
    if (!close || close.t !== "op" || (close.v !== ")" && close.v !== "]")) {
      throw new ParseFail("unclosed bracket");
    }
    this.i++;
    const mixed = (open === "(") !== (close.v === ")");
    if (mixed || (open === "[" && close.v === "]" && items.length === 2)) {
      if (items.length !== 2) throw new ParseFail("interval needs two endpoints");
      return {
        k: "interval",
        lo: items[0],
        hi: items[1],
        loOpen: open === "(",
        hiOpen: close.v === ")",
      };
    }
    return items.length === 1 ? items[0] : { k: "tuple", items };
  }

  private parseVar(name: string): Node {
    // Subscripts become part of the symbol name: x_1, a_{n}.
    if (this.isOp("_")) {
      this.i++;
      const t = this.peek();
      if (!t) throw new ParseFail("dangling subscript");
      if (t.t === "op" && t.v === "{") {
        const start = this.i;
        const end = this.skipGroup();
        name += "_" + this.toks.slice(start + 1, end - 1).map((x) => x.v).join("");
      } else {
        this.i++;
        name += "_" + t.v;
      }
    }
    return { k: "var", name };
  }

  /** Skips a `{...}` token group iteratively, returning the index after the closing brace. */
  private skipGroup(): number {
    let depth = 0;
    for (; this.i < this.toks.length; this.i++) {
      const t = this.toks[this.i];
      if (t.t === "op" && t.v === "{") depth++;
      if (t.t === "op" && t.v === "}" && --depth === 0) return ++this.i;
    }
    throw new ParseFail("unclosed subscript");
  }

  private parseFunction(name: string): Node {
    let base: Node | undefined;
    if (name === "log" && this.isOp("_")) {
      this.i++;
      base = this.parseArg();
    }
    this.enter();
    let arg: Node;
    if (this.isOp("(")) arg = this.parseBracketed("(");
    else if (this.isOp("{")) arg = this.parseGroupArg();
    else arg = this.parsePower();
    this.leave();
    return { k: "fn", name, arg, arg2: base };
  }

  private parsePrimary(): Node {
    const t = this.peek();
    if (!t) throw new ParseFail("unexpected end");
    if (t.t === "num") {
      this.i++;
      return { k: "num", text: t.v };
    }
    if (t.t === "var") {
      this.i++;
      return this.parseVar(t.v);
    }
    if (t.t === "word") {
      this.i++;
      if (t.v === "pi") return { k: "const", name: "pi" };
      if (t.v === "infty" || t.v === "inf") return { k: "const", name: "inf" };
      if (t.v === "sqrt") return { k: "fn", name: "sqrt", arg: this.parseArg() };
      return this.parseFunction(t.v);
    }
    if (t.t === "op") {
      if (t.v === "(" || t.v === "[") return this.parseBracketed(t.v);
      if (t.v === "{") return this.parseGroupArg();
      if (t.v === "\\{") {
        this.i++;
        if (this.isOp("\\}")) {
          this.i++;
          return { k: "set", items: [] };
        }
        this.enter();
        const items = this.parseItems();
        this.leave();
        this.expectOp("\\}");
        return { k: "set", items };
      }
      if (t.v === "|") {
        this.i++;
        this.enter();
        const x = this.parseSum();
        this.leave();
        this.expectOp("|");
        return { k: "fn", name: "abs", arg: x };
      }
      throw new ParseFail(`unexpected ${t.v}`);
    }
    // LaTeX command.
    this.i++;
    const name = t.v;
    if (REFUSED.has(name)) throw new ParseFail(`unsupported \\${name}`);
    if (name === "frac") {
      this.enter();
      const num = this.parseArg();
      const den = this.parseArg();
      this.leave();
      return { k: "mul", factors: [num, den], inv: [false, true] };
    }
    if (name === "sqrt") {
      let index: Node | undefined;
      if (this.isOp("[")) {
        this.i++;
        index = this.parseSum();
        this.expectOp("]");
      }
      this.enter();
      const arg = this.parseArg();
      this.leave();
      return { k: "fn", name: "sqrt", arg, arg2: index };
    }
    if (name === "pi") return { k: "const", name: "pi" };
    if (name === "infty") return { k: "const", name: "inf" };
    if (name === "exp" && this.isOp("{")) {
      return { k: "fn", name: "exp", arg: this.parseGroupArg() };
    }
    if (FUNCTIONS.has(name)) return this.parseFunction(name);
    if (name === "emptyset" || name === "varnothing") return { k: "set", items: [] };
    if (/^[A-Za-z]+$/.test(name)) return this.parseVar("\\" + name); // \alpha, \theta, ...
    throw new ParseFail(`unexpected \\${name}`);
  }
}

/** Parses a normalized answer; `null` when it is not math this parser understands. */
export function parseMath(s: string): Node | null {
  try {
    const toks = tokenize(s);
    if (toks.length === 0) return null;
    return new Parser(toks).parseAll();
  } catch (e) {
    if (e instanceof ParseFail || e instanceof RangeError) return null;
    throw e;
  }
}
