/**
 * The P3 LLM track against a real local HTTP server (MockOpenAI) scripted as a fake LLM: it
 * writes QA pairs from the excerpt it is sent (good ones, and the bad cases the verification
 * must catch) and answers verification requests right or wrong. Real book chapters feed it.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli } from "./helpers.ts";
import { MockOpenAI, type MockRequest } from "../eval/backends/mock_openai.ts";
import { OpenAIBackend } from "../eval/backends/openai.ts";
import { ingestPaths, isSkipped } from "../data/ingest/mod.ts";
import {
  generateLlmDrafts,
  type LlmTrackOptions,
  parseJsonObject,
  pickExcerpts,
  quoteInText,
  scoreVerifierReply,
} from "../data/llm_track.ts";
import { paragraphs } from "../tasks/generators/text.ts";
import { goldResponse as goldOfDraft, selfCheck } from "../tasks/generators/mod.ts";
import { goldResponse as goldOfSample } from "../data/stats.ts";
import { computeReward } from "../tasks/registry.ts";
import { TASK_TYPES, type TaskType } from "../tasks/types.ts";
import type { Document, Sample } from "../tasks/generators/types.ts";

const BOOKS = new URL("../../shared/corpora/books/", import.meta.url).pathname;

let loaded: Promise<Document[]> | undefined;
/** Alice in Wonderland and Jekyll and Hyde, ingested as `data ingest` would. */
function books(): Promise<Document[]> {
  return loaded ??= (async () => {
    const out: Document[] = [];
    const paths = ["pg11_alice_in_wonderland.txt", "pg43_jekyll_and_hyde.txt"].map((f) =>
      BOOKS + f
    );
    for await (const d of ingestPaths(paths)) if (!isSkipped(d)) out.push(d);
    assertEquals(out.length, 2);
    return out;
  })();
}

// ---------------------------------------------------------------------------------------------
// The fake LLM

/** What the fake writes for a (document, task): a good pair, or one of the bad cases. */
type Case =
  | "good"
  | "malformed"
  | "hallucinated"
  | "wrong_key"
  | "verifier_wrong"
  | "fenced"
  | "unsupported";

/** Bad cases by [document index, task]; everything else is good. */
const CASES: [number, TaskType, Case][] = [
  [0, "precise_retrieval", "malformed"],
  [1, "graded_ranking", "hallucinated"],
  [0, "comprehension", "wrong_key"],
  [1, "numerical_reasoning", "verifier_wrong"],
  [0, "summarization", "fenced"],
  [1, "exhaustive_retrieval", "unsupported"],
];

/** The reason each bad case must be rejected with (the fenced reply is accepted). */
const EXPECTED: Partial<Record<Case, string>> = {
  malformed: "malformed_json",
  hallucinated: "evidence_not_found",
  wrong_key: "verifier_disagrees",
  verifier_wrong: "verifier_disagrees",
  unsupported: "unsupported_answer",
};

/**
 * A scripted fake LLM. Generation requests ("Task type: …") get a JSON QA pair built from the
 * excerpt; verification requests (the training prompt) get the right answer, remembered by
 * question, except where a case says otherwise.
 */
class FakeLlm {
  /** question → the verifier model's reply. */
  readonly answers = new Map<string, string>();
  constructor(readonly titles: string[], readonly cases: [number, TaskType, Case][] = CASES) {}

  caseOf(title: string, task: TaskType): Case {
    const di = this.titles.indexOf(title);
    return this.cases.find(([d, t]) => d === di && t === task)?.[2] ?? "good";
  }

  script = (req: MockRequest) => {
    const task = /Task type: (\S+)/.exec(req.prompt)?.[1] as TaskType | undefined;
    if (task) return { kind: "answer" as const, text: this.generate(req.prompt, task) };
    let best = "";
    for (const q of this.answers.keys()) {
      if (req.prompt.includes(q) && q.length > best.length) best = q;
    }
    return { kind: "answer" as const, text: best ? this.answers.get(best)! : "I do not know." };
  };

