/**
 * Eval backends against a real local HTTP server (eval/backends/mock_openai.ts): answers,
 * retries (429, 500, truncated JSON, dropped connections, timeouts) and Retry-After,
 * concurrency, key handling; the local WebGPU backend's micro-batching on the tiny fixture;
 * middle truncation, thinking removal and judge verdict parsing.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { type MockAction, MockOpenAI, plantedAnswer } from "../eval/backends/mock_openai.ts";
import {
  backoffDelay,
  chatCompletionsUrl,
  OpenAIBackend,
  type OpenAIBackendOptions,
  OpenAIError,
  parseRetryAfter,
} from "../eval/backends/openai.ts";
import type { ChatRequest } from "../core/chat/backend.ts";
import {
  middleTruncateIds,
  stripThinking,
  truncateMessagesMiddle,
  truncateMiddle,
  truncateMiddleChars,
  type TruncTokenizer,
} from "../eval/truncate.ts";
import { judge, judgeAny, judgeBenchmark, judgeMessages, parseVerdict } from "../eval/judge.ts";
import { checkpointId, LocalBackend, type LocalTokenizer } from "../eval/backends/local.ts";
import { acquireGpu } from "../core/gpu/device.ts";
import { loadModel } from "../engine/load.ts";
import { evalThroughputBench } from "../bench/eval.ts";
import { ROOT } from "./helpers.ts";

const NO_KEY = "GOLONGRL_TEST_NO_SUCH_KEY";
const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: "user", content }],
  maxTokens: 32,
  temperature: 0,
  topP: 1,
  ...extra,
});
const client = (server: MockOpenAI, o: Partial<OpenAIBackendOptions> = {}) =>
  new OpenAIBackend({
    baseUrl: server.baseUrl,
    model: "mock-model",
    apiKeyEnv: NO_KEY,
    concurrency: 4,
    timeoutMs: 5000,
    maxRetries: 3,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    ...o,
  });

// ---------------------------------------------------------------- OpenAI backend

Deno.test("base URLs with or without /v1 reach /v1/chat/completions", () => {
  assertEquals(chatCompletionsUrl("http://h:8000"), "http://h:8000/v1/chat/completions");
  assertEquals(chatCompletionsUrl("http://h:8000/"), "http://h:8000/v1/chat/completions");
  assertEquals(chatCompletionsUrl("http://h:8000/v1"), "http://h:8000/v1/chat/completions");
  assertEquals(chatCompletionsUrl("http://h:8000/v1/"), "http://h:8000/v1/chat/completions");
  assertEquals(
    chatCompletionsUrl("https://h/api/v3/chat/completions"),
    "https://h/api/v3/chat/completions",
  );
  assertEquals(chatCompletionsUrl("https://h/p?x=1"), "https://h/p/chat/completions?x=1");
  let msg = "";
  try {
    chatCompletionsUrl("localhost:8000");
  } catch (e) {
    msg = (e as Error).message;
  }
  assertMatch(msg, /base URL/);
});

Deno.test("Retry-After parses seconds, HTTP dates and retry-after-ms; backoff is full jitter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assertEquals(parseRetryAfter(new Headers({ "retry-after": "2" }), now), 2000);
  assertEquals(parseRetryAfter(new Headers({ "retry-after": "0.5" }), now), 500);
  assertEquals(
    parseRetryAfter(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:03 GMT" }), now),
    3000,
  );
  assertEquals(
    parseRetryAfter(new Headers({ "retry-after": "Tue, 31 Dec 2024 00:00:00 GMT" }), now),
    0,
  );
  assertEquals(parseRetryAfter(new Headers({ "retry-after-ms": "250", "retry-after": "9" })), 250);
  assertEquals(parseRetryAfter(new Headers({ "retry-after": "soon" })), undefined);
  assertEquals(parseRetryAfter(new Headers()), undefined);
  assertEquals(backoffDelay(0, 100, 1000, () => 0.999), 99.9);
  assertEquals(backoffDelay(3, 100, 1000, () => 0.5), 400);
  assertEquals(backoffDelay(10, 100, 1000, () => 0.5), 500); // capped at maxMs
  assertEquals(backoffDelay(2, 100, 1000, () => 0), 0);
});

Deno.test("correct answers, n choices, seed and extra body pass through", async () => {
  await using server = MockOpenAI.start();
  const b = client(server, {
    extraBody: { top_k: 20, chat_template_kwargs: { enable_thinking: true } },
  });
  const [r] = await b.complete(ask("What is it? ANSWER=Paris", { seed: 1234, stop: ["\n\n"] }));
  assertEquals(r.text, "Therefore, the answer is Paris.");
  assertEquals(r.finishReason, "stop");
  assert(r.latencyMs >= 0 && r.usage !== undefined && r.usage.promptTokens === 4);
  const body = server.log[0].body!;
  assertEquals(body.model, "mock-model");
  assertEquals(body.max_tokens, 32);
  assertEquals(body.temperature, 0);
  assertEquals(body.top_p, 1);
  assertEquals(body.seed, 1234);
  assertEquals(body.stop, ["\n\n"]);
  assertEquals(body.top_k, 20);
  assertEquals(body.chat_template_kwargs, { enable_thinking: true });
  assertEquals("n" in body, false);
  assertEquals(server.log[0].path, "/v1/chat/completions");
  assertEquals(server.log[0].headers["authorization"], undefined); // no key in the env
  const many = await b.complete(ask("ANSWER=7", { n: 3 }));
  assertEquals(many.length, 3);
  assertEquals(server.log[1].body!.n, 3);
  assert(many.every((m) => m.text === "Therefore, the answer is 7."));
  assertEquals(many.filter((m) => m.usage).length, 1); // usage is per request
  assertEquals(plantedAnswer("x ANSWER=42 y"), "42");
});

Deno.test("reasoning_content comes back as reasoning, content as text", async () => {
  await using server = MockOpenAI.start({
    script: () => ({ kind: "answer", text: "The answer is 4.", reasoning: "2+2=4, so 4." }),
  });
  const [r] = await client(server).complete(ask("2+2?"));
  assertEquals(r.text, "The answer is 4.");
  assertEquals(r.reasoning, "2+2=4, so 4.");
});

Deno.test("429, 500, truncated JSON and cut bodies are retried, then succeed", async () => {
  const plan: Record<string, MockAction> = {
    rate: { kind: "status", status: 429, retryAfter: "0" },
    server: { kind: "status", status: 503 },
    json: { kind: "truncated" },
    cut: { kind: "truncated", transport: true },
  };
  await using server = MockOpenAI.start({
    script: (r) => {
      const k = /^(\w+)/.exec(r.prompt)![1];
      return r.attempt <= 2 && plan[k] ? plan[k] : undefined;
    },
  });
  const b = client(server);
  const out = await Promise.all(Object.keys(plan).map((k) => b.complete(ask(`${k} ANSWER=${k}`))));
  assertEquals(
    out.map(([r]) => r.text),
    Object.keys(plan).map((k) => `Therefore, the answer is ${k}.`),
  );
  assertEquals(b.stats.retries.rateLimit, 2);
  assertEquals(b.stats.retries.server, 2);
  assertEquals(b.stats.retries.invalidBody, 2);
  assert(b.stats.retries.network >= 1, JSON.stringify(b.stats)); // the cut bodies
  assertEquals(b.stats.failures, 0);
  assertEquals(b.stats.succeeded, 4);
});

Deno.test("dropped connections are retried, then succeed", async () => {
  await using server = MockOpenAI.start({
    script: (r) => (r.attempt <= 2 ? { kind: "drop" } : undefined),
  });
  const b = client(server);
  const [r] = await b.complete(ask("ANSWER=ok1"));
  assertEquals(r.text, "Therefore, the answer is ok1.");
  assertEquals(server.log.length, 3); // two drops, one answer
  // fetch may itself resend once on a reused keep-alive connection; the rest are ours.
  assert(b.stats.retries.network >= 1, JSON.stringify(b.stats));
  assertEquals(b.stats.failures, 0);
});

Deno.test("a request that keeps failing reports a clear error after maxRetries", async () => {
  await using server = MockOpenAI.start({
    script: () => ({ kind: "status", status: 500, message: "model crashed: CUDA error" }),
  });
  const b = client(server, { maxRetries: 2 });
  const e = await assertRejects(() => b.complete(ask("boom")), /failed after 3 attempts/);
  assert(e instanceof OpenAIError);
  assertEquals(e.status, 500);
  assertEquals(e.kind, "server");
  assertEquals(e.attempts, 3);
  assertMatch(e.message, /HTTP 500: model crashed: CUDA error/);
  assertEquals(server.log.length, 3);
  assertEquals(b.stats.failures, 1);
  assertEquals(b.stats.retries.server, 2);

  // Dropped every time: a network failure, also bounded.
  await using dropper = MockOpenAI.start({ script: () => ({ kind: "drop" }) });
  const d = client(dropper, { maxRetries: 1 });
  const e2 = await assertRejects(() => d.complete(ask("gone")), /network error/);
  assertEquals((e2 as OpenAIError).kind, "network");
});

Deno.test("other 4xx are not retried and carry the status and the server's message", async () => {
  await using server = MockOpenAI.start({
    script: () => ({
      kind: "status",
      status: 400,
      message: "This model's maximum context length is 182272 tokens.",
    }),
  });
  const b = client(server);
  const e = await assertRejects(() => b.complete(ask("long")), /HTTP 400 \(not retried\)/);
  assertMatch(e.message, /maximum context length is 182272 tokens/);
  assertEquals((e as OpenAIError).status, 400);
  assertEquals(server.log.length, 1);
  assertEquals(b.stats.failures, 1);
});

Deno.test("Retry-After is honoured (seconds), and capped", async () => {
  await using server = MockOpenAI.start({
    script: (r) => (r.attempt === 1 ? { kind: "status", status: 429, retryAfter: "1" } : undefined),
  });
  const b = client(server, { backoffBaseMs: 1, backoffMaxMs: 1 });
  await b.complete(ask("slow down"));
  const gap = server.log[1].receivedAt - server.log[0].receivedAt;
  assert(gap >= 950 && gap < 1500, `waited ${gap} ms for Retry-After: 1`);

  await using capped = MockOpenAI.start({
    script: (
      r,
    ) => (r.attempt === 1 ? { kind: "status", status: 503, retryAfter: "30" } : undefined),
  });
  const c = client(capped, { retryAfterMaxMs: 200 });
  await c.complete(ask("cap"));
  const gap2 = capped.log[1].receivedAt - capped.log[0].receivedAt;
  assert(gap2 >= 180 && gap2 < 1000, `waited ${gap2} ms with a 200 ms cap`);
  assertEquals(c.stats.retryWaitMs, 200);
});

Deno.test("per-request timeouts are retried and then reported", async () => {
  await using server = MockOpenAI.start({
    script: (r) =>
      r.prompt.startsWith("always") || r.attempt === 1
        ? { kind: "answer", delayMs: 3000 }
        : undefined,
  });
  const b = client(server, { timeoutMs: 150, maxRetries: 1 });
  const t0 = performance.now();
  const [r] = await b.complete(ask("once ANSWER=late"));
  assertEquals(r.text, "Therefore, the answer is late.");
  assertEquals(b.stats.retries.timeout, 1);
  const e = await assertRejects(() => b.complete(ask("always")), /timed out after 150 ms/);
  assertEquals((e as OpenAIError).kind, "timeout");
  assert(performance.now() - t0 < 2000, "timeouts fired late");
});

Deno.test("an external abort stops a request without retries", async () => {
  await using server = MockOpenAI.start({ latencyMs: 2000 });
  const b = client(server);
  const ctrl = new AbortController();
  const p = b.complete(ask("abort me"), ctrl.signal);
  setTimeout(() => ctrl.abort(new Error("user cancelled")), 50);
  await assertRejects(() => p, /user cancelled/);
  assertEquals(b.stats.attempts, 1);
  assertEquals(b.stats.inFlight, 0);
});

Deno.test("concurrency is used to its limit and never beyond", async () => {
  await using server = MockOpenAI.start({ latencyMs: 150 });
  const b = client(server, { concurrency: 16 });
  const t0 = performance.now();
  const rs = await Promise.all(
    Array.from({ length: 48 }, (_, i) => b.complete(ask(`q${i} ANSWER=${i}`))),
  );
  const wall = performance.now() - t0;
  assertEquals(rs.map(([r]) => r.text), rs.map((_, i) => `Therefore, the answer is ${i}.`));
  assert(server.maxInFlight >= 8, `server saw at most ${server.maxInFlight} in flight`);
  assert(server.maxInFlight <= 16, `server saw ${server.maxInFlight} > 16 in flight`);
  assert(b.stats.maxInFlight <= 16);
  assert(wall < 48 / 8 * 150, `48 requests took ${wall} ms`); // far from serial (7.2 s)
});

Deno.test("the API key goes as a Bearer token and never into errors or logs", async () => {
  const env = "GOLONGRL_TEST_EVAL_KEY";
  const key = "sk-test-0123456789abcdef";
  Deno.env.set(env, key);
  try {
    await using server = MockOpenAI.start({ requireKey: key });
    const lines: string[] = [];
    const b = client(server, { apiKeyEnv: env, log: (l) => lines.push(l) });
    const [r] = await b.complete(ask("ANSWER=k"));
    assertEquals(r.text, "Therefore, the answer is k.");
    assertEquals(server.log[0].headers["authorization"], `Bearer ${key}`);
    assert(lines.length > 0 && lines.every((l) => !l.includes(key)), lines.join("\n"));
    assert(lines.some((l) => l.includes("Bearer ***")));

    // A wrong key: the server echoes what it got; the error must not.
    const wrong = "sk-wrong-abcdefabcdef";
    Deno.env.set(env, wrong);
    const w = client(server, { apiKeyEnv: env, log: (l) => lines.push(l) });
    const e = await assertRejects(() => w.complete(ask("x")), /HTTP 401/);
    assert(!e.message.includes(wrong), e.message);
    assertMatch(e.message, /Incorrect API key provided: \*\*\*/);
    assert(lines.every((l) => !l.includes(wrong)));
  } finally {
    Deno.env.delete(env);
  }
});

