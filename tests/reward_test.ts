/** `golongrl reward` and `golongrl reward serve`, end to end. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";
import { rewardHandler } from "../reward/server.ts";

const SAMPLES = [
  { id: "em1", data_source: "EM", reward_model: { ground_truth: { golden_label: "Ishmael" } } },
  { id: "mc1", data_source: "selection", reward_model: { ground_truth: { golden_label: "B" } } },
  {
    id: "rank1",
    data_source: "longbench_pro",
    reward_model: { ground_truth: { doc_ids: ["A", "B", "C"], summary: "English" } },
    extra_info: { reward_mode: "T1.1 Global Cohesive Retrieval" },
  },
  {
    id: "f1",
    data_source: "longbench_pro",
    reward_model: { ground_truth: { doc_ids: ["x", "y", "z"] } },
    extra_info: { reward_mode: "T5.1 Full-Sentence Citation Alignment" },
  },
];
const RESPONSES = [
  { id: "em1", response: "<think>who?</think> Ishmael " },
  { id: "em1", response: "<think>who?</think>ishmael" },
  { id: "mc1", response: "<think>hmm</think>The correct answer is (B)" },
  { id: "rank1", response: "<think>…</think>\n[Answer]\nB\nA\nC" },
  { id: "f1", response: "</think>[Answer]\nx\ny\nw" },
  { id: "f1", response: "no think tag at all [Answer]\nx\ny\nz" },
];

async function files(samples: unknown[], responses: unknown[]) {
  const dir = await Deno.makeTempDir();
  const jl = (xs: unknown[]) =>
    xs.map((x) => typeof x === "string" ? x : JSON.stringify(x)).join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/samples.jsonl`, jl(samples));
  await Deno.writeTextFile(`${dir}/responses.jsonl`, jl(responses));
  return dir;
}

Deno.test("reward scores each response with its sample's verifier", async () => {
  const dir = await files(SAMPLES, RESPONSES);
  const r = await cli(
    "reward",
    "--quiet",
    "--data",
    `${dir}/samples.jsonl`,
    "--responses",
    `${dir}/responses.jsonl`,
    "--out",
    `${dir}/scores.jsonl`,
  );
  assertEquals(r.code, 0, r.err);
  const lines = (await Deno.readTextFile(`${dir}/scores.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assertEquals(lines.map((l) => [l.id, l.sample]), [
    ["em1", 0],
    ["em1", 1],
    ["mc1", 0],
    ["rank1", 0],
    ["f1", 0],
    ["f1", 1],
  ]);
  const rewards = lines.map((l) => l.reward);
  assertEquals(rewards[0], 1); // trimmed, exact
  assertEquals(rewards[1], 0); // case-sensitive
  assertEquals(rewards[2], 1);
  assert(Math.abs(rewards[3] - 0.92249) < 1e-5, `ndcg ${rewards[3]}`);
  assert(Math.abs(rewards[4] - 2 / 3) < 1e-9, `f1 ${rewards[4]}`);
  assertEquals(rewards[5], 0); // format gate: no </think>
  assertEquals(lines[0].task, "precise_retrieval");
  assertEquals(lines[3].task_key, "NDCG");
  assertEquals(lines[3].task, "graded_ranking");
  // The per-task table: n, mean, zeros, errors.
  assertMatch(r.err, /task\s+n\s+mean\s+zeros\s+errors/);
  assertMatch(r.err, /precise_retrieval\s+2\s+0\.5000\s+1\s+0/);
  assertMatch(r.err, /all\s+6\s/);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "responses.jsonl",
    "samples.jsonl",
    "scores.jsonl",
  ]);
});

Deno.test("--format none scores non-thinking responses; stdout when no --out", async () => {
  const dir = await files(SAMPLES, [{ id: "f1", response: "[Answer]\nx\ny\nz" }]);
  const gated = await cli(
    "reward",
    "-q",
    "--data",
    `${dir}/samples.jsonl`,
    "--responses",
    `${dir}/responses.jsonl`,
  );
  assertEquals(JSON.parse(gated.out).reward, 0);
  const r = await cli(
    "reward",
    "-q",
    "--format",
    "none",
    "--data",
    `${dir}/samples.jsonl`,
    "--responses",
    `${dir}/responses.jsonl`,
  );
  assertEquals(r.code, 0, r.err);
  assertEquals(JSON.parse(r.out).reward, 1);
});

Deno.test("bad input names the file, line and field, and writes nothing", async () => {
  const cases: [unknown[], unknown[], RegExp][] = [
    [
      SAMPLES,
      [RESPONSES[0], { id: "nope", response: "x" }],
      /responses\.jsonl, line 2, field "id": no sample with id "nope"/,
    ],
    [SAMPLES, [RESPONSES[0], "{not json"], /responses\.jsonl, line 2: invalid JSON/],
    [SAMPLES, [{ id: "em1" }], /responses\.jsonl, line 1, field "response": missing/],
    [
      [SAMPLES[0], SAMPLES[0]],
      RESPONSES,
      /samples\.jsonl, line 2, field "id": duplicate sample id "em1"/,
    ],
    [
      [{ id: "a", reward_model: {}, data_source: "EM" }],
      RESPONSES,
      /samples\.jsonl, line 1, field "reward_model\.ground_truth": missing/,
    ],
    [
      [{ id: "a", reward_model: { ground_truth: "x" } }],
      RESPONSES,
      /samples\.jsonl, line 1, field "data_source"/,
    ],
  ];
  for (const [s, resp, re] of cases) {
    const dir = await files(s, resp);
    const r = await cli(
      "reward",
      "-q",
      "--data",
      `${dir}/samples.jsonl`,
      "--responses",
      `${dir}/responses.jsonl`,
      "--out",
      `${dir}/scores.jsonl`,
    );
    assertEquals(r.code, 1, re.source);
    assertMatch(r.err, re);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "responses.jsonl",
      "samples.jsonl",
    ], "no partial output");
  }
  const missing = await cli("reward", "--data", "x.jsonl");
  assertEquals(missing.code, 2);
  assertMatch(missing.err, /--responses is required/);
});

function post(
  handler: (r: Request) => Promise<Response>,
  body: BodyInit,
  headers: Record<string, string> = { "content-type": "application/json" },
) {
  return handler(new Request("http://localhost/score", { method: "POST", body, headers }));
}

Deno.test("serve: single, array, {batch} and verl's batched form", async () => {
  const h = rewardHandler({ maxBodyBytes: 1 << 20, reward: {} });
  const one = {
    data_source: "EM",
    solution_str: "<think>x</think>Ishmael",
    ground_truth: { golden_label: "Ishmael" },
    extra_info: { reward_mode: "EM" },
  };
  let res = await post(h, JSON.stringify(one));
  assertEquals(res.status, 200);
  const single = await res.json();
  assertEquals(single.score, 1);
  assertEquals(single.task_key, "EM");
  const wrong = { ...one, solution_str: "<think>x</think>Ahab" };
  res = await post(h, JSON.stringify([one, wrong]));
  assertEquals((await res.json()).scores, [1, 0]);
  res = await post(h, JSON.stringify({ batch: [wrong, one] }));
  assertEquals((await res.json()).scores, [0, 1]);
  res = await post(
    h,
    JSON.stringify({
      data_sources: ["EM", "selection"],
      solution_strs: ["</think>Ishmael", "</think>The correct answer is (D)"],
      ground_truths: [{ golden_label: "Ishmael" }, { golden_label: "D" }],
      extra_infos: [null, null],
    }),
  );
  assertEquals((await res.json()).scores, [1, 1]);
  // A verifier failure is a 0 with an error, not a 500.
  res = await post(h, JSON.stringify({ ...one, data_source: "no_such_source" }));
  assertEquals(res.status, 200);
  const bad = await res.json();
  assertEquals(bad.score, 0);
  assert(typeof bad.error === "string" && bad.error.length > 0);
});

Deno.test("serve: malformed JSON 400, missing field 400, oversized 413, 404, 405", async () => {
  const h = rewardHandler({ maxBodyBytes: 1000, reward: {} });
  let res = await post(h, '{"data_source": ');
  assertEquals(res.status, 400);
  assertMatch((await res.json()).error, /malformed JSON/);
  res = await post(h, JSON.stringify({ data_source: "EM", ground_truth: "x" }));
  assertEquals(res.status, 400);
  assertMatch((await res.json()).error, /"solution_str" must be a string/);
  res = await post(h, JSON.stringify([{ data_source: "EM", solution_str: "x" }]));
  assertEquals(res.status, 400);
  assertMatch((await res.json()).error, /item 0: "ground_truth" is missing/);
  res = await post(
    h,
    JSON.stringify({ data_sources: ["EM"], solution_strs: ["a", "b"], ground_truths: [] }),
  );
  assertEquals(res.status, 400);
  res = await post(h, "x".repeat(2000));
  assertEquals(res.status, 413);
  // Without a Content-Length (streamed body) the limit still holds.
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(400).fill(32));
      c.close();
    },
  });
  res = await post(h, stream);
  assertEquals(res.status, 413);
  res = await h(new Request("http://localhost/other"));
  assertEquals(res.status, 404);
  res = await h(new Request("http://localhost/score"));
  assertEquals(res.status, 405);
  res = await h(new Request("http://localhost/health"));
  assertEquals((await res.json()).status, "ok");
});

Deno.test("serve over real HTTP: concurrent requests, a slow client does not block others", async () => {
  const p = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      `${ROOT}/main.ts`,
      "reward",
      "serve",
      "--port",
      "0",
      "--max-body-mb",
      "0.01",
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = p.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!/listening on (\S+)/.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${seen}`);
    seen += value;
  }
  const url = /listening on (\S+)/.exec(seen)![1];
  try {
    // A slow client: its body trickles in over ~600 ms.
    let finishedSlow = 0;
    const slowBody = new ReadableStream<Uint8Array>({
      async start(c) {
        const enc = new TextEncoder();
        const text = JSON.stringify({
          data_source: "EM",
          solution_str: "</think>a",
          ground_truth: { golden_label: "a" },
        });
        for (const part of [text.slice(0, 10), text.slice(10)]) {
          c.enqueue(enc.encode(part));
          await new Promise((r) => setTimeout(r, 600));
        }
        c.close();
      },
    });
    const slow = fetch(url, {
      method: "POST",
      body: slowBody,
      headers: { "content-type": "application/json" },
    })
      .then(async (r) => {
        finishedSlow = performance.now();
        return (await r.json()).score;
      });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const fast = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          data_source: "EM",
          solution_str: `</think>${i % 2 ? "a" : "b"}`,
          ground_truth: { golden_label: "a" },
        }),
      }).then((r) => r.json())));
    const fastDone = performance.now();
    assertEquals(fast.map((r) => r.score), Array.from({ length: 40 }, (_, i) => (i % 2 ? 1 : 0)));
    assertEquals(await slow, 1);
    assert(fastDone < finishedSlow, "40 requests finished while the slow one was still sending");
    assert(fastDone - t0 < 1000);
    const big = await fetch(url, { method: "POST", body: "x".repeat(20000) });
    assertEquals(big.status, 413);
    await big.body?.cancel();
  } finally {
    p.kill("SIGTERM");
    await reader.cancel();
    await p.status;
  }
});

Deno.test("--zh-segmenter jieba changes Chinese summary scores as the reference's segmentation does", async () => {
  const ref = "中国科学院计算技术研究所发布了新的编程语言。";
  const dir = await files([{
    id: "zh",
    data_source: "longbench_pro",
    reward_model: { ground_truth: { doc_ids: [ref], summary: "Chinese" } },
    extra_info: { reward_mode: "T4.2 Query-Focused Summary" },
  }], [{ id: "zh", response: "</think>中国的学院发布了语言。" }]);
  const args = [
    "reward",
    "-q",
    "--data",
    `${dir}/samples.jsonl`,
    "--responses",
    `${dir}/responses.jsonl`,
  ];
  const icu = JSON.parse((await cli(...args)).out).reward;
  const jieba = JSON.parse((await cli(...args, "--zh-segmenter", "jieba")).out).reward;
  await cli(...args, "--zh-segmenter", "icu"); // restore the process-wide default
  assert(icu > 0 && jieba >= 0 && icu !== jieba, `icu ${icu} jieba ${jieba}`);
});

Deno.test("bench rewards measures every verifier on real book text", async () => {
  const books = `${ROOT}/../shared/corpora/books`;
  const r = await cli(
    "bench",
    "rewards",
    "-q",
    "--json",
    "--books",
    books,
    "--tokens",
    "256,512",
    "--seconds",
    "0.01",
  );
  assertEquals(r.code, 0, r.err);
  const rows = JSON.parse(r.out) as {
    verifier: string;
    tokens: number;
    responsesPerSec: number;
    target: number;
    ratio: number;
    meanReward: number;
  }[];
  assertEquals(rows.length, 20);
  assertEquals(new Set(rows.map((x) => x.verifier)).size, 10);
  for (const x of rows) {
    assert(x.responsesPerSec > 0 && Number.isFinite(x.ratio), x.verifier);
    assertEquals(x.ratio, x.responsesPerSec / x.target);
    assert(x.meanReward >= 0 && x.meanReward <= 1);
  }
  // The planted answers are right for em, selection, math and accuracy.
  for (const v of ["em", "selection", "math", "accuracy"]) {
    assertEquals(rows.find((x) => x.verifier === v)!.meanReward, 1, v);
  }
  const bad = await cli("bench", "rewards", "--books", "/nonexistent");
  assertEquals(bad.code, 2);
  assertMatch(bad.err, /--books \/nonexistent: not a folder/);
});
