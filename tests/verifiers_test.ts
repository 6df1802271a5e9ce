/** Reward verifiers (recipe §1.2–1.9, §7.3 vectors): tasks/registry.ts and the verifier modules. */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import {
  computeReward,
  getVerifier,
  listVerifiers,
  resetVerifierErrors,
  routeVerifier,
  taskKey,
  verifierErrors,
} from "../tasks/registry.ts";
import {
  answerArea,
  ndcgScore,
  normPred,
  pairwiseScore,
  TASK_METRIC_CONFIG,
} from "../tasks/longbench_pro.ts";
import { formatGate } from "../tasks/format.ts";
import { pyCollapse, pySplit, pyStrip } from "../metrics/pystr.ts";
import {
  MAX_DEPTH,
  parsePyJson,
  PyFloat,
  pyFloatRepr,
  PyInt,
  pyReprStr,
  pyStr,
} from "../tasks/python_str.ts";
import { rowKey, stripAnswer } from "../tasks/table_iou.ts";
import { extractChoice } from "../tasks/selection.ts";
import type { RewardInput, RewardOptions, RewardResult } from "../tasks/types.ts";

const T11 = "T1.1 Global Cohesive Retrieval";
const T21 = "T2.1 Global Timeline Reconstruction";
const T31 = "T3.2 Single-Hop Fact QA";
const T41 = "T4.1 Global-Coverage Constrained Summary";
const T51 = "T5.1 Full-Sentence Citation Alignment";
const T61 = "T6.1 Large-Scale Document Clustering";

function lbp(
  mode: string,
  docIds: unknown,
  response: string,
  opts?: RewardOptions,
  summary = "English",
): RewardResult {
  return computeReward({
    dataSource: "longbench_pro",
    response,
    groundTruth: { doc_ids: docIds, golden_label: "", summary },
    extraInfo: { reward_mode: mode },
  }, opts);
}

function em(response: string, label: unknown, opts?: RewardOptions): RewardResult {
  return computeReward({ dataSource: "EM", response, groundTruth: { golden_label: label } }, opts);
}

function mc(response: string, label: string, opts?: RewardOptions): RewardResult {
  return computeReward(
    { dataSource: "selection", response, groundTruth: { golden_label: label } },
    opts,
  );
}

function table(response: string, gold: unknown, opts?: RewardOptions): RewardResult {
  return computeReward({
    dataSource: "multitableqa_pretraining",
    response,
    groundTruth: typeof gold === "string" ? { golden_label: gold } : gold,
  }, opts);
}

function ok(r: RewardResult): RewardResult {
  assertEquals(r.error, undefined, `unexpected error: ${r.error}`);
  assert(Number.isFinite(r.reward) && r.reward >= 0 && r.reward <= 1, `reward ${r.reward}`);
  return r;
}

// ==================== recipe §7.3 vectors ====================

Deno.test("§7.3 NDCG: [A,B,C] vs B,A,C → 0.92249; with a blank line → 0.84001", () => {
  const r = ok(lbp(T11, ["A", "B", "C"], "<think>…</think>\n[Answer]\nB\nA\nC"));
  assertAlmostEquals(r.reward, 0.92249, 5e-6);
  assertEquals(r.verifier, "ndcg");
  assertEquals(r.task, "graded_ranking");
  assertEquals(r.taskKey, "NDCG");
  const b = ok(lbp(T11, ["A", "B", "C"], "<think>x</think>[Answer]\nA\n\nB\nC"));
  assertAlmostEquals(b.reward, 0.84001, 5e-6);
  assertAlmostEquals(
    ndcgScore(["a", "b", "c"], ["a", "", "b", "c"]),
    4 / (3 + 2 / Math.log2(3) + 0.5),
  );
});

Deno.test("§7.3 Pairwise: a,c,b,d → 5/6; a,b,c,d,e → 0.6", () => {
  const gold = ["a", "b", "c", "d"];
  assertAlmostEquals(ok(lbp(T21, gold, "</think>[Answer]\na\nc\nb\nd")).reward, 5 / 6);
  assertAlmostEquals(ok(lbp(T21, gold, "</think>[Answer]\na\nb\nc\nd\ne")).reward, 0.6);
  assertEquals(lbp(T21, gold, "</think>").task, "sequence_ordering");
});

Deno.test("§7.3 F1 [x,y,z] vs x,y,w → 0.66667; SubEM X / y / q → 0.66667", () => {
  assertAlmostEquals(ok(lbp(T51, ["x", "y", "z"], "</think>[Answer]\nx\ny\nw")).reward, 2 / 3);
  const s = ok(lbp(T61, ["x", "y", "z"], "</think>[Answer]\nX\ny\nq"));
  assertAlmostEquals(s.reward, 2 / 3);
  assertEquals(s.verifier, "subem");
  assertEquals(s.task, "structured_matching");
});

