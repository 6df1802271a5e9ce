/** 13-gram decontamination against benchmark questions. */
import { assert, assertEquals } from "./assert.ts";
import {
  buildBenchmarkIndex,
  decontaminate,
  decontamTokens,
  isContaminated,
} from "../data/decontam.ts";
import type { Sample } from "../tasks/generators/types.ts";

const QA = "/work/shared/qa";
const REAL = [`${QA}/longbench_v2_format_examples.jsonl`, `${QA}/nq_open_oracle_dev200.jsonl`];
const haveReal = REAL.every((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

function sample(id: string, question: string): Sample {
  return {
    id,
    data_source: "EM",
    ability: "precise_retrieval",
    prompt: [{ role: "user", content: question }],
    reward_model: { style: "rule", ground_truth: { doc_ids: [], golden_label: "x", summary: "" } },
    extra_info: { reward_mode: "EM", question, index: id, generator: "t", source_docs: [] },
  };
}

Deno.test("tokens ignore case, punctuation and spacing; CJK characters are tokens", () => {
  assertEquals(decontamTokens("Who  got the FIRST Nobel-Prize?"), [
    "who",
    "got",
    "the",
    "first",
    "nobel",
    "prize",
  ]);
  assertEquals(decontamTokens("灯塔abc，1871年"), ["灯", "塔", "abc", "1871", "年"]);
  assertEquals(decontamTokens("Ｆｕｌｌ width"), ["full", "width"]);
});

Deno.test({
  name: "planted LongBench v2 and NQ-Open questions are removed; near misses are kept",
  ignore: !haveReal,
  fn: async () => {
    const index = await buildBenchmarkIndex(REAL);
    assertEquals(index.records, 203);
    const nq = "who got the first nobel prize in physics"; // 8 tokens: exact / contains rules
    const lb2q = "According to the report, how to promote the construction of smart courts?"; // 12
    const choiceB =
      "Establish new types of courts, such as intellectual property courts, financial courts, and Internet courts, and accelerate the construction of intelligent courts.";
    const millerTail =
      "an active responsible response that renders justice to a book by generating more language in its turn";
    const w = choiceB.split(" ");
    const planted: [string, string][] = [
      ["nq-verbatim", nq],
      ["nq-reformatted", "  Who got the FIRST Nobel prize, in physics??"],
      [
        "nq-embedded",
        `Using the passages, answer: who got the first Nobel Prize in physics? Be brief.`,
      ],
      ["lb2-verbatim", lb2q],
      [
        "lb2-reformatted",
        "according to the REPORT how to promote the construction of smart-courts",
      ],
      ["lb2-embedded", `Read the white paper. ${lb2q} Explain in two sentences.`],
      ["lb2-choice-13", `Which reform says to ${w.slice(0, 13).join(" ").toUpperCase()} quickly?`],
      ["lb2-multiline", `Explain: "${millerTail.replace(/ /g, "\n  ")}".`],
    ];
    const clean: [string, string][] = [
      ["unrelated", "In which year did the lighthouse keeper first light the lamp at dusk?"],
      ["nq-partial", "who got the first nobel prize in chemistry"],
      // 12 consecutive words of a long choice, then different words: no 13-gram overlap.
      ["lb2-choice-12", `Did they ${w.slice(0, 12).join(" ")} without any delay?`],
      ["short", "Who wrote it?"],
      ["empty", ""],
    ];
    for (const [id, q] of planted) {
      const h = isContaminated(q, index);
      assert(h.hit, `${id} should be contaminated`);
      assert(h.source !== undefined && /\.jsonl:\d+ /.test(h.source), `${id}: ${h.source}`);
    }
    assertEquals(isContaminated(nq, index).rule, "exact");
    assertEquals(isContaminated(planted[2][1], index).rule, "contains");
    assertEquals(isContaminated(planted[6][1], index).rule, "ngram");
    assertEquals(
      isContaminated(planted[6][1], index).source,
      "longbench_v2_format_examples.jsonl:1 choice_B",
    );
    for (const [id, q] of clean) assert(!isContaminated(q, index).hit, `${id} should be kept`);

    const samples = [...planted, ...clean].map(([id, q]) => sample(id, q));
    const r = decontaminate(samples, index);
    assertEquals(r.removed.map((x) => x.sample.id), planted.map(([id]) => id));
    assertEquals(r.kept.map((s) => s.id), clean.map(([id]) => id));
    assertEquals(r.report.checked, planted.length + clean.length - 1);
    assertEquals(r.report.noQuestion, 1);
    assertEquals(r.report.benchmarkRecordsHit, 3);
    assert(r.removed[0].reason.includes("nq_open_oracle_dev200.jsonl:1 question"));
  },
});

Deno.test("benchmark fields: LongBench v1 input, query, choices lists, text fallback, JSON arrays", async () => {
  const dir = await Deno.makeTempDir();
  const long1 =
    "What did the committee decide about the river crossing after the flood of the previous spring season";
  const long2 =
    "Summarize the argument the author makes about memory and forgetting in the final chapter of the novel";
  const long3 =
    "Which of the following statements about the migration of arctic terns across the southern ocean is correct";
  const long4 =
    "the keeper wrote that the fog horn failed twice during the storm and the ships waited outside";
  await Deno.writeTextFile(
    `${dir}/lb1.jsonl`,
    JSON.stringify({ input: long1, context: "a very long context ".repeat(500), answers: ["x"] }) +
      "\n" + JSON.stringify({ query: long2 }) + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/mc.json`,
    JSON.stringify([{ question: "Pick one.", choices: [long3, "no"] }, { text: long4 }]),
  );
  const index = await buildBenchmarkIndex([`${dir}/lb1.jsonl`, `${dir}/mc.json`]);
  assertEquals(index.records, 4);
  assertEquals(isContaminated(`Q: ${long1.toUpperCase()}?`, index).source, "lb1.jsonl:1 input");
  assertEquals(isContaminated(long2 + "!", index).source, "lb1.jsonl:2 query");
  assertEquals(isContaminated(long3, index).source, "mc.json:1 choices[0]");
  assertEquals(isContaminated(`Note: ${long4}.`, index).source, "mc.json:2 text");
  // The context is never indexed.
  assert(!isContaminated("a very long context ".repeat(5), index).hit);
  assert(isContaminated("pick one", index).hit);
});

Deno.test("ignore patterns and minContained switch rules off", async () => {
  const dir = await Deno.makeTempDir();
  const boiler =
    "Please read the following text carefully and answer the question based on the given passage";
  await Deno.writeTextFile(
    `${dir}/b.jsonl`,
    JSON.stringify({ question: boiler }) + "\n" +
      JSON.stringify({ question: "what is the boiling point of water at sea level" }) + "\n",
  );
  const plain = await buildBenchmarkIndex([`${dir}/b.jsonl`]);
  const q = `${boiler}. Who lit the lamp? And what is the boiling point of water at sea level?`;
  assert(isContaminated(boiler, plain).hit);
  const relaxed = await buildBenchmarkIndex([`${dir}/b.jsonl`], {
    ignore: ["Answer the question"],
    minContained: 0,
  });
  assert(!isContaminated(boiler + " now", relaxed).hit);
  assert(isContaminated(q, plain).hit);
  assert(!isContaminated(q, relaxed).hit);
  // Exact match of a short question still applies with minContained 0.
  assert(isContaminated("What is the boiling point of water at sea level?", relaxed).hit);
});

Deno.test("Chinese benchmark questions are caught through character n-grams", async () => {
  const dir = await Deno.makeTempDir();
  const zh = "根据报告，如何推进智慧法院建设并提高审判效率？";
  await Deno.writeTextFile(`${dir}/zh.jsonl`, JSON.stringify({ question: zh }) + "\n");
  const index = await buildBenchmarkIndex([`${dir}/zh.jsonl`]);
  assert(isContaminated(`请阅读材料。根据报告 如何推进智慧法院建设并提高审判效率`, index).hit);
  assert(!isContaminated("根据报告，如何评价灯塔的历史意义和影响？", index).hit);
});
