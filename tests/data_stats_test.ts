/** Dataset diagnostics and the gold self-check over all 9 tasks. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { importAll } from "../data/importer.ts";
import { goldCheck, goldResponse, statsJson, statsMarkdown } from "../data/stats.ts";
import type { Sample } from "../tasks/generators/types.ts";

const FIX = new URL("./fixtures/data/", import.meta.url).pathname;

/** The hand-made GoLongRL-format fixture (all 9 tasks) with our provenance fields added. */
async function dataset(): Promise<Sample[]> {
  const samples = (await importAll(`${FIX}golongrl_sample.jsonl`)).slice(0, 10);
  return samples.map((s, i) => ({
    ...s,
    extra_info: {
      ...s.extra_info,
      length_bucket: i % 2 ? "32k" : "16k",
      tokens: 1000 * (i + 1),
      source_docs: [{ id: `d${i}`, title: "t", kind: i < 5 ? "book" : "paper" }],
      ...(i < 4
        ? { difficulty: { pass_rate: 0.5, band: i % 2 ? "hard" : "medium", k: 8, policy: "p" } }
        : {}),
    },
  }));
}

Deno.test("every gold answer of the 9-task fixture scores the verifier's maximum", async () => {
  const samples = await dataset();
  const verifiers = samples.map((s) => {
    const g = goldResponse(s);
    assert(!("error" in g));
    return g.verifier;
  });
  assertEquals(verifiers, [
    "em",
    "selection",
    "f1",
    "math",
    "table_iou",
    "subem",
    "ndcg",
    "pairwise",
    "summary",
    "summary",
  ]);
  for (const s of samples) {
    const c = goldCheck(s);
    assert(c.pass, `${s.id}: ${c.reason}`);
  }
});

Deno.test("the gold self-check flags unlearnable samples", async () => {
  const [em, , f1, , , , , pw] = await dataset();
  const bad: Sample[] = [
    {
      ...pw,
      id: "pairwise-one-gold",
      reward_model: {
        style: "rule",
        ground_truth: { ...pw.reward_model.ground_truth, doc_ids: ["only"] },
      },
    },
    {
      ...f1,
      id: "newline-in-id",
      reward_model: {
        style: "rule",
        ground_truth: { ...f1.reward_model.ground_truth, doc_ids: ["a\nb"] },
      },
    },
    {
      ...f1,
      id: "empty-gold",
      reward_model: {
        style: "rule",
        ground_truth: { ...f1.reward_model.ground_truth, doc_ids: [] },
      },
    },
    { ...f1, id: "unknown-subtask", extra_info: { ...f1.extra_info, reward_mode: "T99 Nothing" } },
    { ...em, id: "no-verifier", data_source: "mystery" },
  ];
  const st = statsJson(bad);
  assertEquals([st.gold.pass, st.gold.fail], [0, 5]);
  const failing = Object.fromEntries(st.gold.failing.map((f) => [f.id, f]));
  assert(failing["pairwise-one-gold"].reason.includes("< 1"));
  assert(failing["empty-gold"].reason.includes("< 1"));
  // The gold "a\nb" normalizes to "a b" but the answer lines are "a" and "b".
  assert(failing["newline-in-id"].reason.includes("< 1"));
  assertMatch(failing["unknown-subtask"].reason, /Unknown sub_task/);
  assertMatch(failing["no-verifier"].reason, /not implemented/);
  assertEquals(failing["no-verifier"].verifier, "none");
  assertEquals(st.verifiers, { f1: 2, none: 2, pairwise: 1 });
});

Deno.test("statsJson counts tasks, buckets, answer lengths, tokens and bands", async () => {
  const samples = await dataset();
  const st = statsJson(samples);
  assertEquals(st.total, 10);
  assertEquals(st.tasks, [
    "precise_retrieval",
    "comprehension",
    "exhaustive_retrieval",
    "numerical_reasoning",
    "structured_extraction",
    "structured_matching",
    "graded_ranking",
    "sequence_ordering",
    "summarization",
  ]);
  assertEquals(st.byTask.summarization, 2);
  assertEquals(st.counts.summarization, { "16k": { paper: 1 }, "32k": { paper: 1 } });
  assertEquals(st.counts.precise_retrieval, { "16k": { book: 1 } });
  assertEquals(st.answerChars.precise_retrieval, { "9-32": 1 }); // "Mara Venn"
  assertEquals(st.answerChars.comprehension, { "1-8": 1 });
  assertEquals(st.answerItems.graded_ranking, { "3-5": 1 });
  assertEquals(st.answerItems.exhaustive_retrieval, { "2": 1 });
  assertEquals(st.answerItems.precise_retrieval, undefined);
  assertEquals(st.tokens.overall, {
    n: 10,
    min: 1000,
    p50: 6000,
    p90: 9000,
    max: 10000,
    mean: 5500,
  });
  assertEquals(st.tokens.byTask.summarization, {
    n: 2,
    min: 9000,
    p50: 10000,
    p90: 10000,
    max: 10000,
    mean: 9500,
  });
  assertEquals(st.difficulty, {
    precise_retrieval: { medium: 1 },
    comprehension: { hard: 1 },
    exhaustive_retrieval: { medium: 1 },
    numerical_reasoning: { hard: 1 },
  });
  assertEquals(st.gold, {
    checked: 10,
    pass: 10,
    fail: 0,
    byTask: Object.fromEntries(st.tasks.map((t) => [t, { pass: st.byTask[t], fail: 0 }])),
    failing: [],
  });
  assertEquals(st.abilityMismatch.count, 0);
  // Deterministic: same input, same JSON.
  assertEquals(JSON.stringify(statsJson(samples)), JSON.stringify(st));
});

Deno.test("unknown abilities and ability/verifier mismatches are reported", async () => {
  const all = await importAll(`${FIX}golongrl_sample.jsonl`);
  const mixed = [...all, { ...all[0], id: "mislabelled", ability: "summarization" as const }];
  const st = statsJson(mixed);
  assertEquals(st.unknownAbilities, { long_dialogue_qa: 1 });
  assertEquals(st.abilityMismatch, { count: 2, examples: ["10", "mislabelled"] });
  assertEquals(st.tokens.overall, null);
  assertEquals(st.tokens.missing, 12);
  const md = statsMarkdown(st);
  assertMatch(md, /abilities outside the 9 task types: long_dialogue_qa \(1\)/);
  assertMatch(md, /2 samples whose ability is not their verifier's task/);
});

Deno.test("statsMarkdown renders the tables and failing ids", async () => {
  const samples = await dataset();
  const broken = {
    ...samples[1],
    id: "bad-choice",
    reward_model: {
      style: "rule" as const,
      ground_truth: { doc_ids: [], golden_label: "E", summary: "" },
    },
  };
  const md = statsMarkdown(statsJson([...samples, broken]));
  assertMatch(md, /\| task \| length bucket \| source kind \| samples \|/);
  assertMatch(md, /\| summarization \| 16k \| paper \| 1 \|/);
  assertMatch(md, /### Gold answer length \(characters\)/);
  assertMatch(md, /\| all \| 11 \| 1000 \| 5000 \| 9000 \| 10000 \| 5181\.8 \|/);
  assertMatch(md, /### Difficulty bands/);
  assertMatch(md, /10\/11 pass, 1 fail\./);
  assertMatch(md, /\| bad-choice \| comprehension \| selection \| 0 \|/);
});
