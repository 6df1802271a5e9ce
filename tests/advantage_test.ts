/** The advantage-estimator registry (train/advantage.ts) and `golongrl advantage`. */
import { assert, assertAlmostEquals, assertEquals, assertMatch } from "./assert.ts";
import { cli } from "./helpers.ts";
import { mulberry32 } from "../core/rng.ts";
import {
  type AdvantageInput,
  AdvantageInputError,
  computeAdvantages,
  estimatorNames,
  ESTIMATORS,
  groupStats,
  singleGroupShare,
  taskPoolingWarning,
} from "../train/advantage.ts";

const EPS = 1e-6;

// ---------------------------------------------------------------------------
// Recipe §3.3 test vector (alpha 0.8, gamma 1), fed interleaved: the registry
// must not rely on sorted input.
const VECTOR: Record<string, { task: string; rewards: number[] }> = {
  a1: { task: "EM", rewards: [1, 0, 0, 0] },
  a2: { task: "EM", rewards: [1, 1, 0, 0] },
  b1: { task: "F1_Score", rewards: [0.9, 0.6, 0.4, 0.3] },
};

function interleaved(): { xs: AdvantageInput[]; pos: Record<string, number[]> } {
  const xs: AdvantageInput[] = [];
  const pos: Record<string, number[]> = { a1: [], a2: [], b1: [] };
  for (let j = 0; j < 4; j++) {
    for (const uid of ["b1", "a1", "a2"]) {
      pos[uid].push(xs.length);
      xs.push({ uid, task: VECTOR[uid].task, reward: VECTOR[uid].rewards[j] });
    }
  }
  return { xs, pos };
}

function assertGroup(adv: number[], idx: number[], want: number[], tol: number, what: string) {
  want.forEach((w, j) => assertAlmostEquals(adv[idx[j]], w, tol, `${what}[${j}]`));
}

Deno.test("recipe §3.3 vector: tmn advantages, variances and task scales", () => {
  const { xs, pos } = interleaved();
  const gs = groupStats(xs);
  assertAlmostEquals(gs.get("a1")!.variance, 0.25, 1e-4);
  assertAlmostEquals(gs.get("a2")!.variance, 0.3333, 1e-4);
  assertAlmostEquals(gs.get("b1")!.variance, 0.07, 1e-4);
  const r = computeAdvantages("tmn", xs);
  assertAlmostEquals(r.stats.taskScale.EM, 0.5401, 1e-4);
  assertAlmostEquals(r.stats.taskScale.F1_Score, 0.2646, 1e-4);
  assertEquals(Object.keys(r.stats.taskScale).sort(), ["EM", "F1_Score"]);
  assertEquals(r.stats.groups, 3);
  assertEquals(r.stats.meanPassRate, undefined);
  assertGroup(r.advantages, pos.a1, [1.3887, -0.4629, -0.4629, -0.4629], 1e-4, "a1");
  assertGroup(r.advantages, pos.a2, [0.9258, 0.9258, -0.9258, -0.9258], 1e-4, "a2");
  assertGroup(r.advantages, pos.b1, [1.3229, 0.1890, -0.5669, -0.9449], 1e-4, "b1");
});

Deno.test("recipe §3.3 vector: grpo", () => {
  const { xs, pos } = interleaved();
  const r = computeAdvantages("grpo", xs);
  assertGroup(r.advantages, pos.a1, [1.5, -0.5, -0.5, -0.5], 1e-4, "a1");
  assertGroup(r.advantages, pos.a2, [0.866, 0.866, -0.866, -0.866], 1e-4, "a2");
  assertEquals(r.stats.taskScale, {});
  assertEquals(r.stats.groups, 3);
});

