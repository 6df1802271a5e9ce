/**
 * Issue 12 (hardening) for `eval`: a metric that throws, replies without text, huge timeouts,
 * all-failed and empty runs. Each case broke before the fix.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli } from "./helpers.ts";
import { type MockAction, MockOpenAI, plantedAnswer } from "../eval/backends/mock_openai.ts";
import { runEval } from "../eval/runner.ts";
import type { Benchmark, EvalItem } from "../eval/benchmarks/types.ts";
import type { ChatBackend, ChatRequest } from "../core/chat/backend.ts";

async function plantedDataset(n: number): Promise<string> {
  const dir = await Deno.makeTempDir();
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: `s${i}`,
      data_source: "EM",
      prompt: [{ role: "user", content: `Item ${i}. ANSWER=code${i} . What is the code?` }],
      reward_model: { style: "rule", ground_truth: { golden_label: `code${i}` } },
      extra_info: { reward_mode: "EM", question: `code of ${i}?`, index: `s${i}` },
    }));
  await Deno.writeTextFile(`${dir}/ours.jsonl`, lines.join("\n") + (n ? "\n" : ""));
  return `${dir}/ours.jsonl`;
}

const itemOf = (prompt: string) => Number(/Item (\d+)\./.exec(prompt)?.[1] ?? -1);
const right = (prompt: string): MockAction => ({
  kind: "answer",
  text: `<think>ok</think>${plantedAnswer(prompt)}`,
});
const evalArgs = (data: string, url: string, out: string, ...more: string[]) => [
  "eval",
  "-q",
  "--bench",
  "ours",
  "--data-ours",
  data,
  "--endpoint",
  url,
  "--model-name",
  "mock",
  "--out",
  out,
  "--max-retries",
  "2",
  ...more,
];

Deno.test("a metric that throws scores its item 0 with the error recorded; the run completes", async () => {
  const items: EvalItem[] = ["a", "b", "c"].map((id) => ({
    id,
    benchmark: "t",
    messages: [{ role: "user", content: id }],
    reference: id,
  }));
  const bench: Benchmark = {
    name: "t",
    description: "test",
    primaryMetric: "acc",
    sampling: { maxTokens: 16, temperature: 0, topP: 1, source: "test" },
    async *load() {
      yield* items;
    },
    score(item, prediction) {
      if (item.id === "b") throw new RangeError("Maximum call stack size exceeded");
      return { score: prediction === item.id ? 1 : 0 };
    },
  };
  const backend: ChatBackend = {
    name: "echo",
    id: "echo",
    concurrency: 1,
    complete: (req: ChatRequest) =>
      Promise.resolve([{ text: req.messages[0].content, finishReason: "stop", latencyMs: 0 }]),
  };
  const out = await Deno.makeTempDir();
  const logs: string[] = [];
  const gen = { maxTokens: 8, temperature: 0, topP: 1, samples: 1, seed: 0 };
  const r = await runEval({
    benchmarks: [bench],
    backend,
    out,
    gen,
    dataPaths: {},
    quiet: true,
    onLog: (s) => logs.push(s),
  });
  const b = r.results.benchmarks.t;
  assertEquals(b.n, 3);
  assertEquals(b.mean, Number((2 / 3).toFixed(6)));
  assertEquals(b.scoreErrors.n, 1);
  assertEquals(b.scoreErrors.ids, ["b"]);
  assertMatch(b.scoreErrors.first!, /RangeError: Maximum call stack/);
  assertMatch(logs.join(""), /scoring error: t b#0/);
  const saved = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assertEquals(saved.benchmarks.t.scoreErrors.n, 1);
  // --rescore of the same cache says what it could not score.
  logs.length = 0;
  await runEval({
    benchmarks: [bench],
    backend,
    out,
    gen,
    dataPaths: {},
    quiet: true,
    rescore: true,
    onLog: (s) => logs.push(s),
  });
  assertMatch(logs.join(""), /rescore: 2 of 3 cached entries scored; 0 missing .*1 scoring errors/);
});

Deno.test("a 200 without text is retried, then counted failed, and never cached as an answer", async () => {
  const data = await plantedDataset(4);
  let healthy = false;
  const server = await MockOpenAI.start({
    script: (r) => {
      const i = itemOf(r.prompt);
      if (healthy) return right(r.prompt);
      if (i === 0 && r.attempt <= 2) return { kind: "raw", body: { choices: [{}] } };
      if (i === 1) {
        return { kind: "raw", body: { choices: [{ message: { content: null } }] } };
      }
      if (i === 2 && r.attempt === 1) {
        return { kind: "raw", body: { choices: [{ message: { content: 42 } }] } };
      }
      return right(r.prompt);
    },
  });
  try {
    const out = await Deno.makeTempDir();
    const r = await cli(...evalArgs(data, server.baseUrl, out));
    assertEquals(r.code, 1, "item 1 never got text: the run reports a failure");
    const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assertEquals(res.benchmarks.ours.n, 3);
    assertEquals(res.benchmarks.ours.mean, 1, "retried items 0 and 2 scored on their real answer");
    assertEquals(res.benchmarks.ours.failed.ids, ["ours/s1"]);
    const cache = (await Deno.readTextFile(`${out}/cache.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    const one = cache.filter((c) => c.item === "ours/s1");
    assert(one.length === 1 && one[0].error !== undefined, "cached only as a failure");
    assertMatch(one[0].error, /no text/);
    // Against a healthy server the rerun regenerates item 1 instead of reusing an empty answer.
    healthy = true;
    const again = await cli(...evalArgs(data, server.baseUrl, out));
    assertEquals(again.code, 0, again.err);
    const res2 = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assertEquals([res2.benchmarks.ours.n, res2.benchmarks.ours.mean], [4, 1]);
  } finally {
    await server.close();
  }
});

Deno.test("--timeout-s beyond setTimeout's 32-bit range does not time out at once", async () => {
  const data = await plantedDataset(2);
  const server = await MockOpenAI.start({ latencyMs: 30, script: (r) => right(r.prompt) });
  try {
    const out = await Deno.makeTempDir();
    const r = await cli(...evalArgs(data, server.baseUrl, out, "--timeout-s", "3000000"));
    assertEquals(r.code, 0, r.err);
    assertEquals(server.log.length, 2, "one request per item, no timeout retries");
    assertEquals(JSON.parse(await Deno.readTextFile(`${out}/results.json`)).benchmarks.ours.n, 2);
  } finally {
    await server.close();
  }
});

Deno.test("every item failed: the report says n/a, not 0.0; an empty data file is an error", async () => {
  const data = await plantedDataset(3);
  const server = await MockOpenAI.start({ script: () => ({ kind: "status", status: 400 }) });
  try {
    const out = await Deno.makeTempDir();
    const r = await cli(...evalArgs(data, server.baseUrl, out));
    assertEquals(r.code, 1);
    assertMatch(r.out, /^ours\s+n\/a\s+\(n 0, 3 failed\)$/m);
    assertMatch(r.out, /^average\s+n\/a$/m);
    assert(!/0\.0/.test(r.out), r.out);
    const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assertEquals(res.average, null);
    assertMatch(
      await Deno.readTextFile(`${out}/report.md`),
      /\| openai:mock \| n\/a \| n\/a \|[^]*reward: n\/a \(n = 0; 3 failed/,
    );
    const empty = await plantedDataset(0);
    const e = await cli(...evalArgs(empty, server.baseUrl, out));
    assertEquals(e.code, 1);
    assert(e.err.includes(`benchmark ours: no items in ${empty}`), e.err);
  } finally {
    await server.close();
  }
});
