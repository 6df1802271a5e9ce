/**
 * `golongrl eval` as the official harnesses run it, end to end against the logging mock
 * OpenAI server: every benchmark's long records in its upstream schema and file format (MRCR as
 * an HF parquet shard folder, LongBench-E files in folder mode), `--max-input-tokens` with the
 * real Qwen3 tokenizer (no request over the limit, the question whole, every item scored), each
 * benchmark's own generation budget, sampling and answer prefix, and what results.json records.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";
import { MockOpenAI, type MockRequest } from "../eval/backends/mock_openai.ts";
import { loadTokenizer, type Tokenizer } from "../core/tokenizer/tokenizer.ts";
import { writeRecordsParquet } from "../core/parquet.ts";
import { promptTokens } from "../eval/fit.ts";
import { getBenchmark } from "../eval/benchmarks/mod.ts";
import { OpenAIBackend } from "../eval/backends/openai.ts";
import { LocalBackend } from "../eval/backends/local.ts";

const SHARED = `${ROOT}/../shared`;
const TOKENIZER = `${SHARED}/tokenizers/qwen3`;

/** A distinct long passage of real text (~3K tokens) per record. */
async function passages(): Promise<(i: number) => string> {
  const text = await Deno.readTextFile(`${SHARED}/corpora/books/pg1342_pride_and_prejudice.txt`);
  return (i) => text.slice(20_000 + i * 14_000, 20_000 + i * 14_000 + 12_000);
}

/** Questions, one per benchmark: each must reach the model whole. */
const Q = {
  lbv2: "Which sister does Mr. Darcy eventually marry in the novel?",
  hotpot: "Which estate does Mr. Bingley rent near Meryton?",
  qasper: "What does Mrs. Bennet want for her daughters?",
  docmath: "What is the total income of Mr. Bingley over two years, in pounds?",
  frames: "Who wrote the novel whose heroine is Elizabeth Bennet?",
  corpus: "Which character owns Pemberley?",
  lme: "What did I say my favourite novel was?",
};

