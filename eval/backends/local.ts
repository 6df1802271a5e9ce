/**
 * A {@link Backend} over our own WebGPU Qwen3 engine, for evaluating a checkpoint without a
 * server. Chat messages are rendered with the tokenizer's chat template (generation prompt
 * on, `enable_thinking` configurable) and generated with `engine/generate.ts`.
 *
 * Micro-batching: the runner calls complete() concurrently; requests that arrive within
 * `batchWindowMs` of the first waiting one (or as soon as `concurrency` are waiting) go into
 * one generate() call. Only requests with the same generation settings (max tokens,
 * temperature, top-p, seed, n, stop) share a call; others wait for the next. Requests that
 * arrive while the GPU is busy are batched together when it frees up. One generate() runs at
 * a time.
 *
 * Sampling streams are keyed by a running row counter (generate's `rowIdBase`), so with a
 * seed the samples are reproducible for the same sequence of requests; greedy decoding
 * (temperature 0) does not depend on batching at all.
 *
 * Output: the EOS token is dropped and special tokens are skipped; a stop string cuts the
 * text before it. With `splitReasoning` (default) the text is split at the first `</think>`
 * like vLLM's Qwen3 reasoning parser: before it (minus a leading `<think>`) is `reasoning`,
 * after it is `text`; without `</think>` everything is `text`. Finish reasons use the OpenAI
 * words: "stop" (EOS or a stop string) and "length".
 *
 * @module
 */
import type { ChatBackend, ChatRequest, ChatResult } from "../../core/chat/backend.ts";
import { rollout, type RolloutTokenizer } from "../../engine/rollout.ts";
import type { Qwen3 } from "../../engine/qwen3.ts";
import { acquireGpu, type GpuOptions } from "../../core/gpu/device.ts";
import { loadModel } from "../../engine/load.ts";
import { loadTokenizer } from "../../core/tokenizer/tokenizer.ts";
import { readFull } from "../../core/fsutil.ts";

/** What the backend needs of a tokenizer: the rollout helper's interface. */
export type LocalTokenizer = RolloutTokenizer;

/** Options of {@link LocalBackend}. */
export interface LocalBackendOptions {
  /** Adapter selection (open() only). */
  gpu?: GpuOptions;
  /** Weight matrices on the GPU: f16 halves memory (default f16; open() only). */
  dtype?: "f32" | "f16";
  /** Most prompts per generate() call (default 8). */
  concurrency?: number;
  /** Qwen3 `enable_thinking` for the chat template; unset leaves the template's default. */
  enableThinking?: boolean;
  /** How long the first waiting request waits for company (default 5 ms). */
  batchWindowMs?: number;
  /** Top-k for sampling (default 0 = off; the OpenAI API has none). */
  topK?: number;
  /** Seed for requests that give none (default 0). */
  seed?: number;
  /** Split `<think>…</think>` into `reasoning` (default true). */
  splitReasoning?: boolean;
  /** Use this tokenizer instead of the checkpoint's (open() only; tests). */
  tokenizer?: LocalTokenizer;
  /** Cache identity (open() derives one from the checkpoint). */
  id?: string;
}

/** Counters, for reports and tests. */
export interface LocalStats {
  requests: number;
  /** generate() calls. */
  batches: number;
  /** Most prompts in one call. */
  maxBatch: number;
  promptTokens: number;
  completionTokens: number;
}

interface Pending {
  req: ChatRequest;
  ids: number[];
  key: string;
  t0: number;
  signal?: AbortSignal;
  resolve: (r: ChatResult[]) => void;
  reject: (e: unknown) => void;
  onAbort?: () => void;
}

/**
 * A stable identity for a checkpoint folder without reading all its weights: SHA-256 over
 * config.json and, per `*.safetensors` file, its name, size and first and last 64 KiB
 * (the header with every tensor's offsets, and the last tensor's bytes).
 */
export async function checkpointId(dir: string): Promise<string> {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  try {
    parts.push(await Deno.readFile(`${dir}/config.json`));
  } catch { /* hashed without */ }
  const files = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".safetensors"))
    .map((e) => e.name).sort();
  for (const name of files) {
    const f = await Deno.open(`${dir}/${name}`);
    try {
      const size = (await f.stat()).size;
      parts.push(enc.encode(`${name}:${size}`));
      const take = async (at: number, n: number) => {
        const b = new Uint8Array(n);
        await f.seek(at, Deno.SeekMode.Start);
        parts.push(b.subarray(0, await readFull(f, b)));
      };
      const k = 64 * 1024;
      await take(0, Math.min(k, size));
      if (size > k) await take(Math.max(k, size - k), Math.min(k, size - k));
    } finally {
      f.close();
    }
  }
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) all.set(p, (o += p.length) - p.length);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...h.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The local WebGPU backend. */
export class LocalBackend implements ChatBackend {
  readonly name: string;
  readonly id: string;
  readonly concurrency: number;
  readonly stats: LocalStats = {
    requests: 0,
    batches: 0,
    maxBatch: 0,
    promptTokens: 0,
    completionTokens: 0,
  };
  #queue: Pending[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #running = false;
  #runP: Promise<void> = Promise.resolve();
  #rows = 0;
  #closed = false;
  #opts: LocalBackendOptions;
  #ownsGpu: boolean;

