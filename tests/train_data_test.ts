/** Training data plumbing: the prompt sampler, SFT targets, packing, loss weights, the LR schedule. */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  answerLengths,
  PromptSampler,
  responseBudget,
  sftTarget,
  TaskBatch,
  tasksThatFit,
} from "../train/data.ts";
import { aggWeights, gather, microBatches, pack, scatter, type TrainSeq } from "../train/batch.ts";
import { learningRate } from "../train/config.ts";
import { computeReward } from "../tasks/registry.ts";
import type { Sample } from "../tasks/generators/types.ts";

function sample(id: string, ability: string, extra: Partial<Sample> = {}): Sample {
  return {
    id,
    data_source: "EM",
    ability: ability as Sample["ability"],
    prompt: [{ role: "user", content: `q ${id}` }],
    reward_model: {
      style: "rule",
      ground_truth: { doc_ids: [], golden_label: `a${id}`, summary: "" },
    },
    extra_info: {
      reward_mode: "EM",
      question: "q",
      index: id,
      generator: "t",
      source_docs: [],
    },
    ...extra,
  };
}

Deno.test("sampler: natural order is a seeded permutation per epoch; state restores exactly", () => {
  const xs = Array.from({ length: 7 }, (_, i) => sample(String(i), "precise_retrieval"));
  const a = new PromptSampler(xs, "natural", 3);
  const first = a.next(7);
  assertEquals([...first].sort(), [0, 1, 2, 3, 4, 5, 6]);
  const second = a.next(7);
  assertEquals([...second].sort(), [0, 1, 2, 3, 4, 5, 6]);
  assert(first.join() !== second.join(), "each epoch is reshuffled");
  assertEquals(a.epoch, 2);
  // Same seed, same stream; a restored sampler continues where the saved one was.
  const b = new PromptSampler(xs, "natural", 3);
  assertEquals(b.next(10), [...first, ...second].slice(0, 10));
  const st = b.state();
  const tail = b.next(6);
  const c = new PromptSampler(xs, "natural", 3);
  c.restore(JSON.parse(JSON.stringify(st)));
  assertEquals(c.next(6), tail);
  assert(new PromptSampler(xs, "natural", 4).next(7).join() !== first.join(), "seed matters");
});

Deno.test("sampler: balanced visits tasks round-robin, whatever their sizes", () => {
  const xs = [
    ...Array.from({ length: 9 }, (_, i) => sample(`a${i}`, "precise_retrieval")),
    sample("b0", "summarization"),
    sample("c0", "graded_ranking"),
    sample("c1", "graded_ranking"),
  ];
  const s = new PromptSampler(xs, "balanced", 1);
  const tasks = s.next(12).map((i) => xs[i].ability);
  for (let i = 0; i < 12; i += 3) {
    assertEquals([...tasks.slice(i, i + 3)].sort(), [
      "graded_ranking",
      "precise_retrieval",
      "summarization",
    ]);
  }
  assertThrows(() => s.restore({ cursors: {}, nextTask: 0, drawn: 0 }), /no cursor/);
});

Deno.test("sampler: balanced with a block deals that many prompts of a task in a row, resumably", () => {
  const xs = ["precise_retrieval", "summarization", "graded_ranking"].flatMap((t) =>
    Array.from({ length: 5 }, (_, i) => sample(`${t}${i}`, t))
  );
  const s = new PromptSampler(xs, "balanced", 7, 3);
  const first = s.next(4);
  const state = s.state(); // mid-block: one prompt of the second task dealt
  const rest = s.next(14);
  const tasks = [...first, ...rest].map((i) => xs[i].ability);
  for (let i = 0; i < 18; i += 3) {
    assertEquals(new Set(tasks.slice(i, i + 3)).size, 1, `block at ${i}: ${tasks.slice(i, i + 3)}`);
  }
  // Each task in turn, each walking its own order without repeats within an epoch.
  assertEquals(tasks.slice(0, 9).filter((_t, i) => i % 3 === 0), [
    "graded_ranking",
    "precise_retrieval",
    "summarization",
  ]);
  for (const t of new Set(tasks)) {
    const own = [...first, ...rest].filter((i) => xs[i].ability === t).slice(0, 5);
    assertEquals(new Set(own).size, 5, `${t}: one epoch of its 5 samples first`);
  }
  // A resumed sampler continues mid-block exactly as the original did.
  const r = new PromptSampler(xs, "balanced", 7, 3);
  r.restore(state);
  assertEquals(r.next(14), rest);
  // Block 1 is the plain round-robin, with the plain state (no block position).
  const plain = new PromptSampler(xs, "balanced", 7);
  assertEquals(new PromptSampler(xs, "balanced", 7, 1).next(9), plain.next(9));
  assertEquals("inBlock" in plain.state(), false);
  assertThrows(() => new PromptSampler(xs, "balanced", 7, 0), /block/);
});

