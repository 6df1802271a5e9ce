/**
 * `golongrl train` and `golongrl sft` end to end on a tiny model: the run folder's files and
 * metrics; a run killed with SIGKILL and resumed with `--resume auto` repeats the steps it lost
 * exactly (rewards and advantages equal, losses to 1e-5); SFT lowers the loss on its data and
 * writes a model that `train` starts from.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
// Exact repeats need the same matmul configurations in every process: no timing-based tuning.
Deno.env.set("GOLONGRL_AUTOTUNE", "0");

const BOOK = `${ROOT}/../shared/corpora/books/pg11_alice_in_wonderland.txt`;

/** Summary samples over real sentences: ROUGE-L gives graded rewards even to a random model. */
async function writeSamples(path: string, n: number, offset: number) {
  const text = (await Deno.readTextFile(BOOK)).replace(/\r/g, "");
  const sentences = text.split(/(?<=[.!?])\s+/).map((s) => s.replace(/\s+/g, " ").trim())
    .filter((s) => s.length > 40 && s.length < 160);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ctx = sentences.slice(offset + i * 3, offset + i * 3 + 3);
    lines.push(JSON.stringify({
      id: `s${offset + i}`,
      data_source: "longbench_pro",
      ability: "summarization",
      prompt: [{ role: "user", content: `Summarize:\n${ctx.join(" ")}` }],
      reward_model: {
        style: "rule",
        ground_truth: { doc_ids: [ctx[1]], golden_label: "", summary: "English" },
      },
      extra_info: {
        reward_mode: "T4.2 Query-Focused Summary",
        question: "Summarize",
        index: String(i),
        generator: "test/summary",
        source_docs: [],
      },
    }));
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

let setupP: Promise<string> | undefined;
/** A tokenizer, a tiny model and train/heldout samples, made once. */
function setup(): Promise<string> {
  return setupP ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "golongrl-train-" });
    let r = await cli(
      "tokenizer",
      "train",
      "-q",
      "--corpus",
      BOOK,
      "--vocab",
      "400",
      "--out",
      `${dir}/tok`,
    );
    assertEquals(r.code, 0, r.err);
    r = await cli(
      "model",
      "init",
      "--tokenizer",
      `${dir}/tok`,
      "--out",
      `${dir}/m0`,
      "--seed",
      "1",
    );
    assertEquals(r.code, 0, r.err);
    await writeSamples(`${dir}/train.jsonl`, 12, 0);
    await writeSamples(`${dir}/heldout.jsonl`, 4, 100);
    return dir;
  })();
}

const RL_SETTINGS = [
  "--set",
  "rollout.n=4",
  "--set",
  "rollout.max_new_tokens=12",
  "--set",
  "train.prompts_per_step=2",
  "--set",
  "train.micro_batch_tokens=256",
  "--set",
  "train.mini_batches=2",
  "--set",
  "reward.format=none",
  "--set",
  "optim.lr=3e-3",
  "--set",
  "optim.warmup_steps=0",
  "--set",
  "checkpoint.every=2",
  "--set",
  "log.dump_every=1",
  "--set",
  "log.val_every=2",
  "--set",
  "log.val_prompts=4",
  "--set",
  "seed=7",
];

/** `train` from the tiny model on the train samples with RL_SETTINGS, no validation, then `extra`. */
function rlArgs(dir: string, steps: number, out: string, ...extra: string[]): string[] {
  return [
    "train",
    "-q",
    "--model",
    `${dir}/m0`,
    "--data",
    `${dir}/train.jsonl`,
    "--steps",
    String(steps),
    ...RL_SETTINGS,
    "--set",
    "log.val_every=0",
    ...extra,
    "--out",
    out,
  ];
}