  /** Loads the checkpoint in `dir` and its tokenizer (or `opts.tokenizer`) onto a new GPU device. */
  static async open(dir: string, opts: LocalBackendOptions = {}): Promise<LocalBackend> {
    const tokenizer = opts.tokenizer ?? await loadTokenizer(dir);
    const gpu = await acquireGpu(opts.gpu);
    try {
      const { model } = await loadModel(gpu, dir, { matrices: opts.dtype ?? "f16" });
      const id = opts.id ?? `local:${dir.replace(/\/+$/, "").split("/").pop()}#${await checkpointId(
        dir,
      )}:${opts.dtype ?? "f16"}`;
      return new LocalBackend(model, tokenizer, { ...opts, id }, true);
    } catch (e) {
      gpu.destroy();
      throw e;
    }
  }

  /** Wraps a loaded model; `ownsGpu` makes close() destroy its device. */
  constructor(
    readonly model: Qwen3,
    readonly tokenizer: LocalTokenizer,
    opts: LocalBackendOptions = {},
    ownsGpu = false,
  ) {
    this.#opts = opts;
    this.#ownsGpu = ownsGpu;
    this.concurrency = opts.concurrency ?? 8;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(`concurrency must be a positive integer, got ${opts.concurrency}`);
    }
    this.id = opts.id ?? "local:model";
    this.name = this.id.split("#")[0];
  }

  /** The prompt token ids for a request's messages. */
  promptIds(messages: ChatRequest["messages"], prefill = ""): number[] {
    const text = this.tokenizer.applyChatTemplate(messages, {
      addGenerationPrompt: true,
      enableThinking: this.#opts.enableThinking,
    }) + prefill;
    return this.tokenizer.encode(text);
  }

  complete(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult[]> {
    if (this.#closed) return Promise.reject(new Error(`${this.name}: backend is closed`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    let ids: number[];
    try {
      ids = this.promptIds(req.messages, req.prefill);
    } catch (e) {
      return Promise.reject(e);
    }
    const maxPos = this.model.dims.maxPos;
    if (ids.length === 0) return Promise.reject(new Error(`${this.name}: the prompt is empty`));
    if (ids.length + req.maxTokens > maxPos) {
      return Promise.reject(
        new Error(
          `${this.name}: prompt of ${ids.length} tokens + ${req.maxTokens} new tokens exceeds ` +
            `max_position_embeddings (${maxPos}); truncate the input or lower max tokens`,
        ),
      );
    }
    this.stats.requests++;
    const key = JSON.stringify([
      req.maxTokens,
      req.temperature,
      req.topP,
      req.seed ?? null,
      req.n ?? 1,
      req.stop ?? [],
    ]);
    return new Promise((resolve, reject) => {
      const p: Pending = { req, ids, key, t0: performance.now(), signal, resolve, reject };
      if (signal) {
        p.onAbort = () => {
          const i = this.#queue.indexOf(p);
          if (i >= 0) {
            this.#queue.splice(i, 1);
            reject(signal.reason);
          }
        };
        signal.addEventListener("abort", p.onAbort, { once: true });
      }
      this.#queue.push(p);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running) return; // the running loop picks the queue up when it is done
    if (this.#queue.length >= this.concurrency) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#runP = this.#run();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#runP = this.#run();
      }, this.#opts.batchWindowMs ?? 5);
    }
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length) {
        const key = this.#queue[0].key;
        const batch: Pending[] = [];
        for (let i = 0; i < this.#queue.length && batch.length < this.concurrency;) {
          if (this.#queue[i].key === key) batch.push(...this.#queue.splice(i, 1));
          else i++;
        }
        for (const p of batch) if (p.onAbort) p.signal!.removeEventListener("abort", p.onAbort);
        await this.#generate(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #generate(batch: Pending[]): Promise<void> {
    const req = batch[0].req, n = req.n ?? 1;
    const tok = this.tokenizer;
    const rowIdBase = this.#rows;
    this.#rows = (this.#rows + batch.length * n) >>> 0;
    this.stats.batches++;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
    let rolls;
    try {
      rolls = await rollout(this.model, tok, batch.map((p) => p.ids), {
        n,
        maxNewTokens: req.maxTokens,
        temperature: req.temperature,
        topP: req.topP,
        topK: this.#opts.topK ?? 0,
        seed: req.seed ?? this.#opts.seed ?? 0,
        stop: req.stop,
        rowIdBase,
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    const out: ChatResult[][] = batch.map(() => []);
    for (const c of rolls) {
      const p = batch[c.prompt];
      const r: ChatResult = {
        text: c.text,
        finishReason: c.finishReason === "length" ? "length" : "stop",
        latencyMs: performance.now() - p.t0,
      };
      if (this.#opts.splitReasoning ?? true) {
        const end = c.text.indexOf("</think>");
        if (end >= 0) {
          r.reasoning = c.text.slice(0, end).replace(/^\s*<think>/, "");
          r.text = c.text.slice(end + "</think>".length);
        }
      }
      out[c.prompt][c.sample] = r;
      this.stats.completionTokens += c.tokens.length;
    }
    for (const [i, p] of batch.entries()) {
      this.stats.promptTokens += p.ids.length;
      // Usage is per request, on the first result (as the OpenAI backend reports it).
      out[i][0].usage = {
        promptTokens: p.ids.length,
        completionTokens: rolls.filter((c) => c.prompt === i)
          .reduce((a, c) => a + c.tokens.length, 0),
      };
      p.resolve(out[i]);
    }
  }

  /**
   * Rejects waiting requests, lets a running batch finish and, when open() made the device,
   * destroys it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const p of this.#queue.splice(0)) p.reject(new Error(`${this.name}: backend closed`));
    await this.#runP;
    if (this.#ownsGpu) this.model.gpu.destroy();
  }
}
