/** `golongrl data build` end to end on the real corpora, and the phases' contracts. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";
import { computeReward } from "../tasks/registry.ts";
import { TASK_TYPES } from "../tasks/types.ts";
import type { Sample } from "../tasks/generators/types.ts";
import { DEFAULT_DIFFICULTY, filterByDifficulty, type Policy } from "../data/difficulty.ts";
import { goldResponse as goldOf } from "../data/stats.ts";

/** The ideal response for a sample, and the reward options it is scored with. */
function gold(s: Sample): { response: string; opts: Record<string, unknown> } {
  const g = goldOf(s);
  if ("error" in g) throw new Error(`${s.id}: ${g.error}`);
  return { response: g.response, opts: g.opts as Record<string, unknown> };
}
const goldResponse = (s: Sample) => gold(s).response;
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";

const SHARED = `${ROOT}/../shared`;
const read = async (p: string) =>
  (await Deno.readTextFile(p)).trim().split("\n").map((l) => JSON.parse(l) as Sample);

let built: Promise<string> | undefined;
/** One build shared by the tests: all corpora, the Qwen3 tokenizer, 4K/16K/32K, 1 per task. */
function buildOnce(): Promise<string> {
  return built ??= (async () => {
    const out = await Deno.makeTempDir();
    const r = await cli(
      "data",
      "build",
      "-q",
      "--sources",
      `${SHARED}/corpora`,
      "--tokenizer",
      `${SHARED}/tokenizers/qwen3`,
      "--lengths",
      "4k,16k,32k",
      "--per-task",
      "1",
      "--seed",
      "7",
      "--parquet",
      "--out",
      `${out}/a`,
    );
    assertEquals(r.code, 0, r.err);
    return `${out}/a`;
  })();
}

Deno.test("all 9 task types at 4K, 16K and 32K Qwen3 tokens, and the gold self-check passes", async () => {
  const dir = await buildOnce();
  const samples = await read(`${dir}/data.jsonl`);
  const tok = await loadTokenizer(`${SHARED}/tokenizers/qwen3`);
  const seen = new Set<string>();
  for (const s of samples) {
    seen.add(`${s.ability}@${s.extra_info.length_bucket}`);
    const L = { "4k": 4096, "16k": 16384, "32k": 32768 }[s.extra_info.length_bucket as "4k"]!;
    // Counted as the model sees the prompt: inside the chat template, generation prompt included.
    const n = Math.max(
      ...[undefined, false].map((enableThinking) =>
        tok.encode(tok.applyChatTemplate(s.prompt, { addGenerationPrompt: true, enableThinking }))
          .length
      ),
    );
    assertEquals(n, s.extra_info.tokens, `${s.id}: recorded token count`);
    assert(n <= L && n >= 0.9 * L, `${s.id}: ${n} tokens for ${L}`);
    // The evidence is in the context, and the gold answer scores the verifier's maximum.
    const g = gold(s);
    const r = computeReward({
      dataSource: s.data_source,
      response: g.response,
      groundTruth: s.reward_model.ground_truth,
      extraInfo: s.extra_info,
    }, g.opts);
    assert(r.reward > 1 - 1e-6, `${s.id}: gold scores ${r.reward} (${r.error ?? ""})`);
    const wrong = computeReward({
      dataSource: s.data_source,
      response: "<think>no idea</think>[Answer]\nnothing",
      groundTruth: s.reward_model.ground_truth,
      extraInfo: s.extra_info,
    });
    assert(wrong.reward < 1, `${s.id}: a wrong answer scores ${wrong.reward}`);
  }
  for (const t of TASK_TYPES) {
    for (const b of ["4k", "16k", "32k"]) assert(seen.has(`${t}@${b}`), `${t}@${b}`);
  }
  const stats = JSON.parse(await Deno.readTextFile(`${dir}/stats.json`));
  // The build's own gold self-check covered every sample and found no failure.
  assertEquals(stats.gold.checked, samples.length);
  assertEquals(stats.gold.pass, samples.length);
  assertEquals(stats.gold.failing, []);
  const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
  assertEquals(report.goldFailures, []);
  assert(report.documents > 500, `${report.documents} documents`);
  assertMatch(await Deno.readTextFile(`${dir}/stats.md`), /gold/i);
});

