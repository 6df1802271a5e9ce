/**
 * The reward HTTP service, so that verl or OpenRLHF runs on a cluster score with
 * exactly these verifiers. `POST /score` takes verl's custom-reward arguments:
 *
 * - one call: `{"data_source", "solution_str", "ground_truth", "extra_info"}` →
 *   `{"score", "task", "task_key", "verifier", "details"[, "error"]}`;
 * - a batch: a JSON array of such objects, `{"batch": [...]}`, or verl's batched
 *   form `{"data_sources": [...], "solution_strs": [...], "ground_truths": [...],
 *   "extra_infos": [...]}` → `{"scores": [...], "results": [...]}`.
 *
 * Malformed JSON or a missing field → 400 with a message; a body over the limit
 * → 413. `GET /health` and `GET /verifiers` help orchestration.
 *
 * Hardening (what a hostile or broken client cannot do):
 * - Only `Content-Type: application/json` is accepted (415 otherwise), so a web page cannot
 *   post here with a "simple" cross-origin request; when the service listens on loopback, a
 *   Host or Origin that is not loopback is refused (403; DNS rebinding).
 * - Work caps (see work.ts for the estimate, words(response) × words(ground truth)): a request
 *   whose total estimated work exceeds `maxRequestWork` is refused with 413 before anything is
 *   scored; an item over `maxItemWork` scores 0 with `error` "work cap …" (the batch goes on).
 * - A time budget per request: items not scored within `timeBudgetMs` score 0 with `error`
 *   "time budget … exceeded".
 * - Scoring runs in a worker pool (pool.ts), so `/health` and light requests stay fast while a
 *   heavy request is scored; requests of little work are scored inline.
 */
import { computeReward, listVerifiers } from "../tasks/registry.ts";
import type { RewardInput, RewardOptions, RewardResult } from "../tasks/types.ts";
import { ScorePool, unscored } from "./pool.ts";
import { itemWork } from "./work.ts";

/** The caps of the service; see the module doc. */
export interface ScoreLimits {
  /** An item estimated above this scores 0 with an error. */
  maxItemWork: number;
  /** A request estimated above this is refused with 413. */
  maxRequestWork: number;
  /** Items not scored this long after the request arrived score 0 with an error. */
  timeBudgetMs: number;
  /** Requests of at most this much work are scored on the event loop (a few ms at most). */
  inlineWork: number;
}

/**
 * Defaults. An item at `maxItemWork` (e.g. a 10,000-word summary against two 12,500-word
 * references of one repeated sentence) takes about 2 s on one core; real summary items are
 * 10-100× below it. `maxRequestWork` admits a batch of 60 such items, or thousands of real ones.
 */
export const DEFAULT_LIMITS: ScoreLimits = {
  maxItemWork: 2.5e8,
  maxRequestWork: 1.6e10,
  timeBudgetMs: 120_000,
  inlineWork: 1e6,
};

export interface RewardServiceOptions {
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  reward: RewardOptions;
  /** Where heavy requests are scored (default: in process, with the same caps and budget). */
  pool?: ScorePool;
  limits?: Partial<ScoreLimits>;
  /** The service listens on loopback only: Host and Origin must be loopback names. */
  loopback?: boolean;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** Reads the body, refusing more than `max` bytes even without a Content-Length. */
async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${max} bytes`);
  }
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, `request body exceeds the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return all;
}

function decodeBody(bytes: Uint8Array, max: number): string {
  if (bytes.length > max) {
    throw new HttpError(413, `request body exceeds the limit of ${max} bytes`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "request body is not valid UTF-8");
  }
}

interface Item {
  data_source: string;
  solution_str: string;
  ground_truth: unknown;
  extra_info?: unknown;
}

function checkItem(v: unknown, where: string): Item {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new HttpError(400, `${where}: expected a JSON object`);
  }
  const o = v as Record<string, unknown>;
  if (typeof o.data_source !== "string") {
    throw new HttpError(400, `${where}: "data_source" must be a string`);
  }
  if (typeof o.solution_str !== "string") {
    throw new HttpError(400, `${where}: "solution_str" must be a string`);
  }
  if (!("ground_truth" in o)) throw new HttpError(400, `${where}: "ground_truth" is missing`);
  return o as unknown as Item;
}

/** Splits a parsed body into items, and whether the caller sent a batch. */
function items(body: unknown): { batch: boolean; items: Item[] } {
  if (Array.isArray(body)) {
    return {
      batch: true,
      items: body.map((v, i) => checkItem(v, `item ${i}`)),
    };
  }
  if (body && typeof body === "object") {
    const o = body as Record<string, unknown>;
    if (Array.isArray(o.batch)) {
      return { batch: true, items: o.batch.map((v, i) => checkItem(v, `batch[${i}]`)) };
    }
    if (Array.isArray(o.solution_strs)) {
      const n = o.solution_strs.length;
      for (const k of ["data_sources", "ground_truths"]) {
        if (!Array.isArray(o[k]) || (o[k] as unknown[]).length !== n) {
          throw new HttpError(400, `"${k}" must be a list as long as "solution_strs" (${n})`);
        }
      }
      const extras = Array.isArray(o.extra_infos) ? o.extra_infos : [];
      return {
        batch: true,
        items: o.solution_strs.map((s, i) =>
          checkItem({
            data_source: (o.data_sources as unknown[])[i],
            solution_str: s,
            ground_truth: (o.ground_truths as unknown[])[i],
            extra_info: extras[i],
          }, `item ${i}`)
        ),
      };
    }
    return { batch: false, items: [checkItem(o, "request")] };
  }
  throw new HttpError(400, "expected a JSON object or array");
}