Deno.test("§7.3 Accuracy: first line after the marker; without a marker the first line has </think>", () => {
  assertEquals(ok(lbp(T31, ["Paris"], "</think>[Answer] paris\nextra")).reward, 1);
  const r = ok(lbp(T31, ["Paris"], "</think>The answer: Paris"));
  assertEquals(r.reward, 0);
  assertEquals(r.details.firstLine, "</think>the answer: paris");
  // With stripThink the marker-less first line is just the answer.
  assertEquals(
    ok(lbp(T31, ["Paris"], "<think>t</think>Paris\nmore", { stripThink: true })).reward,
    1,
  );
  // Only the first gold item counts.
  assertEquals(ok(lbp(T31, ["Paris", "Lyon"], "</think>[Answer]\nlyon")).reward, 0);
});

Deno.test("§7.3 ROUGE-L via summary: cat/mat → 0.8; 'a b c. d e f' → 0.666667", () => {
  const r = ok(lbp(T41, ["the cat sat on the mat"], "the cat is on the mat", { format: "none" }));
  assertAlmostEquals(r.reward, 0.8, 1e-6);
  assertEquals(r.task, "summarization");
  const s = ok(lbp(T41, ["a b x. y e f"], "a b c. d e f", { format: "none" }));
  assertAlmostEquals(s.reward, 2 / 3, 1e-6);
  // Faithful: the thinking block is part of the hypothesis ("</think>the" is one word).
  const f = ok(lbp(T41, ["the cat sat on the mat"], "</think>the cat is on the mat"));
  assertAlmostEquals(f.reward, 2 * (4 / 6) * 0.8 / (4 / 6 + 0.8 + 1e-8), 1e-9);
  const st = ok(
    lbp(T41, ["the cat sat on the mat"], "<think>long</think>the cat is on the mat", {
      stripThink: true,
    }),
  );
  assertAlmostEquals(st.reward, 0.8, 1e-6);
  // Max over references; an empty reference makes the whole get_scores raise → 0.
  assertAlmostEquals(
    ok(lbp(T41, ["zzz", "the cat sat on the mat"], "the cat is on the mat", { format: "none" }))
      .reward,
    0.8,
    1e-6,
  );
  const e = ok(
    lbp(T41, ["", "the cat sat on the mat"], "the cat is on the mat", { format: "none" }),
  );
  assertEquals(e.reward, 0);
  assert(typeof e.details.rougeError === "string");
  // "..." has no non-empty sentence: rouge raises → 0, not an error.
  const dots = ok(lbp(T41, ["a b"], "...", { format: "none" }));
  assertEquals(dots.reward, 0);
  assert(typeof dots.details.rougeError === "string");
});

Deno.test("summary: is_zh only when ground_truth.summary === 'Chinese' (segmented both sides)", () => {
  const gold = ["今天天气很好"];
  const zh = ok(lbp(T41, gold, "今天天气很好", { format: "none" }, "Chinese"));
  assertAlmostEquals(zh.reward, 1, 1e-6);
  assertEquals(zh.details.isZh, true);
  const part = ok(lbp(T41, gold, "今天天气不好", { format: "none" }, "Chinese"));
  assert(part.reward > 0 && part.reward < 1, `partial zh ${part.reward}`);
  // Not Chinese: each unsegmented run is one "word", so a near-miss scores 0.
  assertEquals(ok(lbp(T41, gold, "今天天气不好", { format: "none" }, "English")).reward, 0);
});

// ==================== LongBench-Pro normalization and quirks ====================

Deno.test("answer_area: last [Answer], else last [答案], else all; stripped", () => {
  assertEquals(answerArea("x [Answer] a [Answer] b "), "b");
  assertEquals(answerArea("x [答案] a [答案]\n b\n"), "b");
  assertEquals(answerArea("[答案] a [Answer] b"), "b");
  assertEquals(answerArea("  plain \n"), "plain");
  assertEquals(normPred("[Answer]\n  A  B \n\n C\t"), ["a b", "", "c"]);
});

Deno.test("LBP: a marker inside the thinking counts when the final answer has none", () => {
  const resp = "<think>[Answer]\nwrong\n</think>right";
  assertEquals(ok(lbp(T31, ["wrong"], resp)).reward, 1);
  // With stripThink the thinking is gone.
  assertEquals(ok(lbp(T31, ["wrong"], resp, { stripThink: true })).reward, 0);
  assertEquals(ok(lbp(T31, ["right"], resp, { stripThink: true })).reward, 1);
});

