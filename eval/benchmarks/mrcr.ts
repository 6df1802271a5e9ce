/**
 * OpenAI MRCR (HF `openai/mrcr`; GoLongRL's `mrcr_0_128K.jsonl`): multi-turn conversations with
 * 2/4/8 identical asks; the model must return the requested one prefixed by a random string.
 * Records: `prompt` (the messages as a JSON string, or a list), `answer`,
 * `random_string_to_prepend`, `n_needles` (or GoLongRL's `needle_count`), optional `id`,
 * `n_tokens_qwen`, `bin`. Score = the official `grade` (metrics/mrcr.ts) of the
 * think-stripped response (mrcr_eval.py `strip_thinking`). Subset = needle count; length bucket
 * = the record's `bin` if given, else the OpenAI bin of its token count.
 *
 * @module
 */

import { GOLONGRL_EVAL_SAMPLING } from "./sampling.ts";
import { InputError } from "../../core/errors.ts";
import { mrcrGrade } from "../../metrics/mrcr.ts";
import { lengthLabel } from "../../core/lengths.ts";
import { loadRecordItems, messagesTokens, stableHash, strField, stripThink } from "./common.ts";
import type { Benchmark, EvalItem, EvalMessage, LoadOptions, ScoreResult } from "./types.ts";

/** The OpenAI MRCR bin edges in tokens (4K–8K … 512K–1M). */
export const MRCR_BIN_EDGES = [
  4096,
  8192,
  16384,
  32768,
  65536,
  131072,
  262144,
  524288,
  1048576,
] as const;

/** The bin label of a token count: "0-4k", "4k-8k", …, "512k-1m", "1m+". */
export function mrcrBin(tokens: number): string {
  if (tokens < MRCR_BIN_EDGES[0]) return `0-${lengthLabel(MRCR_BIN_EDGES[0])}`;
  for (let i = 0; i + 1 < MRCR_BIN_EDGES.length; i++) {
    if (tokens < MRCR_BIN_EDGES[i + 1]) {
      return `${lengthLabel(MRCR_BIN_EDGES[i])}-${lengthLabel(MRCR_BIN_EDGES[i + 1])}`;
    }
  }
  return `${lengthLabel(MRCR_BIN_EDGES[MRCR_BIN_EDGES.length - 1])}+`;
}

/** What an MRCR item's scorer needs. */
export interface MrcrReference {
  answer: string;
  randomStringToPrepend: string;
}

function parseMessages(v: unknown, file: string, index: number): EvalMessage[] {
  let list = v;
  if (typeof v === "string") {
    try {
      list = JSON.parse(v);
    } catch (e) {
      throw new InputError(`record ${index}: prompt is not JSON: ${(e as Error).message}`, file);
    }
  }
  if (!Array.isArray(list)) throw new InputError(`record ${index}: prompt must be a list`, file);
  return list.map((m) => {
    const role = m?.role;
    if (role !== "user" && role !== "assistant" && role !== "system") {
      throw new InputError(`record ${index}: bad message role ${JSON.stringify(role)}`, file);
    }
    return { role, content: String(m.content ?? "") };
  });
}

function load(name: string, opts: LoadOptions): AsyncGenerator<EvalItem> {
  return loadRecordItems(opts, { flag: "mrcr", what: "openai/mrcr JSONL/JSON" }, (r, count) => {
    const rec = r.record;
    const messages = parseMessages(rec.prompt, r.file, r.index);
    const answer = strField(r, "answer");
    const prefix = strField(r, "random_string_to_prepend");
    const needles = rec.n_needles ?? rec.needle_count;
    const tokens = opts.tokenizer || typeof rec.n_tokens_qwen !== "number"
      ? messagesTokens(messages, count)
      : rec.n_tokens_qwen;
    const rid = rec.id !== undefined ? String(rec.id) : stableHash(`${prefix}\n${answer}`);
    const reference: MrcrReference = { answer, randomStringToPrepend: prefix };
    return {
      id: `${name}/${rid}`,
      benchmark: name,
      subset: needles !== undefined ? `${needles}needle` : undefined,
      lengthBucket: typeof rec.bin === "string" ? rec.bin : mrcrBin(tokens),
      contextTokensHint: tokens,
      messages,
      reference,
      meta: {
        n_needles: needles,
        desired_msg_index: rec.desired_msg_index,
        total_messages: rec.total_messages,
        n_chars: rec.n_chars,
        truncation: "middle-keep-last-message",
      },
    };
  });
}

/** The MRCR benchmark (official grade: prefix check, then SequenceMatcher ratio). */
export function mrcrBenchmark(): Benchmark {
  const name = "mrcr";
  return {
    name,
    description: "OpenAI MRCR multi-round coreference: prefix + difflib ratio (official grade)",
    dataFlag: "mrcr",
    primaryMetric: "mrcr_ratio",
    sampling: GOLONGRL_EVAL_SAMPLING,
    truncation: "mrcr",
    load: (opts) => load(name, opts),
    score(item, prediction): ScoreResult {
      const ref = item.reference as MrcrReference;
      const response = stripThink(prediction);
      return {
        score: mrcrGrade(response, ref.answer, ref.randomStringToPrepend),
        details: { prefixOk: response.startsWith(ref.randomStringToPrepend) },
      };
    },
  };
}