// ---------------------------------------------------------------- throughput bench

Deno.test("throughput bench reports ratios against the ideal", async () => {
  const rows = await evalThroughputBench({ concurrency: [4, 16], latencyMs: 40, requests: 64 });
  assertEquals(rows.map((r) => r.concurrency), [4, 16]);
  for (const r of rows) {
    assertEquals(r.ideal, r.concurrency / 0.04);
    assert(r.ratio > 0.5 && r.ratio <= 1.05, JSON.stringify(r));
    assertEquals(r.serverMaxInFlight, r.concurrency);
  }
});

// ---------------------------------------------------------------- truncation

/** One token per UTF-16 unit: token counts are exact and easy to reason about. */
const charTok: TruncTokenizer = {
  encode: (t) => [...t].map((c) => c.codePointAt(0)!),
  decode: (ids) => String.fromCodePoint(...ids),
};

Deno.test("middle truncation keeps head and tail and respects the limit", () => {
  const ids = Array.from({ length: 100 }, (_, i) => i);
  assertEquals(middleTruncateIds(ids, 10), [0, 1, 2, 3, 4, 95, 96, 97, 98, 99]);
  assertEquals(middleTruncateIds(ids, 11).length, 10); // ⌊11/2⌋ each side, as LongBench
  assertEquals(middleTruncateIds(ids, 100), ids);
  assertEquals(middleTruncateIds(ids, 1), []);
  const text = "HEAD-" + "x".repeat(1000) + "-TAIL";
  for (const max of [10, 64, 101]) {
    const r = truncateMiddle(charTok, text, max);
    assert(r.truncated);
    assertEquals(r.tokens, 1010);
    assertEquals(charTok.encode(r.text).length, max - (max % 2));
    assert(r.text.startsWith("HEAD-") && r.text.endsWith("-TAIL"), r.text);
  }
  assertEquals(truncateMiddle(charTok, "short", 10), {
    text: "short",
    truncated: false,
    tokens: 5,
    keptTokens: 5,
  });
  const halves = truncateMiddle(charTok, text, 10, { decodeHalves: true });
  assertEquals(halves.text, "HEAD--TAIL");
});

