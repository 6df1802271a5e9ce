/**
 * Python `json.loads` and `str()`/`repr()` semantics for the table IoU verifier (recipe §1.7).
 *
 * `JSON.parse` cannot tell `1.0` from `1`, but Python's `str(1.0)` is "1.0" and `str(1)` is "1",
 * and the reference keys table rows by `str(cell)`. So {@link parsePyJson} is a small iterative
 * JSON parser that follows Python's `json.loads`:
 * - integer literals become {@link PyInt} (exact digits, no precision loss), literals with a
 *   fraction or exponent become {@link PyFloat};
 * - objects become `Map`s (insertion order, a duplicate key keeps its first position and takes
 *   the last value, as a Python dict does; a JS object would reorder integer-like keys);
 * - `NaN`, `Infinity`, `-Infinity` are accepted (Python's default), control characters inside
 *   strings are rejected (`strict=True`), a leading U+FEFF is rejected, only " \t\n\r" is
 *   whitespace, trailing data is an error;
 * - nesting deeper than {@link MAX_DEPTH} throws {@link PyRecursionError}, standing in for the
 *   RecursionError Python raises at its recursion limit (the reference does not catch it).
 *
 * {@link pyStr} and {@link pyRepr} render those values as Python would.
 *
 * @module
 */

/** A Python int parsed from JSON: the exact decimal digits (with sign), e.g. "-12". */
export class PyInt {
  constructor(readonly digits: string) {}
}

/** A Python float parsed from JSON (a literal with a fraction or exponent, or NaN/Infinity). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A value as Python's `json.loads` returns it. */
export type PyValue =
  | null
  | boolean
  | string
  | PyFloat
  | PyInt
  | PyValue[]
  | Map<string, PyValue>;

/** Python's `json.JSONDecodeError` (a ValueError). */
export class PyJsonDecodeError extends Error {
  override name = "JSONDecodeError";
  constructor(msg: string, readonly pos: number) {
    super(`${msg}: char ${pos}`);
  }
}

/** Python's RecursionError: the document nests deeper than {@link MAX_DEPTH}. */
export class PyRecursionError extends Error {
  override name = "RecursionError";
}

/** Maximum container nesting, about Python's default recursion limit (1000). */
export const MAX_DEPTH = 1000;

function isJsonWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// deno-lint-ignore no-control-regex
const STRING_SPECIAL = /["\\\x00-\x1f]/g;
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

const LITERALS: [string, PyValue][] = [
  ["null", null],
  ["true", true],
  ["false", false],
  ["NaN", new PyFloat(NaN)],
  ["Infinity", new PyFloat(Infinity)],
  ["-Infinity", new PyFloat(-Infinity)],
];

type Frame =
  | { kind: "list"; value: PyValue[] }
  | { kind: "dict"; value: Map<string, PyValue>; key: string };

/** Python `json.loads(text)` (see the module doc for the exact behaviour). */
export function parsePyJson(text: string): PyValue {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new PyJsonDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
  }
  const n = text.length;
  let i = 0;
  const stack: Frame[] = [];
  const skipWs = () => {
    while (i < n && isJsonWs(text.charCodeAt(i))) i++;
  };

  const parseString = (): string => {
    // text[i] === '"'
    const begin = i;
    i++;
    let out = "";
    for (;;) {
      STRING_SPECIAL.lastIndex = i;
      const m = STRING_SPECIAL.exec(text);
      if (m === null) throw new PyJsonDecodeError("Unterminated string starting at", begin);
      const j = m.index;
      if (j > i) out += text.slice(i, j);
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        i = j + 1;
        return out;
      }
      if (c !== 0x5c) throw new PyJsonDecodeError("Invalid control character at", j);
      const e = text[j + 1];
      if (e === undefined) throw new PyJsonDecodeError("Unterminated string starting at", begin);
      if (e === "u") {
        const hex = text.slice(j + 2, j + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PyJsonDecodeError("Invalid \\uXXXX escape", j);
        out += String.fromCharCode(parseInt(hex, 16));
        i = j + 6;
      } else {
        const r = ESCAPES[e];
        if (r === undefined) throw new PyJsonDecodeError("Invalid \\escape", j);
        out += r;
        i = j + 2;
      }
    }
  };

  /** Parse a scalar at i, or open a container (pushing a frame). Returns undefined when opened. */
  const parseValueStart = (): { v: PyValue } | undefined => {
    if (i >= n) throw new PyJsonDecodeError("Expecting value", i);
    const ch = text[i];
    if (ch === "{" || ch === "[") {
      if (stack.length >= MAX_DEPTH) {
        throw new PyRecursionError(
          `maximum recursion depth exceeded while decoding a JSON document (depth > ${MAX_DEPTH})`,
        );
      }
      i++;
      skipWs();
      if (ch === "[") {
        if (text[i] === "]") {
          i++;
          return { v: [] };
        }
        stack.push({ kind: "list", value: [] });
        return undefined;
      }
      if (text[i] === "}") {
        i++;
        return { v: new Map() };
      }
      if (text[i] !== '"') {
        throw new PyJsonDecodeError("Expecting property name enclosed in double quotes", i);
      }
      const key = parseString();
      skipWs();
      if (text[i] !== ":") throw new PyJsonDecodeError("Expecting ':' delimiter", i);
      i++;
      skipWs();
      stack.push({ kind: "dict", value: new Map(), key });
      return undefined;
    }
    if (ch === '"') return { v: parseString() };
    const lit = ch === "n"
      ? LITERALS[0]
      : ch === "t"
      ? LITERALS[1]
      : ch === "f"
      ? LITERALS[2]
      : ch === "N"
      ? LITERALS[3]
      : ch === "I"
      ? LITERALS[4]
      : ch === "-" && text[i + 1] === "I"
      ? LITERALS[5]
      : undefined;
    if (lit !== undefined) {
      if (!text.startsWith(lit[0], i)) throw new PyJsonDecodeError("Expecting value", i);
      i += lit[0].length;
      return { v: lit[1] };
    }
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (!m) throw new PyJsonDecodeError("Expecting value", i);
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      return { v: new PyInt(m[0] === "-0" ? "0" : m[0]) };
    }
    return { v: new PyFloat(Number(m[0])) };
  };

  skipWs();
  let result: { v: PyValue } | undefined = parseValueStart();
  for (;;) {
    if (result !== undefined) {
      // A complete value: attach it to the innermost container, or finish.
      const top = stack[stack.length - 1];
      if (top === undefined) break;
      if (top.kind === "list") top.value.push(result.v);
      else top.value.set(top.key, result.v);
      skipWs();
      const c = text[i];
      if (c === ",") {
        i++;
        skipWs();
        if (top.kind === "dict") {
          if (text[i] !== '"') {
            throw new PyJsonDecodeError("Expecting property name enclosed in double quotes", i);
          }
          top.key = parseString();
          skipWs();
          if (text[i] !== ":") throw new PyJsonDecodeError("Expecting ':' delimiter", i);
          i++;
          skipWs();
        }
        result = parseValueStart();
        continue;
      }
      if ((top.kind === "list" && c === "]") || (top.kind === "dict" && c === "}")) {
        i++;
        stack.pop();
        result = { v: top.value };
        continue;
      }
      throw new PyJsonDecodeError(`Expecting ',' delimiter`, i);
    }
    // A container was just opened: parse its first element.
    result = parseValueStart();
  }
  skipWs();
  if (i !== n) throw new PyJsonDecodeError("Extra data", i);
  return result!.v;
}

