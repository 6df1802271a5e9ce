/**
 * Loading checkpoints onto the GPU by streaming (engine/load.ts, engine/safetensors.ts
 * `streamTensors`): for every on-disk dtype (F32, F16, BF16) and both matrix dtypes (f32, f16),
 * the GPU holds exactly the bits the one-value conversions give (the loader before streaming
 * read whole tensors as f32 with them, then rounded f32 to f16 one value at a time), edge values
 * included: round-to-nearest-even ties, subnormals, overflow, infinities, NaNs, -0.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder } from "../core/gpu/recorder.ts";
import { mulberry32 } from "../core/rng.ts";
import { numel } from "../core/tensor.ts";
import { loadModel } from "../engine/load.ts";
import { expectedTensors, makeConfig, type Qwen3Config } from "../engine/model_config.ts";
import { writeJsonAtomic } from "../core/fsutil.ts";
import {
  f16BitsToF32,
  f32ToF16Bits,
  openSafetensorsDir,
  readSafetensorsHeader,
  streamTensors,
  type TensorToWrite,
  writeSafetensors,
} from "../engine/safetensors.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
let gpuP: Promise<Gpu> | undefined;
const gpu = () => gpuP ??= acquireGpu();

/**
 * Odd hidden size and vocabulary: the embedding has an odd element count (f16 padding). The
 * two 4683 x 7 matrices alone hold more than 2^16 values, so F16 and BF16 files can hold every
 * 16-bit pattern.
 */
const CONFIG: Qwen3Config = makeConfig({
  hidden_size: 7,
  intermediate_size: 5,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 2,
  max_position_embeddings: 64,
  tie_word_embeddings: false,
}, 4683);

/** f32 bit patterns where rounding to f16 is delicate. */
const F32_EDGES = [
  0x00000000,
  0x80000000, // +-0
  0x7f800000,
  0xff800000, // +-inf
  0x7fc00000,
  0xffc00000,
  0x7f800001,
  0xff812345,
  0x7fbfffff, // NaNs: quiet, signalling, payloads
  0x00000001,
  0x807fffff, // f32 subnormals: f16 zero
  0x33800000,
  0x33000000,
  0x33c00000,
  0x33400000, // 2^-24 (f16 min subnormal), 2^-25 (tie->0), 1.5*2^-24 (tie->2), 0.75*2^-24
  0x33000001,
  0xb3000001, // just above half the smallest subnormal: rounds up
  0x387fc000,
  0x387fe000,
  0x387ff000, // around the largest f16 subnormal / smallest normal
  0x38800000,
  0x38801000,
  0x38803000, // 2^-14, ties at the smallest normal
  0x3f800000,
  0x3f801000,
  0x3f803000,
  0x3f801001,
  0x3f802fff, // 1, ties to even, near ties
  0x477fe000,
  0x477fefff,
  0x477ff000,
  0x477fffff,
  0xc77ff000, // 65504, just below / at the overflow tie
  0x47800000,
  0x7f7fffff,
  0xff7fffff, // 65536, f32 max: f16 inf
  0x3fffffff,
  0x3ffff000,
  0x3fffe000, // carries into the exponent
];

type Stored = "F32" | "F16" | "BF16";

/**
 * Raw bits per tensor. F16 and BF16: every 16-bit pattern in turn (then again), so every value
 * of both formats goes through the loader. F32: the edges first, then any bits at all, random
 * values across every f16 regime, and exact f16 rounding ties.
 */