Deno.test("LBP: duplicates, empty gold, empty output, range check, CRLF", () => {
  // NDCG duplicates: later gold duplicate wins (smaller rel); last prediction position counts.
  assertAlmostEquals(ndcgScore(["a", "b", "a"], ["a"]), 1 / (2 + 1 / Math.log2(3)));
  assertAlmostEquals(
    ndcgScore(["a", "b"], ["a", "b", "a"]),
    (1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3)),
  );
  // Pairwise > 1 (duplicate golds) trips the range check → 0.
  assertEquals(pairwiseScore(["a", "b", "a", "b"], ["a", "b"]), 3);
  const p = ok(lbp(T21, ["a", "b", "a", "b"], "</think>[Answer]\na\nb"));
  assertEquals(p.reward, 0);
  assertEquals(p.details.outOfRange, "3");
  assertEquals(ok(lbp(T21, ["a"], "</think>[Answer]\na\nb")).reward, 0);
  assertEquals(ok(lbp(T21, ["a", "b"], "</think>[Answer]\na")).reward, 0);
  // Empty gold → 0; empty / whitespace output → 0.
  for (const mode of [T11, T21, T31, T41, T51, T61]) {
    assertEquals(ok(lbp(mode, [], "</think>[Answer]\na")).reward, 0);
    assertEquals(ok(lbp(mode, null, "</think>[Answer]\na")).reward, 0);
    assertEquals(ok(lbp(mode, ["a"], "", { format: "none" })).reward, 0);
    assertEquals(ok(lbp(mode, ["a"], " \n\t\u3000", { format: "none" })).reward, 0);
  }
  // CRLF: split on "\n" only, Python strip removes the "\r".
  assertAlmostEquals(ok(lbp(T51, ["x", "y"], "</think>[Answer]\r\nx\r\ny\r\n")).reward, 1);
  assertAlmostEquals(ok(lbp(T11, ["a", "b"], "</think>[Answer]\r\na\r\nb")).reward, 1);
  // F1: a blank line is a prediction item.
  assertAlmostEquals(ok(lbp(T51, ["x"], "</think>[Answer]\nx\n\ny")).reward, 0.5);
  // Gold given as a list of ground truths: the last one is used.
  const r = computeReward({
    dataSource: "longbench_pro",
    response: "</think>[Answer]\nq",
    groundTruth: [{ doc_ids: ["nope"], summary: "" }, { doc_ids: ["q"], summary: "" }],
    extraInfo: { reward_mode: T31 },
  });
  assertEquals(ok(r).reward, 1);
  // Missing "summary" is tolerated (the reference would raise KeyError).
  const m = computeReward({
    dataSource: "longbench_pro",
    response: "</think>[Answer]\nq",
    groundTruth: { doc_ids: ["q"] },
    extraInfo: { reward_mode: T31 },
  });
  assertEquals(ok(m).reward, 1);
});

Deno.test("LBP errors: unknown reward_mode, missing doc_ids, non-string gold items → error, reward 0", () => {
  resetVerifierErrors();
  const u = lbp("T99.9 Nope", ["a"], "</think>a");
  assertEquals(u.reward, 0);
  assert(u.error?.includes("Unknown sub_task"));
  assertEquals(u.verifier, "none");
  assertEquals(u.task, "unknown");
  const noMode = computeReward({
    dataSource: "longbench_pro",
    response: "</think>a",
    groundTruth: { doc_ids: ["a"] },
    extraInfo: "T1.1",
  });
  assert(noMode.error !== undefined);
  const noDoc = computeReward({
    dataSource: "longbench_pro",
    response: "</think>a",
    groundTruth: { golden_label: "a" },
    extraInfo: { reward_mode: T31 },
  });
  assert(noDoc.error?.includes("doc_ids"));
  assertEquals(noDoc.verifier, "accuracy");
  const bad = lbp(T31, [1, 2], "</think>[Answer] 1");
  assertEquals(bad.reward, 0);
  assert(bad.error !== undefined);
  const errs = verifierErrors();
  assertEquals(errs.router, 2);
  assertEquals(errs.accuracy, 2);
  resetVerifierErrors();
  assertEquals(verifierErrors(), {});
});

Deno.test("routing: all 25 LongBench-Pro names, verbatim table of recipe §1.3", () => {
  const expected: Record<string, string> = {
    "T1.1": "ndcg",
    "T1.2": "ndcg",
    "T2.1": "pairwise",
    "T2.2": "pairwise",
    "T3.1": "accuracy",
    "T3.2": "accuracy",
    "T4.1": "summary",
    "T4.2": "summary",
    "T5.1": "f1",
    "T5.2": "f1",
    "T6.1": "subem",
    "T6.2": "f1",
    "T6.3": "pairwise",
    "T7.1": "f1",
    "T7.2": "f1",
    "T7.3": "f1",
    "T8.1": "subem",
    "T8.2": "subem",
    "T8.3": "subem",
    "T9.1": "f1",
    "T9.2": "f1",
    "T10.1": "subem",
    "T10.2": "subem",
    "T11.1": "accuracy",
    "T11.2": "accuracy",
  };
  const names = Object.keys(TASK_METRIC_CONFIG);
  assertEquals(names.length, 25);
  const tasks: Record<string, string> = {
    ndcg: "graded_ranking",
    pairwise: "sequence_ordering",
    accuracy: "comprehension",
    f1: "exhaustive_retrieval",
    subem: "structured_matching",
    summary: "summarization",
  };
  for (const name of names) {
    const id = name.split(" ")[0];
    const route = routeVerifier("longbench_pro", { reward_mode: name });
    assertEquals(route, { name: expected[id] }, name);
    const r = lbp(name, ["a"], "</think>[Answer]\na");
    assertEquals(r.verifier, expected[id]);
    assertEquals(r.task, tasks[expected[id]]);
    assertEquals(r.taskKey, TASK_METRIC_CONFIG[name]);
  }
  // Exact strings only: a short id or different case is unknown.
  assert("error" in routeVerifier("longbench_pro", { reward_mode: "T1.1" }));
  assert("error" in routeVerifier("longbench_pro", { reward_mode: T11.toLowerCase() }));
});