  generate(prompt: string, task: TaskType): string {
    const title = /Document title: (.*)/.exec(prompt)![1];
    const ex = /<excerpt>\n([^]*?)\n<\/excerpt>/.exec(prompt)![1];
    const c = this.caseOf(title, task);
    if (c === "malformed") return 'Sure! Here it is: {"question": "What did the';
    const sents = ex.split("\n\n").flatMap((p) => p.split(/(?<=[.!?])\s+/))
      .filter((s) => s.split(" ").length >= 6);
    const s = sents[0] ?? ex.split("\n\n")[0];
    const seen = new Set<string>();
    const words = (ex.match(/\b[A-Za-z]{6,}\b/g) ?? []).filter((w) =>
      !seen.has(w.toLowerCase()) && seen.add(w.toLowerCase())
    );
    const [w1, w2, w3, w4] = words;
    const q = (what: string) => `In "${title}", ${what} (see: "${s.slice(0, 60)}")`;
    const think = "<think>checking</think>";
    const quote = c === "hallucinated" ? "The moon was made of green cheese." : s;
    let obj: Record<string, unknown>, reply: string;
    switch (task) {
      case "precise_retrieval": {
        const answer = s.split(" ").slice(0, 3).join(" ");
        const question = q("which three words open the sentence?");
        obj = {
          question,
          answer,
          evidence_quote: quote,
        };
        reply = `${think}${answer}`;
        break;
      }
      case "comprehension": {
        const question = q("which word is discussed?");
        obj = {
          question,
          options: [w1, w2, w3, w4],
          correct: c === "wrong_key" ? "B" : "A",
          evidence_quote: s,
        };
        reply = `${think}The correct answer is (A)`;
        break;
      }
      case "numerical_reasoning": {
        const n = s.split(" ").length;
        obj = {
          question: q("how many words does the sentence have?"),
          answer: n,
          evidence_quote: s,
        };
        reply = `${think}So \\boxed{${c === "verifier_wrong" ? n + 1 : n}}.`;
        break;
      }
      case "exhaustive_retrieval":
      case "structured_matching":
      case "graded_ranking":
      case "sequence_ordering": {
        let items = task === "structured_matching"
          ? [`${w1}: ${w2}`, `${w3}: ${w4}`]
          : [w1, w2, w3];
        if (c === "unsupported") items = [w1, "Zanzibarian"];
        obj = { question: q(`list the items for ${task}.`), items, evidence_quotes: [s, quote] };
        reply = `${think}\n[Answer]\n${items.join("\n")}`;
        break;
      }
      case "summarization": {
        const summary = ex.split(/\s+/).slice(0, 45).join(" ");
        obj = { question: q("summarize what happens."), summary };
        reply = summary;
        break;
      }
      case "structured_extraction": {
        const rows = [[w1, w2], [w3, w4]];
        obj = { question: q("tabulate the word pairs."), columns: ["first", "second"], rows };
        reply = `${think}<answer>${JSON.stringify({ data: rows })}</answer>`;
        break;
      }
    }
    this.answers.set(obj!.question as string, reply!);
    const json = JSON.stringify(obj!);
    return c === "fenced" ? `<think>plan</think>Here you go:\n\`\`\`json\n${json}\n\`\`\`\n` : json;
  }
}

function opts(extra: Partial<LlmTrackOptions> = {}): LlmTrackOptions {
  return {
    tasks: [...TASK_TYPES],
    perDoc: 1,
    seed: 3,
    maxEvidenceChars: 2500,
    concurrency: 4,
    ...extra,
  };
}

function backend(url: string, model = "fake", concurrency = 4): OpenAIBackend {
  return new OpenAIBackend({ baseUrl: url, model, concurrency, maxRetries: 0 });
}

// ---------------------------------------------------------------------------------------------

