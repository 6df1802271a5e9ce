/**
 * Tests of the RULER-style generator (eval/ruler/) on the real shared data: every task at 1K and
 * 4K tokens lands within ±5% of the target, the needles / answers sit in the context at the
 * requested depth, generation is deterministic by seed, and a perfect prediction scores 1. The
 * QA task is driven by the 200 NQ-Open questions and their gold passages.
 */
import { assert, assertEquals } from "./assert.ts";
import {
  generateRulerSample,
  loadRulerResources,
  RULER_DEPTHS,
  RULER_TASK_NAMES,
  RULER_TASKS,
  type RulerResources,
  type RulerSample,
  type RulerTask,
  scoreRuler,
  stripGutenberg,
} from "../eval/ruler/mod.ts";
import { fitLargest, placeAtDepths, splitSentences } from "../eval/ruler/haystack.ts";
import { Rng } from "../eval/ruler/random.ts";
import { type TokenCounter, tokenCounter } from "../eval/benchmarks/common.ts";
import { getBenchmark } from "../eval/benchmarks/mod.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import type { EvalItem } from "../eval/benchmarks/types.ts";

const SHARED = new URL("../../shared", import.meta.url).pathname;
const count: TokenCounter = tokenCounter();
let resources: RulerResources | undefined;
async function res(): Promise<RulerResources> {
  resources ??= await loadRulerResources(SHARED);
  return resources;
}

function gen(
  r: RulerResources,
  task: RulerTask,
  length: number,
  index = 0,
  seed = 11,
  depths?: number[],
): RulerSample {
  return generateRulerSample({
    task,
    length,
    index,
    seed,
    resources: r,
    countTokens: count,
    depths,
  });
}

/** Depth tolerance (percent): placement snaps to the nearest unit boundary. */
const TOL: Record<number, number> = { 1024: 16, 4096: 6 };

function checkSample(s: RulerSample, length: number): void {
  const label = `${s.task}@${length}#${s.index}`;
  // Length: RULER's measure, recounted, within ±5% (and never above the target).
  const total = count(s.input + s.answerPrefix) + s.tokensToGenerate;
  assertEquals(total, s.totalTokens, label);
  assert(total <= length && total >= 0.95 * length, `${label}: ${total} tokens for ${length}`);
  const ctx = s.input.slice(s.contextSpan[0], s.contextSpan[1]);
  assert(ctx.length > 0, label);
  // Needles (NIAH), chain statements (VT) or the gold passage (QA) are where they say, at depth.
  for (const n of s.needles) {
    assertEquals(ctx.slice(n.offset, n.offset + n.text.length), n.text, `${label}: needle text`);
    const measured = (100 * n.offset) / ctx.length;
    assert(
      Math.abs(measured - n.depth) <= TOL[length],
      `${label}: needle at ${measured.toFixed(1)}% for requested ${n.depth}%`,
    );
  }
  // The answers are in the context.
  const family = RULER_TASKS[s.task].family;
  if (family === "qa") {
    assertEquals(s.needles.length, 1, `${label}: one gold passage`);
  } else {
    for (const o of s.outputs) assert(ctx.includes(o), `${label}: answer ${o} in context`);
  }
  if (family === "niah") {
    for (const o of s.outputs) {
      assert(
        s.needles.some((n) => n.text.endsWith(`is: ${o}.`)),
        `${label}: a needle carries ${o}`,
      );
    }
  }
  if (family === "cwe") {
    const items = ctx.split(/ ?\d+\. /).filter((x) => x);
    const freq = new Map<string, number>();
    for (const w of items) freq.set(w, (freq.get(w) ?? 0) + 1);
    const cr = s.meta.freqCommon as number;
    for (const o of s.outputs) assertEquals(freq.get(o), cr, `${label}: ${o} appears ${cr} times`);
    const others = [...freq].filter(([w]) => !s.outputs.includes(w));
    assert(others.every(([, c]) => c < cr), `${label}: the 10 common words are the most common`);
  }
  // A perfect prediction scores 1; an empty one 0.
  assertEquals(scoreRuler(s.metric, s.outputs, s.outputs.join(", ")), 1, label);
  assertEquals(scoreRuler(s.metric, s.outputs, ""), 0, label);
}

Deno.test("resources: Gutenberg boilerplate stripped, word lists and NQ loaded", async () => {
  const r = await res();
  assertEquals(r.books.length, 16);
  assertEquals(r.nq.length, 200);
  assert(r.nouns.length > 6000 && r.adjectives.length > 900 && r.verbs.length > 1000);
  const text = r.ring.join(" ");
  assert(!text.includes("*** START OF") && !text.includes("*** END OF"));
  assert(!text.includes("\uFEFF") && !text.includes("\r"));
  assert(!/Project Gutenberg License/i.test(text), "no licence footer");
  assertEquals(
    stripGutenberg("\uFEFFhead\r\n*** START OF X ***\r\nbody line\r\n*** END OF X ***\r\nfooter"),
    "body line",
  );
  assertEquals(stripGutenberg("no markers"), "no markers");
});

