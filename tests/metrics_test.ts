/**
 * Unit tests for metrics/: hand-checked values (recipe.md §7.3 ROUGE vectors included),
 * upstream quirks, edge cases, and 1 MB inputs (no recursion, no stack overflow).
 */

import assert from "node:assert/strict";
import {
  babilongScore,
  classificationScore,
  codeSimScore,
  compareTwoNumbers,
  countScore,
  docmathExtractAnswer,
  docmathNormalizeText,
  docmathRuleAcc,
  extractLongBenchV2Answer,
  framesCem,
  framesNormalize,
  fuzzRatio,
  lcsWords,
  longBenchSampleScore,
  longBenchScore,
  longBenchV2Accuracy,
  maxOverGroundTruths,
  mrcrGrade,
  normalizeAnswer,
  normalizeZhAnswer,
  pyRound,
  qaF1Score,
  qaF1ZhScore,
  retrievalScore,
  retrievalZhScore,
  rougeL,
  rougeScore,
  rougeZhScore,
  rulerAggregate,
  rulerPostprocess,
  segmentWords,
  SequenceMatcher,
  sequenceRatio,
  squadExactMatch,
  squadF1,
  stringMatchAll,
  stringMatchPart,
} from "../metrics/mod.ts";
import { pyEval } from "../metrics/pyexpr.ts";
import { pySplit, pyStrip } from "../metrics/pystr.ts";

const close = (a: number, b: number, eps = 1e-6) =>
  assert.ok(Math.abs(a - b) <= eps, `${a} !≈ ${b}`);

Deno.test("rougeL: recipe §7.3 vectors", () => {
  const a = rougeL("the cat is on the mat", "the cat sat on the mat");
  close(a.f, 0.8);
  assert.equal(a.p, 0.8);
  assert.equal(a.r, 0.8);
  close(rougeL("a b c. d e f", "a b x. y e f").f, 0.666667);
});

Deno.test("rougeL: set semantics, whitespace pieces, errors", () => {
  // Repeated words count once: U = {the}, m = n = 1.
  close(rougeL("the the the", "the").f, 1.0);
  // " . x" splits into [" ", " x"] → ["", "x"]; the empty word is a real token.
  close(rougeL(" . x", "x").p, 0.5);
  assert.throws(() => rougeL("", "x"), /Hypothesis is empty/);
  assert.throws(() => rougeL("...", "x"), /Hypothesis is empty/);
  assert.throws(() => rougeL("x", ""), /Reference is empty/);
  assert.equal(rougeScore("", "x"), 0);
});

Deno.test("lcsWords: pltrdy tie-breaking (left on ties)", () => {
  // x = ref, y = hyp. At (2,2) T[1][2] = T[2][1] = 1, a tie, so the backtrack moves j−1 and
  // then takes the diagonal on "b".
  assert.deepEqual(lcsWords(["a", "b"], ["b", "a"]), ["b"]);
  assert.deepEqual(lcsWords(["a", "b", "c"], ["a", "c"]), ["a", "c"]);
  assert.deepEqual(lcsWords([], ["a"]), []);
});

Deno.test("rougeL: 1 MB inputs run without recursion and quickly", () => {
  const sentence = "the quick brown fox jumps over the lazy dog number ";
  let a = "";
  let i = 0;
  while (a.length < 1_000_000) a += sentence + (i++ % 997) + ". ";
  const b = a.replaceAll("lazy", "sleepy");
  const t0 = performance.now();
  const s = rougeL(a, b);
  assert.ok(Number.isFinite(s.f) && s.f > 0.9);
  assert.ok(performance.now() - t0 < 20_000);
  // One 1 MB "sentence" with no periods on both sides is refused, not stack-overflowed.
  const long = "w ".repeat(500_000);
  assert.throws(() => rougeL(long, long), /too long/);
  assert.equal(rougeScore(long, long), 0);
});

