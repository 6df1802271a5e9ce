/**
 * The backend contract of `golongrl eval`: one chat request in, one result per choice out.
 * Implementations: an OpenAI-compatible HTTP endpoint (openai.ts: vLLM, SGLang, hosted
 * judges) and a local checkpoint on WebGPU (local.ts). The runner owns scheduling: it keeps
 * at most `concurrency` requests in flight per backend; the backends still protect
 * themselves (the HTTP one with a semaphore, the local one by batching).
 *
 * @module
 */

/** One chat-completions request. */
export interface ChatRequest {
  messages: { role: "system" | "user" | "assistant"; content: string }[];
  maxTokens: number;
  temperature: number;
  topP: number;
  /** Sampling seed, passed through to the server (deterministic sampling where supported). */
  seed?: number;
  /** Completions per request (OpenAI `n`); default 1. */
  n?: number;
  /** Strings that end a completion (cut before the string). */
  stop?: string[];
  /**
   * The start of the assistant's answer (RULER's answer prefix): the model continues it, and
   * the result holds only the continuation.
   */
  prefill?: string;
}

/** One completion (one choice of a request). */
export interface ChatResult {
  /** The answer text (`message.content`; the part after the reasoning). */
  text: string;
  /** The reasoning trace, when the server splits it out (`reasoning_content`). */
  reasoning?: string;
  /** "stop", "length", ... as the server reports it. */
  finishReason: string;
  usage?: { promptTokens: number; completionTokens: number };
  /** Wall time of the request that produced this choice, retries included. */
  latencyMs: number;
}

/** A model that answers chat requests. */
export interface ChatBackend {
  name: string;
  /** Stable identity for cache keys (model name, endpoint or checkpoint hash). */
  id: string;
  /** Answers one request with `n` (default 1) results; rejects when it cannot. */
  complete(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult[]>;
  /** Max in-flight requests the runner should use. */
  concurrency: number;
  close?(): Promise<void>;
}
