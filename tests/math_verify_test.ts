/**
 * Tests for the Math-Verify replacement (`tasks/math/`): a table of equivalence and
 * non-equivalence cases, extraction priorities, the 500-character window, and robustness on
 * huge, deeply nested, and non-ASCII inputs.
 */
import assert from "node:assert/strict";
import { extractAnswer, mathEquivalent, mathVerifyReward } from "../tasks/math/verify.ts";

/** [gold, prediction, expected] — prediction is an answer string, not a full response. */
const EQUIV_CASES: Array<[string, string, boolean]> = [
  // integers and signs
  ["5", "5", true],
  ["5", "05", true],
  ["5", "+5", true],
  ["-5", "-5", true],
  ["-5", "- 5", true],
  ["5", "-5", false],
  ["5", "6", false],
  ["0", "-0", true],
  ["12", "12.0", true],
  ["12", "12.5", false],
  // decimals
  ["0.5", "\\frac{1}{2}", true],
  ["0.5", ".5", true],
  ["0.5", "0.50", true],
  ["0.25", "0.26", false],
  ["\\frac{1}{3}", "0.333333", true],
  ["\\frac{1}{3}", "0.33", false],
  ["\\frac{2}{3}", "0.666667", true],
  ["3.14", "3.15", false],
  // thousands separators
  ["1234567", "1,234,567", true],
  ["1,234,567", "1234567", true],
  ["1234", "1{,}234", true],
  ["1234", "1\\,234", true],
  ["1234.5", "1,234.5", true],
  ["1234", "1,235", false],
  // fractions
  ["\\frac{3}{4}", "0.75", true],
  ["\\frac{3}{4}", "\\dfrac{3}{4}", true],
  ["\\frac{3}{4}", "\\tfrac{3}{4}", true],
  ["\\frac{1}{2}", "\\frac12", true],
  ["\\frac{1}{2}", "1/2", true],
  ["\\frac{1}{2}", "2/4", true],
  ["\\frac{6}{8}", "\\frac{3}{4}", true],
  ["\\frac{1}{2}", "\\frac{1}{3}", false],
  ["-\\frac{1}{2}", "\\frac{-1}{2}", true],
  ["-\\frac{1}{2}", "\\frac{1}{-2}", true],
  ["-\\frac{1}{2}", "\\frac{1}{2}", false],
  ["\\frac{7}{2}", "3\\frac{1}{2}", false], // mixed numbers read as 3·(1/2), as in latex2sympy
  ["\\frac{\\frac{1}{2}}{2}", "\\frac{1}{4}", true],
  // percent (a percent equals both x/100 and x)
  ["0.5", "50\\%", true],
  ["50", "50\\%", true],
  ["50\\%", "0.5", true],
  ["50\\%", "50", true],
  ["0.5", "5\\%", false],
  ["12.5\\%", "\\frac{1}{8}", true],
  // scientific notation
  ["1500", "1.5e3", true],
  ["1500", "1.5 \\times 10^{3}", true],
  ["1500", "1.5\\cdot 10^3", true],
  ["0.0015", "1.5 \\times 10^{-3}", true],
  ["1500", "1.5e4", false],
  ["1500", "15 \\times 10^{2}", true],
  // arithmetic
  ["7", "3+4", true],
  ["7", "2 \\cdot 3 + 1", true],
  ["7", "(2+5)", true],
  ["12", "3 \\times 4", true],
  ["2", "6 \\div 3", true],
  ["1024", "2^{10}", true],
  ["1024", "2^10", true],
  ["-8", "(-2)^3", true],
  ["-4", "-2^2", true],
  ["4", "-2^2", false],
  ["120", "5!", true],
  ["\\frac{1}{8}", "2^{-3}", true],
  ["8", "7+1=8", true],
  // roots and constants
  ["3", "\\sqrt{9}", true],
  ["2", "\\sqrt[3]{8}", true],
  ["\\sqrt{2}", "2^{1/2}", true],
  ["\\sqrt{2}", "\\sqrt2", true],
  ["\\sqrt{2}", "1.414", false],
  ["\\sqrt{8}", "2\\sqrt{2}", true],
  ["\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", true],
  ["\\sqrt{3}", "\\sqrt{2}", false],
  ["2\\pi", "\\pi \\cdot 2", true],
  ["\\frac{\\pi}{2}", "0.5\\pi", true],
  ["\\pi", "3.14", false],
  ["\\pi", "\\pi/2", false],
  ["\\infty", "\\infty", true],
  ["\\infty", "-\\infty", false],
  // wrappers
  ["5", "$5$", true],
  ["5", "\\(5\\)", true],
  ["5", "\\[5\\]", true],
  ["5", "\\boxed{5}", true],
  ["5", "\\text{5}", true],
  ["5", "\\textbf{5}", true],
  ["5", "\\mathrm{5}", true],
  ["\\frac{1}{2}", "\\left(\\frac{1}{2}\\right)", true],
  // units and currency
  ["5", "5 \\text{ cm}", true],
  ["5", "5\\text{cm}^2", true],
  ["12", "12 meters", true],
  ["30", "30^\\circ", true],
  ["30", "30°", true],
  ["100", "\\$100", true],
  ["3.5", "3.5 square units", true],
  ["5", "6 \\text{ cm}", false],
  // equations
  ["5", "x = 5", true],
  ["x = 5", "5", true],
  ["x=5", "x = 5", true],
  ["x = 5", "y = 5", false],
  ["5", "x = 2 + 3", true],
  ["5", "x = 6", false],
  ["y = 2x + 1", "y = 1 + 2x", true],
  ["y = 2x + 1", "y = 2x - 1", false],
  // tuples, sets, intervals
  ["(1,2)", "(1, 2)", true],
  ["(1,2)", "(2,1)", false],
  ["(1,2,3)", "(1,2)", false],
  ["\\{1,2\\}", "\\{2,1\\}", true],
  ["\\{1,2\\}", "\\{1,3\\}", false],
  ["\\{1,2,3\\}", "\\{3,1,2\\}", true],
  ["1, 2", "2, 1", true],
  ["[1,2)", "[1,2)", true],
  ["[1,2)", "[1,2]", false],
  ["[1,2)", "(1,2]", false],
  ["(0, \\infty)", "(0,\\infty)", true],
  ["[0, \\infty)", "(0, \\infty)", false],
  ["[1,2] \\cup [3,4]", "[3,4] \\cup [1,2]", true],
  ["(\\frac{1}{2}, 3)", "(0.5, 3)", true],
  ["\\{5\\}", "5", true],
  // symbolic
  ["2x + 2", "2(x+1)", true],
  ["x^2 - 1", "(x-1)(x+1)", true],
  ["x^2", "x^3", false],
  ["\\frac{x}{2}", "0.5x", true],
  ["x + 1", "y + 1", false],
  ["a_1 + a_2", "a_2 + a_1", true],
  ["\\sin^{}x", "\\sin x", false],
  ["\\sqrt{x^2}", "x", true],
  ["e^{2}", "e^2", true],
  ["\\ln 1", "0", true],
  ["\\log_2 8", "3", true],
  // text answers
  ["Yes", "yes", true],
  ["\\text{Yes}", "yes", true],
  ["no solution", "No Solution", true],
  ["yes", "no", false],
  ["Tuesday", "\\text{Tuesday}", true],
  ["A", "A", true],
  ["A", "B", false],
  ["(A)", "\\text{(A)}", true],
  // garbage must be false, not throw
  ["5", "", false],
  ["5", "}}}{{{", false],
  ["5", "\\frac{", false],
  ["5", "🙂", false],
  ["5", "五", false],
  ["\\frac{1}{0}", "\\frac{1}{0}", true], // identical strings still match, like Math-Verify
  ["1", "\\frac{1}{0}", false],
  ["5", "\\begin{pmatrix}5\\end{pmatrix}", false],
];