Deno.test("recipe §3.3 vector: tmn-reweight, pass rate and weights", () => {
  const { xs, pos } = interleaved();
  const plain = computeAdvantages("tmn", xs).advantages;
  const r = computeAdvantages("tmn-reweight", xs); // alpha 0.8, gamma 1 by default
  assertGroup(r.advantages, pos.a1, [1.7832, -0.3605, -0.3605, -0.3605], 1e-4, "a1");
  // a2 (b = 0.475, p = 0.5) and b1 (b = 0.55, p = 0.5): weight 1, unchanged.
  assertGroup(r.advantages, pos.a2, pos.a2.map((i) => plain[i]), 1e-12, "a2");
  assertGroup(r.advantages, pos.b1, pos.b1.map((i) => plain[i]), 1e-12, "b1");
  // a1: M_EM = 0.375, b = 0.275, p = 0.25: w+ = 1.2840, w- = 0.7788.
  const wPos = r.advantages[pos.a1[0]] / plain[pos.a1[0]];
  const wNeg = r.advantages[pos.a1[1]] / plain[pos.a1[1]];
  assertAlmostEquals(wPos, 1.2840, 1e-4);
  assertAlmostEquals(wNeg, 0.7788, 1e-4);
  assertAlmostEquals(0.5 - Math.log(wPos), 0.25, 1e-12, "p_a1 from w+");
  assertAlmostEquals(Math.log(wNeg) + 0.5, 0.25, 1e-12, "p_a1 from w-");
  assertAlmostEquals(r.stats.passRate.EM, (0.25 + 0.5) / 2, 1e-12);
  assertAlmostEquals(r.stats.passRate.F1_Score, 0.5, 1e-12);
  assertAlmostEquals(r.stats.meanPassRate!, (0.25 + 0.5 + 0.5) / 3, 1e-12);
  assertAlmostEquals(r.stats.weightMean.EM, (Math.exp(0.25) + 3 * Math.exp(-0.25) + 4) / 8, 1e-12);
  assertAlmostEquals(r.stats.weightMean.F1_Score, 1, 1e-12);
  assertAlmostEquals(r.stats.taskScale.EM, 0.5401, 1e-4);
  // alpha and gamma are used: gamma 2 squares the a1 weights.
  const g2 = computeAdvantages("tmn-reweight", xs, { gamma: 2 }).advantages;
  assertAlmostEquals(g2[pos.a1[0]], plain[pos.a1[0]] * Math.exp(0.5), 1e-12);
  // alpha reaches the baseline: a reward between mu_p and M_k passes or not.
  const us: AdvantageInput[] = [
    ...[0.9, 0.4, 0.4, 0.3].map((reward) => ({ uid: "p", task: "T", reward })),
    ...[0.1, 0.1, 0.1, 0.1].map((reward) => ({ uid: "q", task: "T", reward })),
  ];
  // mu_p = 0.5, M = 0.3. alpha 1: b = 0.5 -> p = 1/4; alpha 0: b = 0.3 -> p = 3/4.
  const a1 = computeAdvantages("tmn-reweight", us, { alpha: 1 });
  const a0 = computeAdvantages("tmn-reweight", us, { alpha: 0 });
  assertAlmostEquals(a1.stats.passRate.T, (0.25 + 0) / 2, 1e-12);
  assertAlmostEquals(a0.stats.passRate.T, (0.75 + 0) / 2, 1e-12);
  const base = computeAdvantages("tmn", us).advantages;
  assertAlmostEquals(a1.advantages[0] / base[0], Math.exp(0.25), 1e-12);
  assertAlmostEquals(a0.advantages[0] / base[0], Math.exp(-0.25), 1e-12);
});

// ---------------------------------------------------------------------------
// Singleton rules, task keys, bad input.

