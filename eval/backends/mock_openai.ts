/**
 * A scriptable mock of the OpenAI chat-completions API for tests and benchmarks: a real
 * HTTP/1.1 server on 127.0.0.1 (an ephemeral port) written over a raw TCP listener, so it
 * can also misbehave below HTTP: drop a connection without answering, or cut a body short.
 *
 * Every request is logged and passed to `script`, which picks what happens: a correct
 * answer (the planted `ANSWER=<x>` from the prompt, echoed as "Therefore, the answer is
 * x."), a wrong one, a delay, an HTTP status (429 with Retry-After, 500, 401, …), a 200 whose
 * JSON is cut short, a body cut mid-transfer, or a dropped connection. The server counts
 * requests in flight (received, not yet answered) and keeps the maximum, so tests can check
 * the client's concurrency. It stops itself after `lifetimeMs`.
 *
 * @module
 */
import { writeAll } from "../../core/fsutil.ts";

/** What the server does with one request. */
export type MockAction =
  | {
    kind: "answer";
    /** Default: the planted answer, or "ok". */
    text?: string;
    /** One text per choice when `n` > 1 (default: `text` for every choice). */
    texts?: string[];
    /** Sent as `message.reasoning_content`. */
    reasoning?: string;
    finishReason?: string;
    delayMs?: number;
  }
  | { kind: "wrong"; delayMs?: number }
  | {
    kind: "status";
    status: number;
    /** Sent as the Retry-After header as is (seconds or an HTTP date). */
    retryAfter?: string;
    /** Error message (wrapped as `{"error":{"message":…}}`). */
    message?: string;
    delayMs?: number;
  }
  /** A 200 whose JSON is cut in half; with `transport`, the Content-Length is the full length
   * and the connection closes mid-body. */
  | { kind: "truncated"; transport?: boolean; delayMs?: number }
  /** Close the connection after reading the request, without a response. */
  | { kind: "drop"; delayMs?: number }
  /** A 200 with this exact JSON body (e.g. `{"choices":[{}]}`: a reply without text). */
  | { kind: "raw"; body: unknown; delayMs?: number };

/** One received request. */
export interface MockRequest {
  /** 0-based arrival order. */
  index: number;
  method: string;
  path: string;
  /** Lowercased header names. */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when not JSON). */
  body: Record<string, unknown> | undefined;
  /** All message contents joined with newlines. */
  prompt: string;
  /** How many times this exact prompt has been received, this one included (1-based). */
  attempt: number;
  /** performance.now() at arrival. */
  receivedAt: number;
}

/** Options of {@link MockOpenAI.start}. */
export interface MockOptions {
  /** Picks the action per request (default: a correct answer). */
  script?: (req: MockRequest) => MockAction | undefined;
  /** Delay before every action that sets none (default 0). */
  latencyMs?: number;
  /** Answer 401 unless `Authorization: Bearer <key>` (the error message echoes the key sent). */
  requireKey?: string;
  /** The server closes itself after this long (default 120,000 ms). */
  lifetimeMs?: number;
}

const enc = new TextEncoder(), dec = new TextDecoder();

/** The answer planted in a prompt as `ANSWER=<x>`. */
export function plantedAnswer(prompt: string): string | undefined {
  return /ANSWER=(\S+)/.exec(prompt)?.[1];
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const c = new Uint8Array(a.length + b.length);
  c.set(a);
  c.set(b, a.length);
  return c;
}

/** The running mock server. */
export class MockOpenAI {
  /** `http://127.0.0.1:<port>` (no `/v1`: the client adds it). */
  readonly baseUrl: string;
  readonly log: MockRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** TCP connections accepted. */
  connections = 0;
  #listener: Deno.Listener;
  #conns = new Set<Deno.Conn>();
  #serving = new Set<Promise<void>>();
  #timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  #seen = new Map<string, number>();
  #closed = false;
  #lifetime: ReturnType<typeof setTimeout>;
  #accepting: Promise<void>;
  #opts: MockOptions;