function readJsonl(path: string): Record<string, unknown>[] {
  return Deno.readTextFileSync(path).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

Deno.test({
  name: "train: a run writes metrics, held-out validation, dumps, checkpoints and the final model",
  ...opts,
  fn: async () => {
    const dir = await setup();
    const out = `${dir}/run-a`;
    const r = await cli(
      "train",
      "-q",
      "--model",
      `${dir}/m0`,
      "--data",
      `${dir}/train.jsonl`,
      "--heldout",
      `${dir}/heldout.jsonl`,
      "--steps",
      "4",
      ...RL_SETTINGS,
      "--out",
      out,
    );
    assertEquals(r.code, 0, r.err);
    assertEquals(JSON.parse(r.out).steps, 4);
    const m = readJsonl(`${out}/metrics.jsonl`);
    assertEquals(m.map((x) => x.step), [1, 2, 3, 4]);
    assert(m.filter((x) => (x.groups as number) === 2).length >= 1, "a step keeps both groups");
    for (const x of m) {
      assertEquals(x.phase, "rl");
      for (
        const k of [
          "reward_mean",
          "reward_by_task",
          "task_scale",
          "pass_rate_by_task",
          "zero_variance_frac",
          "adv_mean",
          "adv_std",
          "response_length_mean",
          "response_length_max",
          "response_clip_ratio",
          "entropy",
          "pg_clipfrac",
          "approx_kl",
          "grad_norm",
          "lr",
          "tokens_per_s",
          "time",
          "verifier_errors",
        ]
      ) assert(k in x, `metrics lack ${k}`);
      const all = x.reward_all_mean as number;
      assert(all >= 0 && all <= 1, `reward_all_mean ${all}`);
      const t = x.time as Record<string, number>;
      assert(t.generate > 0 && t.total >= t.generate + t.update);
      // A step whose groups all had equal rewards is dropped whole by dynamic sampling: no update.
      if ((x.groups as number) > 0) {
        assert((x.reward_mean as number) > 0 && (x.reward_mean as number) <= 1);
        assert(Number.isFinite(x.grad_norm as number) && (x.grad_norm as number) > 0);
        assert(t.update > 0);
      } else assertEquals(x.updates, 0);
      // Two mini-batches per step (one when dynamic sampling kept a single group).
      assertEquals(x.updates, Math.min(2, x.groups as number));
      // tmn-reweight by default: the summary task's scale and pass rate are reported.
      if ((x.groups as number) > 0) assert((x.task_scale as Record<string, number>).Summary > 0);
    }
    // Rollout dumps: one line per trajectory; each advantage has the sign of its reward minus
    // its group's mean (TMN centres per prompt; the difficulty weights are positive).
    const s1 = m.find((x) => (x.groups as number) === 2)!;
    const d = readJsonl(`${out}/rollouts/step-${String(s1.step).padStart(6, "0")}.jsonl`);
    assertEquals(d.length, 8);
    const groups = new Map<string, number[]>();
    for (const x of d) {
      groups.set(x.uid as string, [...(groups.get(x.uid as string) ?? []), x.reward as number]);
    }
    assertEquals(groups.size, 2);
    let nonzero = 0;
    for (const x of d) {
      const rs = groups.get(x.uid as string)!;
      const mu = rs.reduce((a, b) => a + b, 0) / rs.length;
      const a = x.advantage as number;
      if (Math.abs((x.reward as number) - mu) > 1e-9) {
        nonzero++;
        assertEquals(
          Math.sign(a),
          Math.sign((x.reward as number) - mu),
          `advantage sign of ${x.uid}`,
        );
      }
    }
    assert(nonzero > 0, "no graded rewards in the dump");
    const v = readJsonl(`${out}/val.jsonl`);
    assertEquals(v.map((x) => x.step), [0, 2, 4]);
    assertEquals(v[0].n, 4);
    assertEquals(
      (await Deno.readTextFile(`${out}/checkpoints/latest`)).trim(),
      "step-000004",
    );
    for (
      const f of [
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
        "state.json",
        "tokenizer.json",
      ]
    ) {
      await Deno.stat(`${out}/checkpoints/step-000004/${f}`);
    }
    await Deno.stat(`${out}/model/model.safetensors`);
    // The effective config was written, and a second run into the same folder is refused.
    assertEquals(JSON.parse(await Deno.readTextFile(`${out}/config.json`)).train.steps, 4);
    const again = await cli(
      "train",
      "-q",
      "--model",
      `${dir}/m0`,
      "--data",
      `${dir}/train.jsonl`,
      "--out",
      out,
    );
    assertEquals(again.code, 1);
    assert(/--resume auto/.test(again.err), again.err);
  },
});

Deno.test({
  name: "train: a run killed mid-step (SIGKILL) and resumed repeats the next steps exactly",
  ...opts,
  fn: async () => {
    const dir = await setup();
    const args = (out: string) => rlArgs(dir, 4, out);
    // The uninterrupted reference.
    const ref = await cli(...args(`${dir}/ref`));
    assertEquals(ref.code, 0, ref.err);
    // The same run in a child process, killed once checkpoint 2 is written (step 3 under way).
    const out = `${dir}/killed`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `${ROOT}/main.ts`, ...args(out)],
      env: { GOLONGRL_AUTOTUNE: "0" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const t0 = Date.now();
    let killedAt = "";
    while (Date.now() - t0 < 300_000) {
      try {
        killedAt = (await Deno.readTextFile(`${out}/checkpoints/latest`)).trim();
        if (killedAt === "step-000002") break;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 20));
    }
    assertEquals(killedAt, "step-000002", "the child never wrote checkpoint 2");
    await new Promise((r) => setTimeout(r, 150));
    child.kill("SIGKILL");
    const st = await child.status;
    assertEquals(st.success, false);
    const before = readJsonl(`${out}/metrics.jsonl`).map((x) => x.step);
    assert(!before.includes(4), `the child finished before the kill: ${before}`);
    // Resume and compare steps 3 and 4 with the reference.
    const res = await cli(...args(out), "--resume", "auto");
    assertEquals(res.code, 0, res.err);
    assertEquals(JSON.parse(res.out).resumed_from, 2);
    const mRef = readJsonl(`${dir}/ref/metrics.jsonl`), mRes = readJsonl(`${out}/metrics.jsonl`);
    assertEquals(mRes.map((x) => x.step), [1, 2, 3, 4], "no duplicated or missing steps");
    for (const step of [3, 4]) {
      const name = `rollouts/step-${String(step).padStart(6, "0")}.jsonl`;
      const a = readJsonl(`${dir}/ref/${name}`), b = readJsonl(`${out}/${name}`);
      assertEquals(b.map((x) => x.response), a.map((x) => x.response), `step ${step} responses`);
      assertEquals(b.map((x) => x.reward), a.map((x) => x.reward), `step ${step} rewards`);
      assertEquals(b.map((x) => x.advantage), a.map((x) => x.advantage), `step ${step} advantages`);
      const la = mRef[step - 1].pg_loss as number, lb = mRes[step - 1].pg_loss as number;
      assert(
        Math.abs(la - lb) <= 1e-5 * Math.max(1, Math.abs(la)),
        `step ${step} loss ${la} vs ${lb}`,
      );
      assertEquals(mRes[step - 1].reward_mean, mRef[step - 1].reward_mean);
    }
    // The final weights agree too.
    const wa = await Deno.readFile(`${dir}/ref/model/model.safetensors`);
    const wb = await Deno.readFile(`${out}/model/model.safetensors`);
    let diff = 0;
    const fa = new Float32Array(
      wa.buffer,
      8 + Number(new DataView(wa.buffer).getBigUint64(0, true)),
    );
    const fb = new Float32Array(
      wb.buffer,
      8 + Number(new DataView(wb.buffer).getBigUint64(0, true)),
    );
    for (let i = 0; i < fa.length; i++) diff = Math.max(diff, Math.abs(fa[i] - fb[i]));
    assert(diff < 1e-5, `final weights differ by ${diff}`);
  },
});