Deno.test("multi-turn truncation keeps the last message whole (MRCR rule)", () => {
  const msgs = [
    { role: "user" as const, content: "a".repeat(1000) },
    { role: "assistant" as const, content: "b".repeat(1000) },
    { role: "user" as const, content: "QUERY" },
  ];
  // budget = 1100 - 5 - 1024 = 71 → 35 + 35 tokens of "a…\nb…"
  const r = truncateMessagesMiddle(charTok, msgs, 1100);
  assert(r.truncated);
  assertEquals(r.tokens, 2005);
  assertEquals(r.messages.length, 2);
  assertEquals(r.messages[1], msgs[2]);
  assertEquals(r.messages[0], { role: "user", content: "a".repeat(35) + "b".repeat(35) });
  // Fits: unchanged. No budget: only the query.
  assertEquals(truncateMessagesMiddle(charTok, msgs, 2005).messages, msgs);
  assertEquals(truncateMessagesMiddle(charTok, msgs, 1000).messages, [msgs[2]]);
  // With a chat template, the rendered conversation is what is counted.
  const templ: TruncTokenizer = {
    ...charTok,
    applyChatTemplate: (ms) => ms.map((m) => `<${m.role}>${m.content}`).join("") + "<assistant>",
  };
  assertEquals(truncateMessagesMiddle(templ, msgs, 2005).truncated, true);
  // Character cut (LongBench v1 QA).
  assertEquals(truncateMiddleChars("abcdefghij", 4), "ab\n...[truncated]...\nij");
  assertEquals(truncateMiddleChars("abc", 4), "abc");
});

