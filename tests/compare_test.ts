import { assert, assertAlmostEquals, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { cli } from "./helpers.ts";
import { compareRuns, verdicts } from "../train/compare.ts";
import { ci95, t95 } from "../train/log.ts";

/** A run folder as the trainer writes it: config, per-step metrics, held-out at 0 and the end. */
async function fakeRun(
  root: string,
  name: string,
  o: {
    estimator: string;
    seed: number;
    start: number[];
    end: number[];
    steps?: number;
    lr?: number;
    reward?: (step: number) => number;
  },
): Promise<string> {
  const dir = `${root}/${name}`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      seed: o.seed,
      train: { estimator: o.estimator, steps: o.steps ?? 4 },
      optim: { lr: o.lr ?? 2e-4 },
      log: { val_every: o.steps ?? 4 },
    }),
  );
  const steps = o.steps ?? 4;
  const lines = [];
  for (let s = 1; s <= steps; s++) {
    lines.push(JSON.stringify({
      phase: "rl",
      step: s,
      reward_mean: o.reward ? o.reward(s) : 0.1 * s,
      reward_by_task: { a: 0.1, b: 0.2 },
      task_scale: o.estimator === "grpo" ? {} : { F1: 0.3 + 0.01 * s },
      weight_mean_by_task: o.estimator === "grpo" ? {} : { F1: 0.9 },
    }));
  }
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, lines.join("\n") + "\n");
  const val = (step: number, rewards: number[]) =>
    JSON.stringify({
      step,
      rewards,
      reward_mean: rewards.reduce((a, b) => a + b, 0) / rewards.length,
      reward_se: 0,
      n: rewards.length,
      // task a: the first half of the prompts, task b: the second
      reward_by_task: {
        a: { mean: rewards[0], n: 1 },
        b: { mean: rewards[rewards.length - 1], n: 1 },
      },
    });
  await Deno.writeTextFile(`${dir}/val.jsonl`, `${val(0, o.start)}\n${val(steps, o.end)}\n`);
  return dir;
}

Deno.test("t95 and ci95: Student-t intervals, exact at small df, none below two values", () => {
  assertEquals(t95(1), 12.706);
  assertEquals(t95(2), 4.303);
  assertAlmostEquals(t95(60), 2.0003, 0.002);
  assertAlmostEquals(t95(120), 1.9799, 0.002);
  assertAlmostEquals(t95(1e9), 1.96, 1e-6);
  assert(Number.isNaN(t95(0)));
  const c = ci95([1, 2, 3]); // sd 1, n 3
  assertEquals(c.mean, 2);
  assertAlmostEquals(c.hi - c.mean, 4.303 / Math.sqrt(3), 1e-12);
  assertAlmostEquals(c.mean - c.lo, 4.303 / Math.sqrt(3), 1e-12);
  const one = ci95([5]);
  assertEquals(one.mean, 5);
  assert(Number.isNaN(one.lo) && Number.isNaN(one.hi));
});

Deno.test("compareRuns: per-method intervals over seeds and paired differences against the baseline", async () => {
  const root = await Deno.makeTempDir();
  const start = [0, 0, 1, 0];
  const dirs = [
    await fakeRun(root, "grpo-s0", { estimator: "grpo", seed: 0, start, end: [0, 0, 1, 0] }),
    await fakeRun(root, "grpo-s1", { estimator: "grpo", seed: 1, start, end: [0, 0, 0, 0] }),
    await fakeRun(root, "tmn-s0", { estimator: "tmn-reweight", seed: 0, start, end: [1, 0, 1, 1] }),
    await fakeRun(root, "tmn-s1", { estimator: "tmn-reweight", seed: 1, start, end: [1, 1, 0, 1] }),
  ];
  const c = await compareRuns(dirs);
  assertEquals(c.baseline, "grpo");
  assertEquals(c.methods.map((m) => m.method), ["grpo", "tmn-reweight"]);
  assertEquals(c.sameStart, true);
  const [g, t] = c.methods;
  // grpo ends 0.25 and 0: mean 0.125, sd 0.1768, t(1) = 12.706
  assertAlmostEquals(g.end.mean, 0.125, 1e-12);
  assertAlmostEquals(g.end.hi - g.end.mean, 12.706 * Math.sqrt(0.03125) / Math.sqrt(2), 1e-9);
  assertAlmostEquals(t.end.mean, 0.75, 1e-12);
  assertAlmostEquals(t.change.mean, 0.5, 1e-12); // start 0.25 in every run
  assertEquals(g.vsBaseline, null);
  // Per seed: 0.75 - 0.25 = 0.5 and 0.75 - 0 = 0.75.
  assertAlmostEquals(t.vsBaseline!.bySeed.mean, 0.625, 1e-12);
  assertEquals(t.vsBaseline!.seeds, [0, 1]);
  // Per prompt, averaged over the seeds: [1, 0.5, 0, 1] → mean 0.625, sd 0.4787, t(3) 3.182.
  const p = t.vsBaseline!.byPrompt!;
  assertAlmostEquals(p.mean, 0.625, 1e-12);
  const sd = Math.sqrt(
    [1, 0.5, 0, 1].reduce((a, x) => a + (x - 0.625) ** 2, 0) / 3,
  );
  assertAlmostEquals(p.hi - p.mean, 3.182 * sd / 2, 1e-9);
  assertEquals(p.n, 4);
  // Per task: task a is the first prompt's reward.
  assertAlmostEquals(t.byTask.a.mean, 1, 1e-12);
  assertAlmostEquals(g.byTask.a.mean, 0, 1e-12);
  // The interval [0.625 ± 0.76] includes 0: not distinguishable.
  assertMatch(
    verdicts(c)[0],
    /^tmn-reweight − grpo: \+0\.625 \[−0\.\d+, \+1\.\d+\].*no difference at 95%/,
  );
  assertEquals(c.repeats, []);
  assertEquals(c.differing, []);
});