Deno.test("equivalence table has at least 100 cases", () => {
  assert.ok(EQUIV_CASES.length >= 100, `need ≥100 cases, have ${EQUIV_CASES.length}`);
});

// Each case is its own test, so a failure names the case directly.
for (const [gold, pred, want] of EQUIV_CASES) {
  Deno.test(`equiv ${want ? "==" : "!="}: ${JSON.stringify(gold)} vs ${JSON.stringify(pred)}`, () => {
    assert.equal(mathEquivalent(gold, pred), want, `gold=${gold} pred=${pred}`);
  });
}

/** [response, gold, expected correct, expected extracted (optional)] */
const REWARD_CASES: Array<[string, string, boolean, string?]> = [
  ["The answer is therefore \\boxed{42}.", "42", true, "42"],
  ["So we get \\boxed{\\frac{1}{2}}", "0.5", true, "\\frac{1}{2}"],
  ["We find \\boxed{x = 3}", "3", true],
  ["Final: \\fbox{7}", "7", true, "7"],
  ["Thus \\boxed 9.", "9", true, "9"],
  ["\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}", true],
  ["\\boxed{\\{1, 2\\}}", "\\{2,1\\}", true],
  ["\\boxed{1,234,567}", "1234567", true],
  ["The final answer is $\\frac{3}{4}$.", "0.75", true],
  ["The final answer is 12.", "12", true],
  ["Answer: 17", "17", true, "17"],
  ["so the answer is $2\\sqrt{2}$", "\\sqrt{8}", true],
  ["We compute 3 + 4 = 7. So 7 is it.", "7", true],
  ["The probability is 25%.", "0.25", true],
  ["It costs $1,250 in total.", "1250", true, "1250"],
  ["\\boxed{5} and later we mention 6 and 7 and 8.", "5", true, "5"],
  ["\\boxed{5} wait, no: \\boxed{6}", "6", true, "6"],
  ["\\boxed{\\text{Yes}}", "yes", true],
  ["Therefore, \\boxed{3}", "4", false],
  ["no numbers here at all", "4", false],
  ["", "4", false],
];