Deno.test("routing: data sources like default_compute_score, direct verifier names, unknown → error", () => {
  assertEquals(routeVerifier("EM", undefined), { name: "em" });
  assertEquals(routeVerifier("selection", undefined), { name: "selection" });
  assertEquals(routeVerifier("x_math_longcot_math_verify_y", undefined), { name: "math" });
  assertEquals(routeVerifier("multitableqa_pretraining", undefined), { name: "table_iou" });
  for (const v of listVerifiers()) assertEquals(routeVerifier(v.name, undefined), { name: v.name });
  assert("error" in routeVerifier("em ", undefined));
  assert("error" in routeVerifier("openai/gsm8k", undefined));
  const r = computeReward({ dataSource: "nope", response: "</think>x", groundTruth: {} });
  assertEquals(r.reward, 0);
  assertEquals(r.verifier, "none");
  assert(r.error?.includes("not implemented"));
  // Direct names take LBP-shaped ground truth.
  const d = computeReward({
    dataSource: "ndcg",
    response: "</think>[Answer]\nb\na",
    groundTruth: { doc_ids: ["a", "b"] },
  });
  assertAlmostEquals(ok(d).reward, (2 / Math.log2(3) + 1) / (2 + 1 / Math.log2(3)));
  // A bad input object does not throw either.
  const weird = computeReward(
    { dataSource: 5, response: null, groundTruth: undefined } as unknown as RewardInput,
  );
  assertEquals(weird.reward, 0);
  assert(weird.error !== undefined);
  const noResp = computeReward(
    {
      dataSource: "EM",
      response: null,
      groundTruth: { golden_label: "a" },
    } as unknown as RewardInput,
  );
  assertEquals(noResp.reward, 0);
  assert(noResp.error !== undefined);
});

Deno.test("registry: ten verifiers, nine task types, duplicate registration refused", () => {
  const vs = listVerifiers();
  assertEquals(vs.map((v) => v.name), [
    "em",
    "selection",
    "math",
    "table_iou",
    "ndcg",
    "pairwise",
    "accuracy",
    "f1",
    "subem",
    "summary",
  ]);
  assertEquals(new Set(vs.map((v) => v.task)).size, 9);
  assertEquals(getVerifier("em")?.reads, "post-think");
  assertEquals(getVerifier("summary")?.reads, "full");
  assert(vs.every((v) => v.description.length > 0));
});

Deno.test("taskKey (recipe §1.9)", () => {
  assertEquals(taskKey({ reward_mode: "custom", extra_info: { reward_mode: T11 } }), "custom");
  assertEquals(taskKey({ extra_info: { reward_mode: T11 } }), "NDCG");
  assertEquals(taskKey({ extra_info: { reward_mode: T21 } }), "Pairwise_Accuracy");
  assertEquals(taskKey({ extra_info: { reward_mode: T31 } }), "Accuracy");
  assertEquals(taskKey({ extra_info: { reward_mode: T41 } }), "Summary");
  assertEquals(taskKey({ extra_info: { reward_mode: T51 } }), "F1_Score");
  assertEquals(taskKey({ extra_info: { reward_mode: T61 } }), "SubEM");
  assertEquals(taskKey({ extra_info: { reward_mode: "EM" } }), "EM");
  assertEquals(taskKey({ extra_info: { reward_mode: "selection" } }), "selection");
  assertEquals(
    taskKey({ extra_info: { reward_mode: "math_longcot_math_verify" } }),
    "math_longcot_math_verify",
  );
  assertEquals(taskKey({ extra_info: {} }), "");
  assertEquals(taskKey({ extra_info: "T1.1" }), "");
  assertEquals(taskKey({ extra_info: null }), "");
  assertEquals(taskKey({ extra_info: [{ reward_mode: "EM" }] }), "");
  assertEquals(taskKey({}), "");
  assertEquals(taskKey({ extraInfo: { reward_mode: T11 } }), "NDCG");
  const r = em("</think>a", "a");
  assertEquals(r.taskKey, "");
  const r2 = computeReward({
    dataSource: "EM",
    response: "</think>a",
    groundTruth: { golden_label: "a" },
    extraInfo: { reward_mode: "EM" },
  });
  assertEquals(r2.taskKey, "EM");
});

// ==================== Format gate ====================

Deno.test("format gate: 0 or 2 </think>, 2 <think> → 0; format none disables it", () => {
  assertEquals(formatGate("<think>a</think>b"), null);
  assertEquals(formatGate("a</think>b"), null);
  assertEquals(formatGate("no tags"), "missing </think>");
  assert(formatGate("</think></think>")!.includes("</think>"));
  assert(formatGate("<think><think></think>")!.includes("<think>"));
  const cases: [string, string][] = [
    ["Paris", "missing </think>"],
    ["<think>a</think>Paris</think>", "2 </think> (at most 1 allowed)"],
    ["<think><think>a</think>Paris", "2 <think> (at most 1 allowed)"],
  ];
  for (const [resp, why] of cases) {
    const r = em(resp, "Paris");
    assertEquals(r.reward, 0);
    assertEquals(r.details.gate, why);
    assertEquals(r.error, undefined);
    // Every verifier is gated the same way.
    assertEquals(lbp(T31, ["paris"], resp).details.gate, why);
    assertEquals(mc(resp + "The correct answer is (A)", "A").reward, 0);
    assertEquals(table(resp, '{"data": []}').details.gate, why);
  }
  assertEquals(em("Paris", "Paris", { format: "none" }).reward, 1);
  // format none: post-think verifiers still cut at the last </think> when there is one.
  assertEquals(em("<think>x</think>y</think>Paris", "Paris", { format: "none" }).reward, 1);
});

