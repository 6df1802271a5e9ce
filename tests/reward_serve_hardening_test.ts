/**
 * Issue 12 (hardening) for `reward serve`: scoring off the event loop, work caps and the time
 * budget, application/json only, loopback Host/Origin, slowloris and connection caps, shutdown
 * with a deadline, and the load-and-fault test. Everything binds 127.0.0.1 and is bounded.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { ROOT } from "./helpers.ts";
import { rewardHandler } from "../reward/server.ts";
import { ScorePool, split } from "../reward/pool.ts";
import { countWords, itemWork } from "../reward/work.ts";
import { serveHttp1 } from "../core/net/http1.ts";
import type { RewardInput } from "../tasks/types.ts";

const words = (n: number, k = 50) => Array.from({ length: n }, (_, i) => `word${i % k}`).join(" ");
const em = (answer: string, gold = "a") => ({
  data_source: "EM",
  solution_str: `</think>${answer}`,
  ground_truth: { golden_label: gold },
});
/** A summary item of about `n`² × refs work: one long sentence against identical references. */
const heavySummary = (n: number, refs: number) => {
  const w = words(n);
  return {
    data_source: "summary",
    solution_str: "</think>" + w,
    ground_truth: { doc_ids: Array(refs).fill(w), summary: "English" },
  };
};
const JSON_HEADERS = { "content-type": "application/json" };
const post = (
  h: (r: Request) => Promise<Response>,
  body: unknown,
  headers: Record<string, string> = JSON_HEADERS,
  url = "http://127.0.0.1:8077/score",
) => h(new Request(url, { method: "POST", body: JSON.stringify(body), headers }));

Deno.test("work estimate: words × words, CJK characters count as words", () => {
  assertEquals(countWords("  a bb\tccc\n"), 3);
  assertEquals(countWords("北京 is 大"), 4);
  assertEquals(itemWork("a b c", "x y"), 3 * 2 + 5 + 3); // words × words + characters
  assert(itemWork(words(8000), { doc_ids: [words(8000)] }) > 6.4e7);
  assertEquals(split([1, 1, 1, 1], 2), [[0, 2], [2, 4]]);
  assertEquals(split([10, 1, 1], 3), [[0, 1], [1, 2], [2, 3]]);
  assertEquals(split([5], 4), [[0, 1]]);
  assertEquals(split([1, 1, 100], 2), [[0, 2], [2, 3]]);
});

Deno.test("serve: only application/json; on loopback, foreign Host and Origin are refused", async () => {
  const h = rewardHandler({ maxBodyBytes: 1 << 20, reward: {}, loopback: true });
  // A form post or text/plain is what a web page can send cross-origin without a preflight.
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
    const r = await post(h, em("a"), { "content-type": type });
    assertEquals(r.status, 415, type);
    assertMatch((await r.json()).error, /application\/json/);
  }
  assertEquals(
    (await post(h, em("a"), { "content-type": "application/json; charset=utf-8" })).status,
    200,
  );
  let r = await post(h, em("a"), { ...JSON_HEADERS, host: "attacker.example:8077" });
  assertEquals(r.status, 403);
  r = await post(h, em("a"), { ...JSON_HEADERS, host: "localhost:8077" });
  assertEquals((await r.json()).score, 1);
  r = await post(h, em("a"), { ...JSON_HEADERS, origin: "https://evil.example" });
  assertEquals(r.status, 403);
  r = await post(h, em("a"), { ...JSON_HEADERS, origin: "null" });
  assertEquals(r.status, 403);
  r = await post(h, em("a"), { ...JSON_HEADERS, origin: "http://127.0.0.1:3000" });
  assertEquals(r.status, 200);
  // Not bound to loopback: any Host (a cluster name) is fine.
  const open = rewardHandler({ maxBodyBytes: 1 << 20, reward: {} });
  r = await post(open, em("a"), { ...JSON_HEADERS, host: "reward.cluster.local" });
  assertEquals(r.status, 200);
});

Deno.test("serve: a request over the work cap is 413; an item over the item cap scores 0 with an error", async () => {
  const h = rewardHandler({
    maxBodyBytes: 64 << 20,
    reward: {},
    limits: { maxItemWork: 1e6, maxRequestWork: 5e7 },
  });
  const t0 = performance.now();
  let r = await post(h, Array.from({ length: 12 }, () => heavySummary(3000, 1)));
  assertEquals(r.status, 413);
  assertMatch((await r.json()).error, /request work .* exceeds the limit/);
  r = await post(h, [em("a"), heavySummary(3000, 2), em("b")]);
  assertEquals(r.status, 200);
  const body = await r.json();
  assertEquals(body.scores, [1, 0, 0]);
  assertMatch(body.results[1].error, /^work cap: estimated work/);
  assertEquals(body.results[1].verifier, "summary");
  assertEquals(body.results[2].error, undefined, "a wrong answer is not an error");
  assert(performance.now() - t0 < 2000, "nothing over a cap was scored");
});

