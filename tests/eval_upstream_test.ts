/**
 * Loaders on the files users download, scored as the official code scores them (hand-computed
 * expectations): MRCR as an HF parquet shard, DocMath's HF parquet layout, CorpusQA list and
 * float answers as Python prints them for the judge, FRAMES' test.tsv refused with what to use,
 * GoLongRL's LBV1-QA files (their ids kept) averaged per subset with a judge.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { cli } from "./helpers.ts";
import { getBenchmark } from "../eval/benchmarks/mod.ts";
import type { EvalItem, LoadOptions } from "../eval/benchmarks/types.ts";
import { judgeMessages } from "../eval/benchmarks/judge.ts";
import { pyFloatRepr, pyStr, readRecords } from "../eval/benchmarks/common.ts";
import { writeRecordsParquet } from "../core/parquet.ts";
import { MockOpenAI } from "../eval/backends/mock_openai.ts";

async function loadAll(name: string, opts: Partial<LoadOptions>): Promise<EvalItem[]> {
  const out: EvalItem[] = [];
  for await (const it of getBenchmark(name)!.load({ seed: 0, ...opts })) out.push(it);
  return out;
}

const MRCR_COLUMNS = [
  { name: "prompt", type: "string" as const },
  { name: "answer", type: "string" as const },
  { name: "random_string_to_prepend", type: "string" as const },
  { name: "n_needles", type: "int64" as const },
  { name: "desired_msg_index", type: "int64" as const },
  { name: "total_messages", type: "int64" as const },
  { name: "n_chars", type: "int64" as const },
  { name: "date_added", type: "string" as const },
];

Deno.test("mrcr: an openai/mrcr parquet shard folder loads and scores with the official grade", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/2needle`);
  await Deno.mkdir(`${dir}/4needle`);
  const prompt = (topic: string) =>
    JSON.stringify([
      { role: "user", content: `write a poem about ${topic}` },
      { role: "assistant", content: "tapirs sing" },
      { role: "user", content: `write a poem about ${topic}` },
      { role: "assistant", content: "tapirs hum" },
      { role: "user", content: `Prepend Qx7 to the 1st (1 indexed) poem about ${topic}.` },
    ]);
  const row = (topic: string, needles: bigint) => ({
    prompt: prompt(topic),
    answer: "Qx7tapirs sing",
    random_string_to_prepend: "Qx7",
    n_needles: needles,
    desired_msg_index: 1n,
    total_messages: 5n,
    n_chars: 200n,
    date_added: "04-12-2025",
  });
  await writeRecordsParquet(`${dir}/2needle/2needle_0.parquet`, MRCR_COLUMNS, [
    row("tapirs", 2n),
    row("llamas", 2n),
  ]);
  await writeRecordsParquet(`${dir}/4needle/4needle_0.parquet`, MRCR_COLUMNS, [row("emus", 4n)]);
  const items = await loadAll("mrcr", { path: dir });
  assertEquals(items.map((x) => x.subset), ["2needle", "2needle", "4needle"]);
  assertEquals(items[0].messages.length, 5);
  assertEquals(items[0].messages[3], { role: "assistant", content: "tapirs hum" });
  // An HF hub snapshot: the shards are symlinks into the blob store.
  const snap = await Deno.makeTempDir();
  await Deno.mkdir(`${snap}/blobs`);
  await Deno.mkdir(`${snap}/snapshot/2needle`, { recursive: true });
  await Deno.copyFile(`${dir}/2needle/2needle_0.parquet`, `${snap}/blobs/0a1b2c`);
  await Deno.symlink(`${snap}/blobs/0a1b2c`, `${snap}/snapshot/2needle/2needle_0.parquet`);
  await Deno.symlink(`${dir}/4needle`, `${snap}/snapshot/4needle`);
  assertEquals(
    (await loadAll("mrcr", { path: `${snap}/snapshot` })).map((x) => x.subset),
    ["2needle", "2needle", "4needle"],
  );
  // A single shard file loads too.
  assertEquals((await loadAll("mrcr", { path: `${dir}/4needle/4needle_0.parquet` })).length, 1);
  const b = getBenchmark("mrcr")!;
  // Official grade: prefix required; then SequenceMatcher("tapir sings", "tapirs sing").ratio():
  // matching blocks "tapir" (5) and " sing" (5) → 2·10 / (11 + 11) = 10/11.
  assertEquals(b.score(items[0], "Qx7tapir sings").score, 10 / 11);
  assertEquals(b.score(items[0], "<think>the first</think>Qx7tapirs sing").score, 1);
  assertEquals(b.score(items[0], "tapirs sing").score, 0);
});

Deno.test("docmath: HF parquet layout (<config>/<split>-00000-of-00001.parquet); a float ground truth prints as Python's", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/complong`);
  await writeRecordsParquet(
    `${dir}/complong/testmini-00000-of-00001.parquet`,
    [
      { name: "question_id", type: "string" },
      { name: "question", type: "string" },
      { name: "paragraphs", type: { list: "string" } },
      { name: "ground_truth", type: "double" },
    ],
    [
      {
        question_id: "complong-testmini-0",
        question: "What is the revenue?",
        paragraphs: ["Revenue was 7,700 dollars.", "Costs were 100."],
        ground_truth: 7700,
      },
    ],
  );
  const [it] = await loadAll("docmath", { path: dir });
  assertEquals(it.id, "docmath/complong_testmini/complong-testmini-0");
  assertEquals(it.subset, "complong_testmini");
  assertEquals(it.lengthBucket, "long");
  assertEquals(it.reference, {
    groundTruth: "7700.0",
    answerType: "float",
    question: "What is the revenue?",
  });
  const r = getBenchmark("docmath")!.score(it, "Therefore, the answer is 7700.");
  assertEquals(r.score, 1);
  assertEquals(r.needsJudge!.reference, "7700.0");
});

Deno.test("corpusqa: list and float answers reach the judge as Python's str()", async () => {
  const dir = await Deno.makeTempDir();
  const rec = (id: string, answer: string) =>
    `{"id": "${id}", "prompt": [{"role": "user", "content": "Docs... Question: Q?"}], ` +
    `"question": "Q?", "answer": ${answer}}`;
  await Deno.writeTextFile(
    `${dir}/128k_4domains.jsonl`,
    [
      rec("financial_en_0001", `["Globex", 7700.0, 12, true, null, "it's"]`),
      rec("financial_en_0002", "7700.0"),
      rec("financial_en_0003", "1e-05"),
      rec("financial_en_0004", "12345678901234567890"),
    ].join("\n") + "\n",
  );
  const items = await loadAll("corpusqa", { path: dir });
  const refs = items.map((x) => (x.reference as { answer: string }).answer);
  assertEquals(refs, [
    `['Globex', 7700.0, 12, True, None, "it's"]`,
    "7700.0",
    "1e-05",
    "12345678901234567890",
  ]);
  const b = getBenchmark("corpusqa")!;
  const r = b.score(items[1], "The answer is: 7700");
  const msgs = judgeMessages("corpusqa", r.needsJudge!);
  assert(msgs[1].content.includes("Answer 1: 7700\nAnswer 2: 7700.0"), msgs[1].content);
});

Deno.test("python number and string printing matches CPython", () => {
  // Values checked against CPython 3: repr(float(x)).
  const cases: [number, string][] = [
    [7700, "7700.0"],
    [0.1, "0.1"],
    [1e16, "1e+16"],
    [1234567890123456.7, "1234567890123456.8"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [-2.5e-7, "-2.5e-07"],
    [1.5e300, "1.5e+300"],
    [-0, "-0.0"],
    [123.456, "123.456"],
  ];
  for (const [x, want] of cases) assertEquals(pyFloatRepr(x), want, String(x));
  assertEquals(
    pyStr({ a: ["x\ny", 'say "hi"', "a'b\"c"] }, "a"),
    `['x\\ny', 'say "hi"', 'a\\'b"c']`,
  );
});

Deno.test("frames: google/frames-benchmark test.tsv is refused with what to use instead", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/test.tsv`,
    "\tPrompt\tAnswer\twikipedia_link_1\treasoning_types\n0\tWho?\tX\thttps://en.wikipedia.org/wiki/X\tNumerical reasoning\n",
  );
  const e = await assertRejects(() => loadAll("frames", { path: `${dir}/test.tsv` }));
  assertMatch(
    (e as Error).message,
    /expected a \.jsonl, \.json or \.parquet file or a folder of them, got a \.tsv file \(FRAMES needs the Wikipedia text: use evalscope's iic\/frames test\.jsonl with wiki_items/,
  );
  assertMatch((e as Error).message, /test\.tsv/);
  // A parquet file under a .json name is read as parquet (by its magic bytes), not "invalid JSON".
  await writeRecordsParquet(`${dir}/x.json`, [{ name: "a", type: "string" }], [{ a: "v" }]);
  const rows = [];
  for await (const r of readRecords(`${dir}/x.json`)) rows.push(r.record);
  assertEquals(rows, [{ a: "v" }]);
});

Deno.test("longbench-v1-qa: GoLongRL's data files keep their ids; the score is the mean of subset means, as lbv1qa_eval.py", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/data`);
  const rec = (dataset: string, i: number, input: string) =>
    JSON.stringify({
      id: `${dataset}_${i}`,
      dataset,
      input,
      context: `Passage ${i} about ${dataset}. Netherfield Park is rented by Mr. Bingley.`,
      answers: ["Netherfield Park"],
      length: 20,
    });
  await Deno.writeTextFile(
    `${dir}/data/hotpotqa.jsonl`,
    [rec("hotpotqa", 0, "Which estate? (h0)"), rec("hotpotqa", 1, "Which estate? (h1)")].join(
      "\n",
    ) + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/data/qasper.jsonl`,
    rec("qasper", 0, "Which estate? (q0)") + "\n",
  );
  const model = await MockOpenAI.start({
    script: (r) => ({
      kind: "answer",
      text: r.prompt.includes("(h1)")
        ? "<think>...</think>Therefore, the answer is Longbourn."
        : "<think>...</think>Therefore, the answer is Netherfield Park.",
    }),
  });
  const judge = await MockOpenAI.start({
    script: (r) => {
      const m = /Answer 1: (.*)\nAnswer 2: (.*)/.exec(r.prompt);
      return { kind: "answer", text: m && m[1] === m[2] ? "Same. [[yes]]" : "Differ. [[no]]" };
    },
  });
  let res;
  try {
    const r = await cli(
      "eval",
      "-q",
      "--bench",
      "longbench-v1-qa",
      "--data-longbench-v1",
      `${dir}/data`,
      "--endpoint",
      model.baseUrl,
      "--model-name",
      "m",
      "--judge-endpoint",
      judge.baseUrl,
      "--judge-model",
      "j",
      "--out",
      `${dir}/out`,
    );
    assertEquals(r.code, 0, r.err);
    res = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  } finally {
    await model.close();
    await judge.close();
  }
  assertEquals(judge.log.length, 3);
  const b = res.benchmarks["longbench-v1-qa"];
  // hotpotqa: [1, 0] → 50; qasper: [1] → 100; lbv1qa_eval.py overall = (50 + 100) / 2 = 75
  // (the item mean would be 66.7).
  assertEquals(b.subsets.hotpotqa.mean, 0.5);
  assertEquals(b.subsets.qasper.mean, 1);
  assertEquals(b.mean, 0.75);
  assertEquals(b.n, 3);
  assertEquals(b.generation.average, "subsets");
  // The ids are GoLongRL's own.
  const cache = (await Deno.readTextFile(`${dir}/out/cache.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l).item
  ).sort();
  assertEquals(cache, [
    "longbench-v1-qa/hotpotqa/hotpotqa_0",
    "longbench-v1-qa/hotpotqa/hotpotqa_1",
    "longbench-v1-qa/qasper/qasper_0",
  ]);
});
