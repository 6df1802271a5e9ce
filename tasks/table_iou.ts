/**
 * Table IoU, structured extraction (recipe §1.7; reference `multitableqa.py`).
 *
 * 1. Gold: if ground_truth is a dict with `golden_label`, gold = `json.loads(golden_label)`
 *    (a decode or type error → 0). Otherwise ground_truth itself is the gold (no list unwrapping:
 *    a list ground truth has no rows, as in the reference).
 * 2. Prediction text = the full response (thinking included; `strip_think` is defined but not
 *    called in the reference): between the first `<answer>` and the next `</answer>` if `<answer>`
 *    occurs, else the whole text; Python-stripped.
 * 3. pred = `json.loads(text).get("data", [])`; a decode error or a non-dict document → []. A
 *    non-list `data` → 0.
 * 4. Row key: a list row → the tuple of Python `str(cell)`; any other row → `str(row)`.
 * 5. IoU = |pred ∩ gold| (multiset) / (|pred| + |gold| − matches); 0 when the denominator is 0.
 *
 * Nesting deeper than about Python's recursion limit raises (RecursionError in Python, which the
 * reference does not catch), so such a sample is an error with reward 0.
 *
 * @module
 */
import { isDict } from "./format.ts";
import { pyStrip } from "../metrics/pystr.ts";
import { parsePyJson, PyJsonDecodeError, pyStr, type PyValue } from "./python_str.ts";
import type { VerifierContext, VerifierOutput, VerifierSpec } from "./types.ts";

/** `strip_answer`: text between the first `<answer>` and the next `</answer>`, stripped. */
export function stripAnswer(text: string): string {
  const a = text.indexOf("<answer>");
  if (a === -1) return pyStrip(text);
  const rest = text.slice(a + "<answer>".length);
  const b = rest.indexOf("</answer>");
  return pyStrip(b === -1 ? rest : rest.slice(0, b));
}

/** Python iteration over a value (`for r in x`): list items, str code points, dict keys. */
function pyIter(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return Array.from(v);
  if (v instanceof Map) return [...v.keys()];
  if (isDict(v)) return Object.keys(v);
  throw new TypeError(`${what} is not iterable (${v === null ? "None" : typeof v})`);
}

/** The Counter key of one row: a tuple of `str(cell)` for a list, else `str(row)`. */
export function rowKey(r: unknown): string {
  if (Array.isArray(r)) return "T" + JSON.stringify(r.map((v) => pyStr(v)));
  return "S" + pyStr(r);
}

function dictGet(d: unknown, key: string, dflt: unknown): unknown {
  if (d instanceof Map) return d.has(key) ? d.get(key) : dflt;
  if (isDict(d)) return Object.hasOwn(d, key) ? d[key] : dflt;
  return undefined;
}

/** Table IoU of a prediction text against a ground truth, with the reference's semantics. */
export function tableIou(response: string, groundTruth: unknown): VerifierOutput {
  let answer: unknown = groundTruth;
  if (isDict(groundTruth) && Object.hasOwn(groundTruth, "golden_label")) {
    const label = groundTruth.golden_label;
    if (typeof label !== "string") {
      return { score: 0, details: { gold: "golden_label is not a string (TypeError)" } };
    }
    try {
      answer = parsePyJson(label);
    } catch (e) {
      if (e instanceof PyJsonDecodeError) {
        return { score: 0, details: { gold: `golden_label is not JSON: ${e.message}` } };
      }
      throw e;
    }
  }

  let pred: unknown;
  let predNote: string | undefined;
  try {
    const doc: PyValue = parsePyJson(stripAnswer(response));
    if (doc instanceof Map) pred = doc.has("data") ? doc.get("data") : [];
    else {
      pred = [];
      predNote = "prediction JSON is not an object";
    }
  } catch (e) {
    if (!(e instanceof PyJsonDecodeError)) throw e;
    pred = [];
    predNote = `prediction is not JSON: ${e.message}`;
  }
  if (!Array.isArray(pred)) return { score: 0, details: { pred: '"data" is not a list' } };

  const ansList = answer instanceof Map || isDict(answer)
    ? pyIter(dictGet(answer, "data", []), "gold data")
    : [];
  const goldCount = new Map<string, number>();
  for (const r of ansList) {
    const k = rowKey(r);
    goldCount.set(k, (goldCount.get(k) ?? 0) + 1);
  }
  const predCount = new Map<string, number>();
  for (const r of pred) {
    const k = rowKey(r);
    predCount.set(k, (predCount.get(k) ?? 0) + 1);
  }
  let matches = 0;
  for (const [k, c] of predCount) {
    const g = goldCount.get(k);
    if (g !== undefined) matches += Math.min(c, g);
  }
  const total = pred.length + ansList.length - matches;
  const details: Record<string, unknown> = {
    predRows: pred.length,
    goldRows: ansList.length,
    matches,
  };
  if (predNote !== undefined) details.pred = predNote;
  return { score: total > 0 ? matches / total : 0, details };
}

export const tableIouVerifier: VerifierSpec = {
  task: "structured_extraction",
  description: 'row-multiset IoU of the {"data": [...]} JSON in the response vs golden_label',
  reads: "full",
  fn: (ctx: VerifierContext) => tableIou(ctx.response, ctx.groundTruth),
};