Deno.test("singleton groups: grpo mu 0 sigma 1, dr-grpo and rloo keep r, tmn mu 0 v 1", () => {
  const one: AdvantageInput[] = [{ uid: "s", task: "T", reward: 0.3 }];
  assertAlmostEquals(computeAdvantages("grpo", one).advantages[0], 0.3 / (1 + EPS), 1e-15);
  assertEquals(computeAdvantages("dr-grpo", one).advantages, [0.3]);
  assertEquals(computeAdvantages("rloo", one).advantages, [0.3]);
  const t = computeAdvantages("tmn", one);
  assertAlmostEquals(t.advantages[0], 0.3 / (1 + EPS), 1e-15);
  assertEquals(t.stats.taskScale, { T: 1 });
  // qwenlong-task: a singleton task has std 1 and is centred on itself.
  const q = computeAdvantages("qwenlong-task", one);
  assertEquals(q.advantages, [0]);
  assertEquals(q.stats.taskScale, { T: 1 });

  // A singleton next to a real group of the same task: v_s = 1 enters S_k and
  // mu_s = 0 enters M_k.
  const xs: AdvantageInput[] = [
    { uid: "g", task: "T", reward: 1 },
    { uid: "s", task: "T", reward: 0.3 },
    { uid: "g", task: "T", reward: 0 },
  ];
  const S = Math.sqrt((1 + 0.5) / 2);
  const tm = computeAdvantages("tmn", xs);
  assertAlmostEquals(tm.stats.taskScale.T, S, 1e-15);
  assertAlmostEquals(tm.advantages[1], 0.3 / (S + EPS), 1e-12);
  assertAlmostEquals(tm.advantages[0], 0.5 / (S + EPS), 1e-12);
  // Reweight: M = (0.5 + 0)/2 = 0.25. Singleton: b = M, 0.3 > 0.25 so p = 1, and
  // 0.3 > mu_s = 0 makes it positive: w+ = exp(-0.5). Group g: b = 0.45, p = 0.5.
  const rw = computeAdvantages("tmn-reweight", xs);
  assertAlmostEquals(rw.advantages[1], 0.3 / (S + EPS) * Math.exp(-0.5), 1e-12);
  assertAlmostEquals(rw.advantages[0], 0.5 / (S + EPS), 1e-12);
  assertAlmostEquals(rw.advantages[2], -0.5 / (S + EPS), 1e-12);
  assertAlmostEquals(rw.stats.passRate.T, 0.75, 1e-12);
  // A negative singleton reward is "negative" (r <= mu_s = 0) and below M: p = 0,
  // weight exp(p - 0.5) = exp(-0.5).
  const neg = computeAdvantages("tmn-reweight", [xs[0], xs[2], { ...xs[1], reward: -0.2 }]);
  assertAlmostEquals(neg.advantages[2], -0.2 / (S + EPS) * Math.exp(-0.5), 1e-12);
});

Deno.test("qwenlong-task: task-wide mean and unbiased std, no per-prompt centring", () => {
  const xs: AdvantageInput[] = [
    ...[1, 0].map((reward) => ({ uid: "g", task: "T", reward })),
    ...[1, 1, 0].map((reward) => ({ uid: "h", task: "T", reward })),
    ...[0.2, 0.4].map((reward) => ({ uid: "k", task: "U", reward })),
  ];
  // T: m = 0.6, squared deviations sum to 1.2 over 5 rollouts: unbiased var 0.3.
  const r = computeAdvantages("qwenlong-task", xs);
  assertAlmostEquals(r.stats.taskScale.T, Math.sqrt(0.3), 1e-15);
  assertAlmostEquals(r.stats.taskScale.U, Math.sqrt(0.02), 1e-15);
  assertAlmostEquals(r.advantages[0], 0.4 / (Math.sqrt(0.3) + EPS), 1e-12);
  assertAlmostEquals(r.advantages[4], -0.6 / (Math.sqrt(0.3) + EPS), 1e-12);
  assertAlmostEquals(r.advantages[5], -0.1 / (Math.sqrt(0.02) + EPS), 1e-12);
  // The same reward gets the same advantage in both prompts of a task.
  assertEquals(r.advantages[0], r.advantages[2]);
});

Deno.test("task keys: '' is a key; a missing or mixed task is an error for task estimators", () => {
  const xs: AdvantageInput[] = [
    { uid: "a", task: "", reward: 1 },
    { uid: "a", task: "", reward: 0 },
    { uid: "b", task: "x", reward: 0.5 },
    { uid: "b", task: "x", reward: 0 },
  ];
  const r = computeAdvantages("tmn", xs);
  assertEquals(Object.keys(r.stats.taskScale), ["", "x"]);
  assertAlmostEquals(r.stats.taskScale[""], Math.sqrt(0.5), 1e-15);
  // A "__proto__" task key is a plain key, not a prototype.
  const p = computeAdvantages("tmn", xs.map((x) => ({ ...x, task: "__proto__" })));
  assert(Object.hasOwn(p.stats.taskScale, "__proto__"));

  const missing = [...xs, { uid: "c", reward: 1 } as unknown as AdvantageInput];
  for (const name of ["tmn", "tmn-reweight", "qwenlong-task"]) {
    try {
      computeAdvantages(name, missing);
      assert(false, `${name} accepted a rollout without a task`);
    } catch (e) {
      assert(e instanceof AdvantageInputError, String(e));
      assertEquals([e.index, e.field], [4, "task"]);
      assertMatch(e.message, /group "c" has no task key/);
    }
  }
  // Estimators that do not read the task do not need one.
  for (const name of ["grpo", "dr-grpo", "rloo"]) {
    assertEquals(computeAdvantages(name, missing).advantages.length, 5);
  }
  const mixed = [...xs, { uid: "a", task: "x", reward: 0 }];
  try {
    computeAdvantages("tmn", mixed);
    assert(false, "mixed tasks accepted");
  } catch (e) {
    assert(e instanceof AdvantageInputError);
    assertEquals([e.index, e.field], [4, "task"]);
    assertMatch(e.message, /mixes task keys "" and "x"/);
  }
});