for (const [response, gold, want, extracted] of REWARD_CASES) {
  Deno.test(`reward: ${JSON.stringify(response)} gold=${JSON.stringify(gold)}`, () => {
    const r = mathVerifyReward(response, gold);
    assert.equal(r.correct, want, `reward for ${response}: ${JSON.stringify(r)}`);
    if (extracted !== undefined) assert.equal(r.extracted, extracted, JSON.stringify(r));
  });
}

Deno.test("boxed answer is preferred over later plain numbers", () => {
  const text = "Hence \\boxed{12}. Checking: 3 * 4 = 12, and 5 + 6 = 11. Also 99.";
  assert.equal(extractAnswer(text), "12");
  assert.equal(mathVerifyReward(text, "12").correct, true);
  assert.equal(mathVerifyReward(text, "99").correct, false);
});

Deno.test("boxed with nested braces", () => {
  assert.equal(extractAnswer("so \\boxed{\\frac{1}{\\sqrt{2}}} done"), "\\frac{1}{\\sqrt{2}}");
  assert.equal(
    mathVerifyReward("\\boxed{\\frac{1}{\\sqrt{2}}}", "\\frac{\\sqrt{2}}{2}").correct,
    true,
  );
  assert.equal(extractAnswer("\\boxed{{{7}}}"), "{{7}}");
  assert.equal(mathVerifyReward("\\boxed{{{7}}}", "7").correct, true);
});

Deno.test("string match short-circuits even for unparsable gold", () => {
  const r = mathVerifyReward("\\boxed{\\pm 3}", "\\pm 3");
  assert.equal(r.correct, true, JSON.stringify(r));
  assert.equal(r.reason, "string match");
});

Deno.test("only the last 500 characters are searched", () => {
  const early = "\\boxed{42} " + "filler words without digits ".repeat(40);
  assert.ok(early.length > 600);
  assert.equal(mathVerifyReward(early, "42").correct, false);
  const late = "filler ".repeat(200) + "\\boxed{42}";
  assert.equal(mathVerifyReward(late, "42").correct, true);
  // The window counts code points, like Python slicing: astral characters count once.
  const emojiPad = "🙂".repeat(495) + " 42 ";
  assert.equal(mathVerifyReward(emojiPad, "42").correct, true);
});

