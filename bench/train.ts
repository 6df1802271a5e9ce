/**
 * `golongrl bench train`: the RL loop's step time split by phase, each phase against its ceiling
 * measured in the same run on the same shapes:
 *
 * - generate: the loop's rollout phase vs a bare rollout() call (same prompts, n, lengths);
 * - update:   the loop's PPO update vs a bare Trainer.run() on the same packed sequences;
 * - overhead: the step's time outside those engine calls (rewards, advantages, packing,
 *             metrics, bookkeeping) as a share of the step.
 *
 * A random model of a preset, a tokenizer trained on the embedded books, and summary prompts
 * over real sentences (graded ROUGE-L rewards, so every group has variance) make the workload;
 * responses run to the length limit (a random model rarely emits EOS), so the bare calls see
 * the loop's exact shapes. The first step compiles kernels and is not timed.
 */
import { acquireGpu, type GpuOptions } from "../core/gpu/device.ts";
import { loadModel } from "../engine/load.ts";
import { makeConfig, paramCount, type PRESETS } from "../engine/model_config.ts";
import { initParams, saveCheckpoint } from "../engine/checkpoint.ts";
import { rollout, type RolloutPrompt } from "../engine/rollout.ts";
import { Trainer } from "../engine/train_step.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { readCorpus, trainBpe, writeTokenizer } from "../core/tokenizer/bpe_train.ts";
import { defaults } from "../core/config_schema.ts";
import { joinPath } from "../core/fsutil.ts";
import { readSamples } from "../data/schema.ts";
import { microBatches, pack, type TrainSeq } from "../train/batch.ts";
import { optimOf, TRAIN_SCHEMA, type TrainConfig } from "../train/config.ts";
import { trainRl } from "../train/rl.ts";
import { ASSETS } from "../train/recipe.ts";
import { mean } from "../train/log.ts";

export interface TrainBenchOptions {
  preset: keyof typeof PRESETS;
  vocab: number;
  prompts: number;
  n: number;
  promptTokens: number;
  newTokens: number;
  /** Timed loop steps (after one warm-up step). */
  steps: number;
  gpu?: GpuOptions;
  log?: (s: string) => void;
}

export interface PhaseFigure {
  /** Mean seconds per step in the loop. */
  loop: number;
  /** Seconds of the bare engine call on the same shapes (best of 2). */
  ceiling: number;
  /** loop / ceiling (1 = no loss). */
  ratio: number;
}

export interface TrainBenchResult {
  preset: string;
  params: number;
  adapter: string;
  shape: { prompts: number; n: number; promptTokens: number; newTokens: number };
  stepSeconds: number;
  tokensPerSecond: number;
  generate: PhaseFigure;
  update: PhaseFigure;
  reward: number;
  advantage: number;
  oldLogprob: number;
  /** Share of the step outside generate, old-logprob and update engine calls. */
  overhead: number;
}

/** Prompts of about `tokens` tokens of real sentences, as summary samples. */
function samples(text: string, count: number, chars: number) {
  const clean = text.replace(/\s+/g, " ");
  return Array.from({ length: count }, (_, i) => {
    const at = (i * 7919 * 13) % Math.max(1, clean.length - chars);
    const ctx = clean.slice(at, at + chars);
    return JSON.stringify({
      id: `b${i}`,
      data_source: "longbench_pro",
      ability: "summarization",
      prompt: [{ role: "user", content: `Summarize:\n${ctx}` }],
      reward_model: {
        style: "rule",
        ground_truth: { doc_ids: [ctx.slice(0, 200)], golden_label: "", summary: "English" },
      },
      extra_info: {
        reward_mode: "T4.2 Query-Focused Summary",
        question: "Summarize",
        index: String(i),
        generator: "bench/summary",
        source_docs: [],
      },
    });
  }).join("\n") + "\n";
}

