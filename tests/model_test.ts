/**
 * The Qwen3 engine against the PyTorch golden fixture (tools/golden/qwen3_golden.py):
 * logits, next-token logprobs, loss and every parameter gradient; then generation.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { loadModel } from "../engine/load.ts";
import { packSequences, type Qwen3 } from "../engine/qwen3.ts";
import { ParamSet } from "../engine/params.ts";
import { meanCeCoef, Trainer } from "../engine/train_step.ts";
import { Scratch } from "../engine/scratch.ts";
import { generate } from "../engine/generate.ts";
import { readSafetensorsHeader, readTensor } from "../engine/safetensors.ts";
import { cli, ROOT } from "./helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const FIX = `${ROOT}/tests/fixtures/qwen3_tiny`;

interface Golden {
  loss: number;
  sequences: { input_ids: number[]; logits: number[][]; next_token_logprobs: number[] }[];
}

let gpuP: Promise<Gpu> | undefined;
const gpu = () => gpuP ??= acquireGpu();

async function fixture(name: "tied" | "untied"): Promise<{ model: Qwen3; golden: Golden }> {
  const g = await gpu();
  const { model } = await loadModel(g, `${FIX}/${name}`);
  const golden = JSON.parse(await Deno.readTextFile(`${FIX}/${name}/golden.json`)) as Golden;
  return { model, golden };
}

/** max |a - b| <= rtol * max |b| + atol. */
function assertClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  what: string,
  atol = 1e-7,
) {
  assertEquals(a.length, b.length, `${what}: length`);
  let maxRef = 0, maxDiff = 0;
  for (let i = 0; i < b.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(b[i]));
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  }
  assert(maxDiff <= rtol * maxRef + atol, `${what}: max diff ${maxDiff} vs max ${maxRef}`);
}

for (const name of ["tied", "untied"] as const) {
  Deno.test({
    name: `${name}: logits and logprobs match PyTorch`,
    ...opts,
    fn: async () => {
      const { model, golden } = await fixture(name);
      const seqs = golden.sequences.map((s) => s.input_ids);
      const batch = packSequences(seqs);
      const logits = await model.logits(new Recorder(model.gpu, model.pool), batch);
      const V = model.dims.V;
      for (const [i, s] of golden.sequences.entries()) {
        const start = batch.seqStarts[i];
        assertClose(
          logits.subarray(start * V, (start + s.input_ids.length) * V),
          s.logits.flat(),
          1e-4,
          `logits ${i}`,
        );
      }
      const rec = new Recorder(model.gpu, model.pool);
      const st = await model.forward(rec, batch);
      const r = rec.read(st.logprobs.buffer, batch.ids.length * 4);
      await rec.submit();
      const lp = new Float32Array(await r);
      model.release(st);
      for (const [i, s] of golden.sequences.entries()) {
        const start = batch.seqStarts[i];
        assertClose(
          lp.subarray(start, start + s.next_token_logprobs.length),
          s.next_token_logprobs,
          1e-4,
          `logprobs ${i}`,
        );
        assertEquals(lp[start + s.input_ids.length - 1], 0, "no target after the last token");
      }
    },
  });

  for (const checkpoint of [false, true]) {
    Deno.test({
      name: `${name}: loss and every parameter gradient match PyTorch${
        checkpoint ? " (activation checkpointing)" : ""
      }`,
      ...opts,
      fn: async () => {
        const { model, golden } = await fixture(name);
        const batch = packSequences(golden.sequences.map((s) => s.input_ids));
        const grads = ParamSet.zerosLike(model.gpu, model.config, "grad");
        const rec = new Recorder(model.gpu, model.pool);
        const st = await model.forward(rec, batch, { train: true, checkpoint });
        const s = new Scratch(model.pool);
        const coef = meanCeCoef(batch);
        await model.backward(rec, st, s.upload(coef), grads);
        const r = rec.read(st.logprobs.buffer, batch.ids.length * 4);
        await rec.submit();
        const lp = new Float32Array(await r);
        let loss = 0;
        for (let t = 0; t < lp.length; t++) loss += coef[t] * lp[t];
        assert(
          Math.abs(loss - golden.loss) <= 1e-4 * Math.abs(golden.loss),
          `loss ${loss} vs ${golden.loss}`,
        );
        const host = await grads.toHost(model.gpu, new Recorder(model.gpu, model.pool));
        const gpath = `${FIX}/${name}/grads.safetensors`;
        const header = await readSafetensorsHeader(gpath);
        let checked = 0;
        for (const [pname, g] of host) {
          const ref = await readTensor(gpath, header, pname, { as: "f32" });
          assertClose(g, ref as Float32Array, 1e-4, `grad ${pname}`, 1e-8);
          checked++;
        }
        assertEquals(checked, header.tensors.size);
        model.release(st);
        s.releaseAll();
        grads.destroy();
      },
    });
  }
}