Deno.test("two builds with the same seed are byte-identical; another seed differs", async () => {
  const dir = await buildOnce();
  const out = await Deno.makeTempDir();
  const args = [
    "data",
    "build",
    "-q",
    "--sources",
    `${SHARED}/corpora`,
    "--tokenizer",
    `${SHARED}/tokenizers/qwen3`,
    "--lengths",
    "4k,16k,32k",
    "--per-task",
    "1",
    "--parquet",
  ];
  assertEquals((await cli(...args, "--seed", "7", "--out", `${out}/b`)).code, 0);
  for (const f of ["data.jsonl", "data.parquet", "stats.json", "report.json"]) {
    const a = await Deno.readFile(`${dir}/${f}`), b = await Deno.readFile(`${out}/b/${f}`);
    assert(
      a.length === b.length && a.every((x, i) => x === b[i]),
      `${f} differs between same-seed builds`,
    );
  }
  assertEquals((await cli(...args, "--seed", "8", "--lengths", "4k", "--out", `${out}/c`)).code, 0);
  const c = await Deno.readTextFile(`${out}/c/data.jsonl`);
  assert(c !== (await Deno.readTextFile(`${dir}/data.jsonl`)));
});

Deno.test("the parquet export round-trips through data import without loss", async () => {
  const dir = await buildOnce();
  const out = await Deno.makeTempDir();
  const r = await cli(
    "data",
    "import",
    "-q",
    "--input",
    `${dir}/data.parquet`,
    "--out",
    `${out}/back.jsonl`,
  );
  assertEquals(r.code, 0, r.err);
  assertEquals(await read(`${out}/back.jsonl`), await read(`${dir}/data.jsonl`));
  // And the export command writes the same file as the build did.
  const e = await cli(
    "data",
    "export",
    "-q",
    "--data",
    `${dir}/data.jsonl`,
    "--out",
    `${out}/again.parquet`,
  );
  assertEquals(e.code, 0, e.err);
  const a = await Deno.readFile(`${dir}/data.parquet`),
    b = await Deno.readFile(`${out}/again.parquet`);
  assert(a.length === b.length && a.every((x, i) => x === b[i]));
});

Deno.test("decontamination removes planted benchmark questions and keeps the rest", async () => {
  const dir = await buildOnce();
  const samples = await read(`${dir}/data.jsonl`);
  const out = await Deno.makeTempDir();
  // Plant two built questions (one reformatted) into a benchmark file, among real benchmark items.
  const planted = [samples[0], samples[5]];
  const bench = [
    { question: planted[0].extra_info.question },
    { input: planted[1].extra_info.question.toUpperCase().replace(/\s+/g, "  ") },
    {
      question:
        "Who wrote the novel that this question is not from, in the year nobody remembers exactly?",
    },
  ];
  await Deno.writeTextFile(
    `${out}/bench.jsonl`,
    bench.map((b) => JSON.stringify(b)).join("\n") + "\n",
  );
  const r = await cli(
    "data",
    "decontam",
    "-q",
    "--data",
    `${dir}/data.jsonl`,
    "--benchmarks",
    `${out}/bench.jsonl`,
    "--benchmarks",
    `${SHARED}/qa/nq_open_oracle_dev200.jsonl`,
    "--out",
    `${out}/kept.jsonl`,
  );
  assertEquals(r.code, 0, r.err);
  const removed = new Set(r.out.trim().split("\n").map((l) => JSON.parse(l).id));
  const kept = await read(`${out}/kept.jsonl`);
  // Every sample that asks a planted question (the same draft can appear in several buckets) goes.
  const plantedQs = new Set(planted.map((p) => p.extra_info.question));
  for (const s of samples) {
    assertEquals(removed.has(s.id), plantedQs.has(s.extra_info.question), s.id);
  }
  assertEquals(kept.length + removed.size, samples.length);
});

Deno.test("a bad document is skipped, counted and named; the build goes on", async () => {
  const src = await Deno.makeTempDir();
  await Deno.copyFile(`${SHARED}/corpora/books/pg11_alice_in_wonderland.txt`, `${src}/alice.txt`);
  await Deno.copyFile(`${SHARED}/corpora/books/pg46_a_christmas_carol.txt`, `${src}/carol.txt`);
  await Deno.writeFile(
    `${src}/binary.txt`,
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff, 0xfe, 0]),
  );
  const speeches =
    (await Deno.readTextFile(`${SHARED}/corpora/speeches/sotu_state_of_the_union_1790_2021.jsonl`))
      .split("\n").slice(0, 12);
  await Deno.writeTextFile(
    `${src}/speeches.jsonl`,
    speeches.join("\n") + "\n" + speeches[0].slice(0, 50),
  );
  const out = await Deno.makeTempDir();
  const r = await cli(
    "data",
    "build",
    "-q",
    "--sources",
    src,
    "--lengths",
    "2k",
    "--per-task",
    "1",
    "--out",
    out,
  );
  assertEquals(r.code, 0, r.err);
  const report = JSON.parse(await Deno.readTextFile(`${out}/report.json`));
  const sources = report.skipped.map((s: { source: string }) => s.source).join("\n");
  assertMatch(sources, /binary\.txt/);
  assertMatch(sources, /speeches\.jsonl/);
  assert(report.samples > 0);
});

