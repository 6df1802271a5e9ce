/**
 * Tests of the benchmark registry (eval/benchmarks/): official-format loading, official prompts,
 * scoring and judge plumbing, on the real LongBench v2 samples in ../shared and hand-made
 * fixtures (tests/fixtures/eval/) in each benchmark's documented schema.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import {
  type Benchmark,
  type EvalItem,
  finalScore,
  getBenchmark,
  HEADLINE_BENCHMARKS,
  headlineAverage,
  judgeMessages,
  judgeVerdict,
  listBenchmarks,
  type LoadOptions,
} from "../eval/benchmarks/mod.ts";
import { LONGBENCH_V2_TEMPLATE } from "../eval/benchmarks/longbench_v2.ts";
import { extractLbv1Answer, GOLONGRL_LBV1_PROMPT } from "../eval/benchmarks/longbench_v1.ts";
import { docmathGroundTruth } from "../eval/benchmarks/docmath.ts";
import { extractFramesAnswer } from "../eval/benchmarks/frames.ts";
import {
  formatTemplate,
  middleTruncateChars,
  replaceChain,
  stableHash,
  stripThink,
} from "../eval/benchmarks/common.ts";
import { mrcrBin } from "../eval/benchmarks/mrcr.ts";

const SHARED = (p: string) => new URL(`../../shared/${p}`, import.meta.url).pathname;
const FIX = (p: string) => new URL(`./fixtures/eval/${p}`, import.meta.url).pathname;

function bench(name: string): Benchmark {
  const b = getBenchmark(name);
  assert(b, `benchmark ${name} is registered`);
  return b;
}

async function loadAll(name: string, opts: Partial<LoadOptions> = {}): Promise<EvalItem[]> {
  const out: EvalItem[] = [];
  for await (const it of bench(name).load({ seed: 0, ...opts })) out.push(it);
  return out;
}

function assertStableIds(a: EvalItem[], b: EvalItem[]): void {
  assertEquals(a.map((x) => x.id), b.map((x) => x.id));
  assertEquals(new Set(a.map((x) => x.id)).size, a.length, "ids are unique");
}

Deno.test("registry: every benchmark, the headline six, data flags", () => {
  const names = listBenchmarks().map((b) => b.name);
  for (
    const n of [
      "docmath",
      "longbench-v2",
      "frames",
      "mrcr",
      "corpusqa",
      "longbench-v1-qa",
      "longbench-v1",
      "ruler",
      "longmemeval",
      "ours",
    ]
  ) assert(names.includes(n), n);
  for (const n of HEADLINE_BENCHMARKS) assert(names.includes(n), n);
  for (const b of listBenchmarks()) {
    assert(b.primaryMetric && b.description, b.name);
    if (b.name === "ruler") assertEquals(b.dataFlag, undefined);
    else assert(typeof b.dataFlag === "string", b.name);
  }
  // GoLongRL-30B-A3B row of recipe §5.3: Avg. 69.8.
  const avg = headlineAverage({
    docmath: 65.3,
    "longbench-v2": 55.1,
    frames: 74.5,
    mrcr: 81.6,
    corpusqa: 73.6,
    "longbench-v1-qa": 68.7,
  });
  assertAlmostEquals(avg, 69.8, 0.05);
  assert(Number.isNaN(headlineAverage({ docmath: 1 })));
});

Deno.test("helpers: template filling, replace chains, middle truncation, think stripping", () => {
  assertEquals(formatTemplate("a {x} {y} {z}", { x: "{y}", y: 2 }), "a {y} 2 {z}");
  assertEquals(
    replaceChain("$DOC$ $Q$", [["$DOC$", "has $Q$ and $&"], ["$Q$", "q"]]),
    "has q and $& q",
  );
  assertEquals(middleTruncateChars("abcdefghij", 4), "ab\n...[truncated]...\nij");
  assertEquals(middleTruncateChars("abc", 4), "abc");
  assertEquals(stripThink("<think>x</think>\n answer "), "answer");
  assertEquals(stripThink("reasoning</think>final"), "final");
  assertEquals(stableHash("x"), stableHash("x"));
  assert(stableHash("x") !== stableHash("y"));
});

Deno.test("longbench-v2: the three official samples load, official prompt, scoring", async () => {
  const path = SHARED("qa/longbench_v2_format_examples.jsonl");
  const items = await loadAll("longbench-v2", { path });
  assertEquals(items.length, 3);
  assertStableIds(items, await loadAll("longbench-v2", { path }));
  const raw = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
  for (let i = 0; i < 3; i++) {
    const r = raw[i];
    const it = items[i];
    assertEquals(it.id, `longbench-v2/${r._id}`);
    assertEquals(it.subset, r.difficulty);
    assertEquals(it.lengthBucket, r.length);
    assertEquals(it.messages.length, 1);
    assertEquals(it.messages[0].role, "user");
    const expected = LONGBENCH_V2_TEMPLATE
      .split("$DOC$").join(r.context.trim())
      .split("$Q$").join(r.question.trim())
      .split("$C_A$").join(r.choice_A.trim())
      .split("$C_B$").join(r.choice_B.trim())
      .split("$C_C$").join(r.choice_C.trim())
      .split("$C_D$").join(r.choice_D.trim());
    assertEquals(it.messages[0].content, expected);
    const c = it.messages[0].content;
    assert(
      c.startsWith("Please read the following text and answer the question below.\n\n<text>\n"),
    );
    assert(
      c.endsWith(
        '\n\nFormat your response as follows: "The correct answer is (insert answer here)".',
      ),
    );
    assert(c.includes(`\nChoices:\n(A) ${r.choice_A.trim()}\n(B) `));
    assert((it.contextTokensHint ?? 0) > 10000, "a long document");

    const b = bench("longbench-v2");
    const gold = r.answer as string;
    const wrong = "ABCD".replace(gold, "")[0];
    assertEquals(b.score(it, `The correct answer is (${gold})`).score, 1);
    assertEquals(b.score(it, `**The correct answer is ${gold}**`).score, 1);
    assertEquals(b.score(it, `The correct answer is (${wrong})`).score, 0);
    assertEquals(b.score(it, "I am not sure.").score, 0);
    assertEquals(b.score(it, "I am not sure.").details?.extracted, null);
    // Thinking is dropped before extraction.
    assertEquals(
      b.score(it, `<think>The correct answer is (${wrong})</think>The correct answer is (${gold})`)
        .score,
      1,
    );
  }
  assertEquals(items.map((x) => x.subset), ["easy", "hard", "hard"]);
  assertEquals((await loadAll("longbench-v2", { path, limit: 2 })).length, 2);
});

Deno.test("longbench-v1 (official): dataset2prompt prompts, qa_f1 scoring, buckets", async () => {
  const path = FIX("longbench_v1");
  const items = await loadAll("longbench-v1", { path });
  assertEquals(items.map((x) => x.subset), [
    "narrativeqa",
    "multifieldqa_en",
    "hotpotqa",
    "hotpotqa",
  ]);
  assertStableIds(items, await loadAll("longbench-v1", { path }));
  const [nqa, mf, hp1, hp2] = items;
  assertEquals(nqa.id, "longbench-v1/narrativeqa/nqa-fixture-0001");
  assert(nqa.messages[0].content.startsWith(
    "You are given a story, which can be either a novel or a movie script, and a question. Answer the question asconcisely as you can",
  ));
  assert(
    nqa.messages[0].content.endsWith(
      "\n\nQuestion: Who does Mary marry at the end of the story?\n\nAnswer:",
    ),
  );
  assertEquals(
    mf.messages[0].content,
    "Read the following text and answer briefly.\n\nAt sea level, water boils at 100 degrees Celsius.\n\nNow, answer the following question based on the above text, only give me the answer and do not output any other words.\n\nQuestion: What is the boiling point of water at sea level in Celsius?\nAnswer:",
  );
  assert(hp1.messages[0].content.startsWith(
    "Answer the question based on the given passages. Only give me the answer and do not output any other words.\n\nThe following are given passages.\nPassage 1:",
  ));
  assertEquals([nqa.lengthBucket, hp1.lengthBucket, hp2.lengthBucket], ["0-4k", "4-8k", "8k+"]);
  const b = bench("longbench-v1");
  assertEquals(b.score(nqa, "Tom").score, 1);
  assertEquals(b.score(nqa, "<think>hmm</think>Tom the fisherman.").score, 1);
  assertAlmostEquals(b.score(hp1, "the Seine river").score, 2 / 3, 1e-12); // {seine, river} vs {seine}
  assertEquals(b.score(hp2, "Germany").score, 0);
  assertEquals(b.combine, undefined);
});

Deno.test("longbench-v1-qa (GoLongRL): shared prompt, extraction, judge over every reference", async () => {
  const path = FIX("longbench_v1");
  const items = await loadAll("longbench-v1-qa", { path });
  assertEquals(items.map((x) => x.subset), ["narrativeqa", "hotpotqa", "hotpotqa"]);
  const nqa = items[0];
  assertEquals(
    nqa.messages[0].content,
    formatTemplate(GOLONGRL_LBV1_PROMPT, {
      context:
        "Mary grew up in a small fishing village. After many years at sea, Tom came back and asked for her hand. At the end of the story Mary marries Tom the fisherman in the village chapel.",
      question: "Who does Mary marry at the end of the story?",
    }),
  );
  assertEquals(extractLbv1Answer("Reasoning...\nTherefore, the answer is (Tom).\n"), "Tom");
  assertEquals(extractLbv1Answer('blah\ntherefore the answer is: "Paris"'), "Paris");
  assertEquals(extractLbv1Answer("first\n\nlast line here.\n"), "last line here");
  const b = bench("longbench-v1-qa");
  const r = b.score(nqa, "<think>x</think>Therefore, the answer is Tom.");
  assertEquals(r.needsJudge, {
    question: "Who does Mary marry at the end of the story?",
    reference: "Tom the fisherman",
    prediction: "Tom",
  });
  assertEquals((r.details?.judgeRequests as unknown[]).length, 2);
  assertEquals(r.details?.judgeStyle, "lbv1");
  assertEquals(r.score, 1); // rule fallback: max F1 over references
  assertEquals(finalScore(b, r, false), 0);
  assertEquals(finalScore(b, r, true), 1);
  assertEquals(finalScore(b, r, undefined), 1);
  const msgs = judgeMessages("lbv1", r.needsJudge!);
  assertEquals(msgs.length, 1);
  assert(msgs[0].content.includes("Answer 1: Tom\nAnswer 2: Tom the fisherman"));
  assertEquals(judgeVerdict("lbv1", "They match. [[ YES ]]"), true);
  assertEquals(judgeVerdict("lbv1", "[[no]]"), false);
  assertEquals(judgeVerdict("lbv1", "no verdict"), undefined);
});

Deno.test("mrcr: OpenAI and GoLongRL record formats, official grade, bins", async () => {
  const path = FIX("mrcr.jsonl");
  const items = await loadAll("mrcr", { path });
  assertEquals(items.length, 2);
  assertStableIds(items, await loadAll("mrcr", { path }));
  const [a, b2] = items;
  assertEquals(a.messages.length, 7);
  assertEquals(a.messages[1].role, "assistant");
  assertEquals(a.subset, "2needle");
  assertEquals(a.lengthBucket, "0-4k");
  assertEquals(b2.id, "mrcr/mrcr_fixture_2");
  assertEquals(b2.lengthBucket, "128k-256k");
  assertEquals(b2.contextTokensHint, 140000);
  assertEquals(mrcrBin(5000), "4k-8k");
  assertEquals(mrcrBin(600_000), "512k-1m");
  const b = bench("mrcr");
  const answer = "aZ3kQ9A tapir dreams beneath the moon,\nand hums a quiet jungle tune.";
  assertEquals(b.score(a, answer).score, 1);
  assertEquals(b.score(a, `<think>which poem?</think>\n${answer}`).score, 1);
  assertEquals(
    b.score(a, "A tapir dreams beneath the moon,\nand hums a quiet jungle tune.").score,
    0,
  );
  const partial = b.score(a, "aZ3kQ9A tapir dreams beneath the moon.").score;
  assert(partial > 0.3 && partial < 1, String(partial));
});

Deno.test("docmath: int/float/bool ground truths, rule accuracy, judge, max of the two", async () => {
  const path = FIX("docmath");
  const items = await loadAll("docmath", { path });
  assertEquals(items.map((x) => x.subset), [
    "complong_testmini",
    "simpshort_testmini",
    "simpshort_testmini",
    "simpshort_testmini",
  ]);
  assertStableIds(items, await loadAll("docmath", { path }));
  const refs = items.map((x) => x.reference as { groundTruth: string; answerType: string });
  assertEquals(refs.map((r) => [r.groundTruth, r.answerType]), [
    ["True", "bool"],
    ["1250", "int"],
    ["3.0", "float"],
    ["0.375", "float"],
  ]);
  assertEquals(items[1].lengthBucket, "short");
  assert(items[1].messages[0].content.includes("<text>\n| Year | Employees |\n| 2019 | 1,250 |"));
  assert(
    items[1].messages[0].content.endsWith(
      'Format your response as follows: "Therefore, the answer is (insert answer here)".',
    ),
  );
  const b = bench("docmath");
  assertEquals(b.score(items[1], "Therefore, the answer is 1,250.").score, 1);
  assertEquals(b.score(items[2], "<think>6/200</think>Therefore, the answer is 3%.").score, 1);
  assertEquals(b.score(items[3], "Therefore, the answer is 0.375").score, 1);
  assertEquals(b.score(items[3], "Therefore, the answer is 37.5%").score, 1); // ×100 scale rule
  const wrong = b.score(items[1], "Therefore, the answer is 1100.");
  assertEquals(wrong.score, 0);
  assertEquals(wrong.needsJudge, {
    question: "How many employees did the company have at the end of 2019?",
    reference: "1250",
    prediction: "1100",
  });
  assertEquals(b.combine!(wrong, true), 1);
  assertEquals(b.combine!(wrong, false), 0);
  assertEquals(b.combine!({ score: 1 }, false), 1);
  assertEquals(b.combine!(wrong, undefined), 0);
  const msgs = judgeMessages("orm", wrong.needsJudge!);
  assertEquals(msgs[0].role, "system");
  assertEquals(
    msgs[1].content,
    "\nProblem: How many employees did the company have at the end of 2019?\nAnswer 1: 1250\nAnswer 2: 1100\n",
  );
  assertEquals(judgeVerdict("orm", "... YES"), true);
  assertEquals(docmathGroundTruth(2, "2"), { text: "2", type: "int" });
  assertEquals(docmathGroundTruth(2, "2.0"), { text: "2.0", type: "float" });
});

Deno.test("frames: wiki_items context, CEM, extracted answer for the judge", async () => {
  const path = FIX("frames.jsonl");
  const items = await loadAll("frames", { path });
  assertEquals(items.map((x) => x.id), ["frames/0", "frames/1"]);
  assert(items[0].messages[0].content.includes(
    "<text>\nEiffel Tower\nThe tower was completed in 1889.\n1996 Summer Olympics\nThe 1996 Summer Olympics were held in Atlanta, Georgia.\n</text>",
  ));
  assertEquals(items[0].subset, "Numerical reasoning | Multiple constraints");
  assertEquals(extractFramesAnswer("so **the answer is Atlanta.**"), "Atlanta");
  assertEquals(extractFramesAnswer("no marker"), "");
  const b = bench("frames");
  const ok = b.score(items[0], "<think>1889+107=1996</think>Therefore, the answer is Atlanta.");
  assertEquals(ok.score, 1);
  assertEquals(ok.needsJudge?.prediction, "Atlanta");
  const miss = b.score(items[0], "Therefore, the answer is Atlanta, Georgia");
  assertEquals(miss.score, 1); // cover match inside the output
  const bad = b.score(items[1], "Therefore, the answer is 2019 moons");
  assertEquals(bad.score, 0); // "0" must not match inside "2019"
  assertEquals(b.combine!(bad, true), 1);
  assertEquals(b.combine!(bad, undefined), 0);
});

Deno.test("corpusqa: dataset prompt, extraction, judge verdict alone", async () => {
  const path = FIX("corpusqa");
  const items = await loadAll("corpusqa", { path });
  assertEquals(items.map((x) => [x.id, x.subset, x.lengthBucket]), [
    ["corpusqa/financial_en_0001", "financial_en", "128k"],
    ["corpusqa/education_en_0002", "education_en", "128k"],
  ]);
  assertEquals(items[0].messages.map((m) => m.role), ["system", "user"]);
  const b = bench("corpusqa");
  const r = b.score(
    items[0],
    "<think>7.5 > 5.0</think>Comparing both. The answer is: Globex\nThanks",
  );
  assertEquals(r.needsJudge, {
    question: "Which company had the highest 2023 revenue?",
    reference: "Globex",
    prediction: "Globex",
  });
  assertEquals(r.score, 1); // proxy without a judge
  assertEquals(b.combine!(r, false), 0);
  assertEquals(b.combine!(r, true), 1);
  const msgs = judgeMessages("corpusqa", r.needsJudge!);
  assert(msgs[0].content.endsWith("[[YES]] or [[NO]]"));
  assert(msgs[1].content.includes("Answer 1: Globex\nAnswer 2: Globex"));
  assertEquals(judgeVerdict("corpusqa", "equivalent [[YES]]"), true);
  // Both verdicts: unreadable (the runner scores it incorrect and flags it).
  assertEquals(judgeVerdict("corpusqa", "[[YES]] ... actually [[NO]]"), undefined);
});

Deno.test("longmemeval: reading prompt, history format, abilities, judge", async () => {
  const path = FIX("longmemeval_s.json");
  const items = await loadAll("longmemeval", { path });
  assertEquals(items.map((x) => [x.id, x.subset]), [
    ["longmemeval/e47becba", "information_extraction"],
    ["longmemeval/0a995998_abs", "abstention"],
  ]);
  const [sys, user] = items[0].messages;
  assertEquals(sys.role, "system");
  assert(
    sys.content.startsWith(
      "You are a helpful assistant with access to the user's past conversation history.",
    ),
  );
  assert(user.content.includes(
    "=== Session 1 (Date: 2023/05/20 (Sat) 02:21) ===\nUser: I graduated with a degree in Business Administration last year.\nAssistant: Congratulations on your degree!\n\n=== Session 2",
  ));
  assert(
    user.content.endsWith(
      "Based on the above conversation history, answer the following question:\nWhat degree did I graduate with?",
    ),
  );
  const b = bench("longmemeval");
  const r = b.score(items[0], "<think>session 1</think>You graduated in Business Administration.");
  assertEquals(r.needsJudge?.prediction, "You graduated in Business Administration.");
  assertEquals(judgeVerdict("longmemeval", "ok [[CORRECT]]"), true);
  assertEquals(judgeVerdict("longmemeval", "[[INCORRECT]]"), false);
  assertEquals(b.combine!(r, true), 1);
  assertEquals(
    judgeMessages("longmemeval", r.needsJudge!)[1].content.split("\n")[0],
    "Question: What degree did I graduate with?",
  );
});

/** A gold response for one of our fixture samples, in the format its verifier parses. */
function goldResponse(it: EvalItem): string {
  const ref = it.reference as {
    dataSource: string;
    groundTruth: { doc_ids: string[]; golden_label: string };
    extraInfo: { reward_mode: string };
  };
  const gt = ref.groundTruth;
  switch (ref.dataSource) {
    case "EM":
      return gt.golden_label;
    case "selection":
      return `The correct answer is (${gt.golden_label})`;
    case "math_longcot_math_verify":
      return `The total is \\boxed{${gt.golden_label}}.`;
    case "multitableqa_pretraining":
      return `<answer>${gt.golden_label}</answer>`;
    default:
      if (/Summary/.test(ref.extraInfo.reward_mode)) return gt.doc_ids[0];
      return `[Answer]\n${gt.doc_ids.join("\n")}`;
  }
}

