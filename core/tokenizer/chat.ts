/**
 * Chat templates: the Jinja template in tokenizer_config.json rendered with
 * `@huggingface/jinja`, with the variables `transformers`' `apply_chat_template` passes
 * (messages, add_generation_prompt, enable_thinking, special tokens).
 */
import { Template } from "@huggingface/jinja";

/** One chat turn. */
export interface ChatMessage {
  /** "system", "user", "assistant" or "tool" (any string reaches the template as is). */
  role: string;
  content: string;
  /** Qwen3 templates read an assistant's thinking from here when given. */
  reasoning_content?: string;
}

/** Options for rendering. */
export interface ChatOptions {
  /** Append the assistant turn header (default false, as in transformers). */
  addGenerationPrompt?: boolean;
  /**
   * Qwen3 thinking mode. `false` makes the template emit an empty `<think>\n\n</think>\n\n`
   * block; `true` or unset leave the thinking to the model.
   */
  enableThinking?: boolean;
}

const cache = new Map<string, Template>();

/** Renders `template` for `messages`. Templates are parsed once and cached. */
export function renderChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  opts: ChatOptions = {},
  specialTokens: Record<string, string> = {},
): string {
  let t = cache.get(template);
  if (!t) {
    t = new Template(template);
    cache.set(template, t);
  }
  const vars: Record<string, unknown> = {
    ...specialTokens,
    messages: messages.map((m) => ({ ...m })),
    add_generation_prompt: opts.addGenerationPrompt ?? false,
  };
  // Left undefined when unset, so `enable_thinking is defined` behaves as in transformers.
  if (opts.enableThinking !== undefined) vars.enable_thinking = opts.enableThinking;
  return t.render(vars);
}