function rawTensors(dtype: Stored, seed: number): Map<string, Uint32Array | Uint16Array> {
  const rand = mulberry32(seed);
  const out = new Map<string, Uint32Array | Uint16Array>();
  const f = new Float32Array(1);
  const fbits = new Uint32Array(f.buffer);
  let k = seed;
  for (const spec of expectedTensors(CONFIG)) {
    const n = numel(spec.shape);
    if (dtype === "F32") {
      const a = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        if (i < F32_EDGES.length) a[i] = F32_EDGES[i];
        else if (i % 3 === 0) a[i] = Math.floor(rand() * 2 ** 32); // any bits at all
        else {
          f[0] = (rand() - 0.5) * 10 ** (rand() * 14 - 9); // 1e-9 .. 1e5: every f16 regime
          a[i] = fbits[0];
          if (i % 3 === 2) a[i] = (a[i] & ~0x1fff) | 0x1000; // an exact f16 rounding tie
        }
      }
      out.set(spec.name, a);
    } else {
      const a = new Uint16Array(n);
      for (let i = 0; i < n; i++) a[i] = k++ & 0xffff;
      out.set(spec.name, a);
    }
  }
  if (dtype !== "F32") assert(k - seed >= 65536, "every 16-bit pattern is stored");
  return out;
}

/** Writes raw bits as a checkpoint (plus an extra tensor the loader must skip over). */
async function writeRaw(dir: string, dtype: Stored, raw: Map<string, Uint32Array | Uint16Array>) {
  const list: TensorToWrite[] = expectedTensors(CONFIG).map((s) => {
    const bits = raw.get(s.name)!;
    const data = bits instanceof Uint32Array ? new Float32Array(bits.buffer) : bits;
    return { name: s.name, dtype, shape: s.shape, data };
  });
  list.push({ name: "model.layers.0.zzz_extra", dtype, shape: [3], data: new Uint16Array(3) });
  if (dtype === "F32") list[list.length - 1].data = new Float32Array(3);
  await Deno.mkdir(dir, { recursive: true });
  await writeSafetensors(`${dir}/model.safetensors`, list, { format: "pt" });
  await writeJsonAtomic(`${dir}/config.json`, CONFIG);
}

/**
 * What the loader before streaming put on the GPU: the tensor as f32 values (one-value
 * conversions, stored through a Float32Array), then each value rounded to f16 for f16 matrices.
 */
function reference(bits: Uint32Array | Uint16Array, dtype: Stored, target: "f32" | "f16") {
  const n = bits.length;
  let f: Float32Array;
  if (dtype === "F32") f = new Float32Array(bits.slice().buffer);
  else if (dtype === "BF16") {
    const u = new Uint32Array(n);
    for (let i = 0; i < n; i++) u[i] = bits[i] << 16;
    f = new Float32Array(n);
    f.set(new Float32Array(u.buffer));
  } else {
    f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = f16BitsToF32(bits[i]);
  }
  if (target === "f32") return new Uint32Array(f.buffer);
  const h = new Uint16Array(n);
  for (let i = 0; i < n; i++) h[i] = f32ToF16Bits(f[i]);
  return h;
}

const isNaN32 = (u: number) => (u & 0x7fffffff) > 0x7f800000;
const isNaN16 = (h: number) => (h & 0x7fff) > 0x7c00;