Deno.test("task batch: a task enters with at least perTask groups, waiting across rounds", () => {
  // perTask 1: the first `size` groups offered, in order.
  const one = new TaskBatch<string>(3, 1);
  for (const [t, g] of [["a", "a1"], ["b", "b1"], ["a", "a2"], ["c", "c1"]]) one.offer(t, g);
  one.admit();
  assertEquals(one.kept, ["a1", "b1", "a2"]);

  const b = new TaskBatch<string>(5, 2);
  // Round 1: a has 2 groups (enters), b has 1 (waits).
  b.offer("a", "a1");
  b.offer("b", "b1");
  b.offer("a", "a2");
  b.admit();
  assertEquals(b.kept, ["a1", "a2"]);
  assertEquals(b.waiting, 1);
  // Round 2: b's second group arrives (b enters with both), c has 2 but only 1 slot is left: it
  // cannot enter with 2, so a's third group (a is in already) takes the slot.
  b.offer("c", "c1");
  b.offer("c", "c2");
  b.offer("b", "b2");
  b.offer("a", "a3");
  b.admit();
  assertEquals(b.kept, ["a1", "a2", "b1", "b2", "a3"]);
  assertEquals(b.waiting, 2); // c's two groups, dropped when generation stops
  // Every task in the batch has at least 2 groups.
  const counts = new Map<string, number>();
  for (const g of b.kept) counts.set(g[0], (counts.get(g[0]) ?? 0) + 1);
  assert([...counts.values()].every((c) => c >= 2), JSON.stringify([...counts]));

  // A task with 3 groups and room for 4 keeps 2, leaving room for another task's 2 ...
  const r = () => {
    const t = new TaskBatch<string>(4, 2);
    for (const g of ["a1", "a2", "a3"]) t.offer("a", g);
    t.admit();
    assertEquals(t.kept, ["a1", "a2"]);
    return t;
  };
  const next = r();
  next.offer("b", "b1");
  next.offer("b", "b2");
  next.admit();
  next.finish();
  assertEquals(next.kept, ["a1", "a2", "b1", "b2"]);
  assertEquals(next.waiting, 1);
  // ... and when generation stops first, the room goes to its own waiting group.
  const last = r();
  last.finish();
  assertEquals(last.kept, ["a1", "a2", "a3"]);
  assertEquals(last.waiting, 0);
});

Deno.test("sft targets score the verifier's maximum behind the think block", () => {
  const s = sample("1", "precise_retrieval");
  const t = sftTarget(s, { thinking: true });
  assertEquals(t, "<think>\n\n</think>\n\na1");
  const r = computeReward({
    dataSource: s.data_source,
    response: t,
    groundTruth: s.reward_model.ground_truth,
    extraInfo: s.extra_info,
  });
  assertEquals(r.reward, 1);
  assertEquals(sftTarget(s, { thinking: false }), "a1");
});

Deno.test("response budget: covers the asked share of reference answers, in steps, clamped", () => {
  // Answers "<think>\n\n</think>\n\n" + golden label, counted in characters here, +1 end token.
  const xs = [sample("1", "precise_retrieval"), sample("22", "precise_retrieval")];
  const broken = sample("3", "precise_retrieval", { data_source: "no-such-verifier" });
  const lens = answerLengths([...xs, broken], (t) => t.length, true);
  assertEquals(lens, [19 + 2 + 1, 19 + 3 + 1], "no reference answer → left out");
  assertEquals(answerLengths(xs, (t) => t.length, false), [3, 4]);
  const ten = Array.from({ length: 10 }, (_, i) => 10 * (i + 1)); // 10..100
  assertEquals(responseBudget(ten), 96, "90% of answers ≤ 90 → next multiple of 16");
  assertEquals(responseBudget(ten, { coverage: 1 }), 112);
  assertEquals(responseBudget(ten, { coverage: 0.5 }), 64);
  assertEquals(responseBudget(ten, { coverage: 1, hi: 100 }), 100, "clamped above");
  assertEquals(responseBudget([3, 4]), 32, "clamped below");
  assertEquals(responseBudget([]), 32);
});

