/**
 * A byte-level BPE trainer (GPT-2 / Qwen style) that writes a standard Hugging Face
 * `tokenizer.json` + `tokenizer_config.json`, so the result loads through loadTokenizer and
 * in `transformers` alike.
 *
 * Text is split by Qwen's pre-tokenizer regex, each piece becomes UTF-8 bytes (all 256 bytes are
 * in the vocabulary, so any text round-trips exactly), and merges are learned by pair frequency.
 * Pair counts are updated incrementally: a merge revisits only the words that contain the pair
 * (an inverted index), and a max-heap with lazy deletion yields the next best pair. Ties break
 * on the smaller (left id, right id), so the output depends only on the corpus and options.
 */
import { InputError } from "../errors.ts";
import { joinPath, writeJsonAtomic } from "../fsutil.ts";
import { mulberry32 } from "../rng.ts";

/** Qwen2/Qwen3's pre-tokenizer split pattern (as in their tokenizer.json). */
export const SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Special tokens every trained tokenizer gets, in id order after the BPE vocabulary. */
export const SPECIAL_TOKENS = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_end|>",
  "<think>",
  "</think>",
];

/**
 * Whether an added token is "special" (dropped by decode with skip_special_tokens). As in
 * Qwen3's tokenizer, `<think>` and `</think>` are added but not special: a response decoded for
 * the reward keeps them, so the format gate (exactly one `</think>`) can see them.
 */
export function isSpecial(content: string): boolean {
  return content !== "<think>" && content !== "</think>";
}

/** A minimal ChatML template with Qwen3's enable_thinking switch. */
export const CHATML_TEMPLATE = "{%- for message in messages %}" +
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}" +
  "{%- if enable_thinking is defined and enable_thinking is false %}" +
  "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}";

/** GPT-2's byte -> printable character table (index = byte value). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out = new Array<string>(256);
  for (const b of bs) out[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCodePoint(256 + n++);
  return out;
}

/** Options for {@link trainBpe}. */
export interface BpeTrainOptions {
  /** Total vocabulary size, special tokens included. */
  vocabSize: number;
  /** Defaults to {@link SPECIAL_TOKENS}. */
  specialTokens?: string[];
  /** Pairs seen fewer times are never merged (default 2). */
  minFrequency?: number;
  /** Cap on training text (characters): paragraphs are sampled with `seed` above it. */
  maxChars?: number;
  /** Seed for that sampling (default 0). Without a cap, training does not use it. */
  seed?: number;
  /** Called now and then with merges done and the merge target. */
  onProgress?: (done: number, target: number) => void;
}

/** A trained byte-level BPE. */
export interface BpeModel {
  /** Token strings (byte-level alphabet) by id, without the special tokens. */
  tokens: string[];
  /** Merges in rank order. */
  merges: [string, string][];
  /** Special tokens and their ids (after `tokens`). */
  special: { id: number; content: string }[];
  /** Pre-token count and unique words seen, for reporting. */
  stats: { chars: number; pretokens: number; words: number };
}

/** Strips a UTF-8 BOM, normalises CRLF/CR to LF, and cuts a Project Gutenberg header/footer. */
export function cleanCorpusText(text: string): string {
  let t = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const start = /^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$/im.exec(t);
  if (start) t = t.slice(start.index + start[0].length);
  const end = /^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$/im.exec(t);
  if (end) t = t.slice(0, end.index);
  return t.trim() + "\n";
}

/**
 * Reads corpus files as documents: `.jsonl` takes each line's "text" field, anything else is
 * plain text cleaned by {@link cleanCorpusText}.
 */