Deno.test("haystack helpers: sentences, depth placement, budget search", () => {
  assertEquals(splitSentences("One. Two! “Three?” Four"), ["One.", "Two!", "“Three?”", "Four"]);
  const long = Array.from({ length: 60 }, (_, i) => `clause ${i},`).join(" ");
  assert(splitSentences(long, 100).every((s) => s.length <= 100));
  const units = Array.from({ length: 100 }, (_, i) => `u${String(i).padStart(2, "0")}`);
  const p = placeAtDepths(units, [{ text: "N1", depth: 50 }, { text: "N0", depth: 0 }, {
    text: "N2",
    depth: 100,
  }], " ");
  assertEquals(p.context.slice(p.offsets[0], p.offsets[0] + 2), "N1");
  assertEquals(p.offsets[1], 0);
  assert(p.context.endsWith("N2"));
  assert(Math.abs(p.offsets[0] / p.context.length - 0.5) < 0.02);
  const f = (n: number) => 10 + 3 * n + (n % 2);
  const n = fitLargest(f, 1000, 0, 10000);
  assert(f(n) <= 1000 && f(n + 1) > 1000, String(n));
  assertEquals(fitLargest(f, 5, 0, 100), -1);
  assertEquals(RULER_DEPTHS.length, 40);
  assertEquals([RULER_DEPTHS[0], RULER_DEPTHS[39]], [0, 100]);
  const r1 = new Rng(5);
  const u = r1.uuid4();
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u), u);
});

for (const length of [1024, 4096]) {
  Deno.test(`every RULER task at ${length} tokens: length, needles at depth, answers, perfect score`, async () => {
    const r = await res();
    for (const task of RULER_TASK_NAMES) {
      for (const index of [0, 1]) checkSample(gen(r, task, length, index), length);
    }
  });
}

Deno.test("RULER: deterministic by seed, different across seeds and indices", async () => {
  const r = await res();
  for (const task of RULER_TASK_NAMES) {
    const a = gen(r, task, 1024, 2, 5);
    const b = gen(r, task, 1024, 2, 5);
    assertEquals(a, b, task);
    const c = gen(r, task, 1024, 2, 6);
    assert(c.input !== a.input, `${task}: another seed gives another sample`);
    const d = gen(r, task, 1024, 3, 5);
    assert(d.input !== a.input, `${task}: another index gives another sample`);
  }
});

Deno.test("RULER: needles go to the requested depths", async () => {
  const r = await res();
  for (const depth of [0, 25, 50, 75, 100]) {
    for (
      const task of [
        "niah_single_1",
        "niah_single_2",
        "niah_single_3",
        "niah_multikey_2",
        "qa_nq",
      ] as const
    ) {
      const s = gen(r, task, 4096, 0, 11, [depth]);
      assertEquals(s.needles[0].depth, depth);
      checkSample(s, 4096);
    }
    const m = gen(r, "niah_multivalue", 4096, 0, 11, [depth, depth, depth, depth]);
    checkSample(m, 4096);
  }
  const vt = gen(r, "vt", 4096, 0, 11, [80, 10, 30, 50, 70]);
  assertEquals(vt.needles.map((n) => n.depth), [10, 30, 50, 70, 80]);
  checkSample(vt, 4096);
  // The chain reads in order in the context.
  const ctx = vt.input.slice(...vt.contextSpan);
  const offs = vt.needles.map((n) => ctx.indexOf(n.text));
  assertEquals(offs, [...offs].sort((a, b) => a - b));
});

Deno.test("RULER templates: singular NIAH wording, multi-query listing, VT one-shot example", async () => {
  const r = await res();
  const s = gen(r, "niah_single_2", 1024);
  assert(s.input.startsWith("A special magic number is hidden within the following text."));
  assert(
    s.input.endsWith(
      "What is the special magic number for " + (s.meta.queries as string[])[0] +
        " mentioned in the provided text?",
    ),
  );
  assertEquals(
    s.answerPrefix,
    ` The special magic number for ${
      (s.meta.queries as string[])[0]
    } mentioned in the provided text is`,
  );
  assert(s.needles[0].text.startsWith("One of the special magic numbers for "));
  const q = gen(r, "niah_multiquery", 4096);
  const qs = q.meta.queries as string[];
  assertEquals(qs.length, 4);
  assert(q.input.includes(`for ${qs[0]}, ${qs[1]}, ${qs[2]}, and ${qs[3]} mentioned`));
  assert(q.input.startsWith("Some special magic numbers are hidden"));
  const u = gen(r, "niah_multikey_3", 1024);
  assert(/^[0-9a-f-]{36}$/.test(u.outputs[0]));
  const vt = gen(r, "vt", 4096);
  assert(
    vt.input.startsWith(
      "Memorize and track the chain(s) of variable assignment hidden in the following text.",
    ),
  );
  assertEquals(vt.input.split("Memorize and track").length, 3, "one-shot example + the task");
  assert(vt.answerPrefix.includes("5 variables are assgined the value"));
  const cwe = gen(r, "cwe", 4096);
  assert(cwe.input.includes("Answer: The top 10 words that appear most often in the list are:1. "));
  assertEquals(cwe.meta.freqCommon, 30);
  assertEquals(gen(r, "cwe", 1024).meta.freqCommon, 6);
});

