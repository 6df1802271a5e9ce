/**
 * `golongrl recipe` end to end on a cut-down setting: data built from real documents, a held-out
 * evaluation before and after, a few RL steps, and the run folder's report, figures and images.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
Deno.env.set("GOLONGRL_AUTOTUNE", "0");

const CORPUS = `${ROOT}/assets/default/corpus`;

Deno.test({
  name: "recipe: data -> eval -> GRPO/TMN-Reweight -> eval -> report, with a budget and a step cap",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "golongrl-recipe-" });
    // A small tokenizer and model, so the test stays fast; the documents are the embedded ones.
    let r = await cli(
      "tokenizer",
      "train",
      "-q",
      "--corpus",
      `${CORPUS}/books/pg1952_yellow_wallpaper.txt`,
      "--vocab",
      "600",
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
      "2",
    );
    assertEquals(r.code, 0, r.err);
    const out = `${dir}/run`;
    r = await cli(
      "recipe",
      "-q",
      "--model",
      `${dir}/m0`,
      "--sources",
      `${CORPUS}/dialogues`,
      "--sources",
      `${CORPUS}/books/pg1952_yellow_wallpaper.txt`,
      "--per-task",
      "6",
      "--steps",
      "2",
      "--budget",
      "30",
      "--out",
      out,
      "--set",
      "rollout.max_new_tokens=8",
      "--set",
      "train.prompts_per_step=2",
      "--set",
      "reward.format=none",
      "--set",
      "train.dynamic_sampling=false",
    );
    assertEquals(r.code, 0, r.err);
    const lines = r.out.trim().split("\n");
    assertEquals(lines[0], `report: ${out}/report.md`);
    assert(
      /held-out reward [\d.]+ → [\d.]+ \(paired [+-][\d.]+ ± [\d.]+: /.test(lines[1]),
      lines[1],
    );
    // The run folder: data with a held-out split, both evaluations, metrics, model, report.
    for (
      const f of [
        "data/data.jsonl",
        "data/heldout.jsonl",
        "eval_before/results.json",
        "eval_after/results.json",
        "metrics.jsonl",
        "model/model.safetensors",
        "recipe.json",
        "report.md",
        "reward_by_task.svg",
        "before_after.svg",
        "diagnostics.svg",
      ]
    ) await Deno.stat(`${out}/${f}`);
    const rec = JSON.parse(await Deno.readTextFile(`${out}/recipe.json`));
    assertEquals(rec.steps, 2);
    assertEquals(rec.max_new_tokens, 8, "a --set response limit wins over the sized one");
    assert(rec.heldout_prompts >= 1 && rec.tokens > 0 && rec.rollouts === 2 * 2 * 4);
    const before = JSON.parse(await Deno.readTextFile(`${out}/eval_before/results.json`));
    const after = JSON.parse(await Deno.readTextFile(`${out}/eval_after/results.json`));
    assertEquals(before.benchmarks.ours.n, rec.heldout_prompts);
    assertEquals(after.benchmarks.ours.n, rec.heldout_prompts);
    // The paired difference in recipe.json is the difference of the two means.
    assert(Math.abs(rec.delta - (after.benchmarks.ours.mean - before.benchmarks.ours.mean)) < 1e-9);
    const md = await Deno.readTextFile(`${out}/report.md`);
    assert(md.includes("## What the budget bought"), md);
    assert(md.includes(`${rec.steps} RL step(s)`), md);
    assert(/paired difference [+-][\d.]+ ± [\d.]+/.test(md), md);
    assert(md.includes("before_after.svg"));
    // Held-out documents were never trained on.
    const ids = (p: string) =>
      Deno.readTextFileSync(p).trim().split("\n").map((l) =>
        JSON.parse(l).extra_info.source_docs[0].id as string
      );
    const trainDocs = new Set(ids(`${out}/data/data.jsonl`));
    assert(ids(`${out}/data/heldout.jsonl`).every((d) => !trainDocs.has(d)), "held-out leak");
  },
});