Deno.test({
  name: "sft: the reference-answer loss falls, checkpoints resume, and train starts from its model",
  ...opts,
  fn: async () => {
    const dir = await setup();
    const out = `${dir}/sft`;
    const base = [
      "sft",
      "-q",
      "--model",
      `${dir}/m0`,
      "--data",
      `${dir}/train.jsonl`,
      "--heldout",
      `${dir}/heldout.jsonl`,
      "--set",
      "sft.batch_tokens=512",
      "--set",
      "sft.micro_batch_tokens=300",
      "--set",
      "optim.lr=3e-3",
      "--set",
      "optim.warmup_steps=2",
      "--set",
      "checkpoint.every=4",
      "--out",
      out,
    ];
    let r = await cli(...base, "--steps", "8");
    assertEquals(r.code, 0, r.err);
    const m = readJsonl(`${out}/metrics.jsonl`);
    assertEquals(m.length, 8);
    const first = m[0].loss_response as number, last = m[7].loss_response as number;
    assert(last < first - 0.5, `response loss ${first} -> ${last}`);
    assert(typeof m[7].val_loss === "number" && (m[7].val_loss as number) < first);
    // Continue to 12 steps from the step-8 checkpoint.
    r = await cli(...base, "--steps", "12", "--resume", "auto");
    assertEquals(r.code, 0, r.err);
    assertEquals(readJsonl(`${out}/metrics.jsonl`).map((x) => x.step), [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
      11,
      12,
    ]);
    // train starts from the SFT model.
    r = await cli(
      "train",
      "-q",
      "--model",
      `${out}/model`,
      "--data",
      `${dir}/train.jsonl`,
      "--steps",
      "1",
      ...RL_SETTINGS,
      "--out",
      `${dir}/rl-from-sft`,
    );
    assertEquals(r.code, 0, r.err);
  },
});

