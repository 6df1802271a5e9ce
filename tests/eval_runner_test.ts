/**
 * `golongrl eval` end to end against a real local HTTP server speaking the OpenAI chat API
 * (eval/backends/mock_openai.ts): misbehaving answers, failures by count and id, concurrency,
 * resume after a kill, LongBench v2's real samples, and --rescore.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";
import { type MockAction, MockOpenAI, plantedAnswer } from "../eval/backends/mock_openai.ts";
import { OpenAIBackend } from "../eval/backends/openai.ts";

const SHARED = `${ROOT}/../shared`;

/** A tiny "ours" dataset: EM samples whose prompts plant their answers. */
async function plantedDataset(n: number): Promise<string> {
  const dir = await Deno.makeTempDir();
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: `s${String(i).padStart(2, "0")}`,
      data_source: "EM",
      ability: "precise_retrieval",
      prompt: [{
        role: "user",
        content: `Item ${i}. The code is hidden here: ANSWER=code${i} . What is the code?`,
      }],
      reward_model: {
        style: "rule",
        ground_truth: { doc_ids: [], golden_label: `code${i}`, summary: "" },
      },
      extra_info: {
        reward_mode: "EM",
        question: `What is the code of item ${i}?`,
        index: `s${i}`,
        length_bucket: i % 2 ? "4k" : "16k",
      },
    }));
  await Deno.writeTextFile(`${dir}/ours.jsonl`, lines.join("\n") + "\n");
  return `${dir}/ours.jsonl`;
}

const itemOf = (prompt: string) => Number(/Item (\d+)\./.exec(prompt)?.[1] ?? -1);
const correct = (prompt: string): MockAction => ({
  kind: "answer",
  text: `<think>found it</think>${plantedAnswer(prompt)}`,
});

Deno.test("eval completes through 429, 500, truncated JSON, drops and slowness; failures by count and id", async () => {
  const data = await plantedDataset(12);
  const server = await MockOpenAI.start({
    latencyMs: 150,
    script: (r) => {
      const i = itemOf(r.prompt);
      if (i === 1) return { kind: "wrong" };
      if (i === 2) return { ...correct(r.prompt), delayMs: 600 } as MockAction;
      if (i === 7) return { kind: "status", status: 500, message: "always broken" };
      if (r.attempt === 1 && i === 3) return { kind: "status", status: 429, retryAfter: "1" };
      if (r.attempt === 1 && i === 4) return { kind: "status", status: 500 };
      if (r.attempt === 1 && i === 5) return { kind: "truncated" };
      if (r.attempt === 1 && i === 6) return { kind: "drop" };
      return correct(r.prompt);
    },
  });
  try {
    const out = await Deno.makeTempDir();
    const r = await cli(
      "eval",
      "-q",
      "--bench",
      "ours",
      "--data-ours",
      data,
      "--endpoint",
      server.baseUrl,
      "--model-name",
      "mock",
      "--out",
      out,
      "--concurrency",
      "8",
      "--max-retries",
      "2",
    );
    assertEquals(r.code, 1, "a permanent failure makes the run exit 1"); // item 7
    const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    const b = res.benchmarks.ours;
    // 11 scored items, all right but item 1: 10/11; item 7 failed and is named.
    assertEquals(b.n, 11);
    assertEquals(b.mean, Number((10 / 11).toFixed(6)));
    assertEquals({ n: b.failed.n, ids: b.failed.ids }, { n: 1, ids: ["ours/s07"] });
    assertMatch(b.failed.reasons["ours/s07"], /HTTP 500: always broken/);
    assertEquals(Object.keys(b.lengths).sort(), ["16k", "4k"]);
    assert(server.maxInFlight >= 6, `max in flight ${server.maxInFlight}`);
    assert(server.maxInFlight <= 8);
    assertMatch(await Deno.readTextFile(`${out}/report.md`), /\| ours \|/);
    assertMatch(await Deno.readTextFile(`${out}/score_vs_length.svg`), /^<svg/);
  } finally {
    await server.close();
  }
});

