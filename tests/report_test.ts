import { assert, assertAlmostEquals, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { cli } from "./helpers.ts";
import { readRun, runFigures, smooth, smoothingWeight, writeRunReport } from "../train/report.ts";
import { barChart, formatTick, lineChart, lineChartGrid, niceAxis } from "../core/svg.ts";

// ---------------------------------------------------------------------------
// A minimal XML well-formedness check (Deno has no DOMParser): tags balance,
// attributes are quoted, text and attribute values hold no raw '<' or bare '&'.

interface Element {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

const ENTITY = /&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function parseXml(src: string): Element[] {
  const elements: Element[] = [];
  const stack: Element[] = [];
  let i = 0;
  const checkText = (t: string, where: string) => {
    assert(!t.replace(ENTITY, "").includes("&"), `bare & in ${where}: ${t.slice(0, 80)}`);
    assert(!t.includes("<"), `raw < in ${where}`);
  };
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    const text = src.slice(i, lt < 0 ? src.length : lt);
    checkText(text, "text");
    if (stack.length) stack[stack.length - 1].text += text;
    else assert(text.trim() === "", `text outside the root: ${text.slice(0, 40)}`);
    if (lt < 0) break;
    const gt = src.indexOf(">", lt);
    assert(gt > 0, "unterminated tag");
    const tag = src.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith("/")) {
      const open = stack.pop();
      assertEquals(tag.slice(1).trim(), open?.name, "closing tag matches the open one");
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const m = /^([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*\/?$/.exec(tag);
    assert(m, `malformed tag <${tag.slice(0, 80)}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([\w:.-]+)="([^"]*)"/g)) {
      assert(!(a[1] in attrs), `duplicate attribute ${a[1]}`);
      checkText(a[2], `attribute ${a[1]}`);
      attrs[a[1]] = a[2];
    }
    const el = { name: m[1], attrs, text: "" };
    elements.push(el);
    if (!selfClosing) stack.push(el);
  }
  assertEquals(stack.length, 0, "every tag closed");
  assertEquals(elements[0]?.name, "svg", "root is <svg>");
  return elements;
}

const unescape = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");

/** Parses an SVG, checks every geometric attribute is a finite number; returns its elements. */
function checkSvg(svg: string, file = "svg"): Element[] {
  const els = parseXml(svg);
  assert(!/NaN|Infinity|undefined/.test(svg.replace(/>[^<]*</g, "><")), `${file}: NaN in markup`);
  for (const el of els) {
    for (const [k, v] of Object.entries(el.attrs)) {
      if (["x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height"].includes(k)) {
        assert(Number.isFinite(Number(v)), `${file}: ${el.name} ${k}="${v}"`);
      }
      if (k === "points" || k === "d") {
        for (const n of v.match(/-?[\d.e+-]+/g) ?? []) {
          assert(Number.isFinite(Number(n)), `${file}: ${k} holds ${n}`);
        }
      }
    }
  }
  return els;
}

const seriesNames = (els: Element[]) =>
  new Set(els.filter((e) => e.attrs["data-series"]).map((e) => unescape(e.attrs["data-series"])));

// ---------------------------------------------------------------------------
// Synthetic run folders

const HOSTILE = `<script>alert("x")</script> & 'q'`;
const TASKS = ["em", "f1", HOSTILE];

/** Task t's reward at step s: linear in s, a different slope per task. */
const taskReward = (t: number, s: number) => 0.1 * t + 0.02 * s + 0.01 * ((s * 7 + t) % 3);

function rlLine(step: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const byTask = Object.fromEntries(TASKS.map((t, i) => [t, taskReward(i, step)]));
  const mean = TASKS.reduce((a, _, i) => a + taskReward(i, step), 0) / TASKS.length;
  return {
    phase: "rl",
    step,
    reward_mean: mean,
    reward_std: 0.2,
    reward_by_task: byTask,
    count_by_task: Object.fromEntries(TASKS.map((t) => [t, 16])),
    task_scale: Object.fromEntries(TASKS.map((t, i) => [t, 0.2 + 0.05 * i])),
    pass_rate_by_task: Object.fromEntries(TASKS.map((t, i) => [t, 0.3 + 0.1 * i + 0.01 * step])),
    mean_pass_rate: 0.4,
    weight_mean_by_task: Object.fromEntries(TASKS.map((t, i) => [t, 1 + 0.05 * (i - 1)])),
    zero_variance_frac: 0.25,
    gen_rounds: 1,
    adv_mean: 0,
    adv_std: 0.9,
    adv_abs_mean: 0.7,
    adv_min: -2,
    adv_max: 2,
    response_length_mean: 100 + step,
    response_length_max: 256,
    response_clip_ratio: step >= 10 ? (step === 11 ? 0.5 : 0.3) : 0.02,
    entropy: 1.5 - 0.01 * step,
    pg_loss: 0.01,
    pg_clipfrac: 0.05,
    pg_clipfrac_lower: 0.001,
    approx_kl: 0.002,
    rollout_logprob_diff: 0.01,
    grad_norm: 1.2,
    lr: step < 3 ? 1e-6 * step : 3e-6,
    tokens: 10000,
    tokens_per_s: 900,
    time: { generate: 6, reward: 0.5, advantage: 0.1, old_logprob: 1, update: 2, total: 10 },
    verifier_errors: step === 4 ? { math_verify: 2 } : {},
    skipped: step === 6,
    ...extra,
  };
}

function evalResults(
  subsets: Record<string, [number, number, number]>,
  all: [number, number, number],
) {
  const s = ([n, mean, stderr]: [number, number, number]) => ({ n, mean, stderr });
  return {
    model: "m",
    benchmarks: {
      ours: {
        ...s(all),
        primaryMetric: "reward",
        avgAtK: all[1],
        passAtK: all[1],
        k: 1,
        subsets: Object.fromEntries(Object.entries(subsets).map(([k, v]) => [k, s(v)])),
        lengths: {},
        failed: { n: 0, ids: [] },
      },
    },
    headlineAverage: null,
    average: all[1],
  };
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

/** An RL run of 12 steps, resumed after step 8 from step 7 (steps 7 and 8 logged twice). */
export async function makeRlRun(dir: string): Promise<void> {
  const first = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => rlLine(s, s >= 7 ? { reward_mean: 9 } : {}));
  const resumed = [7, 8, 9, 10, 11, 12].map((s) => rlLine(s));
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, jsonl([...first, ...resumed]));
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      model: { path: "assets/tiny" },
      train: { estimator: "tmn-reweight", steps: 12, lr: 3e-6 },
      rollout: { n: 8 },
      seed: 1,
    }),
  );
  const val = [0, 4, 8, 12].map((step) => ({
    step,
    reward_mean: 0.2 + 0.01 * step,
    reward_se: 0.02,
    n: 64,
    reward_by_task: Object.fromEntries(
      TASKS.map((t, i) => [t, { mean: 0.1 * i + 0.02 * step, se: 0.03, n: 20 }]),
    ),
  }));
  await Deno.writeTextFile(`${dir}/val.jsonl`, jsonl(val));
  await Deno.mkdir(`${dir}/eval_before`);
  await Deno.mkdir(`${dir}/eval_after`);
  await Deno.writeTextFile(
    `${dir}/eval_before/results.json`,
    JSON.stringify(evalResults(
      { em: [50, 0.2, 0.05], f1: [50, 0.3, 0.02], [HOSTILE]: [1, 0.5, 0] },
      [101, 0.25, 0.03],
    )),
  );
  await Deno.writeTextFile(
    `${dir}/eval_after/results.json`,
    JSON.stringify(evalResults(
      { em: [50, 0.25, 0.05], f1: [50, 0.4, 0.02], [HOSTILE]: [1, 0.4, 0] },
      [101, 0.35, 0.02],
    )),
  );
}

/** An SFT run of 20 steps. */
export async function makeSftRun(dir: string): Promise<void> {
  const rows = Array.from({ length: 20 }, (_, i) => ({
    phase: "sft",
    step: i + 1,
    loss: 3 - 0.1 * i,
    lr: 1e-5,
    grad_norm: 2 - 0.05 * i,
    tokens: 4096,
    tokens_per_s: 1500,
    time: { update: 2.5, total: 2.7 },
  }));
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, jsonl(rows));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---------------------------------------------------------------------------
// Figures

Deno.test("report: start/end means, last line wins for a resumed step, per task", async () => {
  const dir = await Deno.makeTempDir();
  await makeRlRun(dir);
  const d = await readRun(dir);
  assertEquals(d.rl.map((s) => s.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assertEquals(d.repeatedLines, 2);
  const f = runFigures(d);
  const overall = (s: number) => mean(TASKS.map((_, i) => taskReward(i, s)));
  // The first run's lines for steps 7 and 8 said 9; the resumed lines replace them.
  assertAlmostEquals(f.reward!.start, mean([1, 2, 3].map(overall)), 1e-12);
  assertAlmostEquals(f.reward!.end, mean([10, 11, 12].map(overall)), 1e-12);
  assert(d.rl.every((s) => s.rec.reward_mean !== 9));
  assertEquals(f.reward!.window, 3);
  for (const [i, t] of TASKS.entries()) {
    assertAlmostEquals(
      f.rewardByTask[t].start,
      mean([1, 2, 3].map((s) => taskReward(i, s))),
      1e-12,
    );
    assertAlmostEquals(
      f.rewardByTask[t].end,
      mean([10, 11, 12].map((s) => taskReward(i, s))),
      1e-12,
    );
  }
  assertEquals(f.skippedSteps, [6]);
  assertEquals(f.verifierErrors, { math_verify: 2 });
  assertEquals(f.clip!.maxStep, 11);
  assertAlmostEquals(f.clip!.recent, (7 * 0.02 + 1.1) / 10, 1e-12); // steps 3-12
  assert(f.warnings.some((w) => /skipped/.test(w)) && f.warnings.some((w) => /verifier/.test(w)));
  assert(f.warnings.some((w) => /cut at the length limit/.test(w)));
  // Timing: every phase's mean, and "other" for the 0.4 s the phases leave out of 10 s.
  const t = Object.fromEntries(f.timing.map((r) => [r.phase, r]));
  assertAlmostEquals(t.generate.share, 0.6, 1e-12);
  assertAlmostEquals(t.other.seconds, 0.4, 1e-9);
  assertEquals(t.total.seconds, 10);
});

Deno.test("report: before/after deltas and the 2-SE flag; held-out first → last", async () => {
  const dir = await Deno.makeTempDir();
  await makeRlRun(dir);
  const f = runFigures(await readRun(dir));
  const rows = Object.fromEntries(f.beforeAfter!.map((r) => [r.label, r]));
  assertEquals(
    Object.keys(rows),
    ["em", "f1", HOSTILE, "all tasks"].sort((a, b) =>
      a === "all tasks" ? 1 : b === "all tasks" ? -1 : a < b ? -1 : 1
    ),
  );
  assertAlmostEquals(rows.f1.delta, 0.1, 1e-12);
  assertAlmostEquals(rows.f1.se, Math.sqrt(0.02 ** 2 + 0.02 ** 2), 1e-12);
  assertEquals(rows.f1.significant, true); // 0.1 > 2 · 0.0283
  assertAlmostEquals(rows.em.delta, 0.05, 1e-12);
  assertEquals(rows.em.significant, false); // 0.05 < 2 · 0.0707
  assertEquals(rows[HOSTILE].significant, null); // n = 1: no standard error
  assertAlmostEquals(rows["all tasks"].se, Math.sqrt(0.03 ** 2 + 0.02 ** 2), 1e-12);
  assertEquals(rows["all tasks"].significant, true); // 0.1 > 2 · 0.036
  const h = f.heldOut!;
  assertEquals([h.firstStep, h.lastStep], [0, 12]);
  assertAlmostEquals(h.overall!.delta, 0.12, 1e-12);
  assertEquals(h.overall!.significant, true);
  assertAlmostEquals(h.byTask.find((c) => c.label === "em")!.delta, 0.24, 1e-12);
});

Deno.test("report: missing optional keys and files, a truncated last line, steps missing a task", async () => {
  const dir = await Deno.makeTempDir();
  const rows = [1, 2, 3, 4].map((step) => ({
    step, // no phase: taken as RL because it has reward_mean
    reward_mean: 0.1 * step,
    reward_by_task: step % 2 ? { a: 0.1 * step } : { a: 0.1 * step, b: 0.5 },
  }));
  await Deno.writeTextFile(
    `${dir}/metrics.jsonl`,
    jsonl(rows) + JSON.stringify({ step: "x", reward_mean: 1 }) + '\n{"step": 5, "rew',
  );
  const r = await writeRunReport(dir);
  const f = r.figures;
  assertEquals(f.rlSteps, 4);
  assertAlmostEquals(f.reward!.start, 0.2, 1e-12);
  assertAlmostEquals(f.reward!.end, 0.3, 1e-12);
  assertEquals(f.rewardByTask.b.steps, 2);
  assertAlmostEquals(f.rewardByTask.b.start, 0.5, 1e-12);
  assertEquals(f.heldOut, null);
  assertEquals(f.beforeAfter, null);
  assertEquals(f.timing, []);
  // Both bad lines are named in a warning, with file and line.
  const w = f.warnings.join("\n");
  assertMatch(w, /metrics\.jsonl, line 5, field "step"/);
  assertMatch(w, /metrics\.jsonl, line 6: invalid JSON/);
  const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  assertEquals(names, ["diagnostics.svg", "metrics.jsonl", "report.md", "reward_by_task.svg"]);
  for (const n of names.filter((n) => n.endsWith(".svg"))) {
    checkSvg(await Deno.readTextFile(`${dir}/${n}`), n);
  }
  const md = await Deno.readTextFile(r.path);
  assertMatch(md, /No config\.json/);
  assert(!/NaN|undefined/.test(md), "no NaN or undefined in report.md");
});

// ---------------------------------------------------------------------------
// Files

Deno.test("report: every SVG parses, has its series, no NaN, hostile names escaped", async () => {
  const dir = await Deno.makeTempDir();
  await makeRlRun(dir);
  const r = await writeRunReport(dir);
  const expected = [
    "before_after.svg",
    "diagnostics.svg",
    "heldout.svg",
    "reward_by_task.svg",
    "time.svg",
  ];
  assertEquals(r.files.map((p) => p.split("/").pop()).slice(1).sort(), expected);
  const svgs: Record<string, string> = {};
  for (const n of expected) {
    svgs[n] = await Deno.readTextFile(`${dir}/${n}`);
    assert(!svgs[n].includes("<script"), `${n}: a raw hostile task name`);
    assert(svgs[n].includes("&lt;script&gt;") || n === "time.svg", `${n}: escaped name`);
  }
  const reward = checkSvg(svgs["reward_by_task.svg"]);
  assertEquals(
    seriesNames(reward),
    new Set(["all tasks", "all tasks (raw)", ...TASKS.flatMap((t) => [t, `${t} (raw)`])]),
  );
  const diag = checkSvg(svgs["diagnostics.svg"]);
  const titles = diag.filter((e) => e.attrs.class === "panel-title").map((e) => e.text);
  for (const t of ["task scale S_k", "entropy", "grad norm", "learning rate", "tokens / s", "KL"]) {
    assert(titles.includes(t), `diagnostics panel ${t}: ${titles}`);
  }
  const legend = diag.filter((e) => e.name === "text" && e.attrs["data-series"]).map((e) =>
    unescape(e.attrs["data-series"])
  );
  for (const t of TASKS) assert(legend.includes(t), `legend names ${t}`);
  // The learning-rate axis is readable: exponent labels, not 0.000.
  assert(diag.some((e) => e.name === "text" && /^\de-6$/.test(e.text)), "lr ticks like 3e-6");
  const held = checkSvg(svgs["heldout.svg"]);
  assertEquals(held.filter((e) => e.attrs.class === "band").length, 1 + TASKS.length);
  const time = checkSvg(svgs["time.svg"]);
  for (const p of ["generate", "reward", "advantage", "old_logprob", "update", "total"]) {
    assert(seriesNames(time).has(p), `time series ${p}`);
  }
  const ba = checkSvg(svgs["before_after.svg"]);
  const bars = ba.filter((e) => e.attrs.class === "bar");
  assertEquals(bars.length, 8); // 4 rows × before/after
  assertEquals(new Set(bars.map((b) => b.attrs["data-series"])), new Set(["before", "after"]));
  assertEquals(ba.filter((e) => e.attrs.class === "err").length, 6); // n = 1 rows have SE 0
  const notes = ba.filter((e) => e.name === "text" && /^[+−]\d/.test(e.text)).map((e) => e.text);
  // Rows in name order ('<' sorts first), the overall row last.
  assertEquals(notes, ["−0.100", "+0.050", "+0.100*", "+0.100*"]);
  // report.md: figures, the 2-SE column, escaped names, links to every SVG.
  const md = await Deno.readTextFile(r.path);
  assert(!md.includes("<script"), "report.md escapes task names");
  assertMatch(md, /&lt;script&gt;alert\("x"\)&lt;\/script&gt; &amp; 'q'/);
  assertMatch(
    md,
    /\| f1 \| 50 \| 0\.300 ± 0\.020 \| 0\.400 ± 0\.020 \| \+0\.100 \| 0\.057 \| yes \|/,
  );
  assertMatch(md, /\| em \| 50 \| .* \| no \|/);
  assertMatch(md, /\| n < 2 \|/);
  assertMatch(md, /\| estimator \| `train\.estimator` \| tmn-reweight \|/);
  assertMatch(md, /\| rollouts per prompt \| `rollout\.n` \| 8 \|/);
  assertMatch(md, /2 metrics line\(s\) repeat an earlier step/);
  assertMatch(md, /Step 0: 0\.200 ± 0\.020 → step 12: 0\.320 ± 0\.020, change \+0\.120/);
  assertMatch(md, /\| generate \| 6\.00 \| 60\.0% \|/);
  for (const n of expected) assert(md.includes(`](${n})`), `report.md links ${n}`);
});

Deno.test("report: SFT run draws the loss; output is deterministic", async () => {
  const dir = await Deno.makeTempDir();
  await makeSftRun(dir);
  const r = await writeRunReport(dir);
  assertEquals(r.figures.rlSteps, 0);
  assertEquals(r.figures.sftSteps, 20);
  assertAlmostEquals(r.figures.sftLoss!.start, 2.9, 1e-12);
  assertAlmostEquals(r.figures.sftLoss!.end, 1.2, 1e-12);
  const svg = await Deno.readTextFile(`${dir}/sft_loss.svg`);
  const els = checkSvg(svg);
  assertEquals(
    seriesNames(els),
    new Set(["loss", "loss (raw)", "lr", "grad_norm", "tokens_per_s"]),
  );
  assertMatch(r.summary[1], /sft loss 2\.900 → 1\.200/);
  const md1 = await Deno.readTextFile(r.path);
  await writeRunReport(dir);
  assertEquals(await Deno.readTextFile(`${dir}/sft_loss.svg`), svg);
  assertEquals(await Deno.readTextFile(r.path), md1);
  assert(!(await Array.fromAsync(Deno.readDir(dir))).some((e) => e.name.includes(".tmp")));
});

Deno.test("report CLI: prints the path and three summary lines; --out; a clear error", async () => {
  const dir = await Deno.makeTempDir();
  await makeRlRun(dir);
  const out = `${dir}/elsewhere`;
  const r = await cli("report", dir, "--out", out);
  assertEquals(r.code, 0, r.err);
  const lines = r.out.trimEnd().split("\n");
  assertEquals(lines.length, 4);
  assertEquals(lines[0], `${out}/report.md`);
  assertMatch(lines[1], /^steps: 12 RL steps \(2 repeated lines/);
  assertMatch(
    lines[2],
    /train reward 0\.\d+ → 0\.\d+ \(\+0\.\d+\); held-out 0\.200 → 0\.320 \(\+0\.120, beyond 2 SE\)/,
  );
  assertMatch(
    lines[3],
    /before\/after: all tasks 0\.250 → 0\.350 \(\+0\.100, beyond 2 SE\); 1 up and 0 down/,
  );
  await Deno.stat(`${out}/before_after.svg`);
  const empty = await Deno.makeTempDir();
  const e = await cli("report", empty);
  assertEquals(e.code, 1);
  assertMatch(e.err, new RegExp(`${empty}/metrics\\.jsonl: no metrics`));
  await Deno.writeTextFile(`${empty}/metrics.jsonl`, "\n");
  await assertRejects(() => writeRunReport(empty), /metrics\.jsonl: no step lines/);
  const u = await cli("report");
  assertEquals(u.code, 2);
  assertMatch(u.err, /missing argument RUN_DIR/);
});

// ---------------------------------------------------------------------------
// The chart module

Deno.test("svg: nice axes and tick labels", () => {
  assertEquals(niceAxis(0.13, 0.87, 4).ticks.map((t) => formatTick(t, 0.2)), [
    "0.0",
    "0.2",
    "0.4",
    "0.6",
    "0.8",
    "1.0",
  ]);
  const lr = niceAxis(0, 3e-6, 4);
  assertEquals(lr.ticks.map((t) => formatTick(t, lr.step)), ["0", "1e-6", "2e-6", "3e-6"]);
  assertEquals(formatTick(2.5e-6, 5e-7), "2.5e-6");
  // Neighbouring ticks never print alike: 1.05e-5 beside 1e-5 and 1.1e-5.
  const c = niceAxis(9e-6, 1.1e-5, 4);
  const labels = c.ticks.map((t) => formatTick(t, c.step));
  assertEquals(new Set(labels).size, labels.length, labels.join(" "));
  assertEquals(formatTick(150000, 50000), "150k");
  assertEquals(formatTick(5000, 1000), "5000");
  assertEquals(niceAxis(1, 37, 5, true).step, 10);
  assertEquals(niceAxis(1, 3, 5, true).step, 1);
  const flat = niceAxis(0.5, 0.5);
  assert(flat.lo < 0.5 && flat.hi > 0.5, "a constant series gets a non-empty range");
});

Deno.test("svg: gaps for non-finite values, 'no data' panels, escaped titles, bars", () => {
  const svg = lineChartGrid([
    {
      title: `a<b & "c"`,
      series: [{
        name: "s&t",
        x: [1, 2, 3, 4, 5],
        y: [0.1, NaN, 0.3, Infinity, null],
        band: { lo: [0, 0, 0, 0, 0], hi: [1, 1, 1, 1, 1] },
      }],
    },
    { title: "empty", series: [{ name: "none", x: [1, 2], y: [undefined, NaN] }] },
  ], { columns: 2 });
  const els = checkSvg(svg);
  assert(els.some((e) => e.text === "a&lt;b &amp; &quot;c&quot;"));
  assert(els.some((e) => e.text === "no data"));
  // Points 1 and 3 are single-point runs: dots, no polyline through the NaN.
  assertEquals(els.filter((e) => e.name === "polyline").length, 0);
  assertEquals(els.filter((e) => e.name === "circle").length, 2);
  checkSvg(lineChart({ series: [] }));
  const bars = barChart([{ label: "x", values: [0.2, null], errors: [0.1, null] }], {
    series: [{ name: "before" }, { name: "after" }],
  });
  assertEquals(checkSvg(bars).filter((e) => e.attrs.class === "bar").length, 1);
});

Deno.test("smooth: debiased EMA starts at the first value and skips gaps", () => {
  const s = smooth([1, undefined, 1, 3], 0.5);
  assertEquals(s[0], 1);
  assertEquals(s[1], undefined);
  assertEquals(s[2], 1);
  // (0.125·1 + 0.25·1 + 0.5·3) / (1 − 0.5³)
  assertAlmostEquals(s[3]!, 1.875 / 0.875, 1e-12);
});

Deno.test("svg: a 200k-point series draws in bounded size and keeps its spike", () => {
  const n = 200_000;
  const x = Array.from({ length: n }, (_, i) => i + 1);
  const y = x.map((i) => (i === 123_457 ? 5 : Math.sin(i / 1000)));
  const svg = lineChart({ series: [{ name: "s", x, y }] }, { panelWidth: 500, panelHeight: 300 });
  const els = checkSvg(svg);
  const line = els.find((e) => e.name === "polyline")!;
  const pts = line.attrs.points.split(" ").map((p) => p.split(",").map(Number));
  assert(pts.length <= 2 * 500 + 2, `${pts.length} points`);
  // The spike (y = 5) is the top of the frame: its point is kept.
  const top = Math.min(...pts.map((p) => p[1]));
  assert(pts.filter((p) => p[1] === top).length === 1, "one point at the spike");
  assert(els.some((e) => e.name === "text" && e.text === "200k"), "x ticks in k");
});

Deno.test("svg: one step is centred with its error line; no negative step ticks", () => {
  const els = checkSvg(lineChart({
    series: [{ name: "v", x: [0], y: [0.3], band: { lo: [0.25], hi: [0.35] } }],
  }));
  const ticks = els.filter((e) => e.name === "text" && /^-?\d+$/.test(e.text)).map((e) => e.text);
  assertEquals(ticks, ["0", "1"]);
  assertEquals(els.filter((e) => e.name === "line" && e.attrs.class === "band").length, 1);
});

Deno.test("report: smoothing is light on short runs and spans ~1/30 of long ones", () => {
  assertEquals(smoothingWeight(60), 0.6);
  assertEquals(smoothingWeight(3000), Number((1 - 2 / 101).toFixed(4)));
});

Deno.test("report: warns when tmn mostly saw one prompt group per task (it then normalizes as grpo)", async () => {
  const dir = await Deno.makeTempDir();
  const write = async (estimator: string, frac: number) => {
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ train: { estimator } }));
    await Deno.writeTextFile(
      `${dir}/metrics.jsonl`,
      [1, 2, 3].map((s) => JSON.stringify(rlLine(s, { single_group_task_frac: frac }))).join("\n"),
    );
    return runFigures(await readRun(dir)).warnings.filter((w) => /one prompt group/.test(w));
  };
  const w = await write("tmn-reweight", 0.9);
  assertEquals(w.length, 1);
  assertMatch(w[0], /^90\.0% of the task keys .* tmn-reweight normalizes like grpo/);
  assertEquals(await write("tmn", 0.4), []); // most tasks pooled several groups
  assertEquals(await write("grpo", 1), []); // grpo never pools
});