export async function readCorpus(paths: readonly string[]): Promise<string[]> {
  const docs: string[] = [];
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new InputError(`cannot read corpus file: ${(e as Error).message}`, path);
    }
    let text: string;
    try {
      // Fatal, as every other reader: U+FFFD would silently become part of the vocabulary.
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new InputError("not valid UTF-8 text (a binary file?)", path);
    }
    if (!path.endsWith(".jsonl")) {
      docs.push(cleanCorpusText(text));
      continue;
    }
    const lines = text.replace(/^\uFEFF/, "").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new InputError(`invalid JSON: ${(e as Error).message}`, path, i + 1);
      }
      const t = (v as { text?: unknown })?.text;
      if (typeof t !== "string") throw new InputError("no string field", path, i + 1, "text");
      docs.push(t.replace(/\r\n?/g, "\n"));
    }
  }
  return docs;
}

/** Samples paragraphs up to `maxChars` (seeded shuffle), keeping the rest in file order. */
function sample(docs: readonly string[], maxChars: number, seed: number): string[] {
  const total = docs.reduce((a, d) => a + d.length, 0);
  if (total <= maxChars) return [...docs];
  const paras = docs.flatMap((d) => d.split(/\n{2,}/).map((p) => p + "\n\n"));
  const rand = mulberry32(seed);
  const idx = paras.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const keep: number[] = [];
  let n = 0;
  for (const i of idx) {
    if (n >= maxChars) break;
    keep.push(i);
    n += paras[i].length;
  }
  return keep.sort((a, b) => a - b).map((i) => paras[i]);
}

/** Max-heap of (count, pair key): larger count first, then smaller key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private above(i: number, j: number): boolean {
    const ci = this.counts[i], cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number) {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number) {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lc = this.counts.pop()!, lk = this.keys.pop()!;
    if (this.keys.length) {
      this.counts[0] = lc;
      this.keys[0] = lk;
      let i = 0;
      const n = this.keys.length;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < n && this.above(l, m)) m = l;
        if (r < n && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** Pair keys pack (left, right) ids; ids stay below 2^21. */
const SHIFT = 2 ** 21;

/** Trains a byte-level BPE on `docs`. */
export function trainBpe(docs: readonly string[], opts: BpeTrainOptions): BpeModel {
  const special = opts.specialTokens ?? SPECIAL_TOKENS;
  const minFreq = opts.minFrequency ?? 2;
  if (opts.vocabSize < 256 + special.length) {
    throw new InputError(
      `vocab size ${opts.vocabSize} is below 256 bytes + ${special.length} special tokens`,
    );
  }
  if (opts.vocabSize >= SHIFT) throw new InputError(`vocab size ${opts.vocabSize} is too large`);
  const texts = opts.maxChars !== undefined ? sample(docs, opts.maxChars, opts.seed ?? 0) : docs;

  // 1. Count pre-tokens.
  const re = new RegExp(SPLIT_PATTERN, "gu");
  const wordCount = new Map<string, number>();
  let pretokens = 0, chars = 0;
  for (const t of texts) {
    chars += t.length;
    for (const m of t.matchAll(re)) {
      wordCount.set(m[0], (wordCount.get(m[0]) ?? 0) + 1);
      pretokens++;
    }
  }
  if (!texts.some((t) => /\S/.test(t))) {
    throw new InputError("the corpus has no text to learn from");
  }
  // Sorted so word indices (and so all later iteration orders) do not depend on Map history.
  const entries = [...wordCount.entries()].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const enc = new TextEncoder();
  const words: number[][] = entries.map(([w]) => Array.from(enc.encode(w)));
  const counts = entries.map(([, c]) => c);

  // 2. Initial pair counts and the pair -> words index.
  const byteChars = bytesToUnicode();
  const tokens = [...byteChars];
  const tokenId = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const s = words[w], c = counts[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i] * SHIFT + s[i + 1];
      pairCount.set(k, (pairCount.get(k) ?? 0) + c);
      let ws = pairWords.get(k);
      if (!ws) pairWords.set(k, ws = []);
      if (ws[ws.length - 1] !== w) ws.push(w);
    }
  }
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  // 3. Merge until the vocabulary is full.
  const target = opts.vocabSize - special.length;
  const merges: [string, string][] = [];
  const seen = new Int32Array(words.length).fill(-1);
  let step = 0;
  while (tokens.length < target && heap.size > 0) {
    const [c, key] = heap.pop();
    const cur = pairCount.get(key) ?? 0;
    if (cur !== c) {
      if (cur > 0) heap.push(cur, key); // stale entry: requeue with the live count
      continue;
    }
    if (c < minFreq) break;
    const a = Math.floor(key / SHIFT), b = key % SHIFT;
    const str = tokens[a] + tokens[b];
    let z = tokenId.get(str);
    if (z === undefined) {
      z = tokens.length;
      tokens.push(str);
      tokenId.set(str, z);
    }
    merges.push([tokens[a], tokens[b]]);
    step++;
    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      if (seen[w] === step) continue;
      seen[w] = step;
      const s = words[w], n = counts[w];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) has = true;
      if (!has) continue; // index entries go stale as words change
      for (let i = 0; i + 1 < s.length; i++) {
        const k = s[i] * SHIFT + s[i + 1];
        pairCount.set(k, pairCount.get(k)! - n);
        touched.add(k);
      }
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(z);
          i++;
        } else out.push(s[i]);
      }
      words[w] = out;
      for (let i = 0; i + 1 < out.length; i++) {
        const k = out[i] * SHIFT + out[i + 1];
        pairCount.set(k, (pairCount.get(k) ?? 0) + n);
        touched.add(k);
        if (out[i] === z || out[i + 1] === z) {
          let ws = pairWords.get(k);
          if (!ws) pairWords.set(k, ws = []);
          if (ws[ws.length - 1] !== w) ws.push(w);
        }
      }
    }
    pairWords.delete(key);
    for (const k of touched) {
      const v = pairCount.get(k)!;
      if (v > 0) heap.push(v, k);
      else pairCount.delete(k);
    }
    if (opts.onProgress && step % 100 === 0) opts.onProgress(tokens.length - 256, target - 256);
  }
  opts.onProgress?.(tokens.length - 256, target - 256);
  return {
    tokens,
    merges,
    special: special.map((content, i) => ({ id: tokens.length + i, content })),
    stats: { chars, pretokens, words: words.length },
  };
}

