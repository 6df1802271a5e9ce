/**
 * LaTeX clean-up for a single answer string (the inside of `\boxed{}` or a `$...$` span):
 * strips math-mode wrappers, unwraps `\text{}`-style commands, drops units and spacing macros,
 * and rewrites synonyms (`\dfrac` → `\frac`) so the parser sees one spelling of each construct.
 * Loosely follows latex2sympy2_extended's `normalize_latex` as configured by Math-Verify.
 *
 * Everything here is loop-based (no recursion) so adversarial nesting cannot overflow the stack.
 */

/** Answers longer than this are not parsed as math (only compared as strings). */
export const MAX_ANSWER_CHARS = 2000;

/**
 * Index just past the `}` matching the `{` at `open`, or -1 when unbalanced.
 * Escaped braces (`\{`) are skipped so set notation inside a group does not confuse the count.
 */
export function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const BOX_RE = /\\(?:boxed|fbox|framebox)\b\s*/g;

/**
 * Content of the last `\boxed{...}` / `\fbox{...}` / `\boxed x` in `s`, with its end index.
 * `\boxed x` (no braces) takes the next run of non-space characters, as TeX would take one token;
 * we take the whole run because models write `\boxed 42` meaning the number.
 */
export function lastBoxed(s: string): { content: string; start: number; end: number } | null {
  let best: { content: string; start: number; end: number } | null = null;
  BOX_RE.lastIndex = 0;
  for (let m = BOX_RE.exec(s); m !== null; m = BOX_RE.exec(s)) {
    const at = m.index + m[0].length;
    if (s[at] === "{") {
      const end = matchBrace(s, at);
      if (end < 0) continue;
      best = { content: s.slice(at + 1, end - 1), start: m.index, end };
      BOX_RE.lastIndex = end;
    } else {
      const run = /^[^\s$]+/.exec(s.slice(at, at + 200));
      if (!run) continue;
      // `\boxed 5.` — a sentence period is not part of the answer.
      const content = run[0].replace(/[.,;]+$/, "");
      if (content === "" || content.startsWith("\\boxed")) continue;
      best = { content, start: m.index, end: at + run[0].length };
    }
  }
  return best;
}

/** Removes one layer of math-mode delimiters around the whole string, repeatedly. */
function stripMathWrappers(s: string): string {
  for (let guard = 0; guard < 8; guard++) {
    const t = s.trim();
    let next = t;
    if (t.startsWith("$$") && t.endsWith("$$") && t.length >= 4) next = t.slice(2, -2);
    else if (t.startsWith("$") && t.endsWith("$") && t.length >= 2) next = t.slice(1, -1);
    else if (/^\\[[(]/.test(t) && /\\[\])]$/.test(t)) next = t.slice(2, -2);
    else {
      const b = lastBoxed(t);
      if (b && b.start === 0 && b.end === t.length) next = b.content;
    }
    if (next === t) return t;
    s = next;
  }
  return s.trim();
}