/** Python `repr(float)` (also `str(float)`): shortest round-trip digits, Python's layout. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() with no argument gives the shortest round-trip digits, like Python's repr.
  const s = Math.abs(x).toExponential();
  const e = s.indexOf("e");
  const digits = s.slice(0, e).replace(".", "");
  const decpt = parseInt(s.slice(e + 1), 10) + 1; // x = 0.DIGITS × 10^decpt
  let out: string;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) out = "0." + "0".repeat(-decpt) + digits;
    else if (decpt >= digits.length) out = digits + "0".repeat(decpt - digits.length) + ".0";
    else out = digits.slice(0, decpt) + "." + digits.slice(decpt);
  } else {
    const mant = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    const exp = decpt - 1;
    out = mant + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
  }
  return x < 0 ? "-" + out : out;
}

/** Code points Python's `str.isprintable()` rejects: categories Cc Cf Cs Co Cn Zl Zp Zs, except " ". */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[\x00-\x1f\x7f\\'"\x80-\uffff]/;

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, "0");
}

/** Python `repr(str)`. */
export function pyReprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  if (!NEEDS_ESCAPE.test(s)) return quote + s + quote;
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + hex(cp, 2);
    else if (cp < 0x7f) out += ch;
    else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      out += cp <= 0xff
        ? "\\x" + hex(cp, 2)
        : cp <= 0xffff
        ? "\\u" + hex(cp, 4)
        : "\\U" + hex(cp, 8);
    } else out += ch;
  }
  return out + quote;
}

/**
 * Python `str(v)` for a value from {@link parsePyJson}, or from `JSON.parse` (there a JS number
 * is an int when it is integral, else a float; objects keep JS key order).
 */
export function pyStr(v: unknown): string {
  return typeof v === "string" ? v : pyRepr(v);
}

/** Python `repr(v)` (the form used inside containers). Nesting is bounded by the parser. */
export function pyRepr(v: unknown, depth = 0): string {
  if (depth > MAX_DEPTH + 1) throw new PyRecursionError("maximum recursion depth exceeded in repr");
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return pyReprStr(v);
  if (v instanceof PyInt) return v.digits;
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === "number") {
    // A JS number not from parsePyJson (e.g. JSON.parse): integral means a Python int.
    return Number.isInteger(v) ? BigInt(v).toString() : pyFloatRepr(v);
  }
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (const x of v) parts.push(pyRepr(x, depth + 1));
    return "[" + parts.join(", ") + "]";
  }
  if (v instanceof Map) {
    const parts: string[] = [];
    for (const [k, x] of v) parts.push(pyRepr(k, depth + 1) + ": " + pyRepr(x, depth + 1));
    return "{" + parts.join(", ") + "}";
  }
  if (typeof v === "object") {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      parts.push(pyReprStr(k) + ": " + pyRepr(x, depth + 1));
    }
    return "{" + parts.join(", ") + "}";
  }
  return String(v);
}