Deno.test({
  name: "training steps lower the loss on a repeated batch",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("untied");
    const batch = packSequences(golden.sequences.map((s) => s.input_ids));
    const trainer = new Trainer(model, {
      lr: 1e-2,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      maxGradNorm: 1,
      checkpoint: false,
    });
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      losses.push((await trainer.trainStep(batch, meanCeCoef(batch))).loss);
    }
    assert(Math.abs(losses[0] - golden.loss) < 1e-3, `first loss ${losses[0]}`);
    assert(losses[4] < losses[0] - 0.1, `losses ${losses}`);
    trainer.destroy();
  },
});

Deno.test({
  name: "greedy generation equals the argmax of teacher-forced scoring",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("tied");
    const prompts = golden.sequences.map((s) => s.input_ids.slice(0, 5));
    const maxNew = 11;
    const before = model.gpu.counters.readbacks;
    const { completions, stats } = await generate(model, prompts, {
      n: 1,
      maxNewTokens: maxNew,
      temperature: 0,
      topP: 1,
      topK: 0,
      seed: 1,
      eosIds: [],
    });
    // At most one readback per 8 decode steps (prefill + 10 decode steps -> 2 readbacks).
    assertEquals(stats.readbacks, Math.ceil(maxNew / 8));
    assertEquals(model.gpu.counters.readbacks - before, stats.readbacks);
    const full = completions.map((c) => [...prompts[c.prompt], ...c.tokens]);
    const batch = packSequences(full);
    const logits = await model.logits(new Recorder(model.gpu, model.pool), batch);
    const V = model.dims.V;
    for (const [i, c] of completions.entries()) {
      assertEquals(c.tokens.length, maxNew);
      assertEquals(c.finishReason, "length");
      for (let j = 0; j < maxNew; j++) {
        const t = batch.seqStarts[i] + prompts[i].length - 1 + j;
        const row = logits.subarray(t * V, (t + 1) * V);
        let arg = 0;
        for (let v = 1; v < V; v++) if (row[v] > row[arg]) arg = v;
        assertEquals(c.tokens[j], arg, `prompt ${i} token ${j}`);
        // The returned logprob is log softmax of that row.
        let m = -Infinity, sum = 0;
        for (const x of row) m = Math.max(m, x);
        for (const x of row) sum += Math.exp(x - m);
        assert(Math.abs(c.logprobs[j] - (row[arg] - m - Math.log(sum))) < 1e-4);
      }
    }
  },
});

Deno.test({
  name:
    "long greedy generations (several readback groups, and one step per readback) match teacher forcing",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("tied");
    const prompts = golden.sequences.map((s) => s.input_ids.slice(0, 3));
    const V = model.dims.V;
    for (const stepsPerReadback of [8, 1]) {
      const maxNew = stepsPerReadback === 8 ? 40 : 12;
      const { completions } = await generate(model, prompts, {
        n: 2,
        maxNewTokens: maxNew,
        temperature: 0,
        topP: 1,
        topK: 0,
        seed: 0,
        eosIds: [],
        stepsPerReadback,
      });
      const full = completions.map((c) => [...prompts[c.prompt], ...c.tokens]);
      const batch = packSequences(full);
      const logits = await model.logits(new Recorder(model.gpu, model.pool), batch);
      for (const [i, c] of completions.entries()) {
        for (let j = 0; j < maxNew; j++) {
          const t = batch.seqStarts[i] + prompts[c.prompt].length - 1 + j;
          const row = logits.subarray(t * V, (t + 1) * V);
          let arg = 0;
          for (let v = 1; v < V; v++) if (row[v] > row[arg]) arg = v;
          assertEquals(
            c.tokens[j],
            arg,
            `readback every ${stepsPerReadback}: sequence ${i}, token ${j}`,
          );
        }
      }
    }
  },
});