// ==================== EM ====================

Deno.test("EM: stripped, case-sensitive, no Unicode normalization", () => {
  assertEquals(ok(em("<think>who?</think> Ishmael \n", "Ishmael")).reward, 1);
  assertEquals(ok(em("</think>ishmael", "Ishmael")).reward, 0);
  assertEquals(ok(em("</think>Ishmael.", "Ishmael")).reward, 0);
  assertEquals(ok(em("</think>\n\nasw1 ", "\n\n\nasw1 ")).reward, 1);
  assertEquals(ok(em("</think>", "")).reward, 1); // empty == empty, as the reference
  assertEquals(ok(em("</think>  \t ", "")).reward, 1);
  assertEquals(ok(em("</think>", "x")).reward, 0);
  // NFC "é" (U+00E9) vs NFD "e\u0301" are different strings: no normalization.
  assertEquals(ok(em("</think>caf\u00e9", "cafe\u0301")).reward, 0);
  assertEquals(ok(em("</think>caf\u00e9", "caf\u00e9")).reward, 1);
  // CJK, emoji, CRLF (Python strip removes \r), U+3000 ideographic space stripped, U+FEFF not.
  assertEquals(ok(em("</think>北京\r\n", "北京")).reward, 1);
  assertEquals(ok(em("</think>\u3000😀👍🏽\u3000", "😀👍🏽")).reward, 1);
  assertEquals(ok(em("</think>\ufeffParis", "Paris")).reward, 0);
  assertEquals(ok(em("</think>\x85Paris\x1c", "Paris")).reward, 1);
  // Only the text after the (single) </think> is read.
  assertEquals(ok(em("<think>Paris</think>London", "Paris")).reward, 0);
  // Ground truth list → last element; a string ground truth is a TypeError → error, reward 0.
  assertEquals(
    ok(computeReward({
      dataSource: "EM",
      response: "</think>b",
      groundTruth: [{ golden_label: "a" }, { golden_label: "b" }],
    })).reward,
    1,
  );
  const bad = computeReward({ dataSource: "EM", response: "</think>b", groundTruth: "b" });
  assertEquals(bad.reward, 0);
  assert(bad.error !== undefined);
  const nonStr = em("</think>1", 1);
  assertEquals(nonStr.reward, 0);
  assert(nonStr.error !== undefined);
});

// ==================== selection ====================

Deno.test("selection: (X) first, then bare X, A-D only, case-sensitive, * removed", () => {
  assertEquals(extractChoice("The correct answer is (B)"), "B");
  assertEquals(extractChoice("The correct answer is C. The correct answer is (B)"), "B");
  assertEquals(extractChoice("The correct answer is C"), "C");
  assertEquals(extractChoice("**The correct answer is (D)**"), "D");
  assertEquals(extractChoice("The correct answer is **(A)**"), "A");
  assertEquals(extractChoice("The correct answer is (E)"), null);
  assertEquals(extractChoice("the correct answer is (A)"), null);
  assertEquals(extractChoice("The correct answer is (a)"), null);
  assertEquals(extractChoice("The correct answer is  (A)"), null);
  assertEquals(extractChoice("The correct answer is A"), "A");
  assertEquals(extractChoice("The correct answer is Apple"), "A"); // reference regex has no \b
  assertEquals(
    ok(mc("<think>The correct answer is (A)</think>The correct answer is (B)", "B")).reward,
    1,
  );
  assertEquals(ok(mc("<think>The correct answer is (B)</think>I pick B", "B")).reward, 0);
  assertEquals(ok(mc("</think>The correct answer is (B)", "The correct answer is (B)")).reward, 1);
  assertEquals(ok(mc("</think>The correct answer is (B)", " B")).reward, 0); // raw label not stripped
  assertEquals(ok(mc("</think>The correct answer is (B)", "A")).reward, 0);
  assertEquals(ok(mc("</think>", "A")).reward, 0);
  assertEquals(ok(mc("</think>   ", "A")).reward, 0);
  assertEquals(ok(mc("</think>The correct answer is (Ｂ)", "B")).reward, 0); // fullwidth
  assertEquals(ok(mc("</think>The correct answer is (B)\r\n", "B")).reward, 1);
  assertEquals(ok(mc("</think>答案 The correct answer is (C) 😀", "C")).reward, 1);
  assertEquals(ok(mc("The correct answer is (B)", "B", { format: "none" })).reward, 1);
});

// ==================== table IoU and Python str() ====================

