/** Sample validation (ours and the GoLongRL/verl layout) and canonical JSONL I/O. */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./assert.ts";
import {
  canonicalSample,
  normalizeAbility,
  readSamples,
  validateSample,
  writeSamplesJsonl,
} from "../data/schema.ts";
import type { Sample } from "../tasks/generators/types.ts";
import { InputError } from "../core/errors.ts";

const W = { file: "x.jsonl", line: 7 };

/** A full sample in our format. */
function ourSample(i = 0): Sample {
  return {
    id: `s${i}`,
    data_source: "EM",
    ability: "precise_retrieval",
    prompt: [{ role: "system", content: "Be brief." }, { role: "user", content: `Q${i}?` }],
    reward_model: { style: "rule", ground_truth: { doc_ids: [], golden_label: "A", summary: "" } },
    extra_info: {
      reward_mode: "EM",
      question: `Q${i}?`,
      index: String(i),
      generator: "books/quote_retrieval",
      source_docs: [{ id: "pg11", title: "Alice", kind: "book", licence: "PD" }],
      length_bucket: "16k",
      tokens: 16000 + i,
      needle_depth: 0.25,
      difficulty: { pass_rate: 0.5, band: "medium", k: 8, policy: "qwen3-4b" },
      custom: { z: 1, a: [1, null, "x"] },
    },
  };
}

Deno.test("validateSample keeps our samples unchanged", () => {
  const s = ourSample(3);
  assertEquals(validateSample(structuredClone(s), W), s);
});

Deno.test("canonical key order does not depend on insertion order", () => {
  const s = ourSample(1);
  const shuffled = {
    extra_info: Object.fromEntries(Object.entries(s.extra_info).reverse()),
    reward_model: {
      ground_truth: { summary: "", golden_label: "A", doc_ids: [] },
      style: "rule",
    },
    prompt: s.prompt.map((m) => ({ content: m.content, role: m.role })),
    ability: s.ability,
    data_source: s.data_source,
    id: s.id,
  };
  const a = JSON.stringify(validateSample(shuffled, W));
  const b = JSON.stringify(canonicalSample(s));
  assertEquals(a, b);
  assertMatch(a, /^\{"id":"s1","data_source":"EM","ability":"precise_retrieval","prompt"/);
  assertMatch(a, /"custom":\{"a":\[1,null,"x"\],"z":1\}/);
});

Deno.test("validateSample accepts the GoLongRL/verl layout", () => {
  const row = {
    data_source: "longbench_pro",
    prompt: JSON.stringify([{ content: "doc…", role: "user" }]),
    ability: "NDCG",
    reward_model: JSON.stringify({
      ground_truth: JSON.stringify({ doc_ids: ["b", 3], golden_label: null, summary: "English" }),
      style: "rule",
    }),
    extra_info: JSON.stringify({
      index: 12,
      question: "rank",
      reward_mode: "T1.1 Global Cohesive Retrieval",
    }),
    reward_mode: "NDCG",
  };
  const s = validateSample(row, W);
  assertEquals(s.id, "12");
  assertEquals(s.ability, "graded_ranking");
  assertEquals(s.prompt, [{ role: "user", content: "doc…" }]);
  assertEquals(s.reward_model.ground_truth, {
    doc_ids: ["b", "3"],
    golden_label: "",
    summary: "English",
  });
  assertEquals(s.extra_info.index, "12");
  assertEquals(s.extra_info.ability_raw, "NDCG");
  assertEquals(s.extra_info.generator, "import:longbench_pro");
  assertEquals(s.extra_info.source_docs, []);
  assertEquals(s.extra_info.top_level, { reward_mode: "NDCG" });
});

Deno.test("ground_truth as a list uses its last element; a plain string is the golden_label", () => {
  const base = { data_source: "math_longcot_math_verify", prompt: "p", ability: "math" };
  const a = validateSample({
    ...base,
    reward_model: { ground_truth: [{ golden_label: "1" }, { golden_label: "42" }] },
    extra_info: { index: 0 },
  }, W);
  assertEquals(a.reward_model.ground_truth.golden_label, "42");
  assertEquals(a.extra_info.reward_mode, "math_longcot_math_verify");
  const b = validateSample({ ...base, reward_model: { ground_truth: "\\frac{1}{2}" } }, W, {
    defaultIndex: 5,
    idPrefix: "g-",
  });
  assertEquals(b.reward_model.ground_truth, {
    doc_ids: [],
    golden_label: "\\frac{1}{2}",
    summary: "",
  });
  assertEquals(b.id, "g-5");
  assertEquals(b.prompt, [{ role: "user", content: "p" }]);
  // A table gold given as a dict becomes its JSON text.
  const c = validateSample({
    data_source: "multitableqa_pretraining",
    prompt: [],
    ability: "IoU",
    reward_model: { ground_truth: { golden_label: { data: [[1]] } } },
    extra_info: { index: "t" },
  }, W);
  assertEquals(c.reward_model.ground_truth.golden_label, '{"data":[[1]]}');
  assertEquals(c.ability, "structured_extraction");
});

Deno.test("ability aliases map to the 9 task types; unknown names stay verbatim", () => {
  assertEquals(normalizeAbility("Precise Retrieval"), "precise_retrieval");
  assertEquals(normalizeAbility("ROUGE-L"), "summarization");
  assertEquals(normalizeAbility("Pairwise_Accuracy"), "sequence_ordering");
  assertEquals(normalizeAbility("math_verify"), "numerical_reasoning");
  assertEquals(normalizeAbility("sequence_ordering"), "sequence_ordering");
  assertEquals(normalizeAbility("chit-chat"), undefined);
  const s = validateSample({
    data_source: "EM",
    prompt: [],
    ability: "chit-chat",
    reward_model: { ground_truth: { golden_label: "x" } },
    extra_info: { index: 1 },
  }, W);
  assertEquals(s.ability as string, "chit-chat");
  assertEquals(s.extra_info.ability_raw, undefined);
});

Deno.test("errors name the file, the line and the field", () => {
  const bad = (patch: Record<string, unknown>) => ({ ...ourSample(0), ...patch });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ data_source: 3 }, /x\.jsonl, line 7, field "data_source"/],
    [{ prompt: [{ role: "robot", content: "" }] }, /field "prompt\[0\]\.role"/],
    [{ prompt: [{ role: "user", content: 5 }] }, /field "prompt\[0\]\.content"/],
    [{ reward_model: { style: "model", ground_truth: {} } }, /field "reward_model\.style"/],
    [
      { reward_model: { ground_truth: { doc_ids: [{}] } } },
      /field "reward_model\.ground_truth\.doc_ids\[0\]"/,
    ],
    [{ reward_model: { ground_truth: [] } }, /field "reward_model\.ground_truth"/],
    [{ ability: "" }, /field "ability"/],
    [{ extra_info: { ...ourSample(0).extra_info, tokens: "many" } }, /field "extra_info\.tokens"/],
    [{ extra_info: { question: "q" } }, /field "extra_info\.index": missing/],
    [
      { data_source: "longbench_pro", extra_info: { index: "1" } },
      /field "extra_info\.reward_mode"/,
    ],
  ];
  for (const [v, re] of cases) {
    const e = assertThrows(() => validateSample(bad(v), W), re);
    assert(e instanceof InputError);
  }
  assertThrows(() => validateSample([1], W), /expected a JSON object/);
});