Deno.test("thinking is stripped as each reference does", () => {
  assertEquals(stripThinking("<think>x</think>\n\nThe answer is 3. "), "The answer is 3.");
  assertEquals(stripThinking("reasoning only</think> ans"), "ans"); // vLLM drops <think>
  assertEquals(stripThinking("  no thinking  "), "no thinking");
  assertEquals(stripThinking("a</think>b</think>c"), "c");
  assertEquals(stripThinking("a</think>b</think>c", "mrcr"), "b</think>c");
  assertEquals(stripThinking("x</think> y <think>z</think> w", "frames"), "y  w");
  assertEquals(stripThinking("x</think> y <think>z</think> w", "last"), "w");
});

// ---------------------------------------------------------------- judge

Deno.test("judge verdicts parse as each reference does", () => {
  const ok = (b: string, raw: string) => parseVerdict(b, raw);
  assertEquals(ok("lbv1qa", "Same value.\n[[YES]]"), { correct: true, parseFailed: false });
  assertEquals(ok("lbv1qa", "[[ no ]] then [[YES]]"), { correct: false, parseFailed: false });
  assertEquals(ok("lbv1qa", "[[yes]]"), { correct: true, parseFailed: false });
  assertEquals(ok("lbv1qa", "equivalent"), { correct: false, parseFailed: true });
  assertEquals(ok("corpusqa", "explanation [[YES]]"), { correct: true, parseFailed: false });
  assertEquals(ok("corpusqa", "[[YES]] ... [[NO]]"), { correct: false, parseFailed: true });
  assertEquals(ok("corpusqa", "[[NO]]"), { correct: false, parseFailed: false });
  assertEquals(ok("corpusqa", "[[yes]]"), { correct: false, parseFailed: true }); // case matters
  assertEquals(ok("docmath", "They match. YES"), { correct: true, parseFailed: false });
  assertEquals(ok("frames", "[[NO]]"), { correct: false, parseFailed: false });
  assertEquals(ok("frames", "no idea"), { correct: false, parseFailed: true });
  assertEquals(ok("longmemeval", "fine [[CORRECT]]"), { correct: true, parseFailed: false });
  assertEquals(ok("longmemeval", "[[INCORRECT]]"), { correct: false, parseFailed: false });
  assertEquals(ok("longmemeval", "correct"), { correct: false, parseFailed: true });
  assertEquals(judgeBenchmark("longbench-v1-qa"), "lbv1qa");
  assertEquals(judgeBenchmark("DocMath"), "docmath");
});

