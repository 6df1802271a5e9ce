/**
 * DocMath-Eval rule-based accuracy as GoLongRL runs it: evalscope's
 * `benchmarks/docmath/utils.py` (`extract_answer` → `normalize` → `get_acc` →
 * `compare_two_numbers`). The official yale-nlp/DocMath-Eval `utils/evaluation_utils.py` is the
 * same except that it rounds up to 3 decimals instead of 2 (`decimals` option) and receives the
 * ground truth already typed.
 *
 * Python `eval()` of the normalized text is replaced by the safe evaluator in `pyexpr.ts`; any
 * input outside its subset takes the same path as Python's `except Exception: prediction = 0`.
 *
 * @module
 */

import { pyEval, PyEvalError, type PyValue } from "./pyexpr.ts";
import { pyStrip } from "./pystr.ts";

/**
 * `extract_answer`: delete "*", "(", ")"; take the number after "the answer is"
 * (case-insensitive), drop its commas and trailing dots; else return the whole response.
 */
export function docmathExtractAnswer(response: string): string {
  const text = response.replaceAll("*", "").replaceAll("(", "").replaceAll(")", "");
  const m = /the answer is (=?≈?`?%?\$?°?£?€?¥?-?[0-9.,]+)/iu.exec(text);
  if (!m) return text;
  return m[1].replaceAll(",", "").replace(/\.+$/, "");
}

// The unit-dropping patterns of `normalize`. Python's `\d` is Unicode (Nd) and its `$` also
// matches before one trailing "\n"; re.match anchors at the start only.
const NUM = String.raw`[-+]?(?:[\p{Nd},]*\.*\p{Nd}+)`;
const END = String.raw`(?=\n?$)`;
const UNIT_AFTER = new RegExp(String.raw`^(${NUM}) [^0-9 ]+${END}`, "u");
const UNIT_BEFORE = new RegExp(String.raw`^[^0-9 ]+ (${NUM})${END}`, "u");
const SUFFIX = new RegExp(String.raw`^(${NUM})[^\p{Nd}]{1,2}${END}`, "u");
const PREFIX = new RegExp(String.raw`^[^\-+\p{Nd}]{1,2}((?:[\p{Nd},]*\.*\p{Nd}+))${END}`, "u");
const IS_NUMBER = new RegExp(
  String.raw`^[-+]?(\p{Nd}{1,3}(,\p{Nd}{3})*|(\p{Nd}+))(\.\p{Nd}+)?${END}`,
  "u",
);

function rstripDots(s: string): string {
  return s.replace(/\.+$/, "");
}

/** The string `normalize` passes to `eval()` (stages 1–3 of the original). */
export function docmathNormalizeText(prediction: string): string {
  let p = rstripDots(pyStrip(prediction));
  for (const money of ["£", "€", "¥", "million", "billion", "thousand", "US", "USD", "RMB"]) {
    p = p.replaceAll(money, "");
  }
  if (p.includes("=")) p = pyStrip(p.split("=").at(-1)!);
  if (p.includes("≈")) p = pyStrip(p.split("≈").at(-1)!);
  for (const ch of ["`", "%", "$", "°"]) p = p.replaceAll(ch, "");

  if (["true", "yes", "false", "no"].includes(p)) {
    p = p === "true" || p === "yes" ? "True" : "False";
  }
  if (p.includes("True") || p.includes("False")) p = p.includes("True") ? "True" : "False";

  if (p.includes("approximately")) p = pyStrip(p.replaceAll("approximately", ""));
  if (p.includes(" or ")) p = p.split(" or ")[0];

  for (const re of [UNIT_AFTER, UNIT_BEFORE, SUFFIX, PREFIX]) {
    const m = re.exec(p);
    if (m) p = m[1];
  }

  if (p.includes("10^")) p = p.replace(/10\^(-?\p{Nd}+)/gu, "math.pow(10, $1)");
  if (p.includes(" x ")) p = p.replaceAll(" x ", "*");
  if (p.includes(" × ")) p = p.replaceAll(" × ", "*");
  if (IS_NUMBER.test(p)) p = p.replaceAll(",", "");

  if (["(a)", "(b)", "(c)", "(d)"].some((o) => p.includes(o))) {
    p = `"${/\([a-d]\)/.exec(p)![0]}"`;
  }
  return p || "0";
}

/** `normalize(prediction)`: the value Python's `eval` would produce (0 when it raises). */
export function docmathNormalize(prediction: string): PyValue {
  const text = docmathNormalizeText(prediction);
  try {
    return pyEval(text);
  } catch (e) {
    if (e instanceof PyEvalError) return { kind: "int", value: 0 };
    throw e;
  }
}

function roundUpToDecimal(x: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.ceil(x * factor) / factor;
}

function withinEps(pred: number, gt: number): boolean {
  const eps = Math.abs(gt) * 0.0015;
  return pred >= gt - eps && pred <= gt + eps;
}

/**
 * `compare_two_numbers(p, gt)` on magnitudes: power-of-10 ratio; ×100 / ×1000 / ×100000 scale
 * slips (each only when the smaller is ≤ larger/50, /500, /50000); equal after rounding UP to
 * `decimals` places; else |p − gt| ≤ 0.0015·|gt|.
 */
export function compareTwoNumbers(p: number, gt: number, decimals = 2): boolean {
  const v1 = Math.max(Math.abs(gt), Math.abs(p));
  const v2 = Math.min(Math.abs(gt), Math.abs(p));
  if (v1 !== 0 && v2 !== 0) {
    const l = Math.log10(v1 / v2);
    if (Math.trunc(l) === l) return true;
  }
  if (v2 <= v1 / 50 && withinEps(v2 * 100, v1)) return true;
  else if (v2 <= v1 / 500 && withinEps(v2 * 1000, v1)) return true;
  else if (v2 <= v1 / 50000 && withinEps(v2 * 100000, v1)) return true;
  if (roundUpToDecimal(v1, decimals) === roundUpToDecimal(v2, decimals)) return true;
  return withinEps(p, gt);
}

/**
 * Python `int(s)` for a str: surrounding whitespace, sign, digits with single underscores.
 * Python also accepts non-ASCII decimal digits here; ground truths are `str(int)`, so we only
 * accept ASCII and raise otherwise.
 */
export function pyIntFromString(s: string): number {
  const m = /^([+-]?)(\d(?:_?\d)*)$/.exec(pyStrip(s));
  if (!m) throw new PyEvalError(`invalid literal for int(): ${JSON.stringify(s)}`);
  return Number(m[1] + m[2].replaceAll("_", ""));
}

/** Python `float(s)` for a str (decimal, exponent, inf/nan, underscores, surrounding spaces). */
export function pyFloatFromString(s: string): number {
  const t = pyStrip(s);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) {
    const v = special[2].toLowerCase() === "nan" ? NaN : Infinity;
    return special[1] === "-" ? -v : v;
  }
  const d = String.raw`\d(?:_?\d)*`;
  const re = new RegExp(String.raw`^[+-]?(?:${d}(?:\.(?:${d})?)?|\.${d})(?:[eE][+-]?${d})?$`);
  if (!re.test(t)) throw new PyEvalError(`could not convert string to float: ${JSON.stringify(s)}`);
  return Number(t.replaceAll("_", ""));
}