async function writeFixtures(dir: string): Promise<Record<string, string>> {
  const doc = await passages();
  const w = (p: string, s: string) => Deno.writeTextFile(`${dir}/${p}`, s);
  const jsonl = (rs: unknown[]) => rs.map((r) => JSON.stringify(r)).join("\n") + "\n";
  // LongBench v2 data.json (a JSON array).
  await w(
    "lbv2.json",
    JSON.stringify([{
      _id: "66f36490821e116aacb2cc22",
      domain: "Single-Document QA",
      sub_domain: "Literary",
      difficulty: "easy",
      length: "short",
      question: Q.lbv2,
      choice_A: "Jane",
      choice_B: "Elizabeth",
      choice_C: "Lydia",
      choice_D: "Mary",
      answer: "B",
      context: doc(0),
    }]),
  );
  // LongBench data/*.jsonl and LongBench-E *_e.jsonl in one folder.
  await Deno.mkdir(`${dir}/lb`);
  const lb = (dataset: string, input: string, i: number, id: string) => ({
    input,
    context: doc(i),
    answers: ["Netherfield Park"],
    length: 2500,
    dataset,
    language: "en",
    all_classes: null,
    _id: id,
  });
  await w("lb/hotpotqa.jsonl", jsonl([lb("hotpotqa", Q.hotpot, 1, "hp0")]));
  await w("lb/qasper_e.jsonl", jsonl([lb("qasper_e", Q.qasper, 2, "qe0")]));
  // MRCR: an HF parquet shard folder (openai/mrcr `2needle/2needle_0.parquet`).
  await Deno.mkdir(`${dir}/mrcr/2needle`, { recursive: true });
  const turns = [];
  for (let t = 0; t < 8; t++) {
    turns.push({ role: "user", content: `Write a poem about tapirs, number ${t}` });
    turns.push({ role: "assistant", content: doc(3).slice(t * 1400, t * 1400 + 1400) });
  }
  const mrcrQuery =
    "Prepend aZ3kQ9 to the 2nd (1 indexed) poem about tapirs. Do not include any other text in your response.";
  turns.push({ role: "user", content: mrcrQuery });
  await writeRecordsParquet(
    `${dir}/mrcr/2needle/2needle_0.parquet`,
    [
      { name: "prompt", type: "string" },
      { name: "answer", type: "string" },
      { name: "random_string_to_prepend", type: "string" },
      { name: "n_needles", type: "int64" },
      { name: "desired_msg_index", type: "int64" },
      { name: "total_messages", type: "int64" },
      { name: "n_chars", type: "int64" },
      { name: "date_added", type: "string" },
    ],
    [{
      prompt: JSON.stringify(turns),
      answer: "aZ3kQ9" + turns[3].content,
      random_string_to_prepend: "aZ3kQ9",
      n_needles: 2n,
      desired_msg_index: 3n,
      total_messages: BigInt(turns.length),
      n_chars: BigInt(JSON.stringify(turns).length),
      date_added: "04-12-2025",
    }],
  );
  // DocMath-Eval complong_testmini.jsonl.
  await w(
    "complong_testmini.jsonl",
    jsonl([{
      question_id: "complong-testmini-0",
      question: Q.docmath,
      paragraphs: doc(4).split("\n\n"),
      ground_truth: 10000.0,
    }]),
  );
  // evalscope iic/frames test.jsonl (wiki_items attached).
  await w(
    "frames.jsonl",
    jsonl([{
      "Unnamed: 0": 0,
      Prompt: Q.frames,
      Answer: "Jane Austen",
      reasoning_types: "Multiple constraints",
      wiki_items: [{ title: "Pride and Prejudice", text: doc(5) }],
    }]),
  );
  // CorpusQA 128k_4domains.jsonl: dataset chat prompt, list answer.
  await Deno.mkdir(`${dir}/corpusqa`);
  await w(
    "corpusqa/128k_4domains.jsonl",
    jsonl([{
      id: "education_en_0007",
      prompt: [
        { role: "system", content: "You are an analyst reading a corpus of documents." },
        { role: "user", content: `Documents:\n${doc(6)}\n\nQuestion: ${Q.corpus}\nThe answer is:` },
      ],
      question: Q.corpus,
      answer: ["Mr. Darcy", 7700.0],
    }]),
  );
  // LongMemEval longmemeval_s_cleaned.json.
  await w(
    "longmemeval_s.json",
    JSON.stringify([{
      question_id: "e47becba",
      question_type: "single-session-user",
      question: Q.lme,
      answer: "Pride and Prejudice",
      question_date: "2023/05/30 (Tue) 23:40",
      haystack_dates: ["2023/05/20 (Sat) 02:21", "2023/05/21 (Sun) 10:00"],
      haystack_session_ids: ["s1", "s2"],
      haystack_sessions: [
        [{ role: "user", content: doc(7) }, { role: "assistant", content: "Noted." }],
        [{ role: "user", content: "My favourite novel is Pride and Prejudice." }],
      ],
      answer_session_ids: ["s2"],
    }]),
  );
  return {
    "longbench-v2": `${dir}/lbv2.json`,
    "longbench-v1": `${dir}/lb`,
    mrcr: `${dir}/mrcr`,
    docmath: `${dir}/complong_testmini.jsonl`,
    frames: `${dir}/frames.jsonl`,
    corpusqa: `${dir}/corpusqa`,
    longmemeval: `${dir}/longmemeval_s.json`,
  };
}

const BENCHES = [
  "longbench-v2",
  "longbench-v1",
  "longbench-v1-qa",
  "mrcr",
  "docmath",
  "frames",
  "corpusqa",
  "longmemeval",
  "ruler",
];

async function run(
  server: MockOpenAI,
  data: Record<string, string>,
  out: string,
  extra: string[],
) {
  return await cli(
    "eval",
    "-q",
    "--bench",
    BENCHES.join(","),
    ...Object.entries(data).flatMap(([k, v]) => [`--data-${k}`, v]),
    "--lengths",
    "2k",
    "--limit",
    "2",
    "--endpoint",
    server.baseUrl,
    "--model-name",
    "mock",
    "--tokenizer",
    TOKENIZER,
    "--out",
    out,
    ...extra,
  );
}