Deno.test("parseJsonObject: fences, think blocks, prose around, nested braces; no eval", () => {
  assertEquals(parseJsonObject('{"a": 1}'), { a: 1 });
  assertEquals(parseJsonObject('<think>{"no": 1}</think>```json\n{"a": "}{"}\n```'), { a: "}{" });
  assertEquals(parseJsonObject('Sure: {"a": {"b": [1, 2]}} and {"c": 3}'), { a: { b: [1, 2] } });
  assertEquals(parseJsonObject('{bad} then {"ok": true}'), { ok: true });
  assertEquals(parseJsonObject('{"a": 1'), undefined);
  assertEquals(parseJsonObject("[1, 2]"), undefined);
  assertEquals(parseJsonObject('{"a": alert(1)}'), undefined);
});

Deno.test("quoteInText: whitespace, case, typographic quotes, elisions in order", () => {
  const t = "\u201CWell,\u201D said Alice,\n\n  \u2018I never\u2019 heard of   it before.";
  assert(quoteInText('"well," said alice', t));
  assert(quoteInText("I never' heard of it", t));
  assert(quoteInText("said Alice ... heard of it", t));
  assert(!quoteInText("heard of it ... said Alice", t));
  assert(!quoteInText("said the Queen", t));
  assert(!quoteInText("  ", t));
});

Deno.test("pickExcerpts: seeded, paragraph-aligned, bounded, non-overlapping; tables first for extraction", async () => {
  const [alice] = await books();
  const a = pickExcerpts(alice, "comprehension", 5, 1, 2000);
  assertEquals(a, pickExcerpts(alice, "comprehension", 5, 1, 2000));
  assertEquals(a.length, 5);
  assert(
    JSON.stringify(a) !== JSON.stringify(pickExcerpts(alice, "comprehension", 5, 2, 2000)),
    "another seed picks other excerpts",
  );
  const paras = paragraphs(alice.text);
  const used = new Set<number>();
  for (const e of a) {
    assert(e.text.length <= 2000 && e.text.length >= 400, `${e.text.length} chars`);
    const start = (e.from as { paragraph: number }).paragraph;
    const parts = e.text.split("\n\n");
    parts.forEach((p, i) => {
      assertEquals(p, paras[start + i], "whole paragraphs, in order");
      assert(!used.has(start + i), "no overlap");
      used.add(start + i);
    });
  }
  const doc: Document = {
    ...alice,
    tables: [{
      label: "Table 1",
      caption: "Guests",
      header: ["Name", "Seat"],
      rows: [["Hatter", "1"]],
    }],
  };
  const t = pickExcerpts(doc, "structured_extraction", 2, 1, 2000);
  assertEquals(t[0].text, "Table 1. Guests\nName | Seat\nHatter | 1");
  assertEquals(t[0].from, { table: 0 });
  assert("paragraph" in t[1].from);
});