Deno.test("RULER QA on NQ-Open: gold passage in context at two lengths, scoring by answers", async () => {
  const r = await res();
  const nqRaw = (await Deno.readTextFile(`${SHARED}/qa/nq_open_oracle_dev200.jsonl`)).trim().split(
    "\n",
  )
    .map((l) => JSON.parse(l));
  const seen = new Set<string>();
  for (const length of [2048, 8192]) {
    for (let index = 0; index < 12; index++) {
      const s = gen(r, "qa_nq", length, index, 3);
      const q = s.meta.question as string;
      seen.add(q);
      const raw = nqRaw.find((x) => x.question === q);
      assert(raw, q);
      const goldCtx = raw.ctxs.find((c: { isgold?: boolean }) => c.isgold) ?? raw.ctxs[0];
      const ctx = s.input.slice(...s.contextSpan);
      assert(
        ctx.includes(`${goldCtx.title}\n${goldCtx.text}`),
        `gold passage of "${q}" is in the context`,
      );
      assert(s.input.endsWith(`Question: ${q}`));
      assertEquals(s.outputs, raw.answers);
      const total = s.totalTokens;
      assert(total <= length && total >= 0.95 * length, `${total} for ${length}`);
      assertEquals(scoreRuler(s.metric, s.outputs, `I think it is ${raw.answers[0]}.`), 1);
      assertEquals(scoreRuler(s.metric, s.outputs, "<think>no idea</think>Nobody knows"), 0);
      assert(/^Document 1:\n/.test(ctx));
    }
  }
  assert(seen.size >= 12, "different indices ask different questions");
});

Deno.test("ruler benchmark: items per task and length, stable ids, scoring", async () => {
  const b = getBenchmark("ruler")!;
  const load = async (seed: number) => {
    const out: EvalItem[] = [];
    for await (const it of b.load({ seed, lengths: [1024, 4096], limit: 2, path: SHARED })) {
      out.push(it);
    }
    return out;
  };
  const items = await load(4);
  assertEquals(items.length, 2 * RULER_TASK_NAMES.length * 2);
  assertEquals(items.map((x) => x.id), (await load(4)).map((x) => x.id));
  assertEquals(new Set(items.map((x) => x.id)).size, items.length);
  assertEquals(items[0].id, "ruler/niah_single_1/1k/s4/0");
  assertEquals(new Set(items.map((x) => x.lengthBucket)), new Set(["1k", "4k"]));
  assertEquals(new Set(items.map((x) => x.subset)), new Set(RULER_TASK_NAMES));
  for (const it of items) {
    const ref = it.reference as { outputs: string[] };
    assertEquals(b.score(it, ref.outputs.join(" ")).score, 1, it.id);
    assertEquals(b.score(it, "").score, 0, it.id);
    assert(typeof it.meta?.answerPrefix === "string" && typeof it.meta?.maxNewTokens === "number");
    const target = it.meta?.targetLength as number;
    assert(it.contextTokensHint! <= target && it.contextTokensHint! >= 0.95 * target, it.id);
  }
  const partial = items.find((x) => x.subset === "niah_multivalue")!;
  const outs = (partial.reference as { outputs: string[] }).outputs;
  assertEquals(b.score(partial, outs.slice(0, 2).join(" ")).score, 0.5);
});

Deno.test("RULER with the real Qwen3 tokenizer: lengths within ±5% of the target", async () => {
  const r = await res();
  const tok = await loadTokenizer(`${SHARED}/tokenizers/qwen3`);
  const c = tokenCounter(tok);
  for (const task of ["niah_single_3", "niah_multikey_3", "vt", "cwe", "qa_nq"] as const) {
    const s = generateRulerSample({
      task,
      length: 2048,
      index: 0,
      seed: 1,
      resources: r,
      countTokens: c,
    });
    const total = tok.encode(s.input + s.answerPrefix).length + s.tokensToGenerate;
    assertEquals(total, s.totalTokens, task);
    assert(total <= 2048 && total >= 0.95 * 2048, `${task}: ${total}`);
  }
});