Deno.test("compareRuns: a consistent difference is called, repeats are measured, mismatches warned", async () => {
  const root = await Deno.makeTempDir();
  const start = [0, 0, 0, 0, 0, 0, 0, 0];
  const dirs: string[] = [];
  for (const seed of [0, 1, 2]) {
    dirs.push(await fakeRun(root, `grpo-s${seed}`, { estimator: "grpo", seed, start, end: start }));
    dirs.push(
      await fakeRun(root, `tmn-s${seed}`, {
        estimator: "tmn",
        seed,
        start,
        end: [1, 1, 1, 1, 1, 1, 1, seed === 0 ? 0 : 1],
      }),
    );
  }
  // A repeat of tmn seed 0 whose train rewards differ at one step by 0.05.
  dirs.push(
    await fakeRun(root, "tmn-s0-again", {
      estimator: "tmn",
      seed: 0,
      start,
      end: [1, 1, 1, 1, 1, 1, 1, 1],
      reward: (s) => 0.1 * s + (s === 2 ? 0.05 : 0),
    }),
  );
  const c = await compareRuns(dirs);
  const t = c.methods[1];
  assertEquals(t.seeds, [0, 1, 2]); // the repeat is not counted as a fourth seed
  assert(t.vsBaseline!.byPrompt!.lo > 0);
  assertMatch(verdicts(c)[0], /better at 95%/);
  assertEquals(c.repeats.length, 1);
  assertEquals(c.repeats[0].dirs, [`${root}/tmn-s0`, `${root}/tmn-s0-again`]);
  assertAlmostEquals(c.repeats[0].endDiff, 1 / 8, 1e-12);
  assertAlmostEquals(c.repeats[0].maxStepDiff, 0.05, 1e-12);

  // Different start evaluations and a different learning rate are reported, not hidden.
  const odd = await fakeRun(root, "odd", {
    estimator: "grpo",
    seed: 5,
    start: [1, 0, 0, 0, 0, 0, 0, 0],
    end: start,
    lr: 1e-3,
  });
  const c2 = await compareRuns([...dirs, odd]);
  assertEquals(c2.sameStart, false);
  assertEquals(c2.differing, ["optim.lr"]);
  assert(c2.warnings.some((w) => /start evaluations differ/.test(w)));
  assert(c2.warnings.some((w) => /settings differ between runs: optim\.lr/.test(w)));
});

Deno.test("golongrl compare: writes the study report and charts; bad input names the file and field", async () => {
  const root = await Deno.makeTempDir();
  const start = [0, 1, 0, 0];
  const dirs = [
    await fakeRun(root, "grpo-s0", { estimator: "grpo", seed: 0, start, end: [0, 1, 1, 0] }),
    await fakeRun(root, "tmn-s0", { estimator: "tmn-reweight", seed: 0, start, end: [1, 1, 1, 0] }),
  ];
  const out = `${root}/study`;
  const r = await cli("compare", ...dirs, "--out", out, "--title", "Study");
  assertEquals(r.code, 0, r.err);
  const lines = r.out.trimEnd().split("\n");
  assertEquals(lines[0], `${out}/compare.md`);
  // One seed: no interval over seeds, so the per-prompt difference ([1, 0, 0, 0], t(3)) decides.
  assertMatch(
    lines[1],
    /^tmn-reweight − grpo: \+0\.250 \[−0\.545, \+1\.04\d\] held-out reward \(per prompt, 1 seed\): no difference at 95%$/,
  );
  const md = await Deno.readTextFile(`${out}/compare.md`);
  assertMatch(md, /^# Study\n/);
  assertMatch(md, /\| `tmn-reweight` \| 1 \| 0\.250 \| 0\.750 \| \+0\.500 \| \+0\.250 \|/);
  assertMatch(md, /Start evaluations: identical in every run/);
  assertMatch(
    md,
    /\| a \| 1 \| 0\.000 \| 0\.000 \| 1\.000 \|\n\| b \| 1 \| 0\.000 \| 0\.000 \| 0\.000 \|/,
  );
  for (
    const f of [
      "heldout_by_method.svg",
      "train_reward_by_method.svg",
      "task_scale.svg",
      "task_weights.svg",
    ]
  ) {
    assertMatch(await Deno.readTextFile(`${out}/${f}`), /^<svg/);
    assertMatch(md, new RegExp(`!\\[${f.replace(".", "\\.")}\\]`));
  }
  const json = JSON.parse(await Deno.readTextFile(`${out}/compare.json`));
  assertEquals(json.runs.length, 2);
  assertEquals(json.runs[1].end, 0.75);

  await Deno.writeTextFile(`${dirs[1]}/config.json`, JSON.stringify({ seed: 0, train: {} }));
  await assertRejects(
    () => compareRuns(dirs),
    new RegExp(`${dirs[1]}/config\\.json, field "train\\.estimator"`),
  );
  const one = await cli("compare", dirs[0], "--out", out);
  assertEquals(one.code, 1);
  assertMatch(one.err, /at least two run folders/);
});