Deno.test("pool: a job past its time budget is cut off, its items score 0, the pool recovers", async () => {
  const pool = await ScorePool.start({ workers: 1, reward: {} });
  try {
    assertEquals(pool.mode, "workers");
    const input = (x: ReturnType<typeof em> | ReturnType<typeof heavySummary>): RewardInput => ({
      dataSource: x.data_source,
      response: x.solution_str,
      groundTruth: x.ground_truth,
    });
    const items = [input(em("a")), input(heavySummary(8000, 3)), input(em("a"))];
    const t0 = performance.now();
    const res = await pool.score(items, [1, 1, 1], performance.now() + 400, "time budget gone");
    const ms = performance.now() - t0;
    assert(ms < 2500, `returned after ${ms.toFixed(0)} ms`);
    assertEquals(res[0].reward, 1, "finished before the budget: kept");
    assertEquals([res[1].reward, res[1].error, res[1].verifier], [
      0,
      "time budget gone",
      "summary",
    ]);
    assertEquals(res[2].error, "time budget gone");
    // A job queued behind a busy worker answers at its own deadline, not when the worker frees.
    const busy = pool.score([input(heavySummary(8000, 3))], [1], performance.now() + 20_000, "x");
    const q0 = performance.now();
    const queued = await pool.score([input(em("a"))], [1], performance.now() + 300, "queued out");
    const qms = performance.now() - q0;
    assert(qms < 1500, `a queued job answered after ${qms.toFixed(0)} ms`);
    assertEquals([queued[0].reward, queued[0].error], [0, "queued out"]);
    assertEquals((await busy)[0].error, undefined, "the busy job still finishes");
    // A replacement worker takes over.
    const again = await pool.score([input(em("a"))], [1], performance.now() + 30_000, "x");
    assertEquals(again[0].reward, 1);
    assertEquals(pool.size, 1);
  } finally {
    pool.close();
  }
});

Deno.test("pool: without loadable workers it scores in process, within the same budget", async () => {
  const pool = await ScorePool.start({
    workers: 2,
    reward: {},
    workerUrl: new URL("./fixtures/no_such_worker.ts", import.meta.url),
  });
  assertEquals(pool.mode, "in-process");
  const items: RewardInput[] = Array.from({ length: 50 }, (_, i) => ({
    dataSource: "EM",
    response: `</think>${i % 2 ? "a" : "b"}`,
    groundTruth: { golden_label: "a" },
  }));
  const res = await pool.score(items, items.map(() => 1), performance.now() + 30_000, "late");
  assertEquals(res.map((r) => r.reward), items.map((_, i) => i % 2));
  // A budget already spent: nothing is scored, every item gets the budget error.
  const late = await pool.score(items.slice(0, 3), [1, 1, 1], performance.now() - 1, "late");
  assertEquals(late.map((r) => [r.reward, r.error]), [[0, "late"], [0, "late"], [0, "late"]]);
  // The handler over an in-process pool keeps the caps too.
  const h = rewardHandler({
    maxBodyBytes: 1 << 24,
    reward: {},
    pool,
    limits: { maxItemWork: 1e6 },
  });
  const r = await (await post(h, [em("a"), heavySummary(3000, 2)])).json();
  assertEquals(r.scores, [1, 0]);
  pool.close();
});

async function readUntilClosed(conn: Deno.Conn, limitMs: number): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  const t = setTimeout(() => conn.close(), limitMs);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch { /* closed by the limit */ }
  clearTimeout(t);
  try {
    conn.close();
  } catch { /* closed */ }
  return text;
}

