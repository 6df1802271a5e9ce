/**
 * Final-answer extraction from free text, following Math-Verify's default `parse()` configs
 * (`LatexExtractionConfig()` + `ExprExtractionConfig()`), which rank candidate spans by tier:
 *
 * | tier | what                                                                   |
 * | ---- | ---------------------------------------------------------------------- |
 * | 50   | last `\boxed{}` / `\fbox{}`; "final answer ... is X" (LaTeX or number) |
 * | 100  | "answer:" followed within 50 chars by LaTeX, or a number/expression    |
 * | 200  | "answer" (no colon), same                                              |
 * | 300  | any `$..$`, `$$..$$`, `\(..\)`, `\[..\]`, bare `\frac{1}{2}`, number   |
 *
 * Within a tier the candidate that ends last wins; a candidate that fails to parse is skipped
 * and the next one tried (then the next tier), exactly as Math-Verify's `any_match` mode does.
 * All regexes are linear or bounded by the small window they run on (callers pass ≤ 500 chars
 * for rewards; {@link extractCandidate} itself clamps to {@link MAX_SCAN_CHARS}).
 */

import { lastBoxed } from "./latex.ts";

/** Longest text suffix scanned; bounds regex work on arbitrary input. */
export const MAX_SCAN_CHARS = 4096;

export interface Candidate {
  tier: number;
  start: number;
  end: number;
  /** The answer text as written (boxed content, LaTeX span content, or the number/expression). */
  content: string;
  /** Where it came from; LaTeX spans and boxed content go through LaTeX normalization. */
  source: "boxed" | "latex" | "expr";
}

/** Case-insensitive literal for use inside a larger case-sensitive regex (like `(?i:...)`). */
function ci(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c))
    .join("");
}

const PCT = String.raw`(?<pct>\s*(?:\\?%|[Pp]ercent(?:age)?|[Pp]ct))?`;

// LaTeX math spans; mirrors Math-Verify's make_latex_env_pattern("plain").
const ENV = String.raw`(?:(?<!\\)\$\$(?<dd>(?:[^$]|\$(?!\$))+?)(?<!\\)\$\$` +
  String.raw`|(?<!\\)\\\[(?<db>(?:[^\\]|\\(?!\]))+?)(?<!\\)\\\]` +
  String.raw`|(?<![\\\d])\$(?<id>(?:\\\$|[^\n$])+?)(?<!\\)\$` +
  String.raw`|(?<!\\)\\\((?<ip>(?:[^\\\n]|\\(?!\)))+?)(?<!\\)\\\)` +
  String.raw`|(?<fr>-?\\frac\{-?\d+(?:\.\d+)?\}\{-?\d+(?:\.\d+)?\}))` + PCT;

// Plain numbers and expressions; mirrors Math-Verify's lazy_expr_regex (minus the "1 234" and
// "123,45" forms, which we read as two numbers / a list rather than one number).
const NUM = String.raw`(?<![\d])(?:(?<int1>-?[1-9]\d{0,2}(?:,\d{3})+)(?<dec1>\.\d+)?` +
  String.raw`|(?<int2>-?\d+)(?<dec2>\.\d+)|(?<dec3>\.\d+)|(?<int3>-?\d+))` +
  String.raw`(?<npct>\s*(?:%|[Pp]ercent(?:age)?|[Pp]ct))?`;
const OPS = String.raw`+\-*×/^()÷`;
const EXPR_CH = String.raw`[\d.\s${OPS}]`;
const EXPR = String.raw`(?<expr>-?\(?-?\d${EXPR_CH}*[${OPS}]${EXPR_CH}+\)?)`;
const PREFIX = String.raw`(?:^|\s|=)(?:\*\*)?`;
const SUFFIX = String.raw`(?:\*\*)?(?:\.|,|:|\s|\)|\$|$)`;
const EXPR_ANCH = `(?:${PREFIX}${EXPR}${SUFFIX})`;
const NUM_ANCH = `(?:${PREFIX}[$€£¥₹]?${NUM})`;
const EXPR_OR_NUM = `(?:${EXPR_ANCH}|${NUM_ANCH})`;

const ANSWER = ci("answer");
const FINAL = `${ci("final answer")}`;