const BYTE_LEVEL = {
  type: "ByteLevel",
  add_prefix_space: false,
  trim_offsets: false,
  use_regex: false,
};

/** The HF `tokenizer.json` object for a trained model (Qwen2-style pipeline, no normalizer). */
export function tokenizerJson(model: BpeModel): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  model.tokens.forEach((t, i) => vocab[t] = i);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: model.special.map((s) => ({
      id: s.id,
      content: s.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: isSpecial(s.content),
    })),
    // No NFC normalizer (Qwen has one): training and encoding keep text byte-exact.
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: SPLIT_PATTERN }, behavior: "Isolated", invert: false },
        BYTE_LEVEL,
      ],
    },
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges,
    },
  };
}

/** The `tokenizer_config.json` object: ChatML template, eos `<|im_end|>`, pad `<|endoftext|>`. */
export function tokenizerConfigJson(model: BpeModel): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const s of model.special) {
    decoder[String(s.id)] = {
      content: s.content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: isSpecial(s.content),
    };
  }
  const has = (t: string) => model.special.some((s) => s.content === t);
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    bos_token: null,
    eos_token: has("<|im_end|>") ? "<|im_end|>" : model.special[0]?.content ?? null,
    pad_token: has("<|endoftext|>") ? "<|endoftext|>" : null,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    errors: "replace",
    model_max_length: 131072,
    split_special_tokens: false,
    tokenizer_class: "Qwen2Tokenizer",
    chat_template: CHATML_TEMPLATE,
  };
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (created if needed), atomically. */
export async function writeTokenizer(dir: string, model: BpeModel): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(joinPath(dir, "tokenizer.json"), tokenizerJson(model));
  await writeJsonAtomic(joinPath(dir, "tokenizer_config.json"), tokenizerConfigJson(model));
}