for (const stored of ["F32", "F16", "BF16"] as const) {
  for (const matrices of ["f32", "f16"] as const) {
    Deno.test({
      name: `loadModel: ${stored} on disk, ${matrices} matrices: the GPU holds the reference bits`,
      ...opts,
      fn: async () => {
        const g = await gpu();
        const dir = await Deno.makeTempDir({ prefix: "golongrl_load_" });
        try {
          const raw = rawTensors(stored, 7);
          await writeRaw(dir, stored, raw);
          const { model, notes } = await loadModel(g, dir, { matrices });
          assert(notes.some((n) => n.includes("zzz_extra")), notes.join("; "));
          const rec = new Recorder(g, new BufferPool(g));
          const reads = model.weights.entries().map(({ name, tensor, n }) => {
            const bytes = n * (tensor.dtype === "f16" ? 2 : 4);
            return { name, tensor, n, p: rec.read(tensor.buffer, Math.ceil(bytes / 4) * 4) };
          });
          await rec.submit();
          let checked = 0, nans = 0;
          for (const { name, tensor, n, p } of reads) {
            const matrix = tensor.shape.length === 2;
            assertEquals(tensor.dtype, matrix ? matrices : "f32", name);
            const want = reference(raw.get(name)!, stored, tensor.dtype as "f32" | "f16");
            const buf = await p;
            const got = tensor.dtype === "f16"
              ? new Uint16Array(buf, 0, n)
              : new Uint32Array(buf, 0, n);
            const nan = tensor.dtype === "f16" ? isNaN16 : isNaN32;
            for (let i = 0; i < n; i++) {
              if (nan(want[i])) {
                // NaN payloads are not values; the old path canonicalised some of them.
                assert(nan(got[i]), `${name}[${i}]: want a NaN, got 0x${got[i].toString(16)}`);
                nans++;
              } else if (got[i] !== want[i]) {
                throw new Error(
                  `${name}[${i}] (${stored} 0x${raw.get(name)![i].toString(16)} -> ` +
                    `${tensor.dtype}): got 0x${got[i].toString(16)}, want 0x${
                      want[i].toString(16)
                    }`,
                );
              }
              checked++;
            }
            if (stored === "F16" && tensor.dtype === "f16") {
              // F16 kept as f16 is not converted at all: the file's bits, NaN payloads too.
              assertEquals([...got], [...raw.get(name)!], name);
            }
          }
          assertEquals(checked, expectedTensors(CONFIG).reduce((a, s) => a + numel(s.shape), 0));
          assert(nans > 0, "the edge values include NaNs");
          model.weights.destroy();
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    });
  }
}

Deno.test("streamTensors: bounded chunks, contiguous offsets, the same bytes as one chunk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "golongrl_load_" });
  try {
    for (const stored of ["F32", "F16", "BF16"] as const) {
      const raw = rawTensors(stored, 3);
      await writeRaw(dir, stored, raw);
      const set = await openSafetensorsDir(dir);
      for (const as of ["f32", "f16"] as const) {
        const specs = expectedTensors(CONFIG);
        const requests = specs.map((s) => ({ header: set.where.get(s.name)!, name: s.name, as }));
        const collect = async (chunkElems?: number) => {
          const outs = specs.map((s) => new Uint8Array(numel(s.shape) * 4 + 4));
          const next = specs.map(() => 0);
          await streamTensors(requests, (i, offset, bytes) => {
            assertEquals(offset, next[i], `${specs[i].name}: chunks in order, no gap`);
            assertEquals(bytes.length % 4, 0);
            if (chunkElems) assert(bytes.length <= chunkElems * 4, "a chunk is bounded");
            outs[i].set(bytes, offset);
            next[i] = offset + bytes.length;
          }, chunkElems ? { chunkElems } : {});
          specs.forEach((s, i) => {
            const want = numel(s.shape) * (as === "f32" ? 4 : 2);
            assertEquals(next[i], Math.ceil(want / 4) * 4, `${s.name}: every element delivered`);
          });
          return outs;
        };
        const whole = await collect();
        const small = await collect(6);
        specs.forEach((s, i) => assertEquals(small[i], whole[i], `${stored} ${as} ${s.name}`));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("streamTensors: a file cut short after its header was read names the file and tensor", async () => {
  const dir = await Deno.makeTempDir({ prefix: "golongrl_load_" });
  try {
    await writeRaw(dir, "F16", rawTensors("F16", 1));
    const path = `${dir}/model.safetensors`;
    const header = await readSafetensorsHeader(path);
    const last = [...header.tensors].sort((a, b) => b[1].end - a[1].end)[0];
    await Deno.truncate(path, header.dataStart + last[1].begin + 2);
    await assertRejects(
      () => streamTensors([{ header, name: last[0], as: "f32" }], () => {}, { chunkElems: 4 }),
      new RegExp(`model\\.safetensors: truncated file: tensor "${last[0]}" needs`),
    );
    await assertRejects(
      () => streamTensors([{ header, name: "nope", as: "f16" }], () => {}),
      /model\.safetensors: no tensor "nope"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