interface Pattern {
  re: RegExp;
  tier: number;
  source: "latex" | "expr";
}

const PATTERNS: Pattern[] = [
  { re: new RegExp(`${FINAL}[\\s\\S]{0,100}?\\s+is:?\\s*${ENV}`, "g"), tier: 50, source: "latex" },
  { re: new RegExp(`${FINAL}.{0,100}?\\s+is:?${EXPR_OR_NUM}`, "g"), tier: 50, source: "expr" },
  { re: new RegExp(`${ANSWER}:[\\s\\S]{0,50}?${ENV}`, "g"), tier: 100, source: "latex" },
  {
    re: new RegExp(`${ANSWER}:(?:.{0,100}=\\s*|.{0,50}?)${EXPR_OR_NUM}(?!\\s*=)`, "g"),
    tier: 100,
    source: "expr",
  },
  { re: new RegExp(`${ANSWER}[\\s\\S]{0,50}?${ENV}`, "g"), tier: 200, source: "latex" },
  {
    re: new RegExp(`${ANSWER}(?:.{0,100}=\\s*|.{0,50}?)${EXPR_OR_NUM}(?!\\s*=)`, "g"),
    tier: 200,
    source: "expr",
  },
  { re: new RegExp(ENV, "g"), tier: 300, source: "latex" },
  { re: new RegExp(EXPR_ANCH, "g"), tier: 300, source: "expr" },
  { re: new RegExp(NUM_ANCH, "g"), tier: 300, source: "expr" },
];

/** Turns a regex match into the answer text it denotes. */
function contentOf(m: RegExpMatchArray, source: "latex" | "expr"): string | null {
  const g = m.groups ?? {};
  if (source === "latex") {
    const body = g.dd ?? g.db ?? g.id ?? g.ip ?? g.fr;
    if (body === undefined) return null;
    return g.pct ? `${body}\\%` : body;
  }
  if (g.expr !== undefined) return g.expr.replace(/\n/g, " ");
  const integer = g.int1 ?? g.int2 ?? g.int3 ?? "";
  const decimal = g.dec1 ?? g.dec2 ?? g.dec3 ?? "";
  if (integer === "" && decimal === "") return null;
  // Same canonical form as Math-Verify: separators dropped, leading zeros stripped.
  const sign = integer.startsWith("-") ? "-" : "";
  const digits = integer.replace(/[-,]/g, "").replace(/^0+/, "") || "0";
  return `${sign}${digits}${decimal}${g.npct ? "%" : ""}`;
}

/** All candidate spans in `text`, grouped by tier (ascending) and ordered within a tier. */
export function candidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  const boxed = lastBoxed(text);
  if (boxed) {
    out.push({
      tier: 50,
      start: boxed.start,
      end: boxed.end,
      content: boxed.content,
      source: "boxed",
    });
  }
  for (const p of PATTERNS) {
    for (const m of text.matchAll(p.re)) {
      const content = contentOf(m, p.source);
      if (content === null || content.trim() === "") continue;
      const start = m.index ?? 0;
      out.push({ tier: p.tier, start, end: start + m[0].length, content, source: p.source });
    }
  }
  // Tier ascending, then rightmost end first, then leftmost start (Math-Verify's sort key).
  out.sort((a, b) => a.tier - b.tier || b.end - a.end || a.start - b.start);
  return out;
}

/**
 * Picks the first candidate that `accept` approves, tier by tier. Plain-number candidates that
 * overlap a LaTeX span that failed to parse are skipped, as Math-Verify does, so a broken
 * formula cannot leak one of its inner numbers as the answer.
 */
export function extractCandidate(
  text: string,
  accept: (c: Candidate) => boolean,
): Candidate | null {
  if (text.length > MAX_SCAN_CHARS) text = text.slice(text.length - MAX_SCAN_CHARS);
  const failed: Array<[number, number]> = [];
  for (const c of candidates(text)) {
    if (c.source === "expr" && failed.some(([lo, hi]) => c.start < hi && c.end > lo)) continue;
    if (accept(c)) return c;
    if (c.source !== "expr") failed.push([c.start, c.end]);
  }
  return null;
}
