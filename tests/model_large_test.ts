/**
 * A train step whose tensors exceed one storage binding (128 MiB): a 151,936-row vocabulary
 * (Qwen3's) at hidden 256 makes the tied embedding, its gradient and both AdamW moments 155 MB
 * each. Checked against CPU references: the embedding lookup (ids in the table's second
 * window), the LM head's log-sum-exp and logprobs over every vocabulary chunk, the head's share
 * of the embedding gradient in both windows, the global gradient norm, AdamW on every element,
 * and the optimizer state's save and load. Any launcher that bound one of these tensors whole
 * would fail here (the device refuses the binding).
 */
import { assert, assertEquals } from "./assert.ts";
import { acquireGpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { makeConfig, paramCount } from "../engine/model_config.ts";
import { initParams } from "../engine/checkpoint.ts";
import { ParamSet } from "../engine/params.ts";
import { NO_TARGET, packSequences, Qwen3 } from "../engine/qwen3.ts";
import { DEFAULT_OPTIM, meanCeCoef, Trainer } from "../engine/train_step.ts";
import { Scratch } from "../engine/scratch.ts";
import { memoryBudget, planTrainStep } from "../engine/memory_plan.ts";
import { adamwRef } from "../kernels/adamw.ts";
import { clipCoefficientRef, gradNormSqRef } from "../kernels/gradnorm.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** The worst |got − want| / (atol + rtol·|want|): at most 1 when within tolerance. */
function maxRel(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number) {
  assertEquals(got.length, want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

Deno.test({
  name: "a train step over tensors larger than one binding matches the CPU references",
  ...opts,
  fn: async () => {
    const gpu = await acquireGpu();
    const V = 151936, H = 256;
    const config = makeConfig({
      hidden_size: H,
      intermediate_size: 512,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 64,
      max_position_embeddings: 64,
      tie_word_embeddings: true,
    }, V);
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    assert(V * H * 4 > limit, `the embedding (${V * H * 4} B) must exceed one binding (${limit})`);
    // Rows per embedding window at H = 256: the table's second window starts at this row.
    const secondWindow = Math.floor(Math.min(limit, 128 * 2 ** 20) / (H * 4));
    const host = initParams(config, 3);
    const E = host.get("model.embed_tokens.weight")!;
    // The step's scratch comes from `pool`; readbacks to the host from `reads`, so the pool's
    // allocation is the step's own (compared with the memory plan below).
    const pool = new BufferPool(gpu), readPool = new BufferPool(gpu);
    const weights = ParamSet.fromHost(gpu, config, host);
    const model = new Qwen3(gpu, pool, config, weights);
    const ids = [5, secondWindow - 1, secondWindow, V - 1, 140_000, 5, 70_000, 151_000];
    const batch = packSequences([ids]);
    const coef = meanCeCoef(batch);
    const T = ids.length;

    // 1. Forward and backward, keeping what the CPU references need.
    const grads = ParamSet.zerosLike(gpu, config, "grad");
    const rec = new Recorder(gpu, pool);
    const st = await model.forward(rec, batch, { train: true });
    const s = new Scratch(pool);
    await model.backward(rec, st, s.upload(coef), grads);
    const reads = {
      x0: rec.read(st.xs[0].buffer, T * H * 4),
      xnF: rec.read(st.xnF.buffer, T * H * 4),
      lse: rec.read(st.lse.buffer, T * 4),
      lp: rec.read(st.logprobs.buffer, T * 4),
    };
    await rec.submit();
    const x0 = new Float32Array(await reads.x0), xnF = new Float32Array(await reads.xnF);
    const lse = new Float32Array(await reads.lse), lp = new Float32Array(await reads.lp);
    model.release(st);
    s.releaseAll();
    const g = await grads.toHost(gpu, new Recorder(gpu, readPool));
    grads.destroy();

    // Embedding lookup: rows from both windows, exactly.
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < H; c++) {
        assertEquals(x0[t * H + c], E[ids[t] * H + c], `embedding row of id ${ids[t]}`);
      }
    }
    // The LM head over every vocabulary chunk: log-sum-exp and logprobs (f64 reference).
    const logits = new Float64Array(T * V);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < V; r++) {
        let z = 0;
        for (let c = 0; c < H; c++) z += xnF[t * H + c] * E[r * H + c];
        logits[t * V + r] = z;
      }
    }
    const lseRef = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      let m = -Infinity, sum = 0;
      for (let r = 0; r < V; r++) m = Math.max(m, logits[t * V + r]);
      for (let r = 0; r < V; r++) sum += Math.exp(logits[t * V + r] - m);
      lseRef[t] = m + Math.log(sum);
    }
    assert(maxRel(lse, lseRef, 1e-5, 1e-5) <= 1, "log-sum-exp over the vocabulary chunks");
    for (let t = 0; t < T; t++) {
      const tgt = batch.targets[t];
      const want = tgt === NO_TARGET ? 0 : logits[t * V + tgt] - lseRef[t];
      assert(Math.abs(lp[t] - want) <= 1e-4, `logprob at ${t}: ${lp[t]} vs ${want}`);
    }
    // The head's share of the tied embedding gradient, on rows no token reads (so the lookup's
    // backward adds nothing): dE[r] = Σ_t coef_t (1[r = target_t] − p_tr) xnF_t.
    const inputs = new Set(ids);
    const rows = [secondWindow - 2, secondWindow + 1, V - 2, 151_001, 0, 99_999];
    for (let r = 0; r < V; r += 4099) rows.push(r);
    const dE = g.get("model.embed_tokens.weight")!;
    for (const r of rows.filter((r) => !inputs.has(r))) {
      const want = new Float64Array(H);
      for (let t = 0; t < T; t++) {
        const p = Math.exp(logits[t * V + r] - lseRef[t]);
        const d = coef[t] * ((batch.targets[t] === r ? 1 : 0) - p);
        for (let c = 0; c < H; c++) want[c] += d * xnF[t * H + c];
      }
      const got = dE.subarray(r * H, (r + 1) * H);
      assert(maxRel(got, want, 1e-9, 1e-3) <= 1, `embedding gradient row ${r}`);
    }
    // Rows the lookup reads, in both windows, received its backward as well.
    for (const r of [secondWindow, V - 1, 140_000]) {
      let head = 0, total = 0;
      for (let c = 0; c < H; c++) total += Math.abs(dE[r * H + c]);
      for (let t = 0; t < T; t++) {
        head += Math.abs(coef[t]) * Math.exp(logits[t * V + r] - lseRef[t]);
      }
      assert(total > 10 * head, `row ${r}: the lookup's gradient is missing (${total})`);
    }

    // 2. The same step through the trainer: the same gradients, norm, clip and AdamW.
    const trainer = new Trainer(model);
    const step = await trainer.trainStep(batch, coef);
    const tg = await trainer.grads.toHost(gpu, new Recorder(gpu, readPool));
    for (const [name, a] of g) {
      assert(a.every((x, i) => x === tg.get(name)![i]), `trainer gradient ${name} differs`);
    }
    const normSq = gradNormSqRef([...g.values()]);
    const [clip, norm] = clipCoefficientRef(normSq, DEFAULT_OPTIM.maxGradNorm);
    assert(Math.abs(step.gradNorm - norm) <= 1e-4 * norm, `grad norm ${step.gradNorm} vs ${norm}`);
    assert(!step.skipped);
    const after = await weights.toHost(gpu, new Recorder(gpu, readPool));
    const m = await trainer.m.toHost(gpu, new Recorder(gpu, readPool));
    const v = await trainer.v.toHost(gpu, new Recorder(gpu, readPool));
    for (const [name, p0] of host) {
      const ref = adamwRef(
        p0,
        g.get(name)!,
        new Float64Array(p0.length),
        new Float64Array(p0.length),
        {
          ...DEFAULT_OPTIM,
          step: 1,
          gradScale: clip,
        },
      );
      assert(maxRel(after.get(name)!, ref.param, 1e-6, 1e-5) <= 1, `AdamW param ${name}`);
      assert(maxRel(m.get(name)!, ref.m, 1e-9, 1e-5) <= 1, `AdamW m ${name}`);
      assert(maxRel(v.get(name)!, ref.v, 1e-12, 1e-4) <= 1, `AdamW v ${name}`);
    }

    // 3. The memory plan's estimate against what the step allocated.
    const plan = planTrainStep(config, {
      tokens: T,
      checkpoint: false,
      ntBackward: gpu.description.kind === "software",
      maxBindingSize: limit,
    }, memoryBudget(gpu.device.limits, gpu.description.kind));
    const measured = 4 * paramCount(config) * 4 + pool.stats.allocatedBytes;
    const ratio = plan.deviceBytes / measured;
    assert(ratio > 0.9 && ratio < 1.1, `plan ${plan.deviceBytes} vs allocated ${measured}`);

    // 4. The optimizer state through a file and back, every element.
    const dir = await Deno.makeTempDir();
    try {
      await trainer.saveState(dir);
      const r2 = new Recorder(gpu, readPool);
      trainer.m.clear(r2);
      trainer.v.clear(r2);
      await r2.submit();
      await trainer.loadState(dir);
      const m2 = await trainer.m.toHost(gpu, new Recorder(gpu, readPool));
      const v2 = await trainer.v.toHost(gpu, new Recorder(gpu, readPool));
      for (const [name, a] of m) {
        assert(a.every((x, i) => x === m2.get(name)![i]), `m ${name} after load`);
        assert(v.get(name)!.every((x, i) => x === v2.get(name)![i]), `v ${name} after load`);
      }
      assertEquals(trainer.step, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    trainer.destroy();
    weights.destroy();
    gpu.destroy();
  },
});
