/**
 * Issue 12 (hardening): hostile model answers against the metrics. Each case broke before the fix.
 */
import assert from "node:assert/strict";
import { assertEquals } from "./assert.ts";
import { docmathRuleAcc } from "../metrics/docmath.ts";
import { pyEval, PyEvalError } from "../metrics/pyexpr.ts";

Deno.test("pyEval: deep nesting raises PyEvalError (as CPython refuses it), not a stack overflow", () => {
  const deep = "[".repeat(2000) + "1" + "]".repeat(2000); // a 4 KB answer
  assert.throws(() => pyEval(deep), PyEvalError);
  assert.throws(() => pyEval("-".repeat(20000) + "1"), PyEvalError);
  assert.throws(() => pyEval("(".repeat(5000) + "1" + ")".repeat(5000)), PyEvalError);
  assert.throws(() => pyEval("2" + "**2".repeat(20000)), PyEvalError);
  // Nesting within CPython's limits still evaluates.
  assert.deepEqual(pyEval("(".repeat(150) + "7" + ")".repeat(150)), { kind: "int", value: 7 });
  assert.deepEqual(pyEval("-".repeat(500) + "3"), { kind: "int", value: 3 });
  // Through the DocMath rule path the answer scores 0 instead of throwing.
  assert.equal(docmathRuleAcc(`The answer is ${deep}`, "1", "int"), 0);
  assert.equal(docmathRuleAcc(`The answer is ${"-".repeat(20000)}1`, "1", "int"), 0);
});

Deno.test("pyEval: math.<attr> reads only math's own names, never the JS prototype chain", () => {
  for (const attr of ["constructor", "__proto__", "valueOf", "toString", "hasOwnProperty"]) {
    assert.throws(() => pyEval(`math.${attr}`), PyEvalError, attr);
  }
  assert.deepEqual(pyEval("math.pi"), { kind: "float", value: Math.PI });
  // Python raises AttributeError → normalize gives 0 → an answer of 0 matches, nothing else does.
  assert.equal(docmathRuleAcc("The answer is math.valueOf", "3", "int"), 0);
  assert.equal(docmathRuleAcc("The answer is math.constructor", "1", "float"), 0);
});

Deno.test("dedup of one 8 MB single-line document works, and a whitespace variant is its duplicate", async () => {
  // The speed of this path (a few passes over the text instead of ~16) is measured by `bench
  // data`, not asserted here: a timed test fails on a loaded machine.
  const { Deduper } = await import("../data/dedup.ts");
  const w = ["alpha", "beta", "gamma", "delta", "river", "stone", "the", "of", "and", "house"];
  let r = 1;
  const words = Array.from({ length: 1_500_000 }, () => {
    r = (r * 1103515245 + 12345) >>> 0;
    return w[r % w.length];
  });
  const text = words.join(" ");
  const d = new Deduper();
  assertEquals(d.check({ id: "big", text } as never), undefined);
  const variant = d.check({ id: "copy", text: words.join("  \t ") } as never);
  assert(variant !== undefined, "a copy differing only in whitespace is a duplicate");
});