  private constructor(opts: MockOptions) {
    this.#opts = opts;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const addr = this.#listener.addr as Deno.NetAddr;
    this.baseUrl = `http://127.0.0.1:${addr.port}`;
    this.#lifetime = setTimeout(() => this.close(), opts.lifetimeMs ?? 120_000);
    Deno.unrefTimer(this.#lifetime);
    this.#accepting = this.#accept();
  }

  /** Starts a server. */
  static start(opts: MockOptions = {}): MockOpenAI {
    return new MockOpenAI(opts);
  }

  /** Clears the log and the in-flight maximum. */
  reset(): void {
    this.log.length = 0;
    this.#seen.clear();
    this.maxInFlight = this.inFlight;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.connections++;
        this.#conns.add(conn);
        const p: Promise<void> = this.#serve(conn).finally(() => {
          this.#conns.delete(conn);
          this.#serving.delete(p);
          try {
            conn.close();
          } catch { /* already closed */ }
        });
        this.#serving.add(p);
      }
    } catch { /* listener closed */ }
  }

  /** A delay that close() cuts short. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const id = setTimeout(() => {
        this.#timers.delete(id);
        resolve();
      }, ms);
      this.#timers.set(id, resolve);
    });
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    let buf: Uint8Array = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    const more = async (): Promise<boolean> => {
      const n = await conn.read(chunk);
      if (n === null) return false;
      buf = concat(buf, chunk.subarray(0, n));
      return true;
    };
    try {
      while (!this.#closed) {
        let end: number;
        while ((end = indexOfHeadEnd(buf)) < 0) if (!await more()) return;
        const lines = dec.decode(buf.subarray(0, end)).split("\r\n");
        const [method, path] = lines[0].split(" ");
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(":");
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const len = Number(headers["content-length"] ?? 0);
        while (buf.length < end + 4 + len) if (!await more()) return;
        const body = dec.decode(buf.subarray(end + 4, end + 4 + len));
        buf = buf.slice(end + 4 + len);
        if (!await this.#handle(conn, method, path, headers, body)) return;
        if (headers["connection"]?.toLowerCase() === "close") return;
      }
    } catch { /* the peer went away, or close() */ }
  }

  /** Answers one request; false when the connection must close. */
  async #handle(
    conn: Deno.Conn,
    method: string,
    path: string,
    headers: Record<string, string>,
    raw: string,
  ): Promise<boolean> {
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(raw);
    } catch { /* not JSON */ }
    const messages = (body?.messages ?? []) as { content?: string }[];
    const prompt = messages.map((m) => m.content ?? "").join("\n");
    const attempt = (this.#seen.get(prompt) ?? 0) + 1;
    this.#seen.set(prompt, attempt);
    const req: MockRequest = {
      index: this.log.length,
      method,
      path,
      headers,
      body,
      prompt,
      attempt,
      receivedAt: performance.now(),
    };
    this.log.push(req);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (method !== "POST" || !path.split("?")[0].endsWith("/chat/completions")) {
        await this.#respond(conn, 404, { error: { message: `no route ${method} ${path}` } });
        return true;
      }
      const key = this.#opts.requireKey;
      if (key !== undefined && headers["authorization"] !== `Bearer ${key}`) {
        const sent = headers["authorization"]?.replace(/^Bearer\s+/i, "") ?? "";
        await this.#respond(conn, 401, {
          error: { message: `Incorrect API key provided: ${sent}.`, type: "invalid_request_error" },
        });
        return true;
      }
      const action: MockAction = this.#opts.script?.(req) ?? { kind: "answer" };
      await this.#sleep(action.delayMs ?? this.#opts.latencyMs ?? 0);
      if (this.#closed) return false;
      switch (action.kind) {
        case "drop":
          return false;
        case "status": {
          const extra: Record<string, string> = {};
          if (action.retryAfter !== undefined) extra["Retry-After"] = action.retryAfter;
          await this.#respond(
            conn,
            action.status,
            { error: { message: action.message ?? `mock status ${action.status}` } },
            extra,
          );
          return true;
        }
        case "truncated": {
          const full = enc.encode(JSON.stringify(this.#completion(body, "ok")));
          const cut = full.subarray(0, full.length >> 1);
          await writeAll(
            conn,
            concat(this.#head(200, action.transport ? full.length : cut.length), cut),
          );
          return !action.transport;
        }
        case "raw":
          await this.#respond(conn, 200, action.body);
          return true;
        case "wrong":
          await this.#respond(conn, 200, this.#completion(body, "Therefore, the answer is WRONG."));
          return true;
        case "answer": {
          const planted = plantedAnswer(prompt);
          const text = action.text ??
            (planted !== undefined ? `Therefore, the answer is ${planted}.` : "ok");
          await this.#respond(
            conn,
            200,
            this.#completion(body, text, action.texts, action.reasoning, action.finishReason),
          );
          return true;
        }
      }
    } finally {
      this.inFlight--;
    }
  }

  #head(status: number, length: number, extra: Record<string, string> = {}): Uint8Array {
    const lines = [
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}`,
      "Content-Type: application/json",
      `Content-Length: ${length}`,
      "Connection: keep-alive",
      ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    ];
    return enc.encode(lines.join("\r\n") + "\r\n\r\n");
  }

  async #respond(
    conn: Deno.Conn,
    status: number,
    json: unknown,
    extra: Record<string, string> = {},
  ): Promise<void> {
    const b = enc.encode(JSON.stringify(json));
    await writeAll(conn, concat(this.#head(status, b.length, extra), b));
  }

  #completion(
    body: Record<string, unknown> | undefined,
    text: string,
    texts?: string[],
    reasoning?: string,
    finishReason = "stop",
  ): Record<string, unknown> {
    const n = typeof body?.n === "number" ? body.n : 1;
    const choices = Array.from({ length: n }, (_, i) => {
      const message: Record<string, unknown> = { role: "assistant", content: texts?.[i] ?? text };
      if (reasoning !== undefined) message.reasoning_content = reasoning;
      return { index: i, message, finish_reason: finishReason };
    });
    const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
    const prompt = ((body?.messages ?? []) as { content?: string }[])
      .reduce((a, m) => a + words(m.content ?? ""), 0);
    const completion = choices.reduce((a, c) => a + words(String(c.message.content)), 0);
    return {
      id: `mock-${this.log.length}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body?.model ?? "mock",
      choices,
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
      },
    };
  }

  /** Stops listening, closes every connection and cancels pending delays. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#lifetime);
    for (const [id, resolve] of this.#timers) {
      clearTimeout(id);
      resolve();
    }
    this.#timers.clear();
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await this.#accepting;
    await Promise.all([...this.#serving]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The name a worker running this module as a mock server is created with. */