Deno.test("1 MB responses do not throw or overflow", () => {
  const inputs = [
    "{".repeat(1 << 20),
    "\\boxed{" + "{".repeat(1 << 20),
    "(".repeat(1 << 20) + "1" + ")".repeat(1 << 20),
    "$" + "1+".repeat(1 << 19) + "1$",
    "\\sqrt".repeat(1 << 18),
    "-".repeat(1 << 20) + "5",
    "x".repeat(1 << 20),
    "🙂".repeat(1 << 19),
    "$".repeat(1 << 20),
  ];
  for (const text of inputs) {
    const r = mathVerifyReward(text, "5");
    assert.equal(typeof r.correct, "boolean");
    // The same text as gold (unbounded gold strings are capped).
    assert.equal(typeof mathVerifyReward("\\boxed{5}", text).correct, "boolean");
    assert.equal(typeof mathEquivalent(text, text.slice(0, 1000)), "boolean");
    const e = extractAnswer(text);
    assert.ok(e === null || typeof e === "string");
  }
});

Deno.test("deep nesting inside the window is unparsable, not a crash", () => {
  const deep = "\\boxed{" + "(".repeat(240) + "5" + ")".repeat(240) + "}";
  assert.equal(mathVerifyReward(deep, "5").correct, false);
  const deepPow = "\\boxed{" + "2^{".repeat(150) + "1" + "}".repeat(150) + "}";
  assert.equal(typeof mathVerifyReward(deepPow, "2").correct, "boolean");
  assert.equal(mathEquivalent("2^{2^{2^{2^{2^{2^{2}}}}}}", "5"), false);
});

Deno.test("garbage, unicode and emoji return false without throwing", () => {
  const junk = [
    "🙂🙃🙂",
    "\u0000\u0001",
    "\\\\\\",
    "∑∫∂",
    "\uD800",
    "\\boxed{}",
    "$$",
    "\\frac{}{}",
  ];
  for (const j of junk) {
    assert.equal(mathVerifyReward(j, "1").correct, false, `response ${JSON.stringify(j)}`);
    assert.equal(mathEquivalent(j, "1"), false, `answer ${JSON.stringify(j)}`);
  }
});

Deno.test("extractAnswer priorities", () => {
  assert.equal(extractAnswer("blah $x$ blah. The final answer is $7$."), "7");
  // "answer" anchors only reach 50 characters ahead; a later bare span is a lower tier.
  assert.equal(extractAnswer(`Answer: 3. ${"Some unrelated commentary. ".repeat(3)} $5$`), "3");
  // Within 50 characters, the anchored LaTeX span ends last and wins (as in Math-Verify).
  assert.equal(extractAnswer("Answer: 3. Also note $5$ here"), "5");
  assert.equal(extractAnswer("values 1, 2 and finally 3"), "3");
  assert.equal(extractAnswer("nothing"), null);
});

Deno.test("throughput: 16K-token responses at well over 200/s", () => {
  const body = "Let me think step by step about 3 + 4 and $\\frac{1}{2}$. ".repeat(1200);
  const response = body + "The final answer is \\boxed{\\frac{7}{2}}.";
  const n = 400;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) mathVerifyReward(response, "3.5");
  const perSec = n / ((performance.now() - t0) / 1000);
  assert.ok(perSec > 200, `only ${perSec.toFixed(0)} responses/s`);
});

Deno.test("adversarial 500-character tails stay fast (regex backtracking is bounded)", () => {
  const pieces = [
    "1 ",
    "1+",
    "= 1",
    "answer: $",
    "\\(",
    "\\[1",
    "$$1",
    "\\boxed{",
    "final answer is ",
  ];
  for (const p of pieces) {
    const text = p.repeat(Math.ceil(600 / p.length));
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) mathVerifyReward(text, "1");
    const ms = (performance.now() - t0) / 20;
    assert.ok(ms < 20, `${JSON.stringify(p)} repeated took ${ms.toFixed(2)} ms per call`);
  }
});