Deno.test({
  name: "a profiled generation times every decode kernel and samples the same tokens",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("untied");
    const p = golden.sequences[1].input_ids.slice(0, 9);
    const common = { n: 2, maxNewTokens: 6, temperature: 1, topP: 1, topK: 0, seed: 3, eosIds: [] };
    const plain = await generate(model, [p], common);
    const timed = await generate(model, [p], { ...common, profile: true });
    assertEquals(timed.completions.map((c) => c.tokens), plain.completions.map((c) => c.tokens));
    assertEquals(plain.stats.decodeProfile?.size ?? 0, 0);
    const prof = timed.stats.decodeProfile!;
    if (!model.gpu.hasTimestamps) return assertEquals(prof.size, 0);
    // 5 decode steps (the prefill samples the first token), one recording each; the prefill's
    // kernels are not counted. Every kernel runs the same number of times in each step.
    assertEquals(timed.stats.decodeSteps, 5);
    assertEquals(timed.stats.readbacks, 6);
    for (const [label, e] of prof) {
      assertEquals(e.count % 5, 0, label);
      assert(e.ms >= 0, label);
    }
    const labels = [...prof.keys()].join(" ");
    // Matmuls are named by layout and shape: each of the 2 rollouts' rows against the LM head.
    const { V, H } = model.dims;
    assertMatch(labels, new RegExp(`matmul NT 2x${V}x${H}`));
    // The decode kernels, and not the prefill's attention over whole prompts.
    for (const kernel of ["attention_decode", "kv_append", "sample"]) assert(prof.has(kernel));
    assert(![...prof.keys()].some((l) => /attention_(fwd|lanes)/.test(l)), labels);
    const perStep = [...prof.values()].reduce((a, e) => a + e.count, 0) / 5;
    assert(perStep >= 7 * model.dims.L, `${perStep} dispatches per step`);
  },
});

Deno.test({
  name: "a prompt's shared KV prefix gives the same samples and logprobs as separate prefills",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("untied");
    const p = golden.sequences[1].input_ids.slice(0, 9);
    const common = { maxNewTokens: 10, temperature: 1, topP: 0.95, topK: 0, seed: 7, eosIds: [] };
    const shared = await generate(model, [p], { ...common, n: 3 });
    const separate = await generate(model, [p, p, p], { ...common, n: 1 });
    for (let i = 0; i < 3; i++) {
      assertEquals(shared.completions[i].tokens, separate.completions[i].tokens, `sample ${i}`);
      assertClose(
        shared.completions[i].logprobs,
        separate.completions[i].logprobs,
        0,
        `logprobs ${i}`,
        1e-5,
      );
    }
    // The three samples differ from one another (different RNG streams).
    assert(new Set(shared.completions.map((c) => c.tokens.join(","))).size > 1);
    // Scoring the sampled tokens teacher-forced gives the returned logprobs.
    const batch = packSequences(shared.completions.map((c) => [...p, ...c.tokens]));
    const rec = new Recorder(model.gpu, model.pool);
    const st = await model.forward(rec, batch);
    const r = rec.read(st.logprobs.buffer, batch.ids.length * 4);
    await rec.submit();
    const lp = new Float32Array(await r);
    model.release(st);
    for (const [i, c] of shared.completions.entries()) {
      const start = batch.seqStarts[i] + p.length - 1;
      assertClose(lp.subarray(start, start + c.tokens.length), c.logprobs, 0, `scored ${i}`, 1e-4);
    }
  },
});

