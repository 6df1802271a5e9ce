/** Prompt files for generation: raw text, chat messages, or token ids. */
import { InputError } from "../core/errors.ts";
import { readJsonl } from "../core/jsonl.ts";
import { promptIds, type RolloutTokenizer } from "./rollout.ts";

export interface Prompt {
  id: string;
  tokens: number[];
}

/** Reads `{"id", "prompt"}`, `{"id", "messages"}` or `{"id", "tokens"}` lines. */
export async function readPrompts(
  path: string,
  tok: Pick<RolloutTokenizer, "encode" | "applyChatTemplate">,
  opts: { enableThinking: boolean },
): Promise<Prompt[]> {
  const out: Prompt[] = [];
  for await (const { line, value } of readJsonl(path)) {
    const id = value.id ?? String(out.length);
    if (typeof id !== "string" && typeof id !== "number") {
      throw new InputError("not a string or number", path, line, "id");
    }
    let tokens: number[];
    if (Array.isArray(value.tokens)) {
      if (!value.tokens.every((t) => Number.isInteger(t) && t >= 0)) {
        throw new InputError("expected a list of non-negative integers", path, line, "tokens");
      }
      tokens = value.tokens as number[];
    } else if (Array.isArray(value.messages)) {
      const msgs = value.messages as { role: unknown; content: unknown }[];
      for (const [i, m] of msgs.entries()) {
        if (!m || typeof m.role !== "string" || typeof m.content !== "string") {
          throw new InputError(
            "each message needs string role and content",
            path,
            line,
            `messages[${i}]`,
          );
        }
      }
      tokens = promptIds(tok, { messages: msgs as { role: string; content: string }[] }, opts);
    } else if (typeof value.prompt === "string") {
      tokens = tok.encode(value.prompt);
    } else {
      throw new InputError(
        'needs "prompt" (text), "messages" (chat) or "tokens"',
        path,
        line,
        "prompt",
      );
    }
    if (tokens.length === 0) throw new InputError("empty prompt", path, line, "prompt");
    out.push({ id: String(id), tokens });
  }
  return out;
}
