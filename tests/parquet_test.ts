/** verl parquet export/import: nested types, lossless round trip, the GoLongRL layout, imports. */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { parquetMetadata } from "hyparquet";
import { type PqColumn, readParquetRecords, writeRecordsParquet } from "../core/parquet.ts";
import { readParquet, writeParquet } from "../data/parquet.ts";
import { importAll, importDataset, newImportReport } from "../data/importer.ts";
import type { Sample } from "../tasks/generators/types.ts";
import { computeReward } from "../tasks/registry.ts";

const FIX = new URL("./fixtures/data/", import.meta.url).pathname;

function sample(i: number): Sample {
  const long = i % 50 === 7;
  return {
    id: `row-${i}`,
    data_source: i % 3 === 0 ? "longbench_pro" : "EM",
    ability: i % 3 === 0 ? "graded_ranking" : "precise_retrieval",
    prompt: i % 97 === 5 ? [] : [
      { role: "system", content: "" },
      {
        role: "user",
        content: long
          ? "长文本 long text ✓ ".repeat(7000)
          : `Frage ${i}: naïve café 中文 🙂 \u0000`,
      },
    ],
    reward_model: {
      style: "rule",
      ground_truth: {
        doc_ids: i % 3 === 0 ? ["Document 2", "", "文档 1"] : [],
        golden_label: i % 3 === 0 ? "" : `answer ${i}`,
        summary: i % 3 === 0 ? "English" : "",
      },
    },
    extra_info: {
      reward_mode: i % 3 === 0 ? "T1.1 Global Cohesive Retrieval" : "EM",
      question: `Frage ${i}`,
      index: String(i),
      generator: "papers/citation",
      source_docs: i % 4 === 0 ? [] : [
        { id: `plos:${i}`, title: "A paper", kind: "paper", licence: "CC-BY-4.0" },
        { id: `pg${i}`, title: "", kind: "book" },
      ],
      ...(i % 2 === 0 ? { length_bucket: "32k", tokens: 30000 + i, needle_depth: i / 1000 } : {}),
      ...(i % 5 === 0
        ? { difficulty: { pass_rate: 0.125, band: "hard", k: 8, policy: "qwen3-4b" } }
        : {}),
      // Values that do not fit their typed column go to extra_json and come back exactly.
      ...(i % 11 === 0 ? { tokens: 1.5, needle_depth: 1e300 } : {}),
      ...(i % 19 === 0 ? { tokens: 2 ** 60 } : {}),
      ...(i % 13 === 0
        ? { difficulty: { pass_rate: 1, band: "easy", k: 4, policy: "p", x: 1 } as never }
        : {}),
      ...(i % 17 === 0
        ? { source_docs: [{ id: "d", title: "t", kind: "book", extra: true } as never] }
        : {}),
      ...(i % 7 === 0
        ? { meta: { nested: { list: [1, "two", null, { deep: [] }] } }, empty: {} }
        : {}),
    },
  };
}

Deno.test("parquet round trip loses nothing (unicode, empty lists, ~100 KB texts, 2,500 rows)", async () => {
  const dir = await Deno.makeTempDir();
  const samples = Array.from({ length: 2500 }, (_, i) => sample(i));
  assert(samples[7].prompt[1].content.length > 100_000);
  const t0 = performance.now();
  const n = await writeParquet(`${dir}/a.parquet`, samples);
  const t1 = performance.now();
  const back = await readParquet(`${dir}/a.parquet`);
  const t2 = performance.now();
  assertEquals(n, 2500);
  assertEquals(back, samples);
  const size = (await Deno.stat(`${dir}/a.parquet`)).size;
  console.log(
    `2,500 rows: write ${(t1 - t0).toFixed(0)} ms, read ${(t2 - t1).toFixed(0)} ms, ${size} bytes`,
  );
  // Deterministic bytes; three row groups (1000 rows each at most); no temporary file left.
  await writeParquet(`${dir}/b.parquet`, samples);
  assertEquals(await Deno.readFile(`${dir}/b.parquet`), await Deno.readFile(`${dir}/a.parquet`));
  const md = parquetMetadata((await Deno.readFile(`${dir}/a.parquet`)).buffer);
  assertEquals(md.row_groups.length, 3);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.parquet", "b.parquet"]);
});