Deno.test({
  name: "train: bad settings are named (estimator, data file)",
  ...opts,
  fn: async () => {
    const dir = await setup();
    let r = await cli(
      "train",
      "--model",
      `${dir}/m0`,
      "--data",
      `${dir}/train.jsonl`,
      "--set",
      "train.estimator=gpro",
      "--out",
      `${dir}/x`,
    );
    assertEquals(r.code, 2);
    assert(/train\.estimator/.test(r.err) && /grpo/.test(r.err), r.err);
    await Deno.writeTextFile(`${dir}/bad.jsonl`, '{"id": "a"}\n');
    r = await cli(
      "train",
      "-q",
      "--model",
      `${dir}/m0`,
      "--data",
      `${dir}/bad.jsonl`,
      "--out",
      `${dir}/y`,
    );
    assertEquals(r.code, 1);
    assert(/bad\.jsonl, line 1/.test(r.err), r.err);
  },
});

Deno.test({
  name: "train: groups_per_task builds batches with at least that many groups of each task",
  ...opts,
  fn: async () => {
    const dir = await setup();
    const run = (out: string, ...extra: string[]) =>
      cli(
        ...rlArgs(
          dir,
          2,
          out,
          "--set",
          "log.dump_every=0",
          "--set",
          "data.sampling=balanced",
          ...extra,
        ),
      );
    const r = await run(
      `${dir}/pooled`,
      "--set",
      "train.groups_per_task=2",
      "--set",
      "data.task_block=4",
      "--set",
      "train.gen_prompts=4",
    );
    assertEquals(r.code, 0, r.err);
    for (const m of readJsonl(`${dir}/pooled/metrics.jsonl`)) {
      const g = m.groups as number;
      // Every task key in the batch holds >= 2 groups: never a lone group, never S_k = its std.
      assert(g === 0 || g === 2, `step ${m.step}: ${g} groups`);
      if (g > 0) assertEquals(m.single_group_task_frac, 0, `step ${m.step}`);
      assertEquals(typeof m.groups_unpooled, "number");
    }
    // A minimum no batch can hold is refused, naming both settings.
    const bad = await run(`${dir}/bad-pool`, "--set", "train.groups_per_task=3");
    assertEquals(bad.code, 1);
    assert(
      /train\.groups_per_task \(3\) is over train\.prompts_per_step \(2\)/.test(bad.err),
      bad.err,
    );
  },
});