Deno.test("judge prompts follow the references' structure and answer order", () => {
  const input = { question: "Q?", reference: "REF", prediction: "PRED" };
  const lb = judgeMessages({ ...input, benchmark: "lbv1qa" });
  assertEquals(lb.length, 1);
  assertMatch(lb[0].content, /Problem: Q\?\nAnswer 1: PRED\nAnswer 2: REF$/);
  const cq = judgeMessages({ ...input, benchmark: "corpusqa" });
  assertEquals(cq.map((m) => m.role), ["system", "user"]);
  assertEquals(cq[1].content, "\nProblem: Q?\nAnswer 1: PRED\nAnswer 2: REF\n");
  assert(cq[0].content.endsWith("[[YES]] or [[NO]]"));
  const dm = judgeMessages({ ...input, benchmark: "docmath" });
  assertEquals(dm[1].content, "\nProblem: Q?\nAnswer 1: REF\nAnswer 2: PRED\n");
  assert(dm[0].content.endsWith("[[YES]] or [[NO]]\n"));
  const lm = judgeMessages({ ...input, benchmark: "longmemeval" });
  assertEquals(lm[1].content, "Question: Q?\nReference Answer: REF\nModel's Response: PRED");
  assertMatch(lm[0].content, /\[\[CORRECT\]\] or \[\[INCORRECT\]\]$/);
  // Braces in the inputs are not template fields.
  const br = judgeMessages({
    question: "{answer}",
    reference: "{pred}",
    prediction: "x",
    benchmark: "lbv1",
  });
  assertMatch(br[0].content, /Problem: \{answer\}\nAnswer 1: x\nAnswer 2: \{pred\}$/);
  let msg = "";
  try {
    judgeMessages({ ...input, benchmark: "nope" });
  } catch (e) {
    msg = (e as Error).message;
  }
  assertMatch(msg, /no reference judge for benchmark "nope"/);
});