export type DocMathAnswerType = "int" | "float" | "float64" | "bool" | string;

export interface DocMathOptions {
  /** Decimals for the round-up rule: 2 in evalscope (GoLongRL), 3 in official DocMath-Eval. */
  decimals?: number;
}

/**
 * `get_acc(prediction, gt, answer_type)` from evalscope: 1 or 0. `prediction` is the extracted
 * answer string; `gt` is `str(ground_truth)` as evalscope stores it. Note evalscope's
 * `bool(gt)` on that string is True for any non-empty gt (so "False" counts as True); this is
 * reproduced. Any exception in the original yields 0.
 */
export function docmathGetAcc(
  prediction: string,
  gt: string,
  answerType: DocMathAnswerType,
  options: DocMathOptions = {},
): number {
  const decimals = options.decimals ?? 2;
  try {
    const p = docmathNormalize(prediction);
    // normalize: tuples/sets become lists; `prediction[0]` on an empty one raises IndexError.
    if ((p.kind === "tuple" || p.kind === "set") && p.size === 0) return 0;
    if (!["int", "float", "float64", "bool"].includes(answerType)) return 0;
    if (p.kind === "none") return 0; // neither str/int/float/bool nor list → acc 0
    const numeric = p.kind === "int" || p.kind === "float" || p.kind === "bool";
    if (answerType === "bool") {
      const gtBool = gt.length > 0 ? 1 : 0;
      // `prediction == bool(gt)`: numbers and bools compare by value; str/list never equal.
      return numeric && (p as { value: number }).value === gtBool ? 1 : 0;
    }
    const g = answerType === "int" ? pyIntFromString(gt) : pyFloatFromString(gt);
    // compare_two_numbers returns False for str/list/tuple; bool passes as int.
    if (!numeric) return 0;
    return compareTwoNumbers((p as { value: number }).value, g, decimals) ? 1 : 0;
  } catch (e) {
    if (e instanceof PyEvalError) return 0;
    throw e;
  }
}

/** The whole rule path: `extract_answer` then `get_acc`. */
export function docmathRuleAcc(
  response: string,
  gt: string,
  answerType: DocMathAnswerType,
  options: DocMathOptions = {},
): number {
  return docmathGetAcc(docmathExtractAnswer(response), gt, answerType, options);
}