Deno.test("bad rewards, unknown estimators and bad options are errors", () => {
  for (const reward of [NaN, Infinity, "1" as unknown as number]) {
    try {
      computeAdvantages("grpo", [{ uid: "a", task: "", reward: 0 }, {
        uid: "a",
        task: "",
        reward,
      }]);
      assert(false, `accepted reward ${reward}`);
    } catch (e) {
      assert(e instanceof AdvantageInputError);
      assertEquals([e.index, e.field], [1, "reward"]);
    }
  }
  try {
    computeAdvantages("tmn_reweight", []);
    assert(false);
  } catch (e) {
    assertMatch(
      (e as Error).message,
      /unknown advantage estimator "tmn_reweight" \(did you mean tmn-reweight\?\); known: grpo, dr-grpo, tmn, tmn-reweight, qwenlong-task, rloo/,
    );
  }
  for (const o of [{ alpha: 1.5 }, { alpha: NaN }, { gamma: Infinity }, { eps: -1 }]) {
    try {
      computeAdvantages("tmn-reweight", [], o);
      assert(false, JSON.stringify(o));
    } catch (e) {
      assert(e instanceof RangeError);
    }
  }
  assertEquals(estimatorNames(), [...ESTIMATORS.keys()]);
  for (const e of ESTIMATORS.values()) assert(e.doc.includes("A_i") || e.doc.includes("A *="));
  assertEquals(computeAdvantages("tmn-reweight", []).advantages, []);
});

Deno.test("groupStats: n, mean, unbiased variance; zero variance as DAPO's filter (singleton kept)", () => {
  const g = groupStats([
    { uid: "z", task: "", reward: 0.1 },
    { uid: "s", task: "", reward: 1 },
    { uid: "z", task: "", reward: 0.1 },
    { uid: "z", task: "", reward: 0.1 },
    { uid: "v", task: "", reward: 0.1 },
    { uid: "v", task: "", reward: 0.1 + 1e-12 },
  ]);
  assertEquals([...g.keys()], ["z", "s", "v"]);
  assertEquals(g.get("z")!.zeroVariance, true);
  assertEquals(g.get("z")!.n, 3);
  assertEquals(g.get("s")!.zeroVariance, false);
  assertEquals([g.get("s")!.n, g.get("s")!.mean, g.get("s")!.variance], [1, 1, 0]);
  assertEquals(g.get("v")!.zeroVariance, false);
  assert(g.get("v")!.variance > 0);
});

// ---------------------------------------------------------------------------
// Random batches.

interface BatchSpec {
  tasks: number;
  groups: number;
  maxN: number;
  minN: number;
  binary: boolean;
}

