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
 */
import { computeReward, listVerifiers } from "../../tasks/registry.ts";
import type { RewardOptions, RewardResult } from "../../tasks/types.ts";

export interface RewardServiceOptions {
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  reward: RewardOptions;
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

/** Reads the body as text, refusing more than `max` bytes even without a Content-Length. */
async function readBody(req: Request, max: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${max} bytes`);
  }
  if (!req.body) return "";
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
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
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

/** The request handler (usable with Deno.serve or directly in tests). */
export function rewardHandler(opts: RewardServiceOptions): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    try {
      if (url.pathname === "/health") return json(200, { status: "ok" });
      if (url.pathname === "/verifiers") return json(200, listVerifiers());
      if (url.pathname !== "/score") {
        throw new HttpError(404, `no such endpoint ${url.pathname}; use POST /score`);
      }
      if (req.method !== "POST") throw new HttpError(405, "use POST /score");
      const text = await readBody(req, opts.maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new HttpError(400, `malformed JSON: ${(e as Error).message}`);
      }
      const { batch, items: list } = items(body);
      const results = list.map((it) =>
        view(computeReward({
          dataSource: it.data_source,
          response: it.solution_str,
          groundTruth: it.ground_truth,
          extraInfo: it.extra_info,
        }, opts.reward))
      );
      return batch
        ? json(200, { scores: results.map((r) => r.score), results })
        : json(200, results[0]);
    } catch (e) {
      if (e instanceof HttpError) return json(e.status, { error: e.message });
      return json(500, { error: `internal error: ${(e as Error).message}` });
    }
  };
}