const TEXT_CMDS =
  /\\(?:text|textbf|textit|textrm|texttt|mathrm|mathbf|mathit|mathsf|mbox|operatorname|emph)\s*\{/g;

/**
 * Unwraps text-like commands. A `\text{...}` whose content is only words, inside an answer that
 * also contains a digit, is a unit (`5\text{ cm}`) and is dropped, mirroring Math-Verify's
 * `units=True` normalization; anything else keeps its content (`\text{(A)}` → `(A)`).
 */
function unwrapText(s: string): string {
  for (let guard = 0; guard < 64; guard++) {
    TEXT_CMDS.lastIndex = 0;
    const m = TEXT_CMDS.exec(s);
    if (!m) return s;
    const open = m.index + m[0].length - 1;
    const end = matchBrace(s, open);
    if (end < 0) return s.slice(0, m.index) + s.slice(open + 1); // tolerate a missing `}`
    const inner = s.slice(open + 1, end - 1);
    const outside = s.slice(0, m.index) + s.slice(end);
    const isUnit = /^\s*[A-Za-z]+(?:\s+[A-Za-z]+){0,2}\s*$/.test(inner) && /\d/.test(outside) &&
      !/^\s*(?:or|and)\s*$/i.test(inner);
    // A unit may carry its own power (`\text{cm}^2`); that exponent belongs to the unit.
    const after = isUnit
      ? end + (/^\s*\^\s*(?:\{\s*[23]\s*\}|[23])/.exec(s.slice(end))?.[0].length ?? 0)
      : end;
    s = s.slice(0, m.index) + (isUnit ? " " : inner) + s.slice(after);
  }
  return s;
}

/** Function names the parser understands (also math words, not units). */
export const FUNCTION_NAMES = [
  "sin",
  "cos",
  "tan",
  "cot",
  "sec",
  "csc",
  "arcsin",
  "arccos",
  "arctan",
  "sinh",
  "cosh",
  "tanh",
  "log",
  "ln",
  "exp",
] as const;

/** Known words that are math, not units or prose. */
export const MATH_WORDS = new Set<string>([...FUNCTION_NAMES, "sqrt", "pi", "infty", "inf"]);

/**
 * Drops trailing unit words after a numeric answer (`12 cm`, `3.5 square units`, `7 dollars`).
 * Only fires when at least one trailing word has two or more letters, so `2x` stays algebra.
 */
function stripTrailingUnits(s: string): string {
  const m = /^(.*[\d)}])\s*((?:[A-Za-z]+\.?\s*)+)(?:\^\{?[23]\}?)?\s*$/.exec(s);
  if (!m) return s;
  const words = m[2].trim().split(/[\s.]+/).filter((w) => w !== "");
  if (!words.some((w) => w.length >= 2) || words.some((w) => MATH_WORDS.has(w.toLowerCase()))) {
    return s;
  }
  // `m[1]` ends in `}` for `\frac{1}{2} cup`; the prefix must not itself end mid-command.
  return m[1];
}

/** Simple literal rewrites, applied in order. */
const REWRITES: Array<[RegExp, string]> = [
  [/\\(?:left|right|big|Big|bigg|Bigg)(?=[\s()[\]|.\\{}<>])/g, ""],
  [/\\[dt]frac/g, "\\frac"],
  [/\\displaystyle/g, ""],
  [/\{,\}/g, ""], // 1{,}234 → 1234
  [/(\d)\\[,!;: ](?=\d)/g, "$1"], // 1\,234 → 1234 (thin-space thousands)
  [/\\[,!;:]|\\q?quad|~/g, " "],
  [/\\ /g, " "],
  [/\\\$/g, ""], // currency
  [/\$/g, ""],
  [/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\degree/g, ""],
  [/\\%/g, "%"],
  [/\\cdot|\\times|×|·/g, "*"],
  [/\\div|÷/g, "/"],
  [/−|–/g, "-"],
  [/\\lbrace|\\\{/g, "\\{"],
  [/\\rbrace|\\\}/g, "\\}"],
  [/\\leq?(?![a-z])|≤/g, "\\le "],
  [/\\geq?(?![a-z])|≥/g, "\\ge "],
  [/π/g, "\\pi "],
  [/∞/g, "\\infty "],
  [/∪/g, "\\cup "],
  [/\\infinity/g, "\\infty "],
];

/**
 * Full normalization of one answer. Returns `null` when the answer is too long to be worth
 * parsing; callers then compare strings only.
 */
export function normalizeAnswer(raw: string): string | null {
  if (raw.length > MAX_ANSWER_CHARS) return null;
  let s = stripMathWrappers(raw);
  s = unwrapText(s);
  for (const [re, to] of REWRITES) s = s.replace(re, to);
  s = s.replace(/\s+/g, " ").trim();
  s = s.replace(/[.;]+$/, "").trim(); // sentence punctuation after the answer
  // "3 and 4", "x = 1 or x = 2": Math-Verify joins such answers into one set.
  s = s.replace(/(?<=[\w})\]])\s*,?\s+(?:and|or)\s+(?=[-\w\\({[])/g, ", ");
  // Membership answers (`x \in [1, 2]`) mean the set on the right.
  s = s.replace(/^[A-Za-z](?:_\{?\w+\}?)?\s*\\in(?![A-Za-z])\s*/, "");
  s = stripTrailingUnits(s).trim();
  return s;
}

/** Normalization for prose answers: case- and whitespace-insensitive, punctuation-trimmed. */
export function normalizeText(s: string): string {
  return s.toLowerCase().replace(/[\s{}]+/g, " ").replace(/^[\s"'(]+|[\s"'.!?)]+$/g, "").trim();
}