Deno.test("difflib: hand-checked ratios and matching blocks", () => {
  assert.equal(sequenceRatio("abcd", "bcde"), 0.75);
  assert.equal(sequenceRatio("", ""), 1.0);
  assert.equal(sequenceRatio("abc", ""), 0);
  // Python docs example.
  const sm = new SequenceMatcher("abxcd", "abcd");
  assert.deepEqual(sm.getMatchingBlocks(), [
    { a: 0, b: 0, size: 2 },
    { a: 3, b: 2, size: 2 },
    { a: 5, b: 4, size: 0 },
  ]);
  // Code points, not UTF-16 units: one emoji is one element.
  close(sequenceRatio("a😀", "a😀b"), 0.8);
});

Deno.test("difflib: autojunk drops popular elements only when len(b) >= 200", () => {
  const b199 = "a".repeat(199);
  const b200 = "a".repeat(200);
  assert.equal(new SequenceMatcher("a", b199).popular.size, 0);
  assert.equal(new SequenceMatcher("a", b200).popular.size, 1);
  // With "a" popular, b2j is empty, yet extension from (0, 0) still finds the prefix match.
  close(sequenceRatio("a".repeat(200), b200), 1.0);
  // "b" + 200×"a": the popular run is reachable only by extension; Python gives 2·1/401.
  close(sequenceRatio("b" + "a".repeat(200), "b" + "c".repeat(200)), 2 / 402);
});

Deno.test("difflib: 1 MB strings, no recursion", () => {
  const a = "ab".repeat(500_000);
  const b = "ba".repeat(500_000);
  const r = sequenceRatio(a, b);
  assert.ok(Number.isFinite(r) && r >= 0 && r <= 1);
});

Deno.test("fuzz.ratio: decorator order and rounding", () => {
  assert.equal(fuzzRatio("", ""), 100);
  assert.equal(fuzzRatio("", "x"), 0);
  assert.equal(fuzzRatio("this is a test", "this is a test!"), 97);
  // 100·2·1/4 = 50 exactly; 100·2/8 = 25.
  assert.equal(fuzzRatio("ab", "ac"), 50);
});

Deno.test("pyRound: ties to even on the exact binary value", () => {
  assert.equal(pyRound(0.125, 2), 0.12);
  assert.equal(pyRound(0.375, 2), 0.38);
  assert.equal(pyRound(2.675, 2), 2.67); // 2.675 is 2.67499999… in binary
  assert.equal(pyRound(2.5), 2);
  assert.equal(pyRound(3.5), 4);
});

Deno.test("python str helpers", () => {
  assert.deepEqual(pySplit(" a\u0085b\x1cc\u00a0d\ufeffe "), ["a", "b", "c", "d\ufeffe"]);
  assert.equal(pyStrip("\x1f x \u3000"), "x");
});

Deno.test("normalizers", () => {
  assert.equal(normalizeAnswer("The  Eiffel-Tower, an icon!"), "eiffeltower icon");
  assert.equal(normalizeAnswer("theatre a1 an"), "theatre a1");
  assert.equal(normalizeZhAnswer("《北京》，Hello World！"), "《北京hello world".replace(" ", ""));
});

Deno.test("LongBench QA F1 and SQuAD", () => {
  close(qaF1Score("The cat sat", "a cat sat down"), 0.8);
  assert.equal(qaF1Score("", "x"), 0);
  assert.equal(squadExactMatch("The Beatles!", "beatles"), 1);
  close(squadF1("new york city", "new york"), 0.8);
  assert.equal(maxOverGroundTruths(squadExactMatch, "x", []), 0);
  assert.equal(maxOverGroundTruths(squadExactMatch, "Paris", ["London", "paris"]), 1);
});

Deno.test("LongBench classification keeps the remove-while-iterating quirk", () => {
  const classes = ["Other", "Other entity", "Entity"];
  // matches = [Other, Other entity, Entity]; "Other" is removed (substring of gt), which makes
  // the loop skip "Other entity"; then "Entity" is not a substring of gt (case) → kept.
  assert.equal(
    classificationScore("Other entity Entity", "Other entity", { allClasses: classes }),
    0.5,
  );
  assert.equal(classificationScore("Location", "City", { allClasses: ["City", "Location"] }), 0);
  assert.equal(classificationScore("City", "City", { allClasses: ["City"] }), 1);
});