Deno.test("judging through a backend: verdicts, lbv1qa re-asks, max over references", async () => {
  await using server = MockOpenAI.start({
    script: (r) => {
      if (r.prompt.includes("Answer 1: PARIS")) return { kind: "answer", text: "Same. [[YES]]" };
      if (r.prompt.includes("garbled")) return { kind: "answer", text: "hmm" };
      return { kind: "answer", text: "Different. [[NO]]" };
    },
  });
  const b = client(server);
  const yes = await judge(b, {
    question: "Capital?",
    reference: "Paris",
    prediction: "PARIS",
    benchmark: "lbv1qa",
  });
  assertEquals(yes, { correct: true, raw: "Same. [[YES]]", parseFailed: false, attempts: 1 });
  assertEquals(server.log[0].body!.temperature, 0);
  const no = await judge(b, {
    question: "Capital?",
    reference: "Paris",
    prediction: "Rome",
    benchmark: "corpusqa",
  });
  assertEquals([no.correct, no.parseFailed], [false, false]);
  const bad = await judge(b, {
    question: "garbled",
    reference: "a",
    prediction: "b",
    benchmark: "lbv1qa",
  });
  assertEquals([bad.correct, bad.parseFailed, bad.attempts], [false, true, 3]);
  const badOnce = await judge(b, {
    question: "garbled",
    reference: "a",
    prediction: "b",
    benchmark: "longmemeval",
  });
  assertEquals([badOnce.correct, badOnce.parseFailed, badOnce.attempts], [false, true, 1]);
  const any = await judgeAny(b, {
    question: "Capital?",
    references: ["Rome", "Paris"],
    prediction: "PARIS",
    benchmark: "lbv1qa",
  });
  assertEquals(any.correct, true);
  // The mock accepts any reference for "PARIS", so the first one settles it.
  assertEquals(any.perReference.length, 1);
});

// ---------------------------------------------------------------- local backend

/** A character tokenizer for the tiny fixture (vocab 97): ids 2..96 are printable ASCII. */
const toyTok: LocalTokenizer = {
  encode: (t) => [...t].map((c) => 2 + ((c.charCodeAt(0) - 32 + 95) % 95)),
  decode: (ids) => ids.filter((i) => i >= 2).map((i) => String.fromCharCode(30 + i)).join(""),
  eosIds: [1],
  applyChatTemplate: (ms, o) =>
    ms.map((m) => `${m.role[0]}:${m.content}\n`).join("") + (o?.addGenerationPrompt ? "a:" : ""),
};