/** A shuffled batch: uneven groups, several tasks (incl. the "" key). */
function randomBatch(rand: () => number, s: BatchSpec): AdvantageInput[] {
  const taskNames = ["EM", "F1_Score", "", "selection", "NDCG"].slice(0, s.tasks);
  const xs: AdvantageInput[] = [];
  for (let g = 0; g < s.groups; g++) {
    const task = taskNames[Math.floor(rand() * taskNames.length)];
    const n = s.minN + Math.floor(rand() * (s.maxN - s.minN + 1));
    const p = rand();
    for (let j = 0; j < n; j++) {
      const reward = s.binary ? (rand() < p ? 1 : 0) : Math.round(rand() * 1000) / 1000;
      xs.push({ uid: `u${g}`, task, reward });
    }
  }
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

function byGroup(xs: readonly AdvantageInput[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  xs.forEach((x, i) => m.set(x.uid, [...(m.get(x.uid) ?? []), i]));
  return m;
}

const SPECS: BatchSpec[] = [
  { tasks: 3, groups: 12, minN: 2, maxN: 9, binary: true },
  { tasks: 4, groups: 20, minN: 2, maxN: 6, binary: false },
];

Deno.test("property: per-group zero sum (grpo, dr-grpo, tmn, rloo); per-task for qwenlong-task", () => {
  const rand = mulberry32(11);
  for (let t = 0; t < 60; t++) {
    const xs = randomBatch(rand, SPECS[t % 2]);
    for (const name of ["grpo", "dr-grpo", "tmn", "rloo"]) {
      const a = computeAdvantages(name, xs).advantages;
      for (const [uid, idx] of byGroup(xs)) {
        const sum = idx.reduce((s, i) => s + a[i], 0);
        assertAlmostEquals(sum, 0, 1e-9, `${name} group ${uid}`);
      }
    }
    const q = computeAdvantages("qwenlong-task", xs).advantages;
    for (const task of new Set(xs.map((x) => x.task))) {
      const sum = xs.reduce((s, x, i) => s + (x.task === task ? q[i] : 0), 0);
      assertAlmostEquals(sum, 0, 1e-9, `qwenlong task ${task}`);
    }
  }
});

Deno.test("property: tmn-reweight is zero-sum only where p_g = 0.5; otherwise signed by 0.5 - p_g", () => {
  // Per group the sum is w+ * (sum of positive tmn advantages) + w- * (the
  // negative ones, the same magnitude): zero iff w+ = w- (p = 0.5), positive
  // for a hard prompt (p < 0.5), negative for an easy one.
  const rand = mulberry32(12);
  let nonZero = 0, zero = 0;
  for (let t = 0; t < 60; t++) {
    const xs = randomBatch(rand, SPECS[t % 2]);
    const plain = computeAdvantages("tmn", xs).advantages;
    const a = computeAdvantages("tmn-reweight", xs).advantages;
    for (const [uid, idx] of byGroup(xs)) {
      const sum = idx.reduce((s, i) => s + a[i], 0);
      const pos = idx.filter((i) => plain[i] > 0);
      if (pos.length === 0) {
        assertAlmostEquals(sum, 0, 1e-9, uid);
        continue;
      }
      const wPos = a[pos[0]] / plain[pos[0]];
      const p = 0.5 - Math.log(wPos);
      if (Math.abs(p - 0.5) < 1e-9) {
        assertAlmostEquals(sum, 0, 1e-9, uid);
        zero++;
      } else {
        assert(Math.sign(sum) === Math.sign(0.5 - p), `${uid}: sum ${sum}, p ${p}`);
        assert(Math.abs(sum) > 1e-6);
        nonZero++;
      }
    }
  }
  assert(nonZero > 50 && zero > 10, `cases: ${nonZero} non-zero, ${zero} zero`);
});

function assertClose(a: number[], b: number[], tol: number, what: string) {
  assertEquals(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert(
      Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])),
      `${what}[${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

Deno.test("property: scale invariance (grpo, tmn, tmn-reweight, qwenlong-task); dr-grpo and rloo scale by c", () => {
  const rand = mulberry32(13);
  for (let t = 0; t < 40; t++) {
    // No singletons here: their fixed v = 1 does not scale.
    const xs = randomBatch(rand, SPECS[t % 2]);
    for (const c of [0.25, 3, 40]) {
      const ys = xs.map((x) => ({ ...x, reward: x.reward * c }));
      for (const name of ["grpo", "tmn", "tmn-reweight", "qwenlong-task"]) {
        // eps enters as eps/sigma: with sigma >= ~1e-4 here, 1e-2 relative bounds it.
        assertClose(
          computeAdvantages(name, ys).advantages,
          computeAdvantages(name, xs).advantages,
          1e-2,
          `${name} c=${c}`,
        );
        // Without eps the invariance is exact up to rounding.
        assertClose(
          computeAdvantages(name, ys, { eps: 0 }).advantages.map((v) => Number.isNaN(v) ? 0 : v),
          computeAdvantages(name, xs, { eps: 0 }).advantages.map((v) => Number.isNaN(v) ? 0 : v),
          1e-9,
          `${name} c=${c} eps 0`,
        );
      }
      for (const name of ["dr-grpo", "rloo"]) {
        assertClose(
          computeAdvantages(name, ys).advantages,
          computeAdvantages(name, xs).advantages.map((v) => v * c),
          1e-9,
          `${name} c=${c}`,
        );
      }
    }
  }
});

Deno.test("property: shift invariance without singletons; a singleton breaks it (mu = 0)", () => {
  const rand = mulberry32(14);
  for (let t = 0; t < 40; t++) {
    const xs = randomBatch(rand, { ...SPECS[1], binary: t % 2 === 0 });
    for (const d of [-0.5, 3]) {
      const ys = xs.map((x) => ({ ...x, reward: x.reward + d }));
      for (const name of ["grpo", "dr-grpo", "tmn", "tmn-reweight", "qwenlong-task", "rloo"]) {
        assertClose(
          computeAdvantages(name, ys).advantages,
          computeAdvantages(name, xs).advantages,
          1e-6,
          `${name} d=${d}`,
        );
      }
    }
  }
  const one: AdvantageInput[] = [{ uid: "s", task: "T", reward: 0.5 }];
  for (const name of ["grpo", "dr-grpo", "tmn", "rloo"]) {
    const a = computeAdvantages(name, one).advantages[0];
    const b = computeAdvantages(name, [{ ...one[0], reward: 1.5 }]).advantages[0];
    assert(Math.abs(b - a - 1 / (name === "grpo" || name === "tmn" ? 1 + EPS : 1)) < 1e-12, name);
  }
});

Deno.test("property: permuting the input permutes the output (and leaves the stats)", () => {
  const rand = mulberry32(15);
  for (let t = 0; t < 30; t++) {
    const xs = randomBatch(rand, { tasks: 4, groups: 15, minN: 1, maxN: 7, binary: t % 2 === 0 });
    const perm = xs.map((_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const ys = perm.map((i) => xs[i]);
    for (const name of estimatorNames()) {
      const a = computeAdvantages(name, xs);
      const b = computeAdvantages(name, ys);
      assertClose(b.advantages, perm.map((i) => a.advantages[i]), 1e-12, name);
      assertEquals(b.stats.groups, a.stats.groups);
      for (const [k, v] of Object.entries(a.stats.taskScale)) {
        assertAlmostEquals(b.stats.taskScale[k], v, 1e-12, `${name} S ${k}`);
      }
      for (const [k, v] of Object.entries(a.stats.passRate)) {
        assertAlmostEquals(b.stats.passRate[k], v, 1e-12, `${name} p ${k}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------
// An independent, deliberately plain implementation of grpo and tmn-reweight,
// written from recipe §3.1-3.3 (two-pass variances, per-group arrays).

function refGroups(xs: readonly AdvantageInput[]) {
  const uids = [...new Set(xs.map((x) => x.uid))].sort();
  return uids.map((uid) => {
    const members = xs.map((x, i) => ({ x, i })).filter((m) => m.x.uid === uid);
    const rs = members.map((m) => m.x.reward);
    const n = rs.length;
    const avg = rs.reduce((a, b) => a + b, 0) / n;
    const variance = n > 1 ? rs.reduce((a, r) => a + (r - avg) ** 2, 0) / (n - 1) : 0;
    return {
      uid,
      task: members[0].x.task,
      rs,
      at: members.map((m) => m.i),
      mu: n > 1 ? avg : 0,
      v: n > 1 ? variance : 1,
    };
  });
}

function refGrpo(xs: readonly AdvantageInput[]): number[] {
  const out = new Array(xs.length).fill(NaN);
  for (const g of refGroups(xs)) {
    g.rs.forEach((r, j) => out[g.at[j]] = (r - g.mu) / (Math.sqrt(g.v) + EPS));
  }
  return out;
}

function refTmnReweight(xs: readonly AdvantageInput[], alpha: number, gamma: number) {
  const groups = refGroups(xs);
  const tasks = [...new Set(groups.map((g) => g.task))];
  const S: Record<string, number> = {};
  const M: Record<string, number> = {};
  for (const k of tasks) {
    const gk = groups.filter((g) => g.task === k);
    S[k] = Math.sqrt(gk.reduce((a, g) => a + g.v, 0) / gk.length);
    M[k] = gk.reduce((a, g) => a + g.mu, 0) / gk.length;
  }
  const out = new Array(xs.length).fill(NaN);
  const ps: Record<string, number[]> = {};
  const ws: Record<string, number[]> = {};
  for (const g of groups) {
    const b = g.rs.length <= 1 ? M[g.task] : alpha * g.mu + (1 - alpha) * M[g.task];
    const p = g.rs.filter((r) => r > b).length / g.rs.length;
    (ps[g.task] ??= []).push(p);
    g.rs.forEach((r, j) => {
      const w = r > g.mu ? Math.exp(gamma * (0.5 - p)) : Math.exp(gamma * (p - 0.5));
      (ws[g.task] ??= []).push(w);
      out[g.at[j]] = (r - g.mu) / (S[g.task] + EPS) * w;
    });
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const allP = Object.values(ps).flat();
  return {
    adv: out,
    S,
    pass: Object.fromEntries(Object.entries(ps).map(([k, v]) => [k, mean(v)])),
    weight: Object.fromEntries(Object.entries(ws).map(([k, v]) => [k, mean(v)])),
    meanPass: mean(allP),
  };
}

Deno.test("grpo and tmn-reweight match an independent implementation on 200 random batches", () => {
  const rand = mulberry32(2026);
  for (let t = 0; t < 200; t++) {
    const spec = {
      tasks: 1 + Math.floor(rand() * 5),
      groups: 1 + Math.floor(rand() * 24),
      minN: 1,
      maxN: 1 + Math.floor(rand() * 16),
      binary: rand() < 0.5,
    };
    const xs = randomBatch(rand, spec);
    assertClose(computeAdvantages("grpo", xs).advantages, refGrpo(xs), 1e-9, `grpo batch ${t}`);
    const alpha = [0.8, 0.5, 0, 1][t % 4];
    const gamma = [1, 2, 0.5][t % 3];
    const got = computeAdvantages("tmn-reweight", xs, { alpha, gamma });
    const want = refTmnReweight(xs, alpha, gamma);
    assertClose(got.advantages, want.adv, 1e-9, `tmn-reweight batch ${t}`);
    assertEquals(Object.keys(got.stats.taskScale).sort(), Object.keys(want.S).sort());
    for (const k of Object.keys(want.S)) {
      assertAlmostEquals(got.stats.taskScale[k], want.S[k], 1e-9, `S ${k}`);
      assertAlmostEquals(got.stats.passRate[k], want.pass[k], 1e-12, `p ${k}`);
      assertAlmostEquals(got.stats.weightMean[k], want.weight[k], 1e-12, `w ${k}`);
    }
    assertAlmostEquals(got.stats.meanPassRate!, want.meanPass, 1e-12);
    assertEquals(got.stats.groups, new Set(xs.map((x) => x.uid)).size);
  }
});

// ---------------------------------------------------------------------------
// `golongrl advantage`, end to end.

Deno.test("golongrl advantage: every line back in input order with its advantage", async () => {
  const dir = await Deno.makeTempDir();
  const { xs, pos } = interleaved();
  const inFile = `${dir}/rollouts.jsonl`;
  await Deno.writeTextFile(
    inFile,
    xs.map((x, i) => JSON.stringify({ id: `r${i}`, ...x, extra: { k: i } })).join("\n") + "\n\n",
  );
  const out = `${dir}/adv.jsonl`;
  const r = await cli("advantage", "--estimator", "tmn-reweight", "--in", inFile, "--out", out);
  assertEquals(r.code, 0, r.err);
  assertEquals(r.out, "");
  const lines = (await Deno.readTextFile(out)).trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.length, xs.length);
  lines.forEach((l, i) => {
    assertEquals(l.id, `r${i}`);
    assertEquals(l.extra, { k: i });
    assertEquals([l.uid, l.task, l.reward], [xs[i].uid, xs[i].task, xs[i].reward]);
  });
  const adv = lines.map((l) => l.advantage as number);
  assertGroup(adv, pos.a1, [1.7832, -0.3605, -0.3605, -0.3605], 1e-4, "a1");
  assertGroup(adv, pos.b1, [1.3229, 0.1890, -0.5669, -0.9449], 1e-4, "b1");
  assertMatch(r.err, /12 rollouts in 3 groups/);

  // stdout without --out; --gamma reaches the estimator.
  const s = await cli("advantage", "--estimator", "tmn-reweight", "--gamma", "2", "--in", inFile);
  assertEquals(s.code, 0, s.err);
  const sAdv = s.out.trimEnd().split("\n").map((l) => JSON.parse(l).advantage as number);
  const plain = computeAdvantages("tmn", xs).advantages;
  assertAlmostEquals(sAdv[pos.a1[0]], plain[pos.a1[0]] * Math.exp(0.5), 1e-12);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("golongrl advantage: bad lines name file, line and field; nothing is written", async () => {
  const dir = await Deno.makeTempDir();
  const inFile = `${dir}/bad.jsonl`;
  const out = `${dir}/adv.jsonl`;
  const ok = (reward: number) => JSON.stringify({ uid: "a", task: "EM", reward });
  const cases: [string, string, RegExp][] = [
    [`${ok(1)}\n\n{"uid":"a","task":"EM","reward":"x"}\n`, "grpo", /line 3, field "reward"/],
    [`${ok(1)}\n{"uid":null,"task":"EM","reward":0}\n`, "grpo", /line 2, field "uid"/],
    [`${ok(1)}\n{"uid":"a","task":3,"reward":0}\n`, "grpo", /line 2, field "task"/],
    [`${ok(1)}\n${ok(0)}\n{"uid":"b","reward":0}\n`, "tmn", /line 3, field "task".*no task key/],
    [`${ok(1)}\n{"uid":"a","task":"F1","reward":0}\n`, "tmn", /line 2, field "task".*mixes/],
    [`${ok(1)}\n{"uid":"a",\n`, "grpo", /line 2: invalid JSON/],
  ];
  for (const [text, est, re] of cases) {
    await Deno.writeTextFile(inFile, text);
    const r = await cli("advantage", "--estimator", est, "--in", inFile, "--out", out);
    assertEquals(r.code, 1, `${text}: ${r.err}`);
    assertMatch(
      r.err,
      new RegExp(`${inFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, ${re.source}`),
    );
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["bad.jsonl"], "no output left");
  }
  // A missing task is fine for an estimator that does not read it; a numeric uid is an id.
  await Deno.writeTextFile(inFile, '{"uid":7,"reward":1}\n{"uid":7,"reward":0}\n');
  const g = await cli("advantage", "--estimator", "rloo", "--in", inFile);
  assertEquals(g.code, 0, g.err);
  assertEquals(g.out.trimEnd().split("\n").map((l) => JSON.parse(l).advantage), [1, -1]);

  const u = await cli("advantage", "--estimator", "tmn-rewieght", "--in", inFile);
  assertEquals(u.code, 2);
  assertMatch(u.err, /not one of grpo, dr-grpo, tmn, tmn-reweight, qwenlong-task, rloo/);
  assertMatch(u.err, /did you mean tmn-reweight\?/);
  const m = await cli("advantage", "--in", inFile);
  assertEquals(m.code, 2);
  assertMatch(m.err, /--estimator is required/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tmn is grpo when every task holds one prompt group; the trainer warns before that", () => {
  const rnd = mulberry32(7);
  const batch = (groupsPerTask: number): AdvantageInput[] => {
    const out: AdvantageInput[] = [];
    for (const task of ["em", "f1", "ndcg"]) {
      for (let g = 0; g < groupsPerTask; g++) {
        // Reward scales differ by task: binary, [0, 1], [0, 0.2].
        const scale = task === "ndcg" ? 0.2 : 1;
        for (let i = 0; i < 4; i++) {
          const r = task === "em" ? (rnd() < 0.5 ? 1 : 0) : scale * rnd();
          out.push({ uid: `${task}-${g}`, task, reward: i === 0 ? scale : i === 1 ? 0 : r });
        }
      }
    }
    return out;
  };
  const one = batch(1);
  const g1 = computeAdvantages("grpo", one).advantages;
  const t1 = computeAdvantages("tmn", one).advantages;
  t1.forEach((a, i) => assertAlmostEquals(a, g1[i], 1e-5));
  assertEquals(singleGroupShare(one), 1);
  // Three groups per task: S_k pools them, and tmn departs from grpo.
  const three = batch(3);
  const g3 = computeAdvantages("grpo", three).advantages;
  const t3 = computeAdvantages("tmn", three).advantages;
  assert(t3.some((a, i) => Math.abs(a - g3[i]) > 0.05), "pooled S_k changes the advantages");
  assertEquals(singleGroupShare(three), 0);
  assertEquals(singleGroupShare([...batch(3).slice(0, 12), ...batch(1).slice(4)]), 2 / 3);
  assertEquals(singleGroupShare([]), 0);

  // The warning: 4 prompts per step over 7 task types (the tiny study), not 14, not for grpo.
  assertMatch(taskPoolingWarning("tmn", 4, 7)!, /about 0\.6 per task.*at least 14/);
  assertMatch(taskPoolingWarning("tmn-reweight", 13, 7)!, /at least 14/);
  assertEquals(taskPoolingWarning("tmn", 14, 7), null);
  assertEquals(taskPoolingWarning("grpo", 4, 7), null);
});
