/**
 * Hugging Face tokenizers (`tokenizer.json` + `tokenizer_config.json`) through
 * `@huggingface/tokenizers`, wrapped with what training and generation need: end-of-sequence
 * ids, the pad id, the special-token set, and the chat template (see chat.ts).
 */
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { InputError } from "../errors.ts";
import { joinPath } from "../fsutil.ts";
import { type ChatMessage, type ChatOptions, renderChatTemplate } from "./chat.ts";

/** A loaded tokenizer. */
export interface Tokenizer {
  /** The folder it was loaded from. */
  dir: string;
  /** Text to ids. Special tokens written in the text (e.g. `<|im_end|>`) become their ids. */
  encode(text: string): number[];
  /** Ids to text; `skipSpecial` drops special tokens. */
  decode(ids: readonly number[], opts?: { skipSpecial?: boolean }): string;
  /** One past the largest id (vocab + added tokens): the embedding rows a model needs. */
  vocabSize: number;
  /** Ids that end generation: the configured eos, generation_config's, `<|im_end|>`, `<|endoftext|>`. */
  eosIds: number[];
  /** Padding id (pad_token, else `<|endoftext|>`, else the first eos id). */
  padId: number;
  /** Ids of the added tokens marked special. */
  specialIds: Set<number>;
  /** The id of a token string, if it is in the vocabulary. */
  tokenToId(token: string): number | undefined;
  /** The token string of an id. */
  idToToken(id: number): string | undefined;
  /** Whether the config carries a chat template. */
  hasChatTemplate: boolean;
  /** Renders messages with the tokenizer_config.json chat template. */
  applyChatTemplate(messages: readonly ChatMessage[], opts?: ChatOptions): string;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, path);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new InputError(`invalid JSON: ${(e as Error).message}`, path);
  }
}

/** A token field of tokenizer_config.json: a string, `{content}`, or null. */
function tokenString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  return undefined;
}

/** Loads `tokenizer.json` and `tokenizer_config.json` (and `generation_config.json` if present). */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const tjPath = joinPath(dir, "tokenizer.json");
  const tcPath = joinPath(dir, "tokenizer_config.json");
  const tj = await readJson(tjPath);
  const tc: Record<string, unknown> = await readJson(tcPath).catch((e) => {
    if (e instanceof InputError && /cannot read/.test(e.message)) return {};
    throw e;
  });
  let gen: Record<string, unknown> = {};
  try {
    gen = JSON.parse(await Deno.readTextFile(joinPath(dir, "generation_config.json")));
  } catch { /* optional */ }

  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(tj, tc);
  } catch (e) {
    throw new InputError(`cannot build the tokenizer: ${(e as Error).message}`, tjPath);
  }
  const vocab = hf.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const specialIds = new Set<number>();
  for (const t of (tj.added_tokens ?? []) as { id: number; special?: boolean }[]) {
    if (t.special) specialIds.add(t.id);
  }

  const eos: number[] = [];
  const addEos = (id: unknown) => {
    if (Number.isSafeInteger(id) && !eos.includes(id as number)) eos.push(id as number);
  };
  const eosTok = tokenString(tc.eos_token);
  if (eosTok !== undefined) addEos(vocab.get(eosTok));
  const genEos = gen.eos_token_id;
  for (const id of Array.isArray(genEos) ? genEos : [genEos]) addEos(id);
  addEos(vocab.get("<|im_end|>"));
  addEos(vocab.get("<|endoftext|>"));
  if (eos.length === 0) {
    throw new InputError(
      "no end-of-sequence token: set eos_token in tokenizer_config.json",
      tcPath,
      undefined,
      "eos_token",
    );
  }
  const padTok = tokenString(tc.pad_token);
  const padId = (padTok !== undefined ? vocab.get(padTok) : undefined) ??
    vocab.get("<|endoftext|>") ?? eos[0];

  const template = typeof tc.chat_template === "string" ? tc.chat_template : undefined;
  const specials = {
    bos_token: tokenString(tc.bos_token) ?? "",
    eos_token: eosTok ?? "",
    pad_token: padTok ?? "",
  };
  return {
    dir,
    encode: (text) => hf.encode(text, { add_special_tokens: false }).ids,
    decode: (ids, opts = {}) =>
      hf.decode([...ids], { skip_special_tokens: opts.skipSpecial ?? false }),
    vocabSize,
    eosIds: eos,
    padId,
    specialIds,
    tokenToId: (t) => vocab.get(t),
    idToToken: (id) => hf.id_to_token(id),
    hasChatTemplate: template !== undefined,
    applyChatTemplate(messages, opts = {}) {
      if (template === undefined) {
        throw new InputError("no chat_template", tcPath, undefined, "chat_template");
      }
      return renderChatTemplate(template, messages, opts, specials);
    },
  };
}