export async function trainBenchLoop(o: TrainBenchOptions): Promise<TrainBenchResult> {
  const log = o.log ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "golongrl-bench-train-" });
  try {
    // Tokenizer and random model.
    const books = [...Deno.readDirSync(joinPath(ASSETS, "corpus", "books"))]
      .map((e) => joinPath(ASSETS, "corpus", "books", e.name)).sort();
    const corpus = await readCorpus(books);
    await writeTokenizer(
      joinPath(dir, "model"),
      trainBpe(corpus, { vocabSize: o.vocab, maxChars: 2e6 }),
    );
    const tok = await loadTokenizer(joinPath(dir, "model"));
    const config = makeConfig(o.preset, tok.vocabSize, { eos_token_id: tok.eosIds[0] });
    await saveCheckpoint(joinPath(dir, "model"), config, initParams(config, 0));
    const probe = corpus[0].slice(0, 100_000);
    const chars = Math.round((o.promptTokens * probe.length) / tok.encode(probe).length);
    await Deno.writeTextFile(
      joinPath(dir, "data.jsonl"),
      samples(corpus.join(" "), o.prompts * (o.steps + 2), chars),
    );

    const cfg = defaults(TRAIN_SCHEMA) as TrainConfig;
    cfg.model.path = joinPath(dir, "model");
    cfg.data.train = joinPath(dir, "data.jsonl");
    cfg.rollout.n = o.n;
    cfg.rollout.max_new_tokens = o.newTokens;
    cfg.rollout.batch_prompts = o.prompts;
    cfg.reward.format = "none";
    cfg.train.steps = o.steps + 1;
    cfg.train.prompts_per_step = o.prompts;
    cfg.train.dynamic_sampling = false;
    cfg.train.micro_batch_tokens = Math.max(4096, o.promptTokens + o.newTokens);
    cfg.optim.lr = 1e-5;
    cfg.checkpoint.every = 1_000_000;
    cfg.log.val_every = 0;
    cfg.log.dump_every = 0;
    const steps: Record<string, unknown>[] = [];
    log(`bench train ${o.preset}: ${o.steps + 1} loop steps (the first is a warm-up)`);
    await trainRl(cfg, {
      out: joinPath(dir, "run"),
      resume: false,
      gpu: o.gpu,
      onStep: (m) => steps.push(m),
    });
    const timed = steps.slice(1);
    const t = (k: string) => mean(timed.map((m) => (m.time as Record<string, number>)[k]));
    const total = t("total"), gen = t("generate"), upd = t("update"), old = t("old_logprob");
    const tokens = mean(timed.map((m) => m.tokens as number));

    // Ceilings: the same engine calls, bare, on the same shapes.
    log(`bench train ${o.preset}: ceilings (bare rollout and train step)`);
    const gpu = await acquireGpu(o.gpu);
    try {
      const { model } = await loadModel(gpu, joinPath(dir, "model"), { matrices: "f32" });
      const prompts: RolloutPrompt[] = [];
      for await (const s of readSamples(joinPath(dir, "data.jsonl"))) {
        if (prompts.length === o.prompts) break;
        prompts.push({ messages: s.prompt });
      }
      const best = async (f: () => Promise<unknown>) => {
        let b = Infinity;
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          await f();
          if (i > 0) b = Math.min(b, (performance.now() - t0) / 1000); // first: warm-up
        }
        return b;
      };
      let rolls: Awaited<ReturnType<typeof rollout>> = [];
      const genCeil = await best(async () => {
        rolls = await rollout(model, tok, prompts, {
          n: o.n,
          maxNewTokens: o.newTokens,
          temperature: 1,
          topP: 1,
          seed: 1,
          enableThinking: true,
          batchPrompts: o.prompts,
        });
      });
      const seqs: TrainSeq[] = rolls.map((r) => ({
        tokens: [...r.promptTokens, ...r.tokens],
        respStart: r.promptTokens.length,
      }));
      const trainer = new Trainer(model, { ...optimOf(cfg.optim), lr: 0 });
      const micro = microBatches(seqs, cfg.train.micro_batch_tokens).map((m) => {
        const p = pack(seqs, m);
        return {
          batch: p.batch,
          ppo: {
            advantage: new Float32Array(p.batch.ids.length).fill(0.5),
            weight: new Float32Array(p.batch.ids.length).fill(1 / p.batch.ids.length),
          },
        };
      });
      const updCeil = await best(() =>
        trainer.run(micro, {
          ppo: { clipLow: 0.2, clipHigh: 0.28, clipC: 3, klCoef: 0, klType: "none" },
        })
      );
      trainer.destroy();
      const overhead = Math.max(0, total - gen - upd - old) / total;
      return {
        preset: o.preset,
        params: paramCount(config),
        adapter: gpu.description.description,
        shape: { prompts: o.prompts, n: o.n, promptTokens: o.promptTokens, newTokens: o.newTokens },
        stepSeconds: total,
        tokensPerSecond: tokens / total,
        generate: { loop: gen, ceiling: genCeil, ratio: gen / genCeil },
        update: { loop: upd, ceiling: updCeil, ratio: upd / updCeil },
        reward: t("reward"),
        advantage: t("advantage"),
        oldLogprob: old,
        overhead,
      };
    } finally {
      gpu.destroy();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The report table. */
export function formatTrainBench(rs: TrainBenchResult[]): string {
  const lines = [
    `adapter: ${rs[0]?.adapter ?? "?"}`,
    "preset  prompts x n  prompt+new   step s   tok/s   generate loop/ceiling   update loop/ceiling   reward s  overhead",
  ];
  for (const r of rs) {
    lines.push(
      [
        r.preset.padEnd(7),
        `${r.shape.prompts} x ${r.shape.n}`.padStart(11),
        `${r.shape.promptTokens}+${r.shape.newTokens}`.padStart(11),
        r.stepSeconds.toFixed(2).padStart(8),
        r.tokensPerSecond.toFixed(0).padStart(7),
        `${r.generate.loop.toFixed(2)}/${r.generate.ceiling.toFixed(2)} = ${
          r.generate.ratio.toFixed(2)
        }`.padStart(23),
        `${r.update.loop.toFixed(2)}/${r.update.ceiling.toFixed(2)} = ${r.update.ratio.toFixed(2)}`
          .padStart(21),
        r.reward.toFixed(3).padStart(10),
        `${(r.overhead * 100).toFixed(1)}%${r.overhead < 0.1 ? "" : " (target < 10%)"}`.padStart(9),
      ].join(" "),
    );
  }
  return lines.join("\n") + "\n";
}
