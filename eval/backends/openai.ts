/**
 * An OpenAI-compatible chat-completions client for evaluation at high concurrency (vLLM,
 * SGLang, hosted judges).
 *
 * - Base URL: `http://host:8000`, `http://host:8000/v1` and `.../v1/chat/completions` all
 *   work. A URL with an empty path gets `/v1`; any other path (`/v1`, `/api/v3`, a proxy
 *   prefix) is used as is; a trailing `/chat/completions` is dropped. Query strings are kept.
 * - Concurrency: a semaphore of `concurrency` slots; a request holds its slot through its
 *   retries and backoff, so the server never sees more than `concurrency` requests from us
 *   and a rate-limited server is not hit by the waiting ones meanwhile.
 * - Retries: 429, 5xx, per-attempt timeouts, network errors (refused or dropped
 *   connections, truncated bodies) and 200 answers whose body is not a chat completion are
 *   retried up to `maxRetries` times with exponential backoff and full jitter
 *   (uniform in [0, min(backoffMaxMs, backoffBaseMs·2^retry)]). A `Retry-After` (seconds or
 *   HTTP date) or `retry-after-ms` header replaces the jittered delay, capped at
 *   `retryAfterMaxMs`. Other 4xx are not retried: they raise an {@link OpenAIError} with
 *   the status and the server's message.
 * - The API key is read from the environment variable `apiKeyEnv` and sent as
 *   `Authorization: Bearer …`; it never appears in errors or logs (both are redacted).
 * - `reasoning_content` (vLLM/SGLang reasoning parsers, DeepSeek) or `reasoning` comes back as
 *   `reasoning`, `content` as `text`. `n` > 1 returns one result per choice, in index order.
 *
 * @module
 */
import type { ChatBackend, ChatRequest, ChatResult } from "../../core/chat/backend.ts";

/** What made an attempt fail in a way worth retrying. */
export type RetryKind = "rateLimit" | "server" | "timeout" | "network" | "invalidBody";

/** Options of {@link OpenAIBackend}. */
export interface OpenAIBackendOptions {
  baseUrl: string;
  model: string;
  /** Environment variable holding the API key (default OPENAI_API_KEY); unset = no header. */
  apiKeyEnv?: string;
  /** Max requests in flight (default 8). */
  concurrency?: number;
  /** Per-attempt timeout, response body included (default 3,600,000 ms, as the reference). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  /** Merged into every request body last (so it can override): `top_k`, `chat_template_kwargs`, … */
  extraBody?: Record<string, unknown>;
  /** First backoff ceiling (default 1000 ms); doubles per retry. */
  backoffBaseMs?: number;
  /** Largest backoff ceiling (default 30,000 ms). */
  backoffMaxMs?: number;
  /** Largest wait a Retry-After header can ask for (default 60,000 ms). */
  retryAfterMaxMs?: number;
  /** Uniform [0, 1) source for the jitter (default Math.random). */
  random?: () => number;
  /** Receives one line per attempt and retry (Authorization redacted, no message content). */
  log?: (line: string) => void;
  /** Extra HTTP headers (e.g. for a gateway); values are redacted in logs like the key. */
  headers?: Record<string, string>;
}

/** Counters of one backend, for reports and tests. */
export interface OpenAIStats {
  /** complete() calls. */
  requests: number;
  /** HTTP attempts, retries included. */
  attempts: number;
  succeeded: number;
  /** Requests that failed for good (after retries, or on a non-retryable status). */
  failures: number;
  retries: Record<RetryKind, number>;
  /** Total time spent waiting between attempts. */
  retryWaitMs: number;
  /** Requests holding a slot now. */
  inFlight: number;
  /** Most requests holding a slot at once. */
  maxInFlight: number;
}