Deno.test({
  name: "generation stops at EOS and refuses prompts beyond max positions",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("tied");
    const p = golden.sequences[0].input_ids.slice(0, 4);
    const greedy = await generate(model, [p], {
      n: 1,
      maxNewTokens: 12,
      temperature: 0,
      topP: 1,
      topK: 0,
      seed: 0,
      eosIds: [],
    });
    const eos = greedy.completions[0].tokens[3];
    const stopped = await generate(model, [p], {
      n: 1,
      maxNewTokens: 12,
      temperature: 0,
      topP: 1,
      topK: 0,
      seed: 0,
      eosIds: [eos],
    });
    const first = greedy.completions[0].tokens.indexOf(eos);
    assertEquals(stopped.completions[0].tokens, greedy.completions[0].tokens.slice(0, first + 1));
    assertEquals(stopped.completions[0].finishReason, "eos");
    const long = Array.from({ length: model.dims.maxPos }, (_, i) => i % model.dims.V);
    await assertRejects(
      () =>
        generate(model, [long], {
          n: 1,
          maxNewTokens: 4,
          temperature: 0,
          topP: 1,
          topK: 0,
          seed: 0,
          eosIds: [],
        }),
      /exceeds max_position_embeddings/,
    );
  },
});

Deno.test({
  name: "model score reproduces the fixture's logprobs from the CLI",
  ...opts,
  fn: async () => {
    const golden = JSON.parse(await Deno.readTextFile(`${FIX}/untied/golden.json`)) as Golden;
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${dir}/in.jsonl`,
      golden.sequences.map((s, i) => JSON.stringify({ id: `s${i}`, tokens: s.input_ids })).join(
        "\n",
      ) + "\n",
    );
    const r = await cli(
      "model",
      "score",
      "-q",
      "--model",
      `${FIX}/untied`,
      "--input",
      `${dir}/in.jsonl`,
      "--out",
      `${dir}/out.jsonl`,
    );
    assertEquals(r.code, 0, r.err);
    const lines = (await Deno.readTextFile(`${dir}/out.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assertEquals(lines.map((l) => l.id), ["s0", "s1"]);
    for (const [i, l] of lines.entries()) {
      assertClose(l.logprobs, golden.sequences[i].next_token_logprobs, 1e-4, `s${i}`);
    }
    await Deno.writeTextFile(`${dir}/bad.jsonl`, '{"id": "x", "tokens": [1, 2, 500]}\n');
    const bad = await cli(
      "model",
      "score",
      "-q",
      "--model",
      `${FIX}/untied`,
      "--input",
      `${dir}/bad.jsonl`,
    );
    assertEquals(bad.code, 1);
    assertMatch(bad.err, /token id 500 .* outside the vocabulary \(97\)/);
  },
});

Deno.test({
  name: "f16 weight storage: logits within f16 rounding of f32, and greedy generation runs",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const golden = JSON.parse(await Deno.readTextFile(`${FIX}/untied/golden.json`)) as Golden;
    const { model: m16 } = await loadModel(g, `${FIX}/untied`, { matrices: "f16" });
    assertEquals(m16.matrixDtype, "f16");
    const batch = packSequences(golden.sequences.map((s) => s.input_ids));
    const l16 = await m16.logits(new Recorder(g, m16.pool), batch);
    const ref = golden.sequences.flatMap((s) => s.logits.flat());
    assertClose(l16, ref, 5e-3, "f16 logits");
    let exact = true;
    for (let i = 0; i < ref.length; i++) if (Math.abs(l16[i] - ref[i]) > 1e-6) exact = false;
    assert(!exact, "f16 storage really rounds the weights");
    const { completions } = await generate(m16, [golden.sequences[0].input_ids], {
      n: 2,
      maxNewTokens: 5,
      temperature: 0,
      topP: 1,
      topK: 0,
      seed: 0,
      eosIds: [],
    });
    assertEquals(completions[0].tokens, completions[1].tokens);
    await assertRejects(async () => {
      const rec = new Recorder(g, m16.pool);
      await m16.forward(rec, batch, { train: true });
    }, /training needs f32 weights/);
  },
});