/** The benchmark a logged request belongs to, by its question. */
function benchOf(r: MockRequest): string {
  const p = r.prompt;
  if (p.includes(Q.lbv2)) return "longbench-v2";
  if (p.includes(Q.hotpot) || p.includes(Q.qasper)) {
    return p.includes("Therefore, the answer is") ? "longbench-v1-qa" : "longbench-v1";
  }
  if (p.includes("Prepend aZ3kQ9")) return "mrcr";
  if (p.includes(Q.docmath)) return "docmath";
  if (p.includes(Q.frames)) return "frames";
  if (p.includes(Q.corpus)) return "corpusqa";
  if (p.includes(Q.lme)) return "longmemeval";
  return "ruler";
}

let tokP: Promise<Tokenizer> | undefined;
const tok = () => (tokP ??= loadTokenizer(TOKENIZER));

Deno.test("eval --max-input-tokens: no request over the limit on any benchmark, the question whole, every item scored", async () => {
  const dir = await Deno.makeTempDir();
  const data = await writeFixtures(dir);
  const server = await MockOpenAI.start({
    script: () => ({ kind: "answer", text: "<think>hm</think>Therefore, the answer is x" }),
  });
  const max = 1500;
  let r;
  try {
    r = await run(server, data, `${dir}/out`, ["--max-input-tokens", String(max)]);
  } finally {
    await server.close();
  }
  assertEquals(r.code, 0, r.err);
  const t = await tok();
  const seen = new Map<string, number>();
  for (const req of server.log) {
    const body = req.body as {
      messages: { role: "system" | "user" | "assistant"; content: string }[];
      continue_final_message?: boolean;
    };
    const prefill = body.continue_final_message ? body.messages.at(-1)!.content : undefined;
    const msgs = prefill ? body.messages.slice(0, -1) : body.messages;
    const n = promptTokens(t, msgs, prefill);
    const b = benchOf(req);
    assert(n <= max, `${b}: ${n} prompt tokens > ${max}`);
    seen.set(b, (seen.get(b) ?? 0) + 1);
  }
  // Every benchmark sent its items (LongBench v1 and LBV1-QA: hotpotqa and qasper_e each).
  assertEquals(
    Object.fromEntries([...seen].sort()),
    {
      corpusqa: 1,
      docmath: 1,
      frames: 1,
      "longbench-v1": 2,
      "longbench-v1-qa": 2,
      "longbench-v2": 1,
      longmemeval: 1,
      mrcr: 1,
      ruler: 22,
    },
  );
  // The questions and system prompts survive whole.
  const prompts = server.log.map((x) => x.prompt).join("\n\n");
  for (const q of Object.values(Q)) assert(prompts.includes(q), `question kept: ${q}`);
  assert(prompts.includes("You are an analyst reading a corpus of documents."));
  // RULER: each item's text after the haystack (the query) reaches the model whole.
  const rulerPrompts = server.log.filter((x) => benchOf(x) === "ruler").map((x) => x.prompt);
  let rulerItems = 0;
  for await (
    const it of getBenchmark("ruler")!.load({ seed: 0, lengths: [2048], limit: 2, tokenizer: t })
  ) {
    const span = it.meta!.contextSpan as [number, number];
    const query = it.messages[0].content.slice(span[1]);
    assert(
      query.length > 20 && rulerPrompts.some((p) => p.includes(query)),
      `RULER query kept: ${query}`,
    );
    rulerItems++;
  }
  assertEquals(rulerItems, 22);
  const lme = server.log.find((x) => benchOf(x) === "longmemeval")!;
  assertEquals((lme.body as { messages: { role: string }[] }).messages[0].role, "system");
  const mrcr = server.log.find((x) => benchOf(x) === "mrcr")!;
  const mm = (mrcr.body as { messages: { role: string; content: string }[] }).messages;
  assertEquals(mm.length, 2);
  assert(mm[1].content.startsWith("Prepend aZ3kQ9"));
  const res = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  for (const b of BENCHES) {
    assertEquals(res.benchmarks[b].failed.n, 0, b);
    assert(res.benchmarks[b].n >= 1, b);
    assertEquals(res.benchmarks[b].generation.maxInputTokens, max);
  }
  assert(res.benchmarks["longbench-v2"].generation.truncated === 1);
});