Deno.test("prompt, reward_model and extra_info are real nested parquet types", async () => {
  const dir = await Deno.makeTempDir();
  await writeParquet(`${dir}/a.parquet`, [sample(1)]);
  const md = parquetMetadata((await Deno.readFile(`${dir}/a.parquet`)).buffer);
  const el = (name: string) => md.schema.find((e) => e.name === name)!;
  assertEquals(el("prompt").converted_type, "LIST");
  assertEquals(el("prompt").type, undefined);
  assertEquals(el("reward_model").num_children, 2);
  assertEquals(el("ground_truth").num_children, 3);
  assertEquals(el("doc_ids").converted_type, "LIST");
  assertEquals(el("extra_info").num_children, 10);
  assertEquals(el("tokens").type, "INT64");
  assertEquals(
    md.schema.map((e) => e.name).slice(0, 8),
    ["root", "data_source", "prompt", "list", "element", "content", "role", "ability"],
  );
  const kv = Object.fromEntries((md.key_value_metadata ?? []).map((k) => [k.key, k.value]));
  assertEquals(kv["golongrl.layout"], "verl-v1");
  for await (const { value } of readParquetRecords(`${dir}/a.parquet`)) {
    assertEquals(value.prompt, [{ content: "", role: "system" }, {
      content: sample(1).prompt[1].content,
      role: "user",
    }]);
    assertEquals((value.reward_model as Record<string, unknown>).style, "rule");
  }
});

// Hand-made data in the GoLongRL schema: JSONL and the parquet our writer made from it with the
// released layout (no id column, extra_info {index, question, reward_mode}, index left null).
const CORRECT_WRONG: [string, string][] = [
  ["<think>x</think>Mara Venn", "<think>x</think>mara venn"],
  ["<think>x</think>The correct answer is (B)", "<think>x</think>The correct answer is (C)"],
  ["<think>x</think>[Answer]\nDocument 1\nDocument 3", "<think>x</think>[Answer]\nDocument 2"],
  ["<think>x</think>So the total is \\boxed{84}.", "<think>x</think>\\boxed{42}"],
  [
    '<think>x</think><answer>{"columns": ["year", "event"], "data": [["1871", "lamp lit"], ["1872", "lens replaced"]]}</answer>',
    '<think>x</think><answer>{"columns": ["year", "event"], "data": [["1870", "lamp lit"]]}</answer>',
  ],
  ["<think>x</think>[Answer]\nlamp\n1871", "<think>x</think>[Answer]\nships"],
  [
    "<think>x</think>[Answer]\nDocument 1\nDocument 3\nDocument 2",
    "<think>x</think>[Answer]\nDocument 4",
  ],
  [
    "<think>x</think>[Answer]\nlamp lit\nships logged\nlens replaced",
    "<think>x</think>[Answer]\nlens replaced\nships logged\nlamp lit",
  ],
  [
    "<think></think>mara venn lit the lamp in 1871 and a fresnel lens replaced it in 1872",
    "<think></think>bananas are yellow",
  ],
  ["<think></think>灯塔看守人在1871年点亮了灯", "<think></think>苹果是红色的"],
  ["</think>1872", "</think>1871"],
];

function scoreAll(samples: Sample[]): { good: number[]; bad: number[] } {
  const score = (s: Sample, response: string) =>
    computeReward({
      dataSource: s.data_source,
      response,
      groundTruth: s.reward_model.ground_truth,
      extraInfo: s.extra_info,
    }).reward;
  return {
    good: samples.map((s, i) => score(s, CORRECT_WRONG[i][0])),
    bad: samples.map((s, i) => score(s, CORRECT_WRONG[i][1])),
  };
}

Deno.test("a hand-made GoLongRL-format JSONL and parquet import and score", async () => {
  const report = newImportReport();
  const fromJsonl = await importAll(`${FIX}golongrl_sample.jsonl`, { report });
  const fromParquet = await importAll(`${FIX}golongrl_sample.parquet`);
  assertEquals(fromJsonl.length, 11);
  assertEquals(fromParquet, fromJsonl);
  assertEquals(new Set(fromJsonl.map((s) => s.ability)).size, 10); // 9 tasks + one unknown name
  assertEquals(report.rows, 11);
  assertEquals(report.indexAssigned, 1);
  assertEquals(report.abilityUnknown, { long_dialogue_qa: 1 });
  assertEquals(report.abilityMapped["NDCG → graded_ranking"], 1);
  assertEquals(report.jsonStrings, { reward_model: 1, ground_truth: 1 });
  assertEquals(report.groundTruthList, 1);
  assertEquals(report.unroutable, {});
  assertEquals(fromJsonl[9].extra_info.index, "9");
  const { good, bad } = scoreAll(fromParquet);
  for (let i = 0; i < good.length; i++) {
    const summary = i === 8 || i === 9;
    assert(
      summary ? good[i] > 0.5 : good[i] === 1,
      `sample ${i}: correct response scored ${good[i]}`,
    );
    assert(bad[i] < 0.2 && bad[i] < good[i], `sample ${i}: wrong response scored ${bad[i]}`);
  }
});

