/**
 * Fitting prompts into `--max-input-tokens` (eval/fit.ts) with the real Qwen3 tokenizer: the
 * count with the chat template never exceeds the limit, the question and system prompts survive
 * whole, the cut is the reference's middle cut when nothing needs protecting, MRCR keeps its
 * last message, and what cannot fit says why.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT } from "./helpers.ts";
import { loadTokenizer, type Tokenizer } from "../core/tokenizer/tokenizer.ts";
import { fitPrompt, promptTokens } from "../eval/fit.ts";
import { middleTruncateIds } from "../eval/truncate.ts";

const SHARED = `${ROOT}/../shared`;
let tokP: Promise<Tokenizer> | undefined;
const tok = () => (tokP ??= loadTokenizer(`${SHARED}/tokenizers/qwen3`));
const book = () => Deno.readTextFile(`${SHARED}/corpora/books/pg11_alice_in_wonderland.txt`);

Deno.test("fit: a single-message prompt is cut in its document; the question survives; the count fits", async () => {
  const t = await tok();
  const doc = (await book()).slice(0, 60_000);
  const question = "What did the Cat say when Alice asked which way she ought to go from here?";
  const content = `Please read the following text.\n\n<text>\n${doc}\n</text>\n\n` +
    `What is the correct answer to this question: ${question}\nChoices:\n(A) one\n(B) two`;
  const messages = [{ role: "user" as const, content }];
  const before = promptTokens(t, messages);
  assert(before > 10_000, `fixture is long: ${before}`);
  for (const max of [8000, 3001, 600]) {
    const r = fitPrompt(t, { messages, document: doc }, max);
    assert(r.ok, `fits ${max}`);
    // The count before the cut sums the document's and the rest's (exact up to the junctions).
    assert(Math.abs(r.before - before) <= 4, `${r.before} ~ ${before}`);
    assert(r.truncated);
    const n = promptTokens(t, r.messages);
    assertEquals(n, r.tokens);
    assert(n <= max, `${n} <= ${max}`);
    assert(n >= max - 8, `${n} uses the budget (${max})`);
    const out = r.messages[0].content;
    assert(out.startsWith("Please read the following text.\n\n<text>\n"));
    assert(out.endsWith(`${question}\nChoices:\n(A) one\n(B) two`), "the question survives");
    assert(out.includes(doc.slice(0, 200)), "the document's start survives");
    assert(out.includes("\n</text>\n\n"), "the text after the document is whole");
  }
  // Under the limit nothing changes; at the limit the whole prompt is counted exactly.
  const same = fitPrompt(t, { messages, document: doc }, before);
  assert(same.ok && !same.truncated && same.messages[0].content === content);
  assertEquals(same.tokens, before);
  const over = fitPrompt(t, { messages, document: doc }, before - 1);
  assert(over.ok && over.truncated && over.tokens <= before - 1);
});

Deno.test("fit: without protected text the cut is the reference's (first and last halves of the ids)", async () => {
  const t = await tok();
  const text = (await book()).slice(0, 20_000);
  const messages = [{ role: "user" as const, content: text }];
  // No chat template: the count is the content's ids alone, as pred.py's `len(tokenized_prompt)`.
  const plain = { encode: (s: string) => t.encode(s), decode: t.decode.bind(t) };
  const max = 1000;
  const r = fitPrompt(plain, { messages }, max);
  assert(r.ok);
  const ids = t.encode(text);
  const kept = middleTruncateIds(ids, max);
  const ref = t.decode(kept.slice(0, 500), { skipSpecial: true }) +
    t.decode(kept.slice(500), { skipSpecial: true });
  assertEquals(r.messages[0].content, ref);
});

Deno.test("fit: system prompts stay whole (LongMemEval); the history is cut", async () => {
  const t = await tok();
  const history = (await book()).slice(0, 30_000);
  const system = "You are a helpful assistant with access to past conversation history.";
  const user = `History:\n${history}\n\nBased on the above, answer: Who is the White Rabbit?`;
  const messages = [
    { role: "system" as const, content: system },
    { role: "user" as const, content: user },
  ];
  const r = fitPrompt(t, { messages, document: history }, 2000);
  assert(r.ok);
  assertEquals(r.messages.length, 2);
  assertEquals(r.messages[0], { role: "system", content: system });
  assert(r.messages[1].content.endsWith("answer: Who is the White Rabbit?"));
  assert(promptTokens(t, r.messages) <= 2000);
});

Deno.test("fit: MRCR keeps the last message and folds the earlier turns into one cut user message", async () => {
  const t = await tok();
  const text = await book();
  const turns = [];
  for (let i = 0; i < 12; i++) {
    turns.push({ role: "user" as const, content: `write a poem about topic ${i}` });
    turns.push({ role: "assistant" as const, content: text.slice(i * 3000, i * 3000 + 3000) });
  }
  const query = {
    role: "user" as const,
    content:
      "Prepend aZ3kQ9 to the 2nd (1 indexed) poem about topic 3. Do not include any other text.",
  };
  const messages = [...turns, query];
  const max = 4000;
  const r = fitPrompt(t, { messages, rule: "mrcr" }, max);
  assert(r.ok);
  assertEquals(r.messages.length, 2);
  assertEquals(r.messages[0].role, "user");
  assertEquals(r.messages[1], query);
  assert(r.messages[0].content.startsWith("write a poem about topic 0\n"));
  assert(promptTokens(t, r.messages) <= max);
  // The reference's budget: max − tokens(last) − 1024 for the joined earlier turns.
  const budget = max - t.encode(query.content).length - 1024;
  const joined = t.encode(turns.map((m) => m.content).join("\n"));
  assertEquals(
    r.messages[0].content,
    t.decode(middleTruncateIds(joined, budget), { skipSpecial: true }),
  );
});

Deno.test("fit: what cannot fit says why; an answer prefix counts as prompt", async () => {
  const t = await tok();
  const question = "word ".repeat(400) + "?";
  const messages = [{ role: "user" as const, content: `DOC ${"x y ".repeat(500)} ${question}` }];
  const r = fitPrompt(t, { messages, document: `DOC ${"x y ".repeat(500)}` }, 300);
  assert(!r.ok);
  assert(/cannot fit 300/.test(r.error), r.error);
  const mr = fitPrompt(t, { messages, rule: "mrcr" }, 100);
  assert(!mr.ok && /last message alone/.test(mr.error), mr.ok ? "" : mr.error);
  // The prefill's tokens count: a prompt that fits alone is cut when a long prefix is added.
  const small = [{ role: "user" as const, content: "a b c ".repeat(100) }];
  const n = promptTokens(t, small);
  const withPrefix = fitPrompt(t, { messages: small, prefill: " The answer is".repeat(10) }, n);
  assert(withPrefix.ok && withPrefix.truncated);
  assert(withPrefix.tokens <= n);
});