Deno.test("eval sends each benchmark's own budget, sampling and answer prefix; flags override; results record them", async () => {
  const dir = await Deno.makeTempDir();
  const data = await writeFixtures(dir);
  const server = await MockOpenAI.start({ script: () => ({ kind: "answer", text: "x" }) });
  let r;
  try {
    r = await run(server, data, `${dir}/a`, []);
  } finally {
    await server.close();
  }
  assertEquals(r.code, 0, r.err);
  type Body = {
    max_tokens: number;
    temperature: number;
    top_p: number;
    continue_final_message?: boolean;
    messages: { role: string; content: string }[];
  };
  const sent = new Map<string, Set<string>>();
  for (const req of server.log) {
    const b = req.body as Body;
    const k = benchOf(req) +
      (benchOf(req) === "longbench-v1" || benchOf(req) === "longbench-v1-qa"
        ? (req.prompt.includes(Q.hotpot) ? "/hotpotqa" : "/qasper")
        : "");
    if (!sent.has(k)) sent.set(k, new Set());
    sent.get(k)!.add(`${b.max_tokens} ${b.temperature} ${b.top_p}`);
    if (benchOf(req) === "ruler") {
      // RULER's answer prefix starts the assistant turn.
      assertEquals(b.continue_final_message, true);
      assertEquals(b.messages.at(-1)!.role, "assistant");
      assert(b.messages.at(-1)!.content.length > 0);
    } else {
      assertEquals(b.continue_final_message, undefined);
    }
  }
  const one = (k: string) => [...sent.get(k)!];
  assertEquals(one("longbench-v2"), ["128 0.1 1"]); // pred.py
  assertEquals(one("longbench-v1/hotpotqa"), ["32 0 1"]); // dataset2maxlen, greedy
  assertEquals(one("longbench-v1/qasper"), ["128 0 1"]);
  for (const k of ["docmath", "frames", "mrcr", "corpusqa", "longmemeval"]) {
    assertEquals(one(k), ["51200 0.7 0.95"], k);
  }
  assertEquals(one("longbench-v1-qa/hotpotqa"), ["51200 0.7 0.95"]);
  // RULER: tokens_to_generate per task (128 for NIAH, 30 for vt, ...), greedy.
  for (const s of one("ruler")) assertMatch(s, /^\d+ 0 1$/);
  assert(one("ruler").length > 1, "RULER budgets differ by task");
  const res = JSON.parse(await Deno.readTextFile(`${dir}/a/results.json`));
  assertEquals(res.benchmarks["longbench-v2"].generation, {
    temperature: 0.1,
    topP: 1,
    maxTokens: [128],
    answerPrefixed: 0,
    source: "LongBench v2 pred.py (temperature 0.1, max_new_tokens 128)",
    overridden: [],
    maxInputTokens: null,
    truncated: 0,
    unsendable: 0,
    average: "items",
  });
  assertEquals(res.benchmarks["longbench-v1"].generation.maxTokens, [32, 128]);
  assertEquals(res.benchmarks["longbench-v1-qa"].generation.average, "subsets");
  assert(res.benchmarks.ruler.generation.answerPrefixed > 0);
  const report = await Deno.readTextFile(`${dir}/a/report.md`);
  assertMatch(report, /Sent: temperature 0\.1, top_p 1, max_tokens 128 \(LongBench v2 pred\.py/);

  // Each flag overrides on its own, for every benchmark; --no-answer-prefix drops the prefill.
  const s2 = await MockOpenAI.start({ script: () => ({ kind: "answer", text: "x" }) });
  try {
    r = await run(s2, data, `${dir}/b`, [
      "--max-tokens",
      "77",
      "--temperature",
      "0.3",
      "--no-answer-prefix",
    ]);
  } finally {
    await s2.close();
  }
  assertEquals(r.code, 0, r.err);
  for (const req of s2.log) {
    const b = req.body as Body;
    assertEquals([b.max_tokens, b.temperature], [77, 0.3]);
    assertEquals(b.continue_final_message, undefined);
  }
  // top_p was not overridden: still each benchmark's own.
  assertEquals(
    [...new Set(s2.log.map((x) => `${benchOf(x)} ${(x.body as Body).top_p}`))].sort().filter((
      s,
    ) => s.startsWith("frames") || s.startsWith("longbench-v2")),
    ["frames 0.95", "longbench-v2 1"],
  );
  const res2 = JSON.parse(await Deno.readTextFile(`${dir}/b/results.json`));
  assertEquals(res2.benchmarks.frames.generation.overridden, ["max_tokens", "temperature"]);
});

Deno.test("eval: an item that cannot fit is failed with its reason and named in the report, never dropped silently", async () => {
  const dir = await Deno.makeTempDir();
  const data = await writeFixtures(dir);
  const server = await MockOpenAI.start({ script: () => ({ kind: "answer", text: "x" }) });
  let r;
  try {
    // 40 tokens: the LongMemEval system prompt alone is longer.
    r = await cli(
      "eval",
      "-q",
      "--bench",
      "longmemeval",
      "--data-longmemeval",
      data.longmemeval,
      "--endpoint",
      server.baseUrl,
      "--model-name",
      "mock",
      "--tokenizer",
      TOKENIZER,
      "--max-input-tokens",
      "40",
      "--out",
      `${dir}/out`,
    );
  } finally {
    await server.close();
  }
  assertEquals(r.code, 1, "a failed item makes the run exit 1");
  assertEquals(server.log.length, 0, "nothing over the limit is sent");
  const res = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  const b = res.benchmarks.longmemeval;
  assertEquals(b.n, 0);
  assertEquals(b.failed.ids, ["longmemeval/e47becba"]);
  assertMatch(b.failed.reasons["longmemeval/e47becba"], /does not fit --max-input-tokens/);
  assertEquals(b.generation.unsendable, 1);
  const report = await Deno.readTextFile(`${dir}/out/report.md`);
  assertMatch(report, /\| longmemeval\/e47becba \| does not fit --max-input-tokens/);
});

Deno.test("an answer prefix continues the assistant turn: OpenAI body (vLLM continue_final_message) and local prompt", () => {
  const req = {
    messages: [{ role: "user" as const, content: "Find the magic number." }],
    maxTokens: 8,
    temperature: 0,
    topP: 1,
  };
  const api = new OpenAIBackend({ baseUrl: "http://127.0.0.1:9/v1", model: "m" });
  const plain = api.body(req);
  assertEquals(plain.messages, req.messages);
  assertEquals("continue_final_message" in plain, false);
  const pre = api.body({ ...req, prefill: " The magic number is" });
  assertEquals(pre.messages, [
    ...req.messages,
    { role: "assistant", content: " The magic number is" },
  ]);
  assertEquals([pre.continue_final_message, pre.add_generation_prompt], [true, false]);
  assertEquals(req.messages.length, 1, "the request is not mutated");
  // Local: the chat template with the generation prompt, then the prefix.
  const tok = {
    encode: (t: string) => [...t].map((c) => c.charCodeAt(0)),
    decode: (ids: readonly number[]) => String.fromCharCode(...ids),
    eosIds: [0],
    applyChatTemplate: (ms: readonly { role: string; content: string }[], o?: {
      addGenerationPrompt?: boolean;
    }) =>
      ms.map((m) => `<${m.role}>${m.content}`).join("") +
      (o?.addGenerationPrompt ? "<assistant>" : ""),
  };
  const local = new LocalBackend({} as never, tok);
  assertEquals(
    tok.decode(local.promptIds(req.messages, " The magic number is")),
    "<user>Find the magic number.<assistant> The magic number is",
  );
  assertEquals(
    tok.decode(local.promptIds(req.messages)),
    "<user>Find the magic number.<assistant>",
  );
});
