/**
 * Measures `reward serve` under load, for one or more source trees (e.g. before and after a
 * change), in one run so that the machine's state is the same for all:
 * 1. throughput of mixed light traffic (16 clients, a few seconds);
 * 2. while one worst-case summary request is scored: /health latency (probes every 25 ms) and
 *    the latency of 200 light requests.
 *
 *   deno run -A scripts/bench_serve.ts ROOT [ROOT...]   (ROOT: a golongrl tree with main.ts)
 *
 * BENCH_SECONDS sets the light phase's length (default 4); BENCH_LIGHT_ONLY=1 skips phase 2.
 * Other processes on the machine move the light figures by ±30% or more: alternate the trees
 * (A B B A ...) and compare medians.
 *
 * Prints one JSON object per tree. Binds 127.0.0.1 only.
 */
const roots = Deno.args.length ? Deno.args : ["."];
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 4);

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

const words = (n: number, k = 50) => Array.from({ length: n }, (_, i) => `word${i % k}`).join(" ");
const LIGHT = [
  { data_source: "EM", solution_str: "</think>Paris", ground_truth: { golden_label: "Paris" } },
  {
    data_source: "selection",
    solution_str: "</think>The correct answer is (B)",
    ground_truth: { golden_label: "B" },
  },
  {
    data_source: "summary",
    solution_str: "</think>" + words(150, 90) + ". " + words(50, 30) + ".",
    ground_truth: { doc_ids: [words(120, 80) + "."], summary: "English" },
  },
  Array.from({ length: 8 }, (_, i) => ({
    data_source: "EM",
    solution_str: `</think>code${i}`,
    ground_truth: { golden_label: `code${i % 2}` },
  })),
].map((b) => JSON.stringify(b));
const W = words(8000);
const HEAVY: Record<string, string> = {
  // At the new per-item work cap: 8,000 words against three 8,000-word references, one sentence.
  atCap: JSON.stringify({
    data_source: "summary",
    solution_str: "</think>" + W,
    ground_truth: { doc_ids: [W, W, W], summary: "English" },
  }),
  // The issue's 670 KB request: 12 identical 8,000-word references.
  issue670KB: JSON.stringify({
    data_source: "summary",
    solution_str: "</think>" + W,
    ground_truth: { doc_ids: Array(12).fill(W), summary: "English" },
  }),
};

async function post(url: string, body: string): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  const r = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  await r.arrayBuffer();
  return { ms: performance.now() - t0, status: r.status };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1)) : NaN;
};

async function bench(root: string) {
  const port = freePort();
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--config",
      `${root}/deno.json`,
      `${root}/main.ts`,
      "reward",
      "serve",
      "--port",
      String(port),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/health`).then((r) => r.text())).includes("ok")) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const out: Record<string, unknown> = { root };
  try {
    // 1. Mixed light traffic, 16 clients.
    const lat: number[] = [];
    let n = 0, bad = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: 16 }, async (_, c) => {
      for (let k = c; performance.now() < end; k++) {
        const r = await post(`${base}/score`, LIGHT[k % LIGHT.length]);
        lat.push(r.ms);
        n++;
        if (r.status !== 200) bad++;
      }
    }));
    out.light = {
      reqPerSec: Math.round(n / SECONDS),
      p50: pct(lat, 0.5),
      p99: pct(lat, 0.99),
      bad,
    };
    // 2. One heavy request; /health probes and 200 light requests meanwhile.
    for (const [name, body] of Deno.env.get("BENCH_LIGHT_ONLY") ? [] : Object.entries(HEAVY)) {
      const health: number[] = [];
      let done = false;
      const heavy = post(`${base}/score`, body).then((r) => {
        done = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 50));
      const prober = (async () => {
        while (!done) {
          const t0 = performance.now();
          await fetch(`${base}/health`).then((r) => r.arrayBuffer());
          health.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const light: number[] = [];
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < 200) {
          next++;
          light.push((await post(`${base}/score`, LIGHT[next % LIGHT.length])).ms);
        }
      }));
      const lightDoneWhileHeavy = !done;
      const h = await heavy;
      await prober;
      out[name] = {
        heavyMs: Math.round(h.ms),
        heavyStatus: h.status,
        healthMaxMs: pct(health, 1),
        healthP99Ms: pct(health, 0.99),
        healthProbes: health.length,
        light200P99Ms: pct(light, 0.99),
        lightDoneWhileHeavy,
      };
    }
  } finally {
    proc.kill("SIGTERM");
    await proc.status;
  }
  return out;
}

for (const root of roots) console.log(JSON.stringify(await bench(root)));