/** A request that failed for good. */
export class OpenAIError extends Error {
  override name = "OpenAIError";
  constructor(
    message: string,
    /** HTTP status of the last attempt, when there was a response. */
    readonly status: number | undefined,
    /** Why the last attempt failed: a retry kind, or "http" for a non-retryable status. */
    readonly kind: RetryKind | "http",
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** The chat-completions URL for a base URL (see the module doc for the rule). */
export function chatCompletionsUrl(baseUrl: string): string {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new Error(
      `invalid base URL ${JSON.stringify(baseUrl)}: expected http(s)://host[:port][/v1]`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new Error(
      `invalid base URL ${JSON.stringify(baseUrl)}: only http and https are supported`,
    );
  }
  let path = u.pathname.replace(/\/+$/, "");
  if (path.endsWith("/chat/completions")) path = path.slice(0, -"/chat/completions".length);
  if (path === "") path = "/v1";
  return `${u.origin}${path}/chat/completions${u.search}`;
}

/**
 * Milliseconds a response asks us to wait: `retry-after-ms`, else `Retry-After` as seconds or
 * an HTTP date (relative to `now`); undefined when absent or unparseable.
 */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Number(ms);
  const v = headers.get("retry-after");
  if (v === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Full-jitter backoff delay before retry number `retry` (0-based). */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  return random() * Math.min(maxMs, baseMs * 2 ** retry);
}

/** A counting semaphore whose waiters can be aborted. */
class Semaphore {
  #free: number;
  #waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal }[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const w = { resolve, reject, signal };
      const onAbort = () => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      w.resolve = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(w);
    });
  }
  release(): void {
    const w = this.#waiters.shift();
    if (w) w.resolve(); // the slot passes straight to the next waiter
    else this.#free++;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

type Attempt =
  | { ok: true; json: Record<string, unknown> }
  | { ok: false; kind: RetryKind; message: string; status?: number; retryAfterMs?: number };

const TIMEOUT = Symbol("timeout");

/** The longest delay setTimeout honours (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Whether a choice carries an answer: a string `content` (possibly empty), or a reasoning-only
 * reply (content null or absent beside a reasoning string, e.g. cut by the token limit).
 */
function hasText(choice: unknown): boolean {
  if (choice === null || typeof choice !== "object") return false;
  const m = (choice as { message?: unknown }).message;
  if (m === null || typeof m !== "object") return false;
  const { content, reasoning_content, reasoning } = m as Record<string, unknown>;
  if (typeof content === "string") return true;
  if (content !== null && content !== undefined) return false;
  return typeof reasoning_content === "string" || typeof reasoning === "string";
}

/** The OpenAI-compatible backend. */
export class OpenAIBackend implements ChatBackend {
  readonly name: string;
  readonly id: string;
  readonly concurrency: number;
  readonly url: string;
  readonly model: string;
  readonly stats: OpenAIStats = {
    requests: 0,
    attempts: 0,
    succeeded: 0,
    failures: 0,
    retries: { rateLimit: 0, server: 0, timeout: 0, network: 0, invalidBody: 0 },
    retryWaitMs: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
  #opts: Required<Omit<OpenAIBackendOptions, "extraBody" | "log" | "headers">>;
  #extraBody: Record<string, unknown>;
  #log?: (line: string) => void;
  #headers: Record<string, string>;
  #secrets: string[];
  #sem: Semaphore;

  constructor(opts: OpenAIBackendOptions) {
    this.url = chatCompletionsUrl(opts.baseUrl);
    this.model = opts.model;
    this.concurrency = opts.concurrency ?? 8;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(`concurrency must be a positive integer, got ${opts.concurrency}`);
    }
    this.#opts = {
      baseUrl: opts.baseUrl,
      model: opts.model,
      apiKeyEnv: opts.apiKeyEnv ?? "OPENAI_API_KEY",
      concurrency: this.concurrency,
      timeoutMs: opts.timeoutMs ?? 3_600_000,
      maxRetries: opts.maxRetries ?? 5,
      backoffBaseMs: opts.backoffBaseMs ?? 1000,
      backoffMaxMs: opts.backoffMaxMs ?? 30_000,
      retryAfterMaxMs: opts.retryAfterMaxMs ?? 60_000,
      random: opts.random ?? Math.random,
    };
    this.#extraBody = opts.extraBody ?? {};
    this.#log = opts.log;
    this.#headers = { "content-type": "application/json", ...opts.headers };
    this.#secrets = Object.values(opts.headers ?? {}).filter((v) => v.length >= 4);
    const key = Deno.env.get(this.#opts.apiKeyEnv);
    if (key) {
      this.#headers.authorization = `Bearer ${key}`;
      this.#secrets.push(key);
    }
    this.name = `openai:${opts.model}`;
    this.id = `openai:${opts.model}@${this.url}`;
    this.#sem = new Semaphore(this.concurrency);
  }

  /** Removes the key, extra header values and any bearer token from `text`. */
  redact(text: string): string {
    let t = text.replace(/(Bearer\s+)[^\s"',;]+/gi, "$1***");
    for (const s of this.#secrets) t = t.split(s).join("***");
    return t;
  }

  /** The request body sent for `req`. */
  body(req: ChatRequest): Record<string, unknown> {
    const b: Record<string, unknown> = {
      model: this.model,
      messages: req.messages,
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      top_p: req.topP,
    };
    if (req.seed !== undefined) b.seed = req.seed;
    if ((req.n ?? 1) !== 1) b.n = req.n;
    if (req.stop?.length) b.stop = req.stop;
    if (req.prefill) {
      // vLLM / SGLang: continue a final assistant message instead of opening a new turn.
      b.messages = [...req.messages, { role: "assistant", content: req.prefill }];
      b.continue_final_message = true;
      b.add_generation_prompt = false;
    }
    return { ...b, ...this.#extraBody };
  }

  async complete(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult[]> {
    const st = this.stats;
    st.requests++;
    await this.#sem.acquire(signal);
    st.inFlight++;
    st.maxInFlight = Math.max(st.maxInFlight, st.inFlight);
    const t0 = performance.now();
    try {
      const body = JSON.stringify(this.body(req));
      const { maxRetries } = this.#opts;
      for (let attempt = 0;; attempt++) {
        this.#log?.(
          `POST ${this.url} model=${this.model} attempt ${attempt + 1}/${maxRetries + 1} ` +
            `headers=${this.redact(JSON.stringify(this.#headers))}`,
        );
        st.attempts++;
        const r = await this.#attempt(body, signal, attempt + 1);
        if (r.ok) {
          st.succeeded++;
          return this.#results(r.json, performance.now() - t0);
        }
        if (attempt >= maxRetries) {
          st.failures++;
          throw new OpenAIError(
            `${this.url}: request failed after ${attempt + 1} attempts: ${r.message}`,
            r.status,
            r.kind,
            attempt + 1,
          );
        }
        st.retries[r.kind]++;
        const wait = r.retryAfterMs !== undefined
          ? Math.min(r.retryAfterMs, this.#opts.retryAfterMaxMs)
          : backoffDelay(
            attempt,
            this.#opts.backoffBaseMs,
            this.#opts.backoffMaxMs,
            this.#opts.random,
          );
        this.#log?.(`retry ${attempt + 1}/${maxRetries} in ${Math.round(wait)} ms: ${r.message}`);
        st.retryWaitMs += wait;
        await sleep(wait, signal);
      }
    } finally {
      st.inFlight--;
      this.#sem.release();
    }
  }

  /** One HTTP attempt; throws only for an external abort or a non-retryable status. */
  async #attempt(body: string, signal: AbortSignal | undefined, attempt: number): Promise<Attempt> {
    const ctrl = new AbortController();
    // setTimeout takes a signed 32-bit delay; a longer one fires at once. Beyond ~24.8 days a
    // timeout is the same as none, so cap it there.
    const timer = setTimeout(
      () => ctrl.abort(TIMEOUT),
      Math.min(this.#opts.timeoutMs, MAX_TIMER_MS),
    );
    const sig = signal ? AbortSignal.any([signal, ctrl.signal]) : ctrl.signal;
    const failed = (e: unknown): Attempt => {
      if (signal?.aborted) throw signal.reason;
      if (ctrl.signal.aborted) {
        return {
          ok: false,
          kind: "timeout",
          message: `timed out after ${this.#opts.timeoutMs} ms`,
        };
      }
      return {
        ok: false,
        kind: "network",
        message: `network error: ${this.redact((e as Error)?.message ?? String(e))}`,
      };
    };
    try {
      let res: Response;
      try {
        res = await fetch(this.url, { method: "POST", headers: this.#headers, body, signal: sig });
      } catch (e) {
        return failed(e);
      }
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        return failed(e);
      }
      if (res.status === 429 || res.status >= 500) {
        return {
          ok: false,
          kind: res.status === 429 ? "rateLimit" : "server",
          status: res.status,
          message: `HTTP ${res.status}: ${this.#serverMessage(text)}`,
          retryAfterMs: parseRetryAfter(res.headers),
        };
      }
      if (!res.ok) {
        this.stats.failures++;
        throw new OpenAIError(
          `${this.url} answered HTTP ${res.status} (not retried): ${this.#serverMessage(text)}`,
          res.status,
          "http",
          attempt,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        return {
          ok: false,
          kind: "invalidBody",
          status: res.status,
          message: `invalid JSON body (${text.length} bytes): ${(e as Error).message}`,
        };
      }
      const choices = (json as { choices?: unknown })?.choices;
      if (!Array.isArray(choices) || choices.length === 0) {
        return {
          ok: false,
          kind: "invalidBody",
          status: res.status,
          message: `body has no choices: ${this.#serverMessage(text)}`,
        };
      }
      const empty = choices.findIndex((c) => !hasText(c));
      if (empty >= 0) {
        // A 200 without an answer (`{}` choices, null or numeric content) is a failed attempt:
        // retried, then counted as a failure — never cached as an empty prediction.
        return {
          ok: false,
          kind: "invalidBody",
          status: res.status,
          message: `choice ${empty} has no text: ${this.#serverMessage(text)}`,
        };
      }
      return { ok: true, json: json as Record<string, unknown> };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The server's error message from a body (`error.message` when JSON), redacted and cut. */
  #serverMessage(text: string): string {
    let msg = text;
    try {
      const j = JSON.parse(text);
      const m = j?.error?.message ?? j?.message ?? j?.detail ?? j?.error;
      if (m !== undefined) msg = typeof m === "string" ? m : JSON.stringify(m);
    } catch { /* not JSON: the raw text */ }
    msg = this.redact(msg.trim());
    return msg.length > 500 ? msg.slice(0, 500) + "…" : msg || "(empty body)";
  }

  #results(json: Record<string, unknown>, latencyMs: number): ChatResult[] {
    type Choice = {
      index?: number;
      finish_reason?: string | null;
      message?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown };
    };
    const choices = [...(json.choices as Choice[])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const u = json.usage as { prompt_tokens?: number; completion_tokens?: number } | undefined;
    return choices.map((c, i) => {
      const m = c.message ?? {};
      const reasoning = typeof m.reasoning_content === "string"
        ? m.reasoning_content
        : typeof m.reasoning === "string"
        ? m.reasoning
        : undefined;
      const r: ChatResult = {
        text: typeof m.content === "string" ? m.content : "",
        finishReason: c.finish_reason ?? "unknown",
        latencyMs,
      };
      if (reasoning !== undefined) r.reasoning = reasoning;
      // Usage is per request: it goes on the first choice only, so sums stay right.
      if (i === 0 && u && typeof u.prompt_tokens === "number") {
        r.usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens ?? 0 };
      }
      return r;
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
