/**
 * Prompt lengths as the model sees them: the user message inside the tokenizer's chat template
 * with the generation prompt, as verl's `max_prompt_length` and our trainer count them. Of the
 * template's thinking variants the longest is counted (Qwen3's `enable_thinking=false` adds an
 * empty think block), so a sample fits its bucket whichever variant a trainer uses.
 */
import type { Tokenizer } from "../core/tokenizer/tokenizer.ts";
import type { TokenCounter } from "./assemble.ts";

type TemplateTokenizer = Pick<Tokenizer, "encode" | "hasChatTemplate" | "applyChatTemplate">;

const SENTINEL = "\u0001golongrl-user-message\u0001";

/** Tokens of a user message rendered with the chat template (plain text when there is none). */
export function promptCounter(tok: TemplateTokenizer): TokenCounter {
  if (!tok.hasChatTemplate) return (t) => tok.encode(t).length;
  const render = (content: string, enableThinking?: boolean) =>
    tok.applyChatTemplate([{ role: "user", content }], {
      addGenerationPrompt: true,
      enableThinking,
    });
  const variants = [undefined, false].map((e) => render(SENTINEL, e).split(SENTINEL));
  if (variants.some((v) => v.length !== 2)) {
    // The template transforms the content: render every prompt in full.
    return (t) => Math.max(tok.encode(render(t)).length, tok.encode(render(t, false)).length);
  }
  const [prefix, suffix] = variants.reduce((a, b) =>
    tok.encode(b.join("")).length > tok.encode(a.join("")).length ? b : a
  );
  return (t) => tok.encode(prefix + t + suffix).length;
}