Deno.test("a killed eval, resumed, gives the same results.json as an uninterrupted one", async () => {
  const data = await plantedDataset(16);
  const script = (r: { prompt: string }): MockAction =>
    itemOf(r.prompt) % 5 === 0 ? { kind: "wrong" } : correct(r.prompt);
  const server = await MockOpenAI.start({ latencyMs: 250, script });
  try {
    const args = (out: string) => [
      "run",
      "-A",
      "--quiet",
      `${ROOT}/main.ts`,
      "eval",
      "-q",
      "--bench",
      "ours",
      "--data-ours",
      data,
      "--endpoint",
      server.baseUrl,
      "--model-name",
      "mock",
      "--out",
      out,
      "--concurrency",
      "2",
    ];
    const full = await Deno.makeTempDir(), killed = await Deno.makeTempDir();
    const a = await new Deno.Command(Deno.execPath(), {
      args: args(full),
      stdout: "null",
      stderr: "null",
    }).output();
    assertEquals(a.code, 0);
    // Start again in another folder and kill it once a few generations are cached.
    const p = new Deno.Command(Deno.execPath(), {
      args: args(killed),
      stdout: "null",
      stderr: "null",
    }).spawn();
    const lines = async () =>
      (await Deno.readTextFile(`${killed}/cache.jsonl`).catch(() => "")).split("\n").filter(Boolean)
        .length;
    for (let i = 0; i < 200 && await lines() < 5; i++) await new Promise((r) => setTimeout(r, 50));
    p.kill("SIGKILL");
    await p.status;
    const before = await lines();
    assert(before >= 5 && before < 16, `${before} cached before the kill`);
    const requestsBefore = server.log.length;
    const b = await new Deno.Command(Deno.execPath(), {
      args: args(killed),
      stdout: "null",
      stderr: "null",
    }).output();
    assertEquals(b.code, 0);
    // Nothing generated twice: the resumed run asked only for what was missing.
    assertEquals(server.log.length - requestsBefore, 16 - before);
    assertEquals(await lines(), 16);
    assertEquals(
      await Deno.readTextFile(`${killed}/results.json`),
      await Deno.readTextFile(`${full}/results.json`),
    );
    const res = JSON.parse(await Deno.readTextFile(`${full}/results.json`));
    assertEquals(res.benchmarks.ours.mean, 12 / 16); // items 0, 5, 10, 15 answered wrongly
  } finally {
    await server.close();
  }
});

Deno.test("LongBench v2's real samples load, run and score; --rescore needs no server", async () => {
  const path = `${SHARED}/qa/longbench_v2_format_examples.jsonl`;
  const records = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
  const answerOf = new Map(records.map((r) => [r.question as string, r.answer as string]));
  const server = await MockOpenAI.start({
    script: (r) => {
      const q = [...answerOf.keys()].find((k) => r.prompt.includes(k))!;
      const gold = answerOf.get(q)!;
      // Right on the first two samples, wrong on the third.
      const right = records.findIndex((x) => x.question === q) < 2;
      const letter = right ? gold : "ABCD".replace(gold, "")[0];
      return { kind: "answer", text: `<think>reading</think>The correct answer is (${letter})` };
    },
  });
  const out = await Deno.makeTempDir();
  const url = server.baseUrl;
  try {
    const r = await cli(
      "eval",
      "-q",
      "--bench",
      "longbench-v2",
      "--data-longbench-v2",
      path,
      "--endpoint",
      url,
      "--model-name",
      "mock",
      "--out",
      out,
    );
    assertEquals(r.code, 0, r.err);
  } finally {
    await server.close();
  }
  const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assertEquals(res.benchmarks["longbench-v2"].n, 3);
  assertEquals(res.benchmarks["longbench-v2"].mean, Number((2 / 3).toFixed(6)));
  assert(Object.keys(res.benchmarks["longbench-v2"].subsets).length > 0);
  // The server is gone: rescoring reads the cache only (keyed by model and endpoint).
  const again = await cli(
    "eval",
    "-q",
    "--rescore",
    "--bench",
    "longbench-v2",
    "--data-longbench-v2",
    path,
    "--endpoint",
    url,
    "--model-name",
    "mock",
    "--out",
    out,
  );
  assertEquals(again.code, 0, again.err);
  assertEquals(JSON.parse(await Deno.readTextFile(`${out}/results.json`)), res);
});

Deno.test("eval rejects bad usage clearly", async () => {
  let r = await cli("eval", "--bench", "nope", "--model", "x", "--out", "/tmp/x");
  assertEquals(r.code, 2);
  assertMatch(r.err, /unknown benchmark "nope"/);
  r = await cli(
    "eval",
    "--bench",
    "longbench-v2",
    "--endpoint",
    "http://x",
    "--model-name",
    "m",
    "--out",
    "/tmp/x",
  );
  assertEquals(r.code, 2);
  assertMatch(r.err, /needs --data-longbench-v2/);
  r = await cli("eval", "--bench", "ruler", "--out", "/tmp/x");
  assertEquals(r.code, 2);
  assertMatch(r.err, /exactly one of --model DIR or --endpoint URL/);
});