Deno.test("ours: Sample JSONL loads with subsets and buckets; gold answers score 1", async () => {
  const path = FIX("ours.jsonl");
  const items = await loadAll("ours", { path });
  assertEquals(items.length, 9);
  assertStableIds(items, await loadAll("ours", { path }));
  assertEquals(items[0].id, "ours/ours-fixture-1");
  assertEquals(new Set(items.map((x) => x.subset)).size, 9);
  assertEquals(items.map((x) => x.lengthBucket), [
    "8k",
    "8k",
    "16k",
    "16k",
    "32k",
    "32k",
    "8k",
    "8k",
    "16k",
  ]);
  const b = bench("ours");
  for (const it of items) {
    const gold = goldResponse(it);
    const plain = b.score(it, gold);
    // ROUGE-L (summary) carries the rouge package's 1e-8 epsilon, hence the tolerance.
    assertAlmostEquals(plain.score, 1, 1e-6, `${it.id}: ${JSON.stringify(plain.details)}`);
    const thinking = b.score(it, `<think>let me look</think>${gold}`);
    if (thinking.details?.verifier === "summary") {
      // Faithful quirk (recipe §7.1.6): the summary reward reads the whole response, thinking too.
      assert(thinking.score > 0.5 && thinking.score < 1, String(thinking.score));
    } else {
      assertEquals(thinking.score, 1, `${it.id} (thinking): ${JSON.stringify(thinking.details)}`);
    }
    assertEquals(b.score(it, "<think>a</think><think>b</think>" + gold).score, 0, "format gate");
  }
  assertEquals(b.score(items[0], "the lantern of halvard").score, 0); // EM is case-sensitive
  assertEquals(b.score(items[1], "The correct answer is (A)").score, 0);
});

Deno.test("loaders: a missing data path says which flag to pass", async () => {
  for (
    const name of [
      "docmath",
      "longbench-v2",
      "frames",
      "mrcr",
      "corpusqa",
      "longbench-v1-qa",
      "longmemeval",
      "ours",
    ]
  ) {
    let msg = "";
    try {
      await loadAll(name);
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(msg.includes(`--data-${bench(name).dataFlag}`), `${name}: ${msg}`);
  }
  assertThrows(() => {
    throw new Error("sanity");
  });
});