Deno.test("JSONL write is atomic and canonical; read → write gives the same bytes", async () => {
  const dir = await Deno.makeTempDir();
  const samples = Array.from({ length: 30 }, (_, i) => ourSample(i));
  samples[4].prompt[1].content = 'naïve 中文 🙂\n"quoted"';
  const n = await writeSamplesJsonl(`${dir}/a.jsonl`, samples);
  assertEquals(n, 30);
  const back: Sample[] = [];
  for await (const s of readSamples(`${dir}/a.jsonl`)) back.push(s);
  assertEquals(back, samples);
  async function* gen() {
    yield* back;
  }
  await writeSamplesJsonl(`${dir}/b.jsonl`, gen());
  assertEquals(await Deno.readFile(`${dir}/b.jsonl`), await Deno.readFile(`${dir}/a.jsonl`));
  const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(left, ["a.jsonl", "b.jsonl"]);
});

Deno.test("readSamples names the line of a bad record and assigns missing indices", async () => {
  const dir = await Deno.makeTempDir();
  const ok = { data_source: "EM", prompt: "q", ability: "EM", reward_model: { ground_truth: "a" } };
  await Deno.writeTextFile(
    `${dir}/s.jsonl`,
    [JSON.stringify(ok), "", JSON.stringify(ok), JSON.stringify({ ...ok, prompt: 5 })].join("\n"),
  );
  const got: Sample[] = [];
  await assertRejects(async () => {
    for await (const s of readSamples(`${dir}/s.jsonl`)) got.push(s);
  }, /s\.jsonl, line 4, field "prompt"/);
  assertEquals(got.map((s) => s.extra_info.index), ["0", "1"]);
  assertEquals(got.map((s) => s.id), ["0", "1"]);
});