Deno.test("the GoLongRL-layout fixture is exactly what our writer makes from the JSONL", async () => {
  const dir = await Deno.makeTempDir();
  const samples = await importAll(`${FIX}golongrl_sample.jsonl`);
  await writeParquet(`${dir}/g.parquet`, samples, { layout: "golongrl", omitIndex: true });
  assertEquals(
    await Deno.readFile(`${dir}/g.parquet`),
    await Deno.readFile(`${FIX}golongrl_sample.parquet`),
  );
  const md = parquetMetadata((await Deno.readFile(`${dir}/g.parquet`)).buffer);
  assertEquals(
    md.schema.filter((e) =>
      e.num_children !== undefined && e.name !== "list" &&
      e.name !== "element"
    ).map((e) => e.name),
    ["root", "prompt", "reward_model", "ground_truth", "doc_ids", "extra_info"],
  );
  assertEquals(md.schema.find((e) => e.name === "index")?.type, "INT64");
});

Deno.test("parquet written by others with JSON-string columns imports too", async () => {
  const dir = await Deno.makeTempDir();
  const samples = await importAll(`${FIX}golongrl_sample.jsonl`);
  const cols: PqColumn[] = ["data_source", "prompt", "ability", "reward_model", "extra_info"].map(
    (name) => ({ name, type: "string" }),
  );
  const lines = (await Deno.readTextFile(`${FIX}golongrl_sample.jsonl`)).trim().split("\n");
  const rows = lines.map((l) => {
    const r = JSON.parse(l);
    const out: Record<string, unknown> = {};
    for (const c of cols) {
      out[c.name] = typeof r[c.name] === "string" ? r[c.name] : JSON.stringify(r[c.name]);
    }
    return out;
  });
  await writeRecordsParquet(`${dir}/j.parquet`, cols, rows);
  const report = newImportReport();
  const got: Sample[] = [];
  for await (const s of importDataset(dir, { report })) got.push(s);
  assertEquals(got, samples);
  assertEquals(report.jsonStrings.prompt, 11);
  assertEquals(report.jsonStrings.extra_info, 11);
});

Deno.test("importing a folder reads every data file in path order", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/data`);
  await Deno.copyFile(`${FIX}golongrl_sample.parquet`, `${dir}/data/train-00001.parquet`);
  await Deno.copyFile(`${FIX}golongrl_sample.jsonl`, `${dir}/data/train-00000.jsonl`);
  await Deno.writeTextFile(`${dir}/README.md`, "not data");
  const report = newImportReport();
  const got = await importAll(dir, { report, idPrefix: "golongrl-" });
  assertEquals(got.length, 22);
  assertEquals(report.files.map((f) => f.slice(dir.length)), [
    "/data/train-00000.jsonl",
    "/data/train-00001.parquet",
  ]);
  // Indices missing from the parquet are row numbers across the whole import.
  assertEquals(got[11].extra_info.index, "11");
  assertEquals(got[11].id, "golongrl-11");
  assertEquals(got[0].id, "golongrl-0");
});

Deno.test("a file that is not parquet is an input error naming it", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/x.parquet`, "hello, not parquet");
  await assertRejects(() => readParquet(`${dir}/x.parquet`), /x\.parquet: not a parquet file/);
  await assertRejects(() => importAll(`${dir}/missing.jsonl`), /missing\.jsonl: cannot open/);
});

Deno.test("the GoLongRL layout keeps integer indices as INT64 and re-imports them", async () => {
  const dir = await Deno.makeTempDir();
  const samples = (await importAll(`${FIX}golongrl_sample.jsonl`)).map((s, i) => ({
    ...s,
    extra_info: { ...s.extra_info, index: String(100 + i) },
  }));
  samples[3].extra_info.index = "not-a-number"; // becomes the row number
  await writeParquet(`${dir}/g.parquet`, samples, { layout: "golongrl" });
  const rows = [];
  for await (const r of readParquetRecords(`${dir}/g.parquet`)) rows.push(r.value);
  assertEquals(rows.map((r) => (r.extra_info as Record<string, unknown>).index).slice(0, 5), [
    100,
    101,
    102,
    3,
    104,
  ]);
  assertEquals(rows[0].ability, "EM"); // the original name, not the mapped task type
  assertEquals(rows[0].id, undefined);
  const back = await importAll(`${dir}/g.parquet`);
  assertEquals(back.map((s) => s.id).slice(0, 4), ["100", "101", "102", "3"]);
  assertEquals(back.map((s) => s.ability), samples.map((s) => s.ability));
});
