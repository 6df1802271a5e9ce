/**
 * Policies for difficulty filtering: a local checkpoint through our batched
 * generation, or any chat backend (an OpenAI-compatible endpoint).
 */
import type { Policy } from "./difficulty.ts";
import type { Sample } from "./types.ts";
import type { Qwen3 } from "../model/qwen3.ts";
import { generate } from "../model/generate.ts";

export interface LocalPolicyTokenizer {
  encode(text: string): number[];
  decode(ids: number[], opts?: { skipSpecial?: boolean }): string;
  applyChatTemplate(
    messages: { role: string; content: string }[],
    opts: { addGenerationPrompt: boolean; enableThinking: boolean },
  ): string;
  eosIds: number[];
}

export interface SamplingConfig {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  enableThinking: boolean;
  /** Prompts per generate call. */
  batch: number;
}

/** A policy backed by a local model: the chat template, then n = k samples per prompt. */
export function localPolicy(
  name: string,
  model: Qwen3,
  tok: LocalPolicyTokenizer,
  s: SamplingConfig,
): Policy {
  return {
    name,
    async respond(samples: Sample[], k: number): Promise<string[][]> {
      const out: string[][] = [];
      for (let i = 0; i < samples.length; i += s.batch) {
        const batch = samples.slice(i, i + s.batch);
        const prompts = batch.map((x) =>
          tok.encode(
            tok.applyChatTemplate(x.prompt, {
              addGenerationPrompt: true,
              enableThinking: s.enableThinking,
            }),
          )
        );
        const { completions } = await generate(model, prompts, {
          n: k,
          maxNewTokens: s.maxNewTokens,
          temperature: s.temperature,
          topP: s.topP,
          topK: 0,
          seed: s.seed,
          rowIdBase: i * k,
          eosIds: tok.eosIds,
        });
        for (let j = 0; j < batch.length; j++) out.push([]);
        for (const c of completions) {
          // The chat template opened <think> in the prompt when thinking is on; the verifier's
          // format gate reads the response as the reference's decoded completion (special tokens skipped).
          out[i + c.prompt].push(tok.decode(c.tokens, { skipSpecial: true }));
        }
      }
      return out;
    },
  };
}

/** The subset of a chat backend a policy needs (see eval/backends). */
export interface ChatBackendLike {
  name: string;
  concurrency: number;
  complete(req: {
    messages: { role: "system" | "user" | "assistant"; content: string }[];
    maxTokens: number;
    temperature: number;
    topP: number;
    seed?: number;
    n?: number;
  }): Promise<{ text: string; reasoning?: string }[]>;
}

/** A policy backed by a chat endpoint; k completions per prompt, `concurrency` prompts in flight. */
export function endpointPolicy(
  backend: ChatBackendLike,
  s: Omit<SamplingConfig, "batch" | "enableThinking">,
): Policy {
  return {
    name: backend.name,
    async respond(samples: Sample[], k: number): Promise<string[][]> {
      const out: string[][] = new Array(samples.length);
      let next = 0;
      const worker = async () => {
        while (next < samples.length) {
          const i = next++;
          const res = await backend.complete({
            messages: samples[i].prompt,
            maxTokens: s.maxNewTokens,
            temperature: s.temperature,
            topP: s.topP,
            seed: s.seed + i,
            n: k,
          });
          // Reasoning parsers split the thinking off: put it back so the format gate sees </think>.
          out[i] = res.map((
            r,
          ) => (r.reasoning !== undefined ? `${r.reasoning}</think>${r.text}` : r.text));
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, backend.concurrency) }, worker));
      return out;
    },
  };
}