const gpuOpts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "local backend batches concurrent requests into one generate call",
  ...gpuOpts,
  fn: async () => {
    const gpu = await acquireGpu();
    const { model } = await loadModel(gpu, `${ROOT}/tests/fixtures/qwen3_tiny/tied`);
    const b = new LocalBackend(model, toyTok, { concurrency: 4, batchWindowMs: 20 });
    const prompts = ["hello", "tiny model", "abc", "qwen3"];
    const together = await Promise.all(prompts.map((p) => b.complete(ask(p, { maxTokens: 6 }))));
    assertEquals(b.stats.batches, 1);
    assertEquals(b.stats.maxBatch, 4);
    // Greedy output does not depend on the batch.
    for (const [i, p] of prompts.entries()) {
      const [alone] = await b.complete(ask(p, { maxTokens: 6 }));
      assertEquals(together[i][0].text, alone.text, p);
      assertEquals(alone.finishReason, "length");
      assertEquals(alone.usage?.completionTokens, 6);
      assertEquals(alone.usage?.promptTokens, toyTok.encode(`u:${p}\na:`).length);
    }
    assertEquals(b.stats.batches, 5);
    // Different settings do not share a call; n > 1 gives n results.
    const [x, y] = await Promise.all([
      b.complete(ask("one", { maxTokens: 3 })),
      b.complete(ask("two", { maxTokens: 4, n: 2, temperature: 1, topP: 0.9, seed: 3 })),
    ]);
    assertEquals(x.length, 1);
    assertEquals(y.length, 2);
    assertEquals(b.stats.batches, 7);
    // A prompt beyond the context is refused alone, with a clear message.
    await assertRejects(
      () => b.complete(ask("z".repeat(200))),
      /exceeds max_position_embeddings \(128\)/,
    );
    await b.close();
    gpu.destroy();
  },
});

Deno.test({
  name: "local backend reports EOS as stop and splits reasoning",
  ...gpuOpts,
  fn: async () => {
    const gpu = await acquireGpu();
    const { model } = await loadModel(gpu, `${ROOT}/tests/fixtures/qwen3_tiny/tied`);
    const plain = new LocalBackend(model, toyTok, { batchWindowMs: 1 });
    const [g] = await plain.complete(ask("stop test", { maxTokens: 8 }));
    const ids = toyTok.encode(g.text);
    assert(ids.length === 8);
    // Make the third generated token the EOS: generation stops there, reported as "stop".
    const eosTok = { ...toyTok, eosIds: [ids[2]] };
    const eos = new LocalBackend(model, eosTok, { batchWindowMs: 1 });
    const [s] = await eos.complete(ask("stop test", { maxTokens: 8 }));
    assertEquals(s.finishReason, "stop");
    assertEquals(toyTok.encode(s.text), ids.slice(0, ids.indexOf(ids[2])));
    // A tokenizer whose decode emits a think block: split like vLLM's reasoning parser.
    const thinkTok = {
      ...toyTok,
      decode: (x: readonly number[]) => `<think>r${x.length}</think>t`,
    };
    const think = new LocalBackend(model, thinkTok, { batchWindowMs: 1 });
    const [t] = await think.complete(ask("think", { maxTokens: 2 }));
    assertEquals([t.reasoning, t.text], ["r2", "t"]);
    await plain.close();
    gpu.destroy();
  },
});

Deno.test({
  name: "LocalBackend.open loads a checkpoint with a stable id and frees its device on close",
  ...gpuOpts,
  fn: async () => {
    const dir = `${ROOT}/tests/fixtures/qwen3_tiny/tied`;
    const b = await LocalBackend.open(dir, { tokenizer: toyTok, dtype: "f32", concurrency: 2 });
    const again = await checkpointId(dir);
    assertEquals(b.id, `local:tied#${again}:f32`); // the weights dtype is part of the identity
    assert(again !== await checkpointId(`${ROOT}/tests/fixtures/qwen3_tiny/untied`));
    const [r] = await b.complete(ask("open", { maxTokens: 4 }));
    assertEquals(r.usage?.completionTokens, 4);
    await b.close();
    await assertRejects(() => b.complete(ask("after close")), /closed/);
  },
});