const WORKER_NAME = "golongrl-mock-openai";

type WorkerCall = { id: number; op: "start" | "stats" | "reset" | "close"; opts?: MockOptions };

/** Server counters as a worker reports them. */
export interface MockStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  connections: number;
}

/**
 * The mock server on its own thread (a Worker running this module), for benchmarks: the
 * client under test then has the main thread to itself, as it would against a real server.
 * Only the plain answering mode is available (a script cannot cross threads).
 */
export class MockOpenAIWorker {
  #worker: Worker;
  #next = 0;
  #waiting = new Map<number, (v: unknown) => void>();
  baseUrl = "";

  private constructor() {
    this.#worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
    this.#worker.onmessage = (e: MessageEvent<{ id: number; value: unknown }>) => {
      this.#waiting.get(e.data.id)?.(e.data.value);
      this.#waiting.delete(e.data.id);
    };
  }

  #call(op: WorkerCall["op"], opts?: MockOptions): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.postMessage({ id, op, opts } satisfies WorkerCall);
    });
  }

  /** Starts a worker and its server (`script` is not supported). */
  static async start(opts: Omit<MockOptions, "script"> = {}): Promise<MockOpenAIWorker> {
    const w = new MockOpenAIWorker();
    w.baseUrl = await w.#call("start", opts) as string;
    return w;
  }

  /** The server's counters. */
  stats(): Promise<MockStats> {
    return this.#call("stats") as Promise<MockStats>;
  }

  /** Clears the server's log and in-flight maximum. */
  async reset(): Promise<void> {
    await this.#call("reset");
  }

  /** Closes the server and ends the worker. */
  async close(): Promise<void> {
    await this.#call("close");
    this.#worker.terminate();
  }
}

// Worker entry: serve until told to close.
const scope = globalThis as unknown as {
  WorkerGlobalScope?: unknown;
  name?: string;
  onmessage: ((e: MessageEvent<WorkerCall>) => void) | null;
  postMessage(v: unknown): void;
};
if (scope.WorkerGlobalScope !== undefined && scope.name === WORKER_NAME) {
  let server: MockOpenAI | undefined;
  scope.onmessage = async (e) => {
    const { id, op, opts } = e.data;
    let value: unknown;
    if (op === "start") {
      server = MockOpenAI.start(opts);
      value = server.baseUrl;
    } else if (op === "stats" && server) {
      value = {
        requests: server.log.length,
        inFlight: server.inFlight,
        maxInFlight: server.maxInFlight,
        connections: server.connections,
      } satisfies MockStats;
    } else if (op === "reset") server?.reset();
    else if (op === "close") await server?.close();
    scope.postMessage({ id, value });
  };
}