Deno.test("http1: slowloris heads and idle keep-alives are cut off; the connection cap answers 503", async () => {
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 30,
    headerTimeoutMs: 300,
    idleTimeoutMs: 300,
    bodyTimeoutMs: 300,
    maxHeaderBytes: 8192,
    maxBodyBytes: 1 << 20,
  }, () => ({ status: 200, body: "ok" }));
  const { port } = server.addr;
  const enc = new TextEncoder();
  try {
    // 20 clients that send half a head, then a byte every 100 ms.
    const t0 = performance.now();
    const slow = await Promise.all(Array.from({ length: 20 }, async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(enc.encode("POST /score HTTP/1.1\r\nHost: x\r\n"));
      const drip = setInterval(() => c.write(enc.encode("X")).catch(() => {}), 100);
      const text = await readUntilClosed(c, 5000);
      clearInterval(drip);
      return { text, ms: performance.now() - t0 };
    }));
    for (const s of slow) {
      assert(s.ms < 2000, `a slow head was held ${s.ms.toFixed(0)} ms`);
      assertEquals(s.text, "", "cut off without an answer");
    }
    // A kept-alive connection that goes quiet is closed after the idle timeout.
    const k = await Deno.connect({ hostname: "127.0.0.1", port });
    await k.write(enc.encode("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    const kt = performance.now();
    const got = await readUntilClosed(k, 5000);
    assertMatch(got, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
    assert(performance.now() - kt < 2000);
    // The cap: 30 idle connections fill it; the 31st is told 503 at once.
    const idle = await Promise.all(
      Array.from({ length: 30 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    await new Promise((r) => setTimeout(r, 50));
    const extra = await Deno.connect({ hostname: "127.0.0.1", port });
    assertMatch(await readUntilClosed(extra, 2000), /^HTTP\/1\.1 503 /);
    for (const c of idle) await readUntilClosed(c, 3000); // closed by the idle timeout
    assertEquals(server.connections, 0);
    // Pipelined requests and a chunked body still work.
    const p = await Deno.connect({ hostname: "127.0.0.1", port });
    await p.write(enc.encode(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
        "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        "3\r\nabc\r\n0\r\n\r\n",
    ));
    const both = await readUntilClosed(p, 3000);
    assertEquals(both.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
    // 40 pipelined requests in one write (~40 KB): heads straddle the read buffer's end.
    const many = await Deno.connect({ hostname: "127.0.0.1", port });
    const one = (last: boolean) =>
      `POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n${
        last ? "Connection: close\r\n" : ""
      }\r\n${"y".repeat(1000)}`;
    await many.write(enc.encode(Array.from({ length: 40 }, (_, i) => one(i === 39)).join("")));
    const answers = await readUntilClosed(many, 3000);
    assertEquals(answers.match(/HTTP\/1\.1 200 OK/g)?.length, 40);
  } finally {
    server.abort();
    await server.finished;
  }
});

/** Starts `reward serve` on a free port; returns its URL and process. */
async function startServer(...flags: string[]) {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}/main.ts`, "reward", "serve", "--port", "0", ...flags],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = p.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!/listening on (\S+)/.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${seen}`);
    seen += value;
  }
  const url = /listening on (\S+)/.exec(seen)![1];
  // Keep draining stderr so the child never blocks on a full pipe.
  const drained = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
  })();
  return { p, url, base: url.replace(/\/score$/, ""), log: () => seen, drained };
}

const postJson = async (url: string, body: unknown) => {
  const t0 = performance.now();
  const r = await fetch(url, { method: "POST", body: JSON.stringify(body), headers: JSON_HEADERS });
  return { status: r.status, json: await r.json(), ms: performance.now() - t0 };
};

Deno.test("load and fault: while a worst-case summary is scored, 200 light requests finish with p99 < 100 ms", async () => {
  const s = await startServer("--workers", "2");
  try {
    // Warm up (JIT, client connections) so that only the heavy request's effect is measured.
    await Promise.all(Array.from({ length: 40 }, (_, i) => postJson(s.url, em(String(i)))));
    // The worst case the caps admit: one sentence of 8,000 words against three identical
    // references (work 1.9e8, under the 2.5e8 item cap): seconds of scoring in the old server,
    // on its only event loop.
    let heavyDone = 0;
    const heavy = postJson(s.url, heavySummary(8000, 3)).then((r) => {
      heavyDone = performance.now();
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    const lat: number[] = [];
    const health: number[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < 200) {
        const i = next++;
        if (i % 10 === 0) {
          const t0 = performance.now();
          await fetch(`${s.base}/health`).then((r) => r.arrayBuffer());
          health.push(performance.now() - t0);
        }
        const r = await postJson(s.url, em(i % 2 ? "a" : "b"));
        assertEquals(r.json.score, i % 2);
        lat.push(r.ms);
      }
    }));
    const lightDone = performance.now();
    const h = await heavy;
    assertEquals(h.status, 200);
    assert(h.json.score > 0.99, `the heavy request was scored: ${JSON.stringify(h.json)}`);
    assert(lightDone < heavyDone, "the light requests finished while the heavy one was scored");
    lat.sort((a, b) => a - b);
    const p99 = lat[Math.floor(0.99 * lat.length)];
    assert(p99 < 100, `light p99 ${p99.toFixed(1)} ms; slowest ${lat.slice(-5).map(Math.round)}`);
    assert(Math.max(...health) < 100, `/health took ${Math.max(...health).toFixed(1)} ms`);
  } finally {
    s.p.kill("SIGTERM");
    await s.p.status;
    await s.drained;
  }
});

Deno.test("reward serve: SIGTERM during a heavy request exits by the shutdown deadline", async () => {
  const s = await startServer("--workers", "1", "--shutdown-timeout-s", "0.5");
  try {
    const heavy = fetch(s.url, {
      method: "POST",
      body: JSON.stringify(heavySummary(8000, 3)),
      headers: JSON_HEADERS,
    }).then((r) => r.text()).catch(() => "cut");
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    s.p.kill("SIGTERM");
    const status = await s.p.status;
    const ms = performance.now() - t0;
    assert(ms < 2500, `exited ${ms.toFixed(0)} ms after SIGTERM`);
    assertEquals(status.success, true);
    // Whether the server logs the cut depends on whether the request reached a worker before
    // SIGTERM (timing); what users rely on is the exit by the deadline, asserted above.
    await heavy;
  } finally {
    await s.drained;
  }
});
