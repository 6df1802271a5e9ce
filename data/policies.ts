/**
 * Policies for difficulty filtering: a local checkpoint through our batched
 * generation, or any chat backend (an OpenAI-compatible endpoint).
 */
import type { Policy } from "./difficulty.ts";
import type { Sample } from "../tasks/generators/types.ts";
import type { Qwen3 } from "../engine/qwen3.ts";
import { rollout, type RolloutTokenizer } from "../engine/rollout.ts";

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
  tok: RolloutTokenizer,
  s: SamplingConfig,
): Policy {
  return {
    name,
    async respond(samples: Sample[], k: number): Promise<string[][]> {
      // The chat template opened <think> in the prompt when thinking is on; the verifier's
      // format gate reads the response as the reference decodes it (special tokens skipped).
      const rolls = await rollout(model, tok, samples.map((x) => ({ messages: x.prompt })), {
        n: k,
        maxNewTokens: s.maxNewTokens,
        temperature: s.temperature,
        topP: s.topP,
        seed: s.seed,
        enableThinking: s.enableThinking,
        batchPrompts: s.batch,
      });
      const out: string[][] = samples.map(() => []);
      for (const r of rolls) out[r.prompt].push(r.text);
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
