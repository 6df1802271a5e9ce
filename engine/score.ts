/**
 * Teacher-forced scoring: per-token logprobs of given sequences, packed into
 * forwards of about `batchTokens` tokens each.
 */
import { InputError } from "../core/errors.ts";
import { readJsonl } from "../core/jsonl.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { packSequences, type Qwen3 } from "./qwen3.ts";

export interface ScoreInput {
  id: string;
  tokens: number[];
}

/** Reads `{"id", "tokens"}` or `{"id", "text"}` lines (text needs a tokenizer). */
export async function readScoreInputs(
  path: string,
  tok?: { encode(text: string): number[] },
): Promise<ScoreInput[]> {
  const out: ScoreInput[] = [];
  for await (const { line, value } of readJsonl(path)) {
    const id = value.id;
    if (typeof id !== "string" && typeof id !== "number") {
      throw new InputError("missing id", path, line, "id");
    }
    let tokens: number[];
    if (Array.isArray(value.tokens)) {
      if (!value.tokens.every((t) => Number.isInteger(t) && t >= 0)) {
        throw new InputError("expected a list of non-negative integers", path, line, "tokens");
      }
      tokens = value.tokens as number[];
    } else if (typeof value.text === "string") {
      if (!tok) {
        throw new InputError(
          "text input needs a tokenizer in the model folder",
          path,
          line,
          "text",
        );
      }
      tokens = tok.encode(value.text);
    } else {throw new InputError(
        'needs "tokens" (a list) or "text" (a string)',
        path,
        line,
        "tokens",
      );}
    if (tokens.length === 0) throw new InputError("empty sequence", path, line, "tokens");
    out.push({ id: String(id), tokens });
  }
  return out;
}

/** Scores every sequence, calling `emit` in input order with logprobs of tokens 1..n-1. */
export async function scoreSequences(
  model: Qwen3,
  inputs: ScoreInput[],
  batchTokens: number,
  emit: (r: { id: string; logprobs: number[] }) => Promise<void> | void,
): Promise<void> {
  let i = 0;
  while (i < inputs.length) {
    const batch: ScoreInput[] = [];
    let n = 0;
    while (
      i < inputs.length && (batch.length === 0 || n + inputs[i].tokens.length <= batchTokens)
    ) {
      n += inputs[i].tokens.length;
      batch.push(inputs[i++]);
    }
    const packed = packSequences(batch.map((b) => b.tokens));
    const rec = new Recorder(model.gpu, model.pool, { label: "score" });
    const st = await model.forward(rec, packed);
    const r = rec.read(st.logprobs.buffer, packed.ids.length * 4);
    await rec.submit();
    const lp = new Float32Array(await r);
    model.release(st);
    for (const [j, b] of batch.entries()) {
      const start = packed.seqStarts[j];
      await emit({
        id: b.id,
        logprobs: Array.from(lp.subarray(start, start + b.tokens.length - 1)),
      });
    }
  }
}
