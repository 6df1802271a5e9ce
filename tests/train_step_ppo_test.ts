/**
 * The PPO-ready train step: old logprobs recomputed by a forward give ratio 1 on the first
 * update; the GPU coefficients (clip, dual clip) match a CPU computation from the step's own
 * logprobs, and the update they drive equals the one driven by those CPU coefficients; optimizer
 * state round-trips exactly through saveState/loadState.
 */
import { assert, assertEquals } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { loadModel } from "../engine/load.ts";
import { packSequences, type Qwen3 } from "../engine/qwen3.ts";
import { type PpoSettings, Trainer } from "../engine/train_step.ts";
import { generate } from "../engine/generate.ts";
import { ppoCoefficientsRef } from "../kernels/ppo_loss.ts";
import { mulberry32 } from "../core/rng.ts";
import { ROOT } from "./helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const FIX = `${ROOT}/tests/fixtures/qwen3_tiny/tied`;
let gpuP: Promise<Gpu> | undefined;
const gpu = () => (gpuP ??= acquireGpu());

const PPO: PpoSettings = { clipLow: 0.2, clipHigh: 0.28, clipC: 3, klCoef: 0, klType: "none" };
const OPTIM = {
  lr: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  maxGradNorm: 0,
  checkpoint: false,
};

/** Prompt + sampled response sequences and per-token PPO inputs in packed layout. */
async function rollouts(model: Qwen3, temperature: number) {
  const prompts = [[1, 2, 3, 4, 5], [7, 8, 9]];
  const { completions } = await generate(model, prompts, {
    n: 3,
    maxNewTokens: 10,
    temperature,
    topP: 1,
    topK: 0,
    seed: 11,
    eosIds: [],
  });
  const seqs = completions.map((c) => [...prompts[c.prompt], ...c.tokens]);
  const batch = packSequences(seqs);
  const T = batch.ids.length;
  const weight = new Float32Array(T), advantage = new Float32Array(T);
  const rnd = mulberry32(5);
  completions.forEach((c, i) => {
    const a = rnd() * 4 - 2; // both signs
    const p = prompts[c.prompt].length;
    for (let j = 0; j < c.tokens.length; j++) {
      const at = batch.seqStarts[i] + p + j - 1;
      weight[at] = 1 / (completions.length * c.tokens.length);
      advantage[at] = a;
    }
  });
  return { batch, weight, advantage, completions };
}

async function forwardLogprobs(
  model: Qwen3,
  batch: ReturnType<typeof packSequences>,
  invT: number,
) {
  const rec = new Recorder(model.gpu, model.pool);
  const st = await model.forward(rec, batch, { invTemperature: invT });
  const r = rec.read(st.logprobs.buffer, batch.ids.length * 4);
  await rec.submit();
  model.release(st);
  return new Float32Array(await r);
}

async function weightsOf(model: Qwen3) {
  return await model.weights.toHost(model.gpu, new Recorder(model.gpu, model.pool));
}

Deno.test({
  name:
    "PPO step: the first update's ratio is 1 (old logprobs from the forward, at the rollout temperature)",
  ...opts,
  fn: async () => {
    const { model } = await loadModel(await gpu(), FIX);
    const temperature = 0.7;
    const { batch, weight, advantage } = await rollouts(model, temperature);
    const old = await forwardLogprobs(model, batch, 1 / temperature);
    const trainer = new Trainer(model, { ...OPTIM, lr: 1e-3, maxGradNorm: 1 });
    const r = await trainer.run([{ batch, ppo: { oldLogprob: old, advantage, weight } }], {
      invTemperature: 1 / temperature,
      ppo: PPO,
    });
    let maxDev = 0, n = 0;
    for (let t = 0; t < weight.length; t++) {
      if (weight[t] === 0) continue;
      n++;
      maxDev = Math.max(maxDev, Math.abs(Math.exp(r.logprobs[t] - old[t]) - 1));
      assertEquals(r.micro[0].ppoStats![t * 4 + 1], 0, "nothing clips at ratio 1");
    }
    assert(n > 20);
    assert(maxDev < 1e-3, `max |ratio - 1| = ${maxDev}`);
    // The loss is the plain policy gradient objective at ratio 1: -sum w·A.
    let want = 0;
    for (let t = 0; t < weight.length; t++) want -= weight[t] * advantage[t];
    assert(Math.abs(r.loss - want) < 1e-4 * Math.max(1, Math.abs(want)), `${r.loss} vs ${want}`);
    // And scoring at temperature 1 would not give ratio 1: the temperature matters.
    const atT1 = await forwardLogprobs(model, batch, 1);
    let dev1 = 0;
    for (let t = 0; t < weight.length; t++) {
      if (weight[t]) dev1 = Math.max(dev1, Math.abs(Math.exp(atT1[t] - old[t]) - 1));
    }
    assert(dev1 > 1e-2, `temperature had no effect: ${dev1}`);
    trainer.destroy();
  },
});

