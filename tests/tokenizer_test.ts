/**
 * Tokenizers: the real Qwen3 tokenizer (known ids, round trips, chat template with thinking on
 * and off, eos ids) and the byte-level BPE trainer (trained on real books, exact round trips of
 * text outside the corpus, byte-identical output for the same inputs), plus the CLI commands.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { loadTokenizer, type Tokenizer } from "../core/tokenizer/tokenizer.ts";
import {
  bytesToUnicode,
  cleanCorpusText,
  readCorpus,
  trainBpe,
  writeTokenizer,
} from "../core/tokenizer/bpe_train.ts";
import { tokenizer as tokenizerCmd } from "../cli/tokenizer.ts";
import { parseFlags } from "../cli/args.ts";

const SHARED = new URL("../../shared/", import.meta.url).pathname;
const QWEN3 = `${SHARED}tokenizers/qwen3`;
const BOOKS = `${SHARED}corpora/books/`;
const tmp = () => Deno.makeTempDir({ prefix: "golongrl_tok_" });

let qwenCache: Promise<Tokenizer> | undefined;
const qwen = () => qwenCache ??= loadTokenizer(QWEN3);

Deno.test("qwen3 tokenizer: known ids", async () => {
  const t = await qwen();
  assertEquals(t.encode("Hello world"), [9707, 1879]);
  assertEquals(t.encode("The quick brown fox."), [785, 3974, 13876, 38835, 13]);
  assertEquals(t.encode(" 12345"), [220, 16, 17, 18, 19, 20]); // digits split one by one
  assertEquals(t.encode("你好，世界"), [108386, 3837, 99489]);
  // Special tokens written in text become their ids.
  assertEquals(t.encode("<|im_start|>user\nhi<|im_end|>"), [151644, 872, 198, 6023, 151645]);
  assertEquals(t.tokenToId("<think>"), 151667);
  assertEquals(t.tokenToId("</think>"), 151668);
  assertEquals(t.idToToken(1879), "Ġworld");
});

Deno.test("qwen3 tokenizer: eos, pad, special ids, vocab size", async () => {
  const t = await qwen();
  assert(t.eosIds.includes(151645), "<|im_end|>");
  assert(t.eosIds.includes(151643), "<|endoftext|>");
  assertEquals(t.eosIds[0], 151645); // tokenizer_config's eos_token first
  assertEquals(t.padId, 151643);
  assertEquals(t.vocabSize, 151669);
  assert(t.specialIds.has(151644) && t.specialIds.has(151645) && t.specialIds.has(151643));
  const ids = t.encode("<|im_start|>assistant\nok<|im_end|>");
  assertEquals(t.decode(ids, { skipSpecial: true }), "assistant\nok");
  assertEquals(t.decode(ids), "<|im_start|>assistant\nok<|im_end|>");
});

Deno.test("qwen3 tokenizer: round trip on real book text and CJK", async () => {
  const t = await qwen();
  const raw = await Deno.readTextFile(`${BOOKS}pg11_alice_in_wonderland.txt`);
  const text = cleanCorpusText(raw).slice(0, 30_000);
  const ids = t.encode(text);
  assertEquals(t.decode(ids), text);
  assert(text.length / ids.length > 3.5, `chars/token ${text.length / ids.length}`);
  // Raw file text too (BOM, CRLF) and mixed scripts; NFC input so the NFC normalizer is a no-op.
  const head = raw.slice(0, 5000);
  assertEquals(t.decode(t.encode(head)), head);
  for (
    const s of [
      "长上下文强化学习：可验证奖励。",
      "日本語のテキスト、カタカナ。",
      "한국어 문장",
      "emoji 😀🚀 and tabs\t\tend\n\n",
    ]
  ) assertEquals(t.decode(t.encode(s)), s);
});

Deno.test("qwen3 tokenizer: chat template, thinking on and off", async () => {
  const t = await qwen();
  const msgs = [{ role: "user", content: "What is 2+2?" }];
  assertEquals(
    t.applyChatTemplate(msgs, { addGenerationPrompt: true, enableThinking: false }),
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
  );
  const on = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n";
  assertEquals(t.applyChatTemplate(msgs, { addGenerationPrompt: true, enableThinking: true }), on);
  assertEquals(t.applyChatTemplate(msgs, { addGenerationPrompt: true }), on);
  assertEquals(t.applyChatTemplate(msgs), "<|im_start|>user\nWhat is 2+2?<|im_end|>\n");
  // A finished turn: system prompt, and the assistant's thinking split out as the template does.
  assertEquals(
    t.applyChatTemplate([
      { role: "system", content: "Be brief." },
      ...msgs,
      { role: "assistant", content: "<think>\nadd them\n</think>\n\n4" },
    ]),
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n" +
      "<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n",
  );
  const ids = t.encode(
    t.applyChatTemplate(msgs, { addGenerationPrompt: true, enableThinking: false }),
  );
  assertEquals(ids.slice(-7), [151644, 77091, 198, 151667, 271, 151668, 271]);
});

Deno.test("bpe: cleanCorpusText strips BOM, CRLF and the Gutenberg header/footer", () => {
  const raw =
    "\uFEFFThe Project Gutenberg eBook\r\nlicence\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\n" +
    "Chapter 1\r\n\r\nText.\r\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\r\nfooter";
  assertEquals(cleanCorpusText(raw), "Chapter 1\n\nText.\n");
  assertEquals(cleanCorpusText("plain\r\ntext"), "plain\ntext\n");
  const table = bytesToUnicode();
  assertEquals(new Set(table).size, 256);
  assertEquals(table[32], "Ġ");
  assertEquals(table[10], "Ċ");
  assertEquals(table[65], "A");
});

const TWO_BOOKS = [`${BOOKS}pg1952_yellow_wallpaper.txt`, `${BOOKS}pg11_alice_in_wonderland.txt`];

Deno.test("bpe: train on two books, load, exact round trips, deterministic output", async () => {
  const docs = await readCorpus(TWO_BOOKS);
  assert(!docs[0].includes("PROJECT GUTENBERG"), "header stripped");
  const t0 = performance.now();
  const model = trainBpe(docs, { vocabSize: 1000 });
  const ms = performance.now() - t0;
  assert(ms < 20_000, `training took ${ms} ms`);
  assertEquals(model.tokens.length + model.special.length, 1000);
  assertEquals(model.special.map((s) => s.id), [995, 996, 997, 998, 999]);
  const dir1 = await tmp(), dir2 = await tmp();
  await writeTokenizer(dir1, model);
  await writeTokenizer(dir2, trainBpe(await readCorpus(TWO_BOOKS), { vocabSize: 1000 }));
  assertEquals(
    await Deno.readFile(`${dir1}/tokenizer.json`),
    await Deno.readFile(`${dir2}/tokenizer.json`),
  );
  const t = await loadTokenizer(dir1);
  assertEquals(t.vocabSize, 1000);
  assertEquals(t.eosIds, [997, 995]); // <|im_end|>, <|endoftext|>
  assertEquals(t.padId, 995);
  for (const s of ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]) {
    assertEquals(t.encode(s).length, 1, s);
  }
  const samples = [
    docs[1].slice(1000, 6000),
    "Alice was beginning to get very tired of sitting by her sister on the bank",
    "CJK 长上下文 日本語 한국어, emoji 😀🚀👩‍👩‍👧, accents naïve café, math ∑∫√",
    "control \u0000\u0001\u007f bytes, tabs\t\t, CRLF\r\n, lone spaces   \n\n\n",
    "<|im_start|>user\nhi<|im_end|>\n<think>\nx\n</think>\n\n",
  ];
  for (const s of samples) assertEquals(t.decode(t.encode(s)), s);
  // As in Qwen3, <think> and </think> survive decoding with special tokens skipped: the
  // reward's format gate reads the decoded response and needs them.
  assertEquals(
    t.decode(t.encode("<think>\nx\n</think>\n\nok<|im_end|>"), { skipSpecial: true }),
    "<think>\nx\n</think>\n\nok",
  );
  assert(!t.specialIds.has(998) && !t.specialIds.has(999) && t.specialIds.has(997));
  // Compression on in-domain text: learned merges are used.
  const text = docs[1].slice(0, 20_000);
  assert(text.length / t.encode(text).length > 2.5, "chars per token");
  assertEquals(
    t.applyChatTemplate([{ role: "user", content: "hi" }], {
      addGenerationPrompt: true,
      enableThinking: false,
    }),
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
  );
  await Deno.remove(dir1, { recursive: true });
  await Deno.remove(dir2, { recursive: true });
});

Deno.test("bpe: jsonl corpora use the text field; errors name file and line", async () => {
  const dir = await tmp();
  await Deno.writeTextFile(`${dir}/a.jsonl`, '{"text": "one two three"}\n\n{"text": "four"}\n');
  assertEquals(await readCorpus([`${dir}/a.jsonl`]), ["one two three", "four"]);
  await Deno.writeTextFile(`${dir}/b.jsonl`, '{"text": "ok"}\n{"body": "x"}\n');
  await assertRejects(() => readCorpus([`${dir}/b.jsonl`]), /b\.jsonl, line 2, field "text"/);
  await Deno.writeTextFile(`${dir}/c.jsonl`, "{oops\n");
  await assertRejects(() => readCorpus([`${dir}/c.jsonl`]), /c\.jsonl, line 1: invalid JSON/);
  await assertRejects(() => readCorpus([`${dir}/none.txt`]), /none\.txt: cannot read/);
  await Deno.remove(dir, { recursive: true });
});

async function runCmd(sub: string, argv: string[]) {
  const cmd = tokenizerCmd.subcommands!.find((c) => c.name === sub)!;
  const { flags, positionals } = parseFlags(
    `golongrl tokenizer ${sub}`,
    argv,
    cmd.flags ?? {},
    cmd.positionals,
  );
  let out = "", err = "";
  await cmd.run!({ io: { out: (s) => out += s, err: (s) => err += s }, flags, positionals });
  return { out, err };
}

Deno.test("cli: tokenizer train / encode / decode", async () => {
  const dir = await tmp();
  const r = await runCmd("train", [
    "--corpus",
    TWO_BOOKS[0],
    "--vocab",
    "600",
    "--out",
    dir,
    "--seed",
    "3",
  ]);
  const summary = JSON.parse(r.out);
  assertEquals(summary.vocab_size, 600);
  assert(/merges/.test(r.err), r.err);
  const enc = await runCmd("encode", ["--tokenizer", dir, "--text", "Hello 😀"]);
  const ids = JSON.parse(enc.out) as number[];
  const dec = await runCmd("decode", ["--tokenizer", dir, "--ids", ids.join(",")]);
  assertEquals(dec.out, "Hello 😀\n");
  const q = await runCmd("encode", ["--tokenizer", QWEN3, "--text", "Hello world"]);
  assertEquals(q.out, "[9707,1879]\n");
  await assertRejects(
    () => runCmd("train", ["--vocab", "600", "--out", dir]),
    /--corpus is required/,
  );
  await assertRejects(
    () => runCmd("decode", ["--tokenizer", dir, "--ids", "1,99999"]),
    /id 99999 is outside the vocabulary \(600\)/,
  );
  await Deno.remove(dir, { recursive: true });
});