Deno.test("generate + verify: good pairs accepted, each bad case rejected with its reason", async () => {
  const docs = await books();
  const fake = new FakeLlm(docs.map((d) => d.title));
  await using mock = MockOpenAI.start({ script: fake.script });
  const r = await generateLlmDrafts(docs, backend(mock.baseUrl), opts());
  assertEquals(r.stats.jobs, 18);
  const bad = CASES.filter(([, , c]) => EXPECTED[c]);
  assertEquals(r.drafts.length, 18 - bad.length, JSON.stringify(r.rejected, null, 1));
  assertEquals(r.rejected.length, bad.length);
  for (const [di, task, c] of bad) {
    const rej = r.rejected.find((x) => x.docId === docs[di].id && x.task === task);
    assert(rej, `${c} rejected`);
    assertEquals(rej.reason, EXPECTED[c], `${c}: ${rej.detail}`);
  }
  assertEquals(r.stats.rejected, {
    malformed_json: 1,
    evidence_not_found: 1,
    verifier_disagrees: 2,
    unsupported_answer: 1,
  });
  // Every accepted draft passes the gold self-check and the checks, and came from the model.
  for (const d of r.drafts) {
    assertEquals(d.generator, `llm/${d.task}`);
    assert(selfCheck(d).ok, `${d.generator}: gold self-check`);
    const llm = d.meta!.llm as { evidence_quotes?: string[]; verifier_reward: number };
    for (const q of llm.evidence_quotes ?? []) assert(quoteInText(q, d.evidence[0].text));
    assert(llm.verifier_reward > 0.19, `${d.generator}: ${llm.verifier_reward}`);
    assertEquals(scoreVerifierReply(d, goldOfDraft(d)) > 0.99, true, d.generator);
    assert(d.evidence[0].text.length <= 2500);
  }
  // Every task type is covered; the fenced, reasoning-prefixed summary reply was parsed.
  assertEquals(new Set(r.drafts.map((d) => d.task)).size, 9);
  assert(r.drafts.some((d) => d.task === "summarization" && d.source_docs[0].id === docs[0].id));
  // Ranking and ordering questions list their items, not in the gold order.
  for (
    const d of r.drafts.filter((d) => d.task === "graded_ranking" || d.task === "sequence_ordering")
  ) {
    const shown = d.question.split("\n").slice(-d.ground_truth.doc_ids.length);
    assertEquals([...shown].sort(), [...d.ground_truth.doc_ids].sort());
    assert(shown.join() !== d.ground_truth.doc_ids.join(), "shuffled");
  }
  // Pairs failing parsing or evidence checks send no verification request: 18 + (18 - 3).
  assertEquals(mock.log.length, 18 + 18 - 3);
});