Deno.test("tasks that fit: a task whose median reference answer exceeds the limit is named", () => {
  // Character counts: "<think>\n\n</think>\n\n" (19) + "a" + id + end token.
  const long = "x".repeat(40);
  const xs = [
    sample("1", "precise_retrieval"),
    sample("2", "precise_retrieval"),
    sample(long, "structured_matching"),
    sample(long + "y", "structured_matching"),
    sample("3", "structured_matching"), // short outlier: the median still exceeds the limit
  ];
  const r = tasksThatFit(xs, (t) => t.length, true, 30);
  assertEquals(r.fit, ["precise_retrieval"]);
  assertEquals(r.cut, [{ task: "structured_matching", median: 19 + 41 + 1 }]);
  assertEquals(tasksThatFit(xs, (t) => t.length, true, 100).cut, []);
});

Deno.test("packing: scatter/gather address response tokens; micro-batches keep the budget", () => {
  const seqs: TrainSeq[] = [
    { tokens: [1, 2, 3, 4, 5], respStart: 3 },
    { tokens: [6, 7, 8], respStart: 1 },
    { tokens: [9, 10, 11, 12], respStart: 2 },
  ];
  assertEquals(microBatches(seqs, 8), [[0, 1], [2]]);
  assertEquals(microBatches(seqs, 2), [[0], [1], [2]], "a long sequence goes alone");
  const p = pack(seqs, [0, 1]);
  const v = scatter(p, seqs, (i, j) => 10 * (i + 1) + j);
  // Position t predicts token t+1: response token j of seq 0 (index 3+j) sits at 2+j.
  assertEquals(Array.from(v), [0, 0, 10, 11, 0, 20, 21, 0]);
  assertEquals(Array.from(gather(p, seqs, 1, v)), [20, 21]);
  // The target of each scattered position is indeed the response token.
  for (let t = 0; t < v.length; t++) {
    if (v[t]) assert(p.batch.targets[t] !== 0xffffffff);
  }
});

Deno.test("loss aggregation weights reproduce verl's agg_loss modes", () => {
  const L = [2, 4];
  const total = (w: number[]) => w.reduce((a, x, i) => a + x * L[i], 0);
  // Sum over tokens of weight = the normaliser each mode implies.
  assertEquals(aggWeights("token-mean", L, 8), [1 / 6, 1 / 6]);
  assert(Math.abs(total(aggWeights("token-mean", L, 8)) - 1) < 1e-12);
  assertEquals(aggWeights("seq-mean-token-mean", L, 8), [1 / 4, 1 / 8]);
  assert(Math.abs(total(aggWeights("seq-mean-token-mean", L, 8)) - 1) < 1e-12);
  assertEquals(aggWeights("seq-mean-token-sum", L, 8), [1 / 2, 1 / 2]);
  assertEquals(aggWeights("seq-mean-token-sum-norm", L, 8), [1 / 16, 1 / 16]);
  assertEquals(aggWeights("token-mean", [0, 3], 8)[0], 0);
  assertThrows(() => aggWeights("sum", L, 8));
});

Deno.test("learning rate: linear warm-up, then constant or cosine to the floor", () => {
  const o = { lr: 1, warmup_steps: 4, schedule: "constant", min_lr_ratio: 0 };
  assertEquals([1, 2, 4, 5, 100].map((t) => learningRate(o, t, 10)), [0.25, 0.5, 1, 1, 1]);
  const c = { ...o, schedule: "cosine", min_lr_ratio: 0.1 };
  assertEquals(learningRate(c, 4, 14), 1);
  assert(Math.abs(learningRate(c, 9, 14) - 0.55) < 1e-12, "half way: the mean of lr and floor");
  assert(Math.abs(learningRate(c, 14, 14) - 0.1) < 1e-12);
});
