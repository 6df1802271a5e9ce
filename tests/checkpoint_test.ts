/**
 * Checkpoints: the golden Qwen3 fixtures (tools/golden/qwen3_golden.py) load and match their
 * checksums, bf16 copies equal the rounded f32 weights, saves reload bit-exactly (single file and
 * sharded), and bad configs/checkpoints give errors naming the file, key and tensor.
 */
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "./assert.ts";
import { initParams, loadCheckpoint, saveCheckpoint } from "../engine/checkpoint.ts";
import {
  expectedTensors,
  makeConfig,
  memoryEstimate,
  paramCount,
  PRESETS,
  type Qwen3Config,
  readConfig,
} from "../engine/model_config.ts";
import {
  bf16BitsToF32,
  f16BitsToF32,
  f32ToBf16Bits,
  readSafetensorsHeader,
  readTensor,
  writeSafetensors,
} from "../engine/safetensors.ts";

const FIXTURES = new URL("./fixtures/qwen3_tiny/", import.meta.url).pathname;
const tmp = () => Deno.makeTempDir({ prefix: "golongrl_ckpt_" });

interface Sums {
  shape: number[];
  sum: number;
  abs_sum: number;
  l2: number;
  first: number[];
}
interface Golden {
  sequences: {
    input_ids: number[];
    logits: number[][];
    next_token_logprobs: number[];
    loss: number;
  }[];
  num_predicted_tokens: number;
  loss: number;
  params: Record<string, Sums>;
  grads: Record<string, Sums>;
}
const golden = async (name: string): Promise<Golden> =>
  JSON.parse(await Deno.readTextFile(`${FIXTURES}${name}/golden.json`));

function checkSums(got: ArrayLike<number>, want: Sums, what: string) {
  let sum = 0, abs = 0, sq = 0;
  for (let i = 0; i < got.length; i++) {
    sum += got[i];
    abs += Math.abs(got[i]);
    sq += got[i] * got[i];
  }
  const tol = (x: number) => 1e-9 * Math.max(1, Math.abs(x));
  assertAlmostEquals(sum, want.sum, tol(want.abs_sum), `${what} sum`);
  assertAlmostEquals(abs, want.abs_sum, tol(want.abs_sum), `${what} abs_sum`);
  assertAlmostEquals(Math.sqrt(sq), want.l2, tol(want.l2), `${what} l2`);
  want.first.forEach((v, i) => assertEquals(got[i], v, `${what}[${i}]`));
}