Deno.test({
  name: "PPO step: clip and dual-clip coefficients match the CPU, and drive the same update",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const a = (await loadModel(g, FIX)).model, b = (await loadModel(g, FIX)).model;
    const { batch, weight, advantage } = await rollouts(a, 1);
    // Old logprobs far from the current ones, so every branch occurs: ratios in and out of
    // [0.8, 1.28] on both sides, and beyond the dual clip for negative advantages.
    const cur = await forwardLogprobs(a, batch, 1);
    const rnd = mulberry32(9);
    const old = cur.map((x) => x + (rnd() * 3 - 1.5));
    const ta = new Trainer(a, { ...OPTIM, lr: 1e-2 });
    const tb = new Trainer(b, { ...OPTIM, lr: 1e-2 });
    const ra = await ta.run([{ batch, ppo: { oldLogprob: old, advantage, weight } }], { ppo: PPO });
    // CPU coefficients from the step's own logprobs.
    const ref = ppoCoefficientsRef(
      { logprob: ra.logprobs, oldLogprob: old, advantage, weight },
      { ...PPO, klType: 0 },
    );
    const st = ra.micro[0].ppoStats!;
    let clipped = 0, dual = 0, free = 0;
    for (let t = 0; t < weight.length; t++) {
      if (!weight[t]) continue;
      assertEquals(st[t * 4 + 1], ref.stats[t * 4 + 1], `clip flag at ${t}`);
      assertEquals(st[t * 4 + 2], ref.stats[t * 4 + 2], `dual-clip flag at ${t}`);
      const lossDiff = Math.abs(st[t * 4] - ref.stats[t * 4]);
      assert(lossDiff <= 1e-5 * Math.max(1e-3, Math.abs(ref.stats[t * 4])), `loss at ${t}`);
      if (ref.stats[t * 4 + 2]) dual++;
      else if (ref.stats[t * 4 + 1]) clipped++;
      else free++;
    }
    assert(clipped > 0 && dual > 0 && free > 0, `branches: ${clipped} ${dual} ${free}`);
    // The same update from host coefficients (the CPU's dLoss/dlogprob) on a twin model.
    const rb = await tb.run([{ batch, coef: Float32Array.from(ref.coef) }], {});
    assertEquals(rb.skipped, false);
    const wa = await weightsOf(a), wb = await weightsOf(b);
    let maxDiff = 0, maxStep = 0;
    const w0 = await weightsOf((await loadModel(g, FIX)).model);
    for (const [name, x] of wa) {
      const y = wb.get(name)!, z = w0.get(name)!;
      for (let i = 0; i < x.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
        maxStep = Math.max(maxStep, Math.abs(x[i] - z[i]));
      }
    }
    assert(maxStep > 1e-3, `the update moved nothing (${maxStep})`);
    assert(
      maxDiff < 1e-4 * maxStep + 1e-7,
      `GPU vs CPU coefficients: ${maxDiff} (step ${maxStep})`,
    );
    ta.destroy();
    tb.destroy();
  },
});

Deno.test({
  name: "optimizer state round-trips exactly: a restored trainer takes the same next step",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const dir = await Deno.makeTempDir();
    const a = (await loadModel(g, FIX)).model;
    const { batch, weight, advantage } = await rollouts(a, 1);
    const old = await forwardLogprobs(a, batch, 1);
    const ta = new Trainer(a, { ...OPTIM, lr: 1e-3, maxGradNorm: 1 });
    const mb = { batch, ppo: { oldLogprob: old, advantage, weight } };
    await ta.run([mb], { ppo: PPO });
    await ta.run([mb], { ppo: PPO });
    await ta.saveState(dir);
    const host = await weightsOf(a);
    // A second model restored from the saved weights and optimizer state.
    const { ParamSet } = await import("../engine/params.ts");
    const { Qwen3 } = await import("../engine/qwen3.ts");
    const b = new Qwen3(g, a.pool, a.config, ParamSet.fromHost(g, a.config, host));
    const tb = new Trainer(b, { ...OPTIM, lr: 1e-3, maxGradNorm: 1 });
    await tb.loadState(dir);
    assertEquals(tb.step, 2);
    const r1 = await ta.run([mb], { ppo: PPO });
    const r2 = await tb.run([mb], { ppo: PPO });
    assertEquals(r1.loss, r2.loss);
    const wa = await weightsOf(a), wb = await weightsOf(b);
    for (const [name, x] of wa) assertEquals(x, wb.get(name)!, name);
    // A corrupt state names the file.
    await Deno.writeTextFile(`${dir}/optimizer.json`, '{"step": -1}');
    let msg = "";
    await tb.loadState(dir).catch((e) => (msg = e.message));
    assert(/optimizer\.json/.test(msg) && /step/.test(msg), msg);
    ta.destroy();
    tb.destroy();
    await Deno.remove(dir, { recursive: true });
  },
});
