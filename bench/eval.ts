/**
 * Eval client throughput: how close the OpenAI backend gets to the ideal request rate of a
 * server with a fixed latency. With `c` requests in flight and latency `L`, no client can do
 * better than c / L requests per second; the ratio measured / ideal shows what the client
 * (semaphore, fetch, JSON, connection handling) costs. The server is the mock of
 * eval/backends/mock_openai.ts on 127.0.0.1, run in a Worker so that, as against a real
 * server, the client has the main thread to itself (the two still share the machine's cores).
 * Target: ≥ 0.8 at concurrency 64.
 */
import { OpenAIBackend } from "../eval/backends/openai.ts";
import { MockOpenAIWorker } from "../eval/backends/mock_openai.ts";

/** Options of {@link evalThroughputBench}. */
export interface EvalBenchOptions {
  /** Concurrency levels to measure (default [1, 16, 64]). */
  concurrency?: number[];
  /** Fixed server latency per request (default 50 ms). */
  latencyMs?: number;
  /** Requests per level (default 256; at least the level itself). */
  requests?: number;
}

/** One measured level. */
export interface EvalBenchRow {
  concurrency: number;
  requests: number;
  wallMs: number;
  requestsPerSec: number;
  /** concurrency / latency, in requests per second. */
  ideal: number;
  /** requestsPerSec / ideal. */
  ratio: number;
  /** Most requests the server saw at once. */
  serverMaxInFlight: number;
  /** Median client-side latency per request. */
  p50LatencyMs: number;
}

/** Measures requests/s of the OpenAI backend against a fixed-latency mock at each concurrency. */
export async function evalThroughputBench(opts: EvalBenchOptions = {}): Promise<EvalBenchRow[]> {
  const levels = opts.concurrency ?? [1, 16, 64];
  const latencyMs = opts.latencyMs ?? 50;
  const server = await MockOpenAIWorker.start({ latencyMs, lifetimeMs: 600_000 });
  const rows: EvalBenchRow[] = [];
  try {
    for (const c of levels) {
      const n = Math.max(opts.requests ?? 256, c);
      const backend = new OpenAIBackend({
        baseUrl: server.baseUrl,
        model: "bench",
        apiKeyEnv: "GOLONGRL_EVAL_BENCH_NO_KEY",
        concurrency: c,
        timeoutMs: 30_000,
        maxRetries: 0,
      });
      const req = (i: number) => ({
        messages: [{ role: "user" as const, content: `question ${i} ANSWER=${i}` }],
        maxTokens: 16,
        temperature: 0,
        topP: 1,
      });
      // Warm-up: open the connections this level will use.
      await Promise.all(Array.from({ length: c }, (_, i) => backend.complete(req(-1 - i))));
      await server.reset();
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => backend.complete(req(i))),
      );
      const wallMs = performance.now() - t0;
      const lat = results.map((r) => r[0].latencyMs).sort((a, b) => a - b);
      const requestsPerSec = n / (wallMs / 1000);
      const ideal = c / (latencyMs / 1000);
      rows.push({
        concurrency: c,
        requests: n,
        wallMs,
        requestsPerSec,
        ideal,
        ratio: requestsPerSec / ideal,
        serverMaxInFlight: (await server.stats()).maxInFlight,
        p50LatencyMs: lat[Math.floor(lat.length / 2)],
      });
      await backend.close();
    }
  } finally {
    await server.close();
  }
  return rows;
}

/** A fixed-width table of bench rows. */
export function formatEvalBench(rows: EvalBenchRow[], latencyMs?: number): string {
  const head = `eval client throughput${latencyMs ? ` (server latency ${latencyMs} ms)` : ""}\n` +
    "concurrency  requests   req/s   ideal  ratio  server max in-flight  p50 ms\n";
  return head +
    rows.map((r) =>
      `${String(r.concurrency).padStart(11)}  ${String(r.requests).padStart(8)}  ` +
      `${r.requestsPerSec.toFixed(1).padStart(6)}  ${r.ideal.toFixed(0).padStart(6)}  ` +
      `${r.ratio.toFixed(3).padStart(5)}  ${String(r.serverMaxInFlight).padStart(20)}  ` +
      `${r.p50LatencyMs.toFixed(1).padStart(6)}`
    ).join("\n") + "\n";
}