for (const name of ["tied", "untied"]) {
  Deno.test(`checkpoint: golden fixture ${name} loads and matches its checksums`, async () => {
    const g = await golden(name);
    const ck = await loadCheckpoint(`${FIXTURES}${name}`);
    assertEquals(ck.config.tie_word_embeddings, name === "tied");
    assertEquals(ck.notes, []);
    const names = expectedTensors(ck.config).map((t) => t.name);
    assertEquals(names.sort(), Object.keys(g.params).sort());
    assertEquals(ck.tensors.has("lm_head.weight"), name === "untied");
    for (const [n, s] of Object.entries(g.params)) checkSums(ck.tensors.get(n)!, s, n);
    // Every gradient is present (F64), by HF name, with the param's shape.
    const gp = `${FIXTURES}${name}/grads.safetensors`;
    const gh = await readSafetensorsHeader(gp);
    for (const [n, s] of Object.entries(g.grads)) {
      assertEquals(gh.tensors.get(n)?.shape, g.params[n].shape, n);
      checkSums(await readTensor(gp, gh, n, { as: "f64" }), s, `grad ${n}`);
    }
  });

  Deno.test(`checkpoint: golden fixture ${name} is self-consistent (logits, logprobs, loss)`, async () => {
    const g = await golden(name);
    const cfg = await readConfig(`${FIXTURES}${name}`);
    let total = 0, count = 0;
    for (const s of g.sequences) {
      assertEquals(s.logits.length, s.input_ids.length);
      assertEquals(s.logits[0].length, cfg.vocab_size);
      for (let t = 0; t + 1 < s.input_ids.length; t++) {
        const row = s.logits[t];
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
        assertAlmostEquals(row[s.input_ids[t + 1]] - lse, s.next_token_logprobs[t], 1e-12);
        total -= s.next_token_logprobs[t];
        count++;
      }
    }
    assertEquals(count, g.num_predicted_tokens);
    assertAlmostEquals(total / count, g.loss, 1e-12);
    assert(g.loss > Math.log(cfg.vocab_size), "logits are not flat");
  });

  Deno.test(`checkpoint: bf16 copy of ${name} equals the f32 weights rounded to bf16`, async () => {
    const dir = await tmp();
    await Deno.copyFile(`${FIXTURES}${name}/config.json`, `${dir}/config.json`);
    await Deno.copyFile(`${FIXTURES}${name}/model.bf16.safetensors`, `${dir}/model.safetensors`);
    const f32 = await loadCheckpoint(`${FIXTURES}${name}`);
    const bf = await loadCheckpoint(dir);
    for (const [n, w] of f32.tensors) {
      const b = bf.tensors.get(n)!;
      for (let i = 0; i < w.length; i++) {
        if (b[i] !== bf16BitsToF32(f32ToBf16Bits(w[i]))) {
          throw new Error(`${n}[${i}]: ${w[i]} -> ${b[i]}`);
        }
      }
    }
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("checkpoint: save then load is bit-exact (F32), in HF layout", async () => {
  const dir = await tmp();
  const src = await loadCheckpoint(`${FIXTURES}untied`);
  await saveCheckpoint(dir, src.config, src.tensors);
  const cfg = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assertEquals(cfg.architectures, ["Qwen3ForCausalLM"]);
  assertEquals(cfg.model_type, "qwen3");
  assertEquals(cfg.torch_dtype, "float32");
  assertEquals(cfg.head_dim, 8);
  const h = await readSafetensorsHeader(`${dir}/model.safetensors`);
  assertEquals(h.metadata, { format: "pt" });
  const back = await loadCheckpoint(dir);
  for (const [n, w] of src.tensors) assertEquals(back.tensors.get(n), w, n);
  // Same data bytes as the file Python wrote (both lay tensors out in sorted-name order).
  const ha = await readSafetensorsHeader(`${FIXTURES}untied/model.safetensors`);
  const a = await Deno.readFile(`${FIXTURES}untied/model.safetensors`);
  const b = await Deno.readFile(`${dir}/model.safetensors`);
  assertEquals(b.subarray(h.dataStart), a.subarray(ha.dataStart));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: BF16 and F16 saves; f16 loads keep float16 bits", async () => {
  const dir = await tmp();
  const src = await loadCheckpoint(`${FIXTURES}tied`);
  await saveCheckpoint(dir, src.config, src.tensors, { dtype: "BF16" });
  assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/config.json`)).torch_dtype, "bfloat16");
  const bf = await loadCheckpoint(dir);
  const w = src.tensors.get("model.embed_tokens.weight") as Float32Array;
  const b = bf.tensors.get("model.embed_tokens.weight") as Float32Array;
  for (let i = 0; i < w.length; i++) assertEquals(b[i], bf16BitsToF32(f32ToBf16Bits(w[i])));
  await saveCheckpoint(dir, src.config, src.tensors, { dtype: "F16" });
  const h16 = await loadCheckpoint(dir, { as: "f16" });
  const t = h16.tensors.get("model.norm.weight")!;
  assert(t instanceof Uint16Array);
  // Saving f16 bits back as F16 is bit-exact.
  const dir2 = await tmp();
  await saveCheckpoint(dir2, h16.config, h16.tensors, { dtype: "F16" });
  assertEquals(
    await Deno.readFile(`${dir2}/model.safetensors`),
    await Deno.readFile(`${dir}/model.safetensors`),
  );
  // f16 bits saved as F32 are widened exactly.
  await saveCheckpoint(dir2, h16.config, h16.tensors, { dtype: "F32" });
  const wide = (await loadCheckpoint(dir2)).tensors.get("model.embed_tokens.weight")!;
  const bits = h16.tensors.get("model.embed_tokens.weight")!;
  assertEquals([...wide], [...bits].map(f16BitsToF32));
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(dir2, { recursive: true });
});

Deno.test("checkpoint: shards above the threshold, with index.json; stale layout removed", async () => {
  const dir = await tmp();
  const src = await loadCheckpoint(`${FIXTURES}untied`);
  await saveCheckpoint(dir, src.config, src.tensors); // single file first
  await saveCheckpoint(dir, src.config, src.tensors, { shardBytes: 30_000 });
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert(!files.includes("model.safetensors"), "stale single file removed");
  const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
  assert(shards.length >= 3, `${shards}`);
  const idx = JSON.parse(await Deno.readTextFile(`${dir}/model.safetensors.index.json`));
  assertEquals(idx.metadata.total_size, 24832 * 4);
  assertEquals(Object.keys(idx.weight_map).length, src.tensors.size);
  const back = await loadCheckpoint(dir);
  for (const [n, w] of src.tensors) assertEquals(back.tensors.get(n), w, n);
  // Back to one file: the shards and index go.
  await saveCheckpoint(dir, src.config, src.tensors);
  assertEquals(
    [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
    ["config.json", "generation_config.json", "model.safetensors"],
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: initParams is deterministic, std 0.02 matrices and ones for norms", () => {
  const cfg = makeConfig("tiny", 1000);
  const a = initParams(cfg, 7), b = initParams(cfg, 7), c = initParams(cfg, 8);
  const q = "model.layers.0.self_attn.q_proj.weight";
  assertEquals(a.get(q), b.get(q));
  assert(a.get(q)![0] !== c.get(q)![0]);
  assertEquals([...new Set(a.get("model.layers.3.self_attn.k_norm.weight"))], [1]);
  const e = a.get("model.embed_tokens.weight")!;
  let s = 0, s2 = 0;
  for (const x of e) {
    s += x;
    s2 += x * x;
  }
  assertAlmostEquals(s / e.length, 0, 1e-3);
  assertAlmostEquals(Math.sqrt(s2 / e.length), 0.02, 5e-4);
  assertEquals(a.size, expectedTensors(cfg).length);
});

Deno.test("config: presets, tensor inventory, param count and memory estimate", () => {
  const tiny = makeConfig("tiny", 4096);
  const small = makeConfig("small", 4096);
  const pt = paramCount(tiny), ps = paramCount(small);
  assert(pt > 1e6 && pt < 3e6, `tiny ${pt}`);
  assert(ps > 10e6 && ps < 30e6, `small ${ps}`);
  assertEquals(PRESETS.tiny.hidden_size, 128);
  assertEquals(tiny.vocab_size, 4096);
  const untied = makeConfig(PRESETS.tiny, 4096, { tie_word_embeddings: false });
  assertEquals(paramCount(untied) - pt, 4096 * 128);
  const byName = new Map(expectedTensors(tiny).map((t) => [t.name, t.shape]));
  assertEquals(byName.get("model.layers.1.self_attn.k_proj.weight"), [2 * 32, 128]);
  assertEquals(byName.get("model.layers.1.self_attn.o_proj.weight"), [128, 4 * 32]);
  assertEquals(byName.get("model.layers.1.mlp.down_proj.weight"), [128, 384]);
  assertEquals(byName.get("model.layers.1.self_attn.q_norm.weight"), [32]);
  assertEquals(byName.size, 1 + 4 * 11 + 1);
  const m = memoryEstimate(tiny, "bf16");
  assertEquals(m.weights, pt * 2);
  assertEquals(m.training, pt * 2 + pt * 16);
  assertEquals(m.kvPerToken, 2 * 4 * 2 * 32 * 2);
});

async function withConfig(patch: Record<string, unknown>, re: RegExp) {
  const dir = await tmp();
  const base = JSON.parse(await Deno.readTextFile(`${FIXTURES}tied/config.json`));
  const cfg = { ...base, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete cfg[k];
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(cfg));
  await assertRejects(() => readConfig(dir), re);
  await Deno.remove(dir, { recursive: true });
}

Deno.test("config: readConfig errors name config.json and the key; defaults filled", async () => {
  await withConfig({ hidden_size: undefined }, /config\.json: "hidden_size" is missing/);
  await withConfig({ hidden_size: "32" }, /config\.json: "hidden_size" must be a positive integer/);
  await withConfig({ rms_norm_eps: -1 }, /"rms_norm_eps" must be a positive number/);
  await withConfig({ num_key_value_heads: 3 }, /"num_key_value_heads" \(3\) must divide/);
  await withConfig({ model_type: "llama" }, /"model_type" is "llama"/);
  await withConfig({ rope_scaling: { type: "yarn" } }, /"rope_scaling" is not supported/);
  await withConfig({ tie_word_embeddings: "yes" }, /"tie_word_embeddings" must be true or false/);
  await withConfig({ eos_token_id: [1, -2] }, /"eos_token_id"/);
  const dir = await tmp();
  await Deno.writeTextFile(`${dir}/config.json`, "{ nope");
  await assertRejects(() => readConfig(dir), /config\.json: invalid JSON/);
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      vocab_size: 10,
      hidden_size: 64,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      rms_norm_eps: 1e-6,
      rope_theta: 1e4,
    }),
  );
  const c = await readConfig(dir);
  assertEquals(c.head_dim, 16);
  assertEquals(c.num_key_value_heads, 4);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: missing tensors, wrong shapes and extras", async () => {
  const dir = await tmp();
  const src = await loadCheckpoint(`${FIXTURES}tied`);
  const cfg: Qwen3Config = src.config;
  const list = (m: Map<string, Float32Array | Uint16Array>) =>
    [...m].map(([name, data]) => ({
      name,
      dtype: "F32" as const,
      shape: expectedTensors(cfg).find((t) => t.name === name)?.shape ?? [data.length],
      data: data as Float32Array,
    }));
  await Deno.copyFile(`${FIXTURES}tied/config.json`, `${dir}/config.json`);
  // Missing.
  const missing = new Map(src.tensors);
  missing.delete("model.layers.1.mlp.up_proj.weight");
  await writeSafetensors(`${dir}/model.safetensors`, list(missing));
  await assertRejects(
    () => loadCheckpoint(dir),
    /model\.safetensors: missing tensor "model\.layers\.1\.mlp\.up_proj\.weight".*\[64, 32\]/,
  );
  // Wrong shape: an embedding of another width.
  const bad = list(src.tensors).map((t) =>
    t.name === "model.embed_tokens.weight" ? { ...t, shape: [194, 16] } : t
  );
  await writeSafetensors(`${dir}/model.safetensors`, bad);
  await assertRejects(
    () => loadCheckpoint(dir),
    /config\.json says vocab_size 97, hidden_size 32 \(so \[97, 32\]\) but model\.embed_tokens\.weight is \[194, 16\]/,
  );
  // Extras (a rotary buffer, an lm_head while tied) are ignored with a note.
  const extra = [
    ...list(src.tensors),
    {
      name: "model.layers.0.self_attn.rotary_emb.inv_freq",
      dtype: "F32" as const,
      shape: [4],
      data: new Float32Array(4),
    },
    {
      name: "lm_head.weight",
      dtype: "F32" as const,
      shape: [97, 32],
      data: new Float32Array(97 * 32),
    },
  ];
  await writeSafetensors(`${dir}/model.safetensors`, extra);
  const ck = await loadCheckpoint(dir);
  assertEquals(ck.notes.length, 1);
  assert(
    /ignored 2 extra tensor\(s\): lm_head\.weight, .*inv_freq.*tie_word_embeddings/.test(
      ck.notes[0],
    ),
  );
  assert(!ck.tensors.has("lm_head.weight"));
  // No weights at all.
  await Deno.remove(`${dir}/model.safetensors`);
  await assertRejects(
    () => loadCheckpoint(dir),
    /no model\.safetensors or model\.safetensors\.index\.json/,
  );
  await Deno.remove(dir, { recursive: true });
});