Deno.test("judge mode: Frames is CEM or the judge's verdict; judge calls are cached", async () => {
  const path = `${ROOT}/tests/fixtures/eval/frames.jsonl`;
  let judgeCalls = 0;
  const server = await MockOpenAI.start({
    script: (r) => {
      if (r.body?.model === "judge") {
        judgeCalls++;
        // The judge accepts "Atlanta, Georgia" for Atlanta, rejects everything else.
        return {
          kind: "answer",
          text: r.prompt.includes("Atlanta, Georgia") ? "Same city. [[YES]]" : "Different. [[NO]]",
        };
      }
      // The model: a paraphrase for the Olympics question, nonsense otherwise.
      const text = r.prompt.includes("Summer Olympics")
        ? "Therefore, the answer is (Atlanta, Georgia)."
        : "Therefore, the answer is (blue).";
      return { kind: "answer", text };
    },
  });
  const out = await Deno.makeTempDir();
  const args = [
    "eval",
    "-q",
    "--bench",
    "frames",
    "--data-frames",
    path,
    "--endpoint",
    server.baseUrl,
    "--model-name",
    "m",
    "--judge-endpoint",
    server.baseUrl,
    "--judge-model",
    "judge",
    "--out",
    out,
  ];
  try {
    const r = await cli(...args);
    assertEquals(r.code, 0, r.err);
    const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    const n = res.benchmarks.frames.n;
    assert(n >= 2);
    // Only the Olympics item is right (CEM covers "Atlanta" in "Atlanta, Georgia", the judge agrees).
    assertEquals(res.benchmarks.frames.mean, Number((1 / n).toFixed(6)));
    const calls = judgeCalls;
    assert(calls >= 1);
    // A rerun asks neither the model nor the judge again.
    const again = await cli(...args);
    assertEquals(again.code, 0, again.err);
    assertEquals(judgeCalls, calls);
    assertEquals(JSON.parse(await Deno.readTextFile(`${out}/results.json`)), res);
  } finally {
    await server.close();
  }
});

Deno.test("config.json records the run's settings, defaults and overrides alike", async () => {
  const data = await plantedDataset(2);
  const server = await MockOpenAI.start({ script: (r) => correct(r.prompt) });
  const model = new OpenAIBackend({ baseUrl: server.baseUrl, model: "mock" }).id;
  const config = async (...extra: string[]) => {
    const out = await Deno.makeTempDir();
    const base = ["eval", "-q", "--bench", "ours", "--data-ours", data, "--out", out];
    const r = await cli(...base, "--endpoint", server.baseUrl, "--model-name", "mock", ...extra);
    assertEquals(r.code, 0, r.err);
    return await Deno.readTextFile(`${out}/config.json`);
  };
  try {
    // Exact text: the file is the run's record, read by people and by scripts.
    assertEquals(
      await config(),
      JSON.stringify(
        {
          bench: ["ours"],
          model,
          judge: null,
          limit: null,
          max_input_tokens: null,
          samples: 1,
          seed: 0,
          temperature: "per benchmark",
          top_p: "per benchmark",
          max_tokens: "per benchmark",
          answer_prefix: true,
          lengths: "4k,16k",
          data: { ours: data },
        },
        null,
        2,
      ) + "\n",
    );
    const set = await config(
      ...["--limit", "1", "--samples", "2", "--seed", "7", "--temperature", "0.5"],
      ...["--top-p", "0.9", "--max-tokens", "64", "--no-answer-prefix", "--lengths", "4096, 8k"],
    );
    assertEquals(
      set,
      '{\n  "bench": [\n    "ours"\n  ],\n  "model": ' + JSON.stringify(model) + ",\n" +
        '  "judge": null,\n  "limit": 1,\n  "max_input_tokens": null,\n  "samples": 2,\n' +
        '  "seed": 7,\n  "temperature": 0.5,\n  "top_p": 0.9,\n  "max_tokens": 64,\n' +
        '  "answer_prefix": false,\n  "lengths": "4096, 8k",\n  "data": {\n    "ours": ' +
        JSON.stringify(data) + "\n  }\n}\n",
    );
  } finally {
    await server.close();
  }
});