Deno.test("LongBench retrieval / count / code sim", () => {
  close(retrievalScore("Paragraph 3, not 30 or 3", "Paragraph 3"), 2 / 3);
  assert.equal(retrievalScore("3", "no paragraph id"), 0);
  assert.equal(retrievalZhScore("段落5", "段落5"), 1);
  assert.equal(countScore("there are 7 or maybe 7", "7"), 1);
  assert.equal(countScore("none", "7"), 0);
  // Python's \d is Unicode: "٣" (Arabic-Indic three) is a digit run of its own.
  assert.equal(countScore("٣ 3", "3"), 0.5);
  assert.equal(codeSimScore("\n# comment\n    return x", "    return x"), 1);
  assert.equal(codeSimScore("```\n#\n//", ""), 1); // no usable line → "" vs "" → ratio 100
});

Deno.test("LongBench dataset scorer", () => {
  assert.equal(longBenchSampleScore("triviaqa", "\nParis\nLondon", ["paris"]), 1);
  assert.equal(longBenchSampleScore("hotpotqa", "x", []), 0);
  assert.throws(() => longBenchSampleScore("nope", "x", ["x"]));
  assert.equal(longBenchScore("hotpotqa", ["a b", "c"], [["a b"], ["d"]]), 50);
});

Deno.test("segmentWords + zh metrics", () => {
  const toks = segmentWords("我来到北京清华大学", "zh");
  assert.ok(toks.includes("北京"));
  assert.ok(!toks.some((t) => t.trim() === ""));
  assert.equal(qaF1ZhScore("北京清华大学", "北京清华大学"), 1);
  close(rougeZhScore("我来到北京", "我来到北京"), 1);
  assert.deepEqual(segmentWords("hello  world", "auto"), ["hello", "world"]);
});

Deno.test("LongBench v2 extraction", () => {
  assert.equal(extractLongBenchV2Answer("**The correct answer is (B)**"), "B");
  assert.equal(extractLongBenchV2Answer("The correct answer is C."), "C");
  assert.equal(extractLongBenchV2Answer("the correct answer is (A)"), null);
  assert.equal(longBenchV2Accuracy("The correct answer is (D)", "D"), 1);
});

Deno.test("RULER", () => {
  assert.equal(rulerPostprocess(" a\x01b\n "), "a\nb");
  close(stringMatchAll("Keys: ALPHA, beta", ["alpha", "beta", "gamma"]), 2 / 3);
  assert.equal(stringMatchPart("it is Paris", ["london", "paris"]), 1);
  assert.equal(stringMatchAll("x", []), 0);
  assert.equal(rulerAggregate([1, 0, 0.5]), 50);
});

Deno.test("MRCR prefix gate", () => {
  assert.equal(mrcrGrade("poem", "abcpoem", "abc"), 0);
  assert.equal(mrcrGrade("abcpoem", "abcpoem", "abc"), 1);
  close(mrcrGrade("abcpoet", "abcpoem", "abc"), 0.75);
  assert.equal(mrcrGrade("", "", ""), 1);
});

Deno.test("Frames CEM with word boundaries", () => {
  assert.equal(framesNormalize("The 1,000 Café!"), "1000 cafe\u0301".normalize("NFKD"));
  assert.equal(framesCem("It was 2019.", "2"), 0);
  assert.equal(framesCem("about 1,000 people", "1000"), 1);
  assert.equal(framesCem("x", ""), 0);
  // After NFKD "café" ends with a combining mark (not \w), so a trailing \b cannot hold.
  assert.equal(framesCem("café", "café"), 0);
});