function view(r: RewardResult) {
  return {
    score: r.reward,
    task: r.task,
    task_key: r.taskKey,
    verifier: r.verifier,
    details: r.details,
    ...(r.error ? { error: r.error } : {}),
  };
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Whether an address (a listen host) is loopback. */
export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\./.test(host);
}

/** The host name of a Host header value ("name:port", "[v6]:port"), lowercased. */
function hostName(value: string): string {
  const v = value.trim().toLowerCase();
  if (v.startsWith("[")) return v.slice(0, v.indexOf("]") + 1);
  const c = v.lastIndexOf(":");
  return c >= 0 ? v.slice(0, c) : v;
}

function checkCaller(header: (name: string) => string | null): void {
  const host = header("host");
  if (host !== null && !isLoopback(hostName(host))) {
    throw new HttpError(403, `Host ${JSON.stringify(host)} is not a loopback name`);
  }
  const origin = header("origin");
  if (origin !== null) {
    let ok = false;
    try {
      ok = isLoopback(new URL(origin).hostname);
    } catch { /* "null" and other opaque origins */ }
    if (!ok) throw new HttpError(403, `Origin ${JSON.stringify(origin)} is not allowed`);
  }
}

function checkJson(header: (name: string) => string | null): void {
  const type = (header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json" && !/^application\/[\w.+-]+\+json$/.test(type)) {
    throw new HttpError(
      415,
      `Content-Type must be application/json (got ${JSON.stringify(type || "none")})`,
    );
  }
}

/** Scores a request's items within the caps; see the module doc. */
async function scoreItems(
  list: Item[],
  opts: RewardServiceOptions,
  limits: ScoreLimits,
  pool: ScorePool,
  arrived: number,
): Promise<RewardResult[]> {
  const inputs: RewardInput[] = list.map((it) => ({
    dataSource: it.data_source,
    response: it.solution_str,
    groundTruth: it.ground_truth,
    extraInfo: it.extra_info,
  }));
  const works = list.map((it) => itemWork(it.solution_str, it.ground_truth, it.extra_info));
  const total = works.reduce((a, b) => a + b, 0);
  if (total > limits.maxRequestWork) {
    throw new HttpError(
      413,
      `request work ${total.toExponential(2)} exceeds the limit of ` +
        `${limits.maxRequestWork.toExponential(2)} (words(response) × words(ground truth), ` +
        `summed over items); send smaller batches`,
    );
  }
  const results: (RewardResult | undefined)[] = new Array(list.length);
  const todo: number[] = [];
  works.forEach((w, i) => {
    if (w > limits.maxItemWork) {
      results[i] = unscored(
        inputs[i],
        `work cap: estimated work ${w.toExponential(2)} exceeds ` +
          `${limits.maxItemWork.toExponential(2)} (words(response) × words(ground truth))`,
      );
    } else todo.push(i);
  });
  const todoWork = todo.reduce((a, i) => a + works[i], 0);
  if (todoWork <= limits.inlineWork) {
    for (const i of todo) results[i] = computeReward(inputs[i], opts.reward);
  } else {
    const scored = await pool.score(
      todo.map((i) => inputs[i]),
      todo.map((i) => works[i]),
      arrived + limits.timeBudgetMs,
      `time budget of ${limits.timeBudgetMs / 1000} s exceeded`,
    );
    todo.forEach((i, k) => results[i] = scored[k]);
  }
  return results as RewardResult[];
}

/** A request as the service needs it, whatever the transport. */
export interface ServiceRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  /** A header's value by lowercase name, or null. */
  header(name: string): string | null;
  /** The body (bounded by the transport or by this call). */
  body(): Promise<Uint8Array>;
}

/** A status and a JSON body. */
export interface ServiceResponse {
  status: number;
  json: unknown;
}

/** The service on a transport-neutral request (serveHttp1 calls this directly). */
export function rewardService(
  opts: RewardServiceOptions,
): (req: ServiceRequest) => Promise<ServiceResponse> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const pool = opts.pool ?? ScorePool.inProcess({ reward: opts.reward });
  return async (req) => {
    const arrived = performance.now();
    try {
      if (opts.loopback) checkCaller(req.header);
      if (req.path === "/health") return { status: 200, json: { status: "ok" } };
      if (req.path === "/verifiers") return { status: 200, json: listVerifiers() };
      if (req.path !== "/score") {
        throw new HttpError(404, `no such endpoint ${req.path}; use POST /score`);
      }
      if (req.method !== "POST") throw new HttpError(405, "use POST /score");
      checkJson(req.header);
      const text = decodeBody(await req.body(), opts.maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new HttpError(400, `malformed JSON: ${(e as Error).message}`);
      }
      const { batch, items: list } = items(body);
      const results = (await scoreItems(list, opts, limits, pool, arrived)).map(view);
      return batch
        ? { status: 200, json: { scores: results.map((r) => r.score), results } }
        : { status: 200, json: results[0] };
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, json: { error: e.message } };
      return { status: 500, json: { error: `internal error: ${(e as Error).message}` } };
    }
  };
}

/** The service as a fetch-style handler (Deno.serve, or directly in tests). */
export function rewardHandler(opts: RewardServiceOptions): (req: Request) => Promise<Response> {
  const service = rewardService(opts);
  return async (req) => {
    const r = await service({
      method: req.method,
      path: new URL(req.url).pathname,
      header: (name) => req.headers.get(name),
      body: () => readBody(req, opts.maxBodyBytes),
    });
    return json(r.status, r.json);
  };
}
