/** `golongrl tokenizer`: train a byte-level BPE tokenizer; encode/decode text with one. */
import { type Command, command } from "./command.ts";
import { UsageError } from "../core/errors.ts";
import { Progress } from "../core/progress.ts";
import { readCorpus, trainBpe, writeTokenizer } from "../core/tokenizer/bpe_train.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";

const train = command({
  name: "train",
  summary: "Train a byte-level BPE tokenizer (HF tokenizer.json) on text files.",
  usage: "golongrl tokenizer train --corpus PATH... --vocab N --out DIR [--seed S]",
  description:
    "Corpus files: .txt (a BOM, CRLF and a Project Gutenberg header/footer are stripped) or\n" +
    '.jsonl with a "text" field per line. Writes DIR/tokenizer.json and\n' +
    "DIR/tokenizer_config.json (ChatML template with enable_thinking; special tokens\n" +
    "<|endoftext|> <|im_start|> <|im_end|> <think> </think>). The output depends only on the\n" +
    "corpus and flags: the same inputs give a byte-identical tokenizer.json.",
  flags: {
    corpus: {
      type: "string",
      value: "PATH",
      multiple: true,
      description: "Corpus file (repeatable; positional arguments are corpus files too).",
    },
    vocab: {
      type: "integer",
      value: "N",
      min: 261,
      max: 1_000_000,
      description: "Vocabulary size, special tokens included.",
    },
    out: { type: "string", value: "DIR", description: "Output folder." },
    seed: {
      type: "integer",
      value: "S",
      default: 0,
      description: "Seed for paragraph sampling when --max-mb caps the corpus.",
    },
    "max-mb": {
      type: "number",
      value: "MB",
      min: 0.001,
      description: "Train on a seeded sample of at most this many MB (characters) of text.",
    },
    "min-frequency": {
      type: "integer",
      value: "N",
      default: 2,
      min: 1,
      description: "Never merge pairs seen fewer times.",
    },
  },
  positionals: [{ name: "corpus", description: "More corpus files.", variadic: true }],
  examples: [
    "golongrl tokenizer train --corpus ../shared/corpora/books/pg11_alice_in_wonderland.txt --vocab 2048 --out tok/",
  ],
  async run({ io, flags, positionals }) {
    const hint = "golongrl tokenizer train --help";
    const corpus = [...(flags.corpus ?? []), ...positionals];
    if (!corpus.length) {
      throw new UsageError("golongrl tokenizer train: --corpus is required", hint);
    }
    if (flags.vocab === undefined) {
      throw new UsageError("golongrl tokenizer train: --vocab is required", hint);
    }
    if (!flags.out) throw new UsageError("golongrl tokenizer train: --out is required", hint);
    const t0 = performance.now();
    const docs = await readCorpus(corpus);
    const chars = docs.reduce((a, d) => a + d.length, 0);
    if (!flags.quiet) io.err(`tokenizer train: ${docs.length} documents, ${chars} characters\n`);
    const progress = new Progress("tokenizer train", {
      unit: "merges",
      total: Math.max(0, flags.vocab - 256 - 5),
      quiet: flags.quiet,
      write: (s) => io.err(s),
    });
    const model = trainBpe(docs, {
      vocabSize: flags.vocab,
      seed: flags.seed,
      maxChars: flags["max-mb"] !== undefined ? Math.round(flags["max-mb"] * 1e6) : undefined,
      minFrequency: flags["min-frequency"],
      onProgress: (done) => progress.tick(done - progress.done),
    });
    progress.finish();
    await writeTokenizer(flags.out, model);
    const vocab = model.tokens.length + model.special.length;
    if (vocab < flags.vocab && !flags.quiet) {
      io.err(
        `tokenizer train: stopped at vocab ${vocab}: no pair left with frequency >= ` +
          `${flags["min-frequency"]}\n`,
      );
    }
    io.out(
      JSON.stringify({
        out: flags.out,
        vocab_size: vocab,
        merges: model.merges.length,
        ...model.stats,
        seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
      }) + "\n",
    );
  },
});

const encode = command({
  name: "encode",
  summary: "Print the token ids of a text (or a file) as JSON.",
  usage: "golongrl tokenizer encode --tokenizer DIR (--text T | --file PATH) [--tokens]",
  flags: {
    tokenizer: { type: "string", value: "DIR", description: "Folder with tokenizer.json." },
    text: { type: "string", value: "T", description: "Text to encode." },
    file: { type: "string", value: "PATH", description: "Encode this file's text instead." },
    tokens: { type: "boolean", description: "Also print the token strings." },
  },
  examples: [
    "golongrl tokenizer encode --tokenizer ../shared/tokenizers/qwen3 --text 'Hello world'",
  ],
  async run({ io, flags }) {
    const hint = "golongrl tokenizer encode --help";
    if (!flags.tokenizer) {
      throw new UsageError("golongrl tokenizer encode: --tokenizer is required", hint);
    }
    if ((flags.text === undefined) === (flags.file === undefined)) {
      throw new UsageError("golongrl tokenizer encode: give exactly one of --text or --file", hint);
    }
    const tok = await loadTokenizer(flags.tokenizer);
    // Exactly one of the two is given (checked above).
    const text = flags.file !== undefined ? await Deno.readTextFile(flags.file) : flags.text ?? "";
    const ids = tok.encode(text);
    if (flags.tokens) {
      io.out(JSON.stringify({ ids, tokens: ids.map((i) => tok.idToToken(i)) }) + "\n");
    } else io.out(JSON.stringify(ids) + "\n");
  },
});

const decode = command({
  name: "decode",
  summary: "Print the text of token ids (a JSON list or comma/space separated).",
  usage: "golongrl tokenizer decode --tokenizer DIR --ids IDS [--skip-special]",
  flags: {
    tokenizer: { type: "string", value: "DIR", description: "Folder with tokenizer.json." },
    ids: {
      type: "string",
      value: "IDS",
      description: "Token ids, e.g. '[9707, 1879]' or '9707 1879'.",
    },
    "skip-special": { type: "boolean", description: "Drop special tokens." },
  },
  async run({ io, flags }) {
    const hint = "golongrl tokenizer decode --help";
    if (!flags.tokenizer || flags.ids === undefined) {
      throw new UsageError("golongrl tokenizer decode: --tokenizer and --ids are required", hint);
    }
    const parts = flags.ids.replace(/[[\]]/g, " ").split(/[\s,]+/).filter(Boolean);
    const ids = parts.map(Number);
    const bad = parts.find((_p, i) => !Number.isInteger(ids[i]) || ids[i] < 0);
    if (bad !== undefined) {
      throw new UsageError(`golongrl tokenizer decode: --ids: "${bad}" is not a token id`, hint);
    }
    const tok = await loadTokenizer(flags.tokenizer);
    const over = ids.find((i) => i >= tok.vocabSize);
    if (over !== undefined) {
      throw new UsageError(
        `golongrl tokenizer decode: id ${over} is outside the vocabulary (${tok.vocabSize})`,
        hint,
      );
    }
    io.out(tok.decode(ids, { skipSpecial: flags["skip-special"] }) + "\n");
  },
});

/** `golongrl tokenizer train|encode|decode`. */
export const tokenizer: Command = {
  name: "tokenizer",
  summary: "Train a byte-level BPE tokenizer, or encode/decode text with a tokenizer.",
  usage: "golongrl tokenizer <train|encode|decode> [flags]",
  subcommands: [train, encode, decode],
};