Deno.test("BABILong label-set rule", () => {
  assert.equal(babilongScore("qa1", "kitchen", "The kitchen.", "Where is Mary?"), 1);
  assert.equal(babilongScore("qa1", "kitchen", "kitchen or office", "Where is Mary?"), 0);
  assert.equal(babilongScore("qa1", "office", "kitchen or office", "Before the kitchen?"), 1);
  assert.equal(babilongScore("qa8", "apple,milk", "apple and milk", "What?"), 1);
  assert.equal(babilongScore("qa8", "apple,milk", "apple, milk, football", "What?"), 0);
  assert.throws(() => babilongScore("qa99", "x", "x", "x"));
});

Deno.test("DocMath rules", () => {
  assert.equal(docmathExtractAnswer("So *the answer is (12.5)%."), "12.5");
  assert.equal(docmathNormalizeText("$1,234.56 million"), "1234.56");
  assert.equal(docmathNormalizeText("USD 300"), "D 300".replace("D ", "")); // "US" goes first
  assert.equal(docmathRuleAcc("the answer is 12.5%", "0.125", "float"), 1); // ×100 slip
  assert.equal(docmathRuleAcc("the answer is 2.339", "2.35", "float"), 0);
  assert.equal(docmathRuleAcc("the answer is 2.341", "2.35", "float"), 1); // both round UP to 2.35
  assert.equal(docmathRuleAcc("The answer is 1000", "1", "int"), 1); // power-of-ten ratio
  assert.equal(docmathRuleAcc("no", "False", "bool"), 0); // evalscope: bool("False") is True
  assert.equal(docmathRuleAcc("garbage", "0", "int"), 1); // eval failure → 0
  assert.equal(docmathRuleAcc("5", "5", "str"), 0);
  assert.equal(docmathRuleAcc("__import__('os')", "0", "int"), 1); // never executed: → 0
  assert.ok(compareTwoNumbers(100.1, 100));
  assert.ok(!compareTwoNumbers(101, 100));
  assert.ok(compareTwoNumbers(1.2301, 1.2359, 2)); // both round up to 1.24
  assert.ok(!compareTwoNumbers(1.2301, 1.2359, 3)); // 1.231 vs 1.236, outside 0.15%
});

Deno.test("pyEval subset", () => {
  assert.deepEqual(pyEval("2 ** 10"), { kind: "int", value: 1024 });
  assert.deepEqual(pyEval("-7 // 2"), { kind: "int", value: -4 });
  assert.deepEqual(pyEval("-7 % 3"), { kind: "int", value: 2 });
  assert.deepEqual(pyEval("math.pow(10, 3)"), { kind: "float", value: 1000 });
  assert.deepEqual(pyEval("1_000.5"), { kind: "float", value: 1000.5 });
  assert.deepEqual(pyEval("-2 ** 2"), { kind: "int", value: -4 });
  assert.deepEqual(pyEval("1, 2"), { kind: "tuple", size: 2 });
  assert.throws(() => pyEval("08"));
  assert.throws(() => pyEval("1 / 0"));
  assert.throws(() => pyEval("os.system('x')"));
});

Deno.test("Chinese segmenter: ICU by default, jieba (as the reference) on request", async () => {
  const { segmentWords, setChineseSegmenter, chineseSegmenter } = await import(
    "../metrics/segment.ts"
  );
  const text = "中国科学院计算技术研究所，C++是一种编程语言。";
  try {
    assert.deepStrictEqual(chineseSegmenter(), "icu");
    const icu = segmentWords(text, "zh");
    assert.ok(icu.includes("学院") && icu.includes("C"), icu.join("/"));
    await setChineseSegmenter("jieba");
    // jieba's precise mode keeps the dictionary compounds and "C++" whole.
    assert.deepStrictEqual(segmentWords(text, "zh"), [
      "中国科学院计算技术研究所",
      "，",
      "C++",
      "是",
      "一种",
      "编程语言",
      "。",
    ]);
    // "auto" (non-Chinese callers) is unaffected by the choice.
    assert.deepStrictEqual(segmentWords("hello world", "auto"), ["hello", "world"]);
  } finally {
    await setChineseSegmenter("icu");
  }
});