Deno.test("cache: a rerun sends zero requests and returns the same drafts; concurrency is bounded", async () => {
  const docs = await books();
  const dir = await Deno.makeTempDir();
  const fake = new FakeLlm(docs.map((d) => d.title));
  await using mock = MockOpenAI.start({ script: fake.script, latencyMs: 20 });
  const o = opts({ cachePath: `${dir}/cache.jsonl`, concurrency: 3 });
  const first = await generateLlmDrafts(docs, backend(mock.baseUrl, "fake", 8), o);
  const sent = mock.log.length;
  assert(sent > 0 && first.stats.requests === sent && first.stats.cacheHits === 0);
  assert(mock.maxInFlight <= 3, `max in flight ${mock.maxInFlight}`);
  const lines = (await Deno.readTextFile(o.cachePath!)).trim().split("\n");
  assertEquals(lines.length, sent, "one cache line per reply");
  const second = await generateLlmDrafts(docs, backend(mock.baseUrl, "fake", 8), o);
  assertEquals(mock.log.length, sent, "no request on the rerun");
  assertEquals(second.stats.requests, 0);
  assertEquals(second.stats.cacheHits, sent);
  assertEquals(second.drafts, first.drafts);
  assertEquals(second.rejected, first.rejected);
  // Determinism does not depend on completion order: one at a time gives the same result.
  const serial = await generateLlmDrafts(docs, backend(mock.baseUrl), {
    ...o,
    cachePath: undefined,
    concurrency: 1,
  });
  assertEquals(serial.drafts, first.drafts);
  // Another model id is another cache key.
  const other = await generateLlmDrafts(
    docs,
    backend(mock.baseUrl, "other"),
    opts({ cachePath: o.cachePath, tasks: ["precise_retrieval"] }),
  );
  assertEquals(other.stats.cacheHits, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("failed requests are rejected as request_failed and not cached", async () => {
  const docs = await books();
  const dir = await Deno.makeTempDir();
  await using mock = MockOpenAI.start({ script: () => ({ kind: "status", status: 400 }) });
  const r = await generateLlmDrafts(
    docs.slice(0, 1),
    backend(mock.baseUrl),
    opts({ tasks: ["precise_retrieval"], cachePath: `${dir}/c.jsonl` }),
  );
  assertEquals(r.drafts.length, 0);
  assertEquals(r.rejected.map((x) => x.reason), ["request_failed"]);
  assertEquals((await Deno.readTextFile(`${dir}/c.jsonl`)).trim(), "");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI data llm: separate verifier endpoint, API key from env, samples score 1 with gold", async () => {
  const docs = await books();
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/docs.jsonl`,
    docs.map((d) => JSON.stringify(d)).join("\n") + "\n",
  );
  const fake = new FakeLlm(docs.map((d) => d.title));
  Deno.env.set("GOLONGRL_LLM_TEST_KEY", "sk-llm-test");
  await using gen = MockOpenAI.start({ script: fake.script, requireKey: "sk-llm-test" });
  await using ver = MockOpenAI.start({ script: fake.script, requireKey: "sk-llm-test" });
  const args = [
    "data",
    "llm",
    "-q",
    "--docs",
    `${dir}/docs.jsonl`,
    "--endpoint",
    gen.baseUrl,
    "--model-name",
    "gen-model",
    "--verifier-endpoint",
    ver.baseUrl,
    "--verifier-model",
    "ver-model",
    "--api-key-env",
    "GOLONGRL_LLM_TEST_KEY",
    "--cache",
    `${dir}/cache.jsonl`,
    "--lengths",
    "4k",
    "--max-evidence-chars",
    "2500",
    "--seed",
    "3",
    "--out",
    `${dir}/llm.jsonl`,
    "--drafts-out",
    `${dir}/drafts.jsonl`,
  ];
  const r = await cli(...args);
  assertEquals(r.code, 0, r.err);
  assertMatch(
    r.err,
    /18 QA pairs asked for \(33 requests, 0 cached replies\): 13 accepted, 5 rejected/,
  );
  assertMatch(r.err, /rejected malformed_json: 1\n/);
  assertMatch(r.err, /rejected verifier_disagrees: 2\n/);
  assert(gen.log.every((q) => q.prompt.includes("Task type:")), "generation only at --endpoint");
  assert(
    ver.log.every((q) => !q.prompt.includes("Task type:")),
    "verification only at --verifier-endpoint",
  );
  assertEquals([gen.log.length, ver.log.length], [18, 15]);
  assertEquals(gen.log[0].body?.model, "gen-model");
  assertEquals(ver.log[0].body?.model, "ver-model");
  const written = await Deno.readTextFile(`${dir}/llm.jsonl`);
  const samples = written.trim().split("\n")
    .map((l) => JSON.parse(l) as Sample);
  assertEquals(samples.length, 13);
  assertEquals((await Deno.readTextFile(`${dir}/drafts.jsonl`)).trim().split("\n").length, 13);
  for (const s of samples) {
    assertMatch(s.extra_info.generator, /^llm\//);
    assertEquals(s.extra_info.length_bucket, "4k");
    assert(
      s.extra_info.tokens! <= 4096 && s.extra_info.tokens! >= 0.9 * 4096,
      `${s.id}: ${s.extra_info.tokens}`,
    );
    const g = goldOfSample(s);
    if ("error" in g) throw new Error(g.error);
    const score = computeReward({
      dataSource: s.data_source,
      response: g.response,
      groundTruth: s.reward_model.ground_truth,
      extraInfo: s.extra_info,
    }, g.opts);
    assert(score.reward > 1 - 1e-6, `${s.id}: gold scores ${score.reward}`);
  }
  // The rerun is served from the cache.
  const again = await cli(...args);
  assertEquals(again.code, 0, again.err);
  assertMatch(again.err, /\(0 requests, 33 cached replies\)/);
  assertEquals([gen.log.length, ver.log.length], [18, 15]);
  assertEquals(await Deno.readTextFile(`${dir}/llm.jsonl`), written, "byte-identical rerun");
  Deno.env.delete("GOLONGRL_LLM_TEST_KEY");
  await Deno.remove(dir, { recursive: true });
});