Deno.test("difficulty filtering: pass-rate bands over k rollouts, two stages", async () => {
  const dir = await buildOnce();
  const samples = (await read(`${dir}/data.jsonl`)).filter((s) => s.data_source === "EM").slice(
    0,
    3,
  );
  assertEquals(samples.length, 3);
  // Scripted policies: for sample i, stage 1 answers right `right1[i]` of k times.
  const scripted = (name: string, right: number[]): Policy => ({
    name,
    respond: (ss, k) =>
      Promise.resolve(ss.map((s) => {
        const i = samples.findIndex((x) => x.id === s.id);
        return Array.from({ length: k }, (_, j) =>
          j < right[i] ? goldResponse(s) : "<think>x</think>wrong");
      })),
  });
  const cfg = { ...DEFAULT_DIFFICULTY, k: 8 };
  const r = await filterByDifficulty(samples, [
    scripted("small", [8, 3, 0]),
    scripted("large", [0, 0, 0]),
  ], cfg);
  assertEquals(r.counts.easy, 1);
  assertEquals(r.counts.medium, 1);
  assertEquals(r.counts.discard, 1);
  assertEquals(r.kept.map((s) => s.id), [samples[0].id, samples[1].id]);
  assertEquals(r.kept[1].extra_info.difficulty, {
    pass_rate: 3 / 8,
    band: "medium",
    k: 8,
    policy: "small",
  });
  const r2 = await filterByDifficulty(samples, [
    scripted("small", [8, 3, 0]),
    scripted("large", [0, 0, 5]),
  ], cfg);
  assertEquals(r2.kept[2].extra_info.difficulty?.band, "medium");
  assertEquals(r2.kept[2].extra_info.difficulty?.policy, "large");
});

Deno.test("a held-out split by source document evaluates with eval --bench ours", async () => {
  const { MockOpenAI } = await import("../eval/backends/mock_openai.ts");
  const out = await Deno.makeTempDir();
  const r = await cli(
    "data",
    "build",
    "-q",
    "--sources",
    `${SHARED}/corpora`,
    "--lengths",
    "2k",
    "--per-task",
    "4",
    "--heldout",
    "0.3",
    "--seed",
    "3",
    "--out",
    out,
  );
  assertEquals(r.code, 0, r.err);
  const train = await read(`${out}/data.jsonl`), held = await read(`${out}/heldout.jsonl`);
  assert(held.length > 0 && train.length > 0);
  const docs = (xs: Sample[]) => new Set(xs.map((s) => s.extra_info.source_docs[0].id));
  const trainDocs = docs(train);
  for (const d of docs(held)) assert(!trainDocs.has(d), `${d} in both splits`);
  // A model that answers every held-out sample with its gold response scores 1 on "ours".
  const byPrompt = new Map(
    held.map((s) => [s.prompt.map((m) => m.content).join("\n"), gold(s).response]),
  );
  const server = await MockOpenAI.start({
    script: (q) => ({ kind: "answer", text: byPrompt.get(q.prompt) ?? "unknown" }),
  });
  try {
    const e = await cli(
      "eval",
      "-q",
      "--bench",
      "ours",
      "--data-ours",
      `${out}/heldout.jsonl`,
      "--endpoint",
      server.baseUrl,
      "--model-name",
      "gold",
      "--out",
      `${out}/eval`,
    );
    assertEquals(e.code, 0, e.err);
    const res = JSON.parse(await Deno.readTextFile(`${out}/eval/results.json`));
    assertEquals(res.benchmarks.ours.n, held.length);
    assert(res.benchmarks.ours.mean > 0.999, `held-out gold mean ${res.benchmarks.ours.mean}`);
  } finally {
    await server.close();
  }
});

Deno.test("padding keeps every character of long unpunctuated or CJK paragraphs", async () => {
  const { splitLong, PaddingPool } = await import("../data/assemble.ts");
  const cjk = "这是一个没有英文句号的长段落。".repeat(600); // 9,000 chars, CJK full stops only
  const none = "word ".repeat(40_000); // 200,000 chars, no sentence end
  for (const text of [cjk, none]) {
    const pieces = splitLong(text, 2400);
    assertEquals(pieces.join(""), text);
    assert(pieces.every((p) => p.length <= 2400));
  }
  const t0 = performance.now();
  const pool = new PaddingPool([{
    id: "x",
    title: "X",
    kind: "book",
    source: "x",
    lang: "zh",
    text: none,
  }]);
  assert(performance.now() - t0 < 1000, "linear time");
  const kept = pool.passages.reduce((a, p) => a + p.text.length, 0);
  assert(kept > none.length * 0.99, `${kept} of ${none.length} characters kept`);
});