Deno.test({
  name: "model init, info and generate from the CLI with a trained tokenizer",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const book = `${ROOT}/../shared/corpora/books/pg11_alice_in_wonderland.txt`;
    let r = await cli(
      "tokenizer",
      "train",
      "-q",
      "--corpus",
      book,
      "--vocab",
      "400",
      "--out",
      `${dir}/tok`,
    );
    assertEquals(r.code, 0, r.err);
    r = await cli(
      "model",
      "init",
      "--preset",
      "tiny",
      "--tokenizer",
      `${dir}/tok`,
      "--out",
      `${dir}/m`,
      "--seed",
      "3",
    );
    assertEquals(r.code, 0, r.err);
    r = await cli("model", "info", `${dir}/m`, "--json");
    const info = JSON.parse(r.out);
    assertEquals(info.config.vocab_size, 400);
    assertEquals(info.config.hidden_size, 128);
    assert(info.params > 500_000 && info.params < 2_000_000, `${info.params}`);
    await Deno.writeTextFile(
      `${dir}/p.jsonl`,
      '{"id": "a", "prompt": "Alice was"}\n{"id": "b", "messages": [{"role": "user", "content": "Hi"}]}\n',
    );
    const gen = [
      "model",
      "generate",
      "-q",
      "--model",
      `${dir}/m`,
      "--prompts",
      `${dir}/p.jsonl`,
      "--n",
      "2",
      "--max-new-tokens",
      "6",
      "--seed",
      "5",
    ];
    r = await cli(...gen, "--out", `${dir}/out.jsonl`);
    assertEquals(r.code, 0, r.err);
    const lines = (await Deno.readTextFile(`${dir}/out.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assertEquals(lines.map((l) => [l.id, l.sample]), [["a", 0], ["a", 1], ["b", 0], ["b", 1]]);
    for (const l of lines) {
      assert(l.tokens.length >= 1 && l.tokens.length <= 6);
      assertEquals(l.tokens.length, l.logprobs.length);
      assert(l.logprobs.every((x: number) => x <= 0 && Number.isFinite(x)));
      assert(["eos", "length", "stop"].includes(l.finish_reason));
    }
    // Same seed, one prompt per batch: identical completions (streams keyed by row, not batch).
    const again = await cli(...gen, "--batch-prompts", "1");
    assertEquals(
      again.out.trim().split("\n").map((l) => JSON.parse(l).tokens),
      lines.map((l) => l.tokens),
    );
    const bad = await cli("model", "init", "--tokenizer", `${dir}/nope`, "--out", `${dir}/x`);
    assertEquals(bad.code, 1);
  },
});

Deno.test({
  name: "generation stops at a stop string and cuts the text before it",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("tied");
    const p = golden.sequences[0].input_ids.slice(0, 4);
    // A toy decoder: token id t is the letter "a" + t % 26, so text = letters of the ids.
    const decode = (ids: number[]) => ids.map((t) => String.fromCharCode(97 + (t % 26))).join("");
    const greedy = await generate(model, [p], {
      n: 1,
      maxNewTokens: 12,
      temperature: 0,
      topP: 1,
      topK: 0,
      seed: 0,
      eosIds: [],
    });
    const full = decode(greedy.completions[0].tokens);
    const stop = full.slice(5, 7);
    const first = full.indexOf(stop);
    const r = await generate(model, [p], {
      n: 1,
      maxNewTokens: 12,
      temperature: 0,
      topP: 1,
      topK: 0,
      seed: 0,
      eosIds: [],
      stop: [stop],
      decode,
    });
    const c = r.completions[0];
    assertEquals(c.finishReason, "stop");
    assertEquals(c.text, full.slice(0, first));
    assertEquals(c.tokens, greedy.completions[0].tokens.slice(0, first + stop.length));
  },
});

Deno.test({
  name: "a KV cache over the binding limit is refused with what to reduce",
  ...opts,
  fn: async () => {
    const { model, golden } = await fixture("tied");
    const p = golden.sequences[0].input_ids.slice(0, 4);
    // 97-token vocabulary, d 8, 2 kv heads: 64 bytes per position per slot; ask for far too many.
    const many = Array.from({ length: 64 }, () => p);
    const slotsBytes = (64 + 64 * 400) * 2 * 8 * 4 * 100;
    assert(slotsBytes > model.gpu.limits.maxStorageBufferBindingSize);
    await assertRejects(
      () =>
        generate(model, many, {
          n: 400,
          maxNewTokens: 100,
          temperature: 0,
          topP: 1,
          topK: 0,
          seed: 0,
          eosIds: [],
        }),
      /KV cache for 64 prompt\(s\) x 400 sample\(s\).*--batch-prompts/,
    );
  },
});