Deno.test("python_str: float repr like Python", () => {
  const cases: [number, string][] = [
    [1, "1.0"],
    [0.1, "0.1"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [123456789012345680000, "1.2345678901234568e+20"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [1e300, "1e+300"],
    [2.5, "2.5"],
    [-2.5, "-2.5"],
    [-0, "-0.0"],
    [0, "0.0"],
    [100, "100.0"],
    [1 / 3, "0.3333333333333333"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [NaN, "nan"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [123456.789, "123456.789"],
    [9007199254740993, "9007199254740992.0"],
  ];
  for (const [x, s] of cases) assertEquals(pyFloatRepr(x), s, String(x));
});

Deno.test("python_str: str() of JSON values keeps int/float distinction", () => {
  const s = (t: string) => pyStr(parsePyJson(t));
  assertEquals(s("1.0"), "1.0");
  assertEquals(s("1"), "1");
  assertEquals(s("-0"), "0");
  assertEquals(s("-0.0"), "-0.0");
  assertEquals(s("1e2"), "100.0");
  assertEquals(s("1E400"), "inf");
  assertEquals(s("1e16"), "1e+16");
  assertEquals(s("0.1"), "0.1");
  assertEquals(s("12345678901234567890123"), "12345678901234567890123");
  assertEquals(s("true"), "True");
  assertEquals(s("false"), "False");
  assertEquals(s("null"), "None");
  assertEquals(s("NaN"), "nan");
  assertEquals(s("-Infinity"), "-inf");
  assertEquals(s('"plain"'), "plain");
  assertEquals(s('["a", 1]'), "['a', 1]");
  assertEquals(s('{"k": "v"}'), "{'k': 'v'}");
  assertEquals(
    s('[1.5, null, true, "it\'s", {"a": [2.0, []]}]'),
    `[1.5, None, True, "it's", {'a': [2.0, []]}]`,
  );
  assertEquals(s('{"a": 1, "b": 2, "a": 3}'), "{'a': 3, 'b': 2}");
  assertEquals(s('{"b": 1, "1": 2}'), "{'b': 1, '1': 2}");
  assertEquals(s('["a\\"b\'c"]'), `['a"b\\'c']`);
  assertEquals(
    s('["tab\\tnl\\n\\\\ cr\\r \\u0001 \\u007f"]'),
    "['tab\\tnl\\n\\\\ cr\\r \\x01 \\x7f']",
  );
  assertEquals(
    s('["é", "\\u00a0", "\\u200b", "😀", "北京", "\\ud800"]'),
    "['é', '\\xa0', '\\u200b', '😀', '北京', '\\ud800']",
  );
  assertEquals(s('["\\ud83d\\ude00"]'), "['😀']");
  assertEquals(
    s('[" ", "\\u3000", "\\u2028", "\\ue000"]'),
    "[' ', '\\u3000', '\\u2028', '\\ue000']",
  );
  assertEquals(pyReprStr(""), "''");
  assertEquals(pyReprStr("'"), `"'"`);
  assertEquals(pyReprStr("\u{10ffff}"), "'\\U0010ffff'");
  // JS values not from the parser (e.g. a ground-truth dict given as an object).
  assertEquals(
    pyStr([1, 1.5, true, null, "x", { a: 1e21 }]),
    "[1, 1.5, True, None, 'x', {'a': 1000000000000000000000}]",
  );
});

Deno.test("python_str: json.loads strictness", () => {
  const bad = [
    "",
    " ",
    "[1,]",
    '{"a":1,}',
    "01",
    "1.",
    ".5",
    "+1",
    "[1 2]",
    '{"a" 1}',
    "{1: 2}",
    "'a'",
    '"a\nb"',
    '"\\x41"',
    '"\\u12"',
    "tru",
    "nan",
    "[1] x",
    "\ufeff[]",
    "[\u00a0]",
    '"unterminated',
  ];
  for (const t of bad) {
    let threw = false;
    try {
      parsePyJson(t);
    } catch (e) {
      threw = (e as Error).name === "JSONDecodeError";
    }
    assert(threw, `expected JSONDecodeError for ${JSON.stringify(t)}`);
  }
  assert(parsePyJson(" \t\r\n[ 1 , 2.0 ]\n ") instanceof Array);
  assert((parsePyJson("[1]") as unknown[])[0] instanceof PyInt);
  assert((parsePyJson("[1.0]") as unknown[])[0] instanceof PyFloat);
  assertEquals(pyStr(parsePyJson('"\\/\\b\\f"')), "/\b\f");
  // Depth: MAX_DEPTH nested lists parse, one more raises RecursionError; 100k "[" is fast.
  const deep = "[".repeat(MAX_DEPTH) + "]".repeat(MAX_DEPTH);
  assert(Array.isArray(parsePyJson(deep)));
  for (const t of ["[".repeat(MAX_DEPTH + 1) + "]".repeat(MAX_DEPTH + 1), "[".repeat(100_000)]) {
    let name = "";
    try {
      parsePyJson(t);
    } catch (e) {
      name = (e as Error).name;
    }
    assertEquals(name, "RecursionError");
  }
});

Deno.test("table IoU: row multiset IoU with Python str() keys", () => {
  const gold = '{"data": [["a", 1.0], ["b", 2], ["c", true]]}';
  const ans = (json: string) => "<think>t</think><answer>" + json + "</answer>";
  // Faithful quirk: the full response is parsed, so without <answer> tags "</think>" breaks it.
  assertEquals(ok(table('</think>{"data": [["a", 1.0], ["b", 2], ["c", true]]}', gold)).reward, 0);
  assertEquals(
    ok(
      table('<think>t</think>{"data": [["a", 1.0], ["b", 2], ["c", true]]}', gold, {
        stripThink: true,
      }),
    )
      .reward,
    1,
  );
  assertEquals(
    ok(table('</think><answer>{"data": [["a", 1.0], ["b", 2], ["c", true]]}</answer>', gold))
      .reward,
    1,
  );
  // 1 vs 1.0, "True" vs true: different keys.
  const r = ok(table(ans('{"data": [["a", 1], ["b", 2.0], ["c", "True"]]}'), gold));
  assertAlmostEquals(r.reward, 1 / 5); // 1 match ("c": str(True) == "True"), 3 + 3 − 1
  assertEquals(r.details.matches, 1);
  // Multiset: duplicates count once per copy.
  const g2 = '{"data": [["x"], ["x"], ["y"]]}';
  assertAlmostEquals(ok(table(ans('{"data": [["x"], ["x"], ["x"]]}'), g2)).reward, 2 / 4);
  // Non-list rows → str(row); dict rows use Python dict repr.
  assertEquals(ok(table(ans('{"data": [{"k": 1}, "s"]}'), '{"data": [{"k": 1}, "s"]}')).reward, 1);
  assertEquals(ok(table(ans('{"data": [["s"]]}'), '{"data": ["s"]}')).reward, 0); // tuple ≠ str
  // The first <answer> … next </answer>; the thinking is not stripped (full response read).
  assertEquals(
    ok(
      table(
        '<think><answer>{"data": [["t"]]}</answer></think><answer>{"data": [["a"]]}</answer>',
        '{"data": [["a"]]}',
      ),
    )
      .reward,
    0,
  );
  assertEquals(
    ok(
      table(
        '<think><answer>{"data": [["t"]]}</answer></think><answer>{"data": [["a"]]}</answer>',
        '{"data": [["a"]]}',
        { stripThink: true },
      ),
    )
      .reward,
    1,
  );
  assertEquals(stripAnswer("x <answer> {} "), "{}");
  assertEquals(stripAnswer(" <answer>a</answer><answer>b</answer>"), "a");
  // Unparseable prediction / non-dict document → [] → IoU 0; "data" not a list → 0.
  for (
    const p of [
      ans("not json"),
      ans("[1, 2]"),
      ans('{"rows": []}'),
      ans('{"data": 5}'),
      ans('{"data": null}'),
      ans('{"data": {"a": 1}}'),
      ans(""),
      "</think>",
      "</think>  \r\n",
    ]
  ) {
    assertEquals(ok(table(p, gold)).reward, 0, p);
  }
  // Both empty → denominator 0 → 0.
  assertEquals(ok(table(ans('{"data": []}'), '{"data": []}')).reward, 0);
  // Bad gold → 0 (decode error or non-string golden_label), not an error.
  assertEquals(ok(table(ans('{"data": [["a"]]}'), "not json")).reward, 0);
  assertEquals(ok(table(ans('{"data": [["a"]]}'), { golden_label: null })).reward, 0);
  // Gold without golden_label: the dict itself is the gold; a list ground truth has no rows.
  assertEquals(ok(table(ans('{"data": [["a"]]}'), { data: [["a"]] })).reward, 1);
  assertEquals(
    ok(table(ans('{"data": [["a"]]}'), [{ golden_label: '{"data": [["a"]]}' }])).reward,
    0,
  );
  // Gold "data" that is a string is iterated by characters (Python), None is a TypeError → error.
  assertAlmostEquals(ok(table(ans('{"data": ["a", "b"]}'), '{"data": "ab"}')).reward, 1);
  const e = table(ans('{"data": []}'), '{"data": null}');
  assertEquals(e.reward, 0);
  assert(e.error?.includes("not iterable"));
  // CJK / emoji / NFC vs NFD cells.
  assertEquals(
    ok(table(ans('{"data": [["北京", "😀"]]}'), '{"data": [["北京", "😀"]]}')).reward,
    1,
  );
  assertEquals(ok(table(ans('{"data": [["caf\u00e9"]]}'), '{"data": [["cafe\u0301"]]}')).reward, 0);
  assertEquals(rowKey(["a", 1]), rowKey(["a", 1]));
  assert(rowKey(["a,b"]) !== rowKey(["a", "b"]));
  // Deep nesting in the prediction: RecursionError (uncaught in the reference) → error, reward 0.
  const deep = table(ans("[".repeat(100_000)), gold);
  assertEquals(deep.reward, 0);
  assert(deep.error?.includes("RecursionError"));
});

// ==================== math (delegation) ====================

Deno.test("math: delegates to mathVerifyReward; string gt or golden_label; list → last", () => {
  const r = ok(computeReward({
    dataSource: "math_longcot_math_verify",
    response: "<think>2+2</think>The answer is \\boxed{4}.",
    groundTruth: "4",
  }));
  assertEquals(r.reward, 1);
  assertEquals(r.verifier, "math");
  assertEquals(r.task, "numerical_reasoning");
  assert("reason" in r.details);
  assertEquals(
    ok(computeReward({
      dataSource: "foo_math_longcot_math_verify",
      response: "</think>\\boxed{4}",
      groundTruth: [{ golden_label: "5" }, { golden_label: "4" }],
    })).reward,
    1,
  );
  assertEquals(
    ok(computeReward({ dataSource: "math", response: "</think>\\boxed{5}", groundTruth: "4" }))
      .reward,
    0,
  );
  const e = computeReward({ dataSource: "math", response: "</think>\\boxed{4}", groundTruth: {} });
  assertEquals(e.reward, 0);
  assert(e.error !== undefined);
});

// ==================== Every verifier: edge inputs ====================

interface Case {
  name: string;
  input: (response: string) => RewardInput;
}

const ALL: Case[] = [
  {
    name: "em",
    input: (response) => ({ dataSource: "EM", response, groundTruth: { golden_label: "Paris" } }),
  },
  {
    name: "selection",
    input: (response) => ({
      dataSource: "selection",
      response,
      groundTruth: { golden_label: "B" },
    }),
  },
  {
    name: "math",
    input: (response) => ({ dataSource: "math_longcot_math_verify", response, groundTruth: "42" }),
  },
  {
    name: "table_iou",
    input: (response) => ({
      dataSource: "multitableqa_pretraining",
      response,
      groundTruth: { golden_label: '{"data": [["a", 1.0]]}' },
    }),
  },
  ...[T11, T21, T31, T41, T51, T61].map((mode) => ({
    name: TASK_METRIC_CONFIG[mode],
    input: (response: string): RewardInput => ({
      dataSource: "longbench_pro",
      response,
      groundTruth: { doc_ids: ["a", "b", "c"], summary: "English" },
      extraInfo: { reward_mode: mode },
    }),
  })),
];

Deno.test("every verifier: empty, whitespace, missing markers, duplicates, unicode, CRLF → finite [0,1]", () => {
  const responses = [
    "",
    "   ",
    "</think>",
    "</think>   \n\t ",
    "<think></think>",
    "</think>no markers at all",
    "</think>[Answer]",
    "</think>[Answer]\n\n\n",
    "</think>[Answer]\na\na\na\nb\nb",
    "</think>[答案]\nA\nB\nC",
    "</think>[Answer]\r\na\r\nb\r\nc\r\n",
    "</think>café cafe\u0301 北京 😀👍🏽 \u200b\ufeff",
    "</think>\\boxed{42}",
    '</think><answer>{"data": [["a", 1.0]]}</answer>',
    "</think>The correct answer is (B)",
    "</think>Paris",
  ];
  for (const c of ALL) {
    for (const resp of responses) {
      for (const opts of [{}, { stripThink: true }, { format: "none" as const }]) {
        const r = ok(computeReward(c.input(resp), opts));
        if (resp === "" || resp === "   ") assertEquals(r.reward, 0);
      }
    }
  }
});

Deno.test("every verifier: 1 MB outputs finish quickly without stack overflow", () => {
  const chunk = "The correct answer is (B). [Answer] a\nb\n{[(\\boxed{ 北京😀 \r\n";
  const big = chunk.repeat(Math.ceil(1_000_000 / chunk.length));
  const shapes = [
    "<think>" + big + "</think>" + big,
    "</think>" + "[".repeat(1_000_000),
    "</think>" + "\\boxed{".repeat(100_000),
    "</think>[Answer]\n" + "a\n".repeat(500_000),
    "</think>" + "x".repeat(1_000_000),
  ];
  for (const c of ALL) {
    for (const resp of shapes) {
      const t0 = performance.now();
      const r = computeReward(c.input(resp));
      const ms = performance.now() - t0;
      assert(Number.isFinite(r.reward) && r.reward >= 0 && r.reward <= 1);
      assert(ms < 5000, `${c.name} took ${ms.toFixed(0)} ms on a ${resp.length}-char response`);
    }
  }
});

Deno.test("throughput: 64 KB responses, ≥200/s per verifier (summary ≥20/s) with 4x slack", () => {
  const words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split(" ");
  let s = 0;
  const text: string[] = [];
  let len = 0;
  while (len < 64_000) {
    s = (s * 1103515245 + 12345) >>> 0;
    const w = words[s % words.length] + (s % 17 === 0 ? ".\n" : " ");
    text.push(w);
    len += w.length;
  }
  const body = text.join("");
  const resp = "<think>" + body + "</think>[Answer]\na\nb\nc\n" +
    '<answer>{"data": [["a", 1.0]]}</answer>';
  for (const c of ALL) {
    const n = c.name === "Summary" ? 10 : 50;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) computeReward(c.input(resp));
    const perSec = n / ((performance.now() - t0) / 1000);
    const target = c.name === "Summary" ? 20 : 200;
    assert(perSec >= target / 4, `${c.name}: ${perSec.toFixed(0)}/s < ${target / 4}/s`);
  }
});

Deno.test("python string helpers match Python's whitespace set", () => {
  assertEquals(pyStrip("\x1c\x1d\x1e\x1f\x85 a \u2028\u3000"), "a");
  assertEquals(pyStrip("\ufeffa\ufeff"), "\ufeffa\ufeff");
  assertEquals(pySplit(" a\u00a0b\tc\x0b\x0cd "), ["a", "b", "c", "d"]);
  assertEquals(pySplit("   "), []);
  assertEquals(pyCollapse("  a \n\n b\u2003c  "), "a b c");
});
