/** The safetensors reader/writer: round trips, dtype conversions, and every malformed-file error. */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import {
  bf16BitsToF32,
  buildHeader,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  openSafetensorsDir,
  readSafetensorsHeader,
  readTensor,
  writeSafetensors,
} from "../engine/safetensors.ts";
import {
  bf16ToF16Into,
  bf16ToF32Into,
  f16ToF32Into,
  f32ToBf16Into,
  f32ToF16Into,
} from "../engine/float_convert.ts";
import { mulberry32 } from "../core/rng.ts";

const tmp = () => Deno.makeTempDir({ prefix: "golongrl_st_" });

/** A raw file: 8-byte length + JSON header + data bytes. */
function rawFile(header: unknown, data: Uint8Array, lenOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("safetensors: F32/F16/BF16 round trip, sorted names, space-padded header, metadata", async () => {
  const dir = await tmp();
  const path = `${dir}/x.safetensors`;
  const a = new Float32Array([1, -2.5, 3.25, 0, 1e-3, 65504]);
  await writeSafetensors(path, [
    { name: "zeta", dtype: "F32", shape: [2, 3], data: a },
    { name: "alpha", dtype: "F16", shape: [6], data: a },
    { name: "mid", dtype: "BF16", shape: [3, 2], data: a },
    { name: "empty", dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
  ], { format: "pt" });
  const bytes = await Deno.readFile(path);
  const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assertEquals(len % 8, 0);
  const json = new TextDecoder().decode(bytes.subarray(8, 8 + len));
  assert(/ *$/.test(json));
  const parsed = JSON.parse(json);
  assertEquals(parsed.__metadata__, { format: "pt" });
  // Data laid out in sorted-name order.
  assertEquals(parsed.alpha.data_offsets, [0, 12]);
  assertEquals(parsed.empty.data_offsets, [12, 12]);
  assertEquals(parsed.mid.data_offsets, [12, 24]);
  assertEquals(parsed.zeta.data_offsets, [24, 48]);

  const h = await readSafetensorsHeader(path);
  assertEquals(h.metadata, { format: "pt" });
  assertEquals([...h.tensors.keys()].sort(), ["alpha", "empty", "mid", "zeta"]);
  assertEquals([...await readTensor(path, h, "zeta")], [...a]);
  assertEquals((await readTensor(path, h, "empty")).length, 0);
  const f16 = await readTensor(path, h, "alpha");
  for (let i = 0; i < a.length; i++) assertEquals(f16[i], f16BitsToF32(f32ToF16Bits(a[i])));
  const bf = await readTensor(path, h, "mid");
  for (let i = 0; i < a.length; i++) assertEquals(bf[i], bf16BitsToF32(f32ToBf16Bits(a[i])));
  // as: "f16" keeps F16 bits as stored, and rounds F32 the same way.
  const bits = await readTensor(path, h, "alpha", { as: "f16" });
  assert(bits instanceof Uint16Array);
  assertEquals([...bits], [...a].map(f32ToF16Bits));
  assertEquals([...await readTensor(path, h, "zeta", { as: "f16" })], [...bits]);
  // No temporary files left behind.
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["x.safetensors"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: F64 and integer tensors read as f64 exactly, as f32 and f16 rounded", async () => {
  const dir = await tmp();
  const path = `${dir}/i.safetensors`;
  const i32 = new Int32Array([16777217, -3]), i64 = new BigInt64Array([2n ** 53n - 1n, -7n]);
  const f64 = new Float64Array([0.1, -1e300]), u8 = new Uint8Array([255, 0, 0, 0, 0, 0, 0, 0]);
  const parts = [i32, i64, f64, u8].map((a) => new Uint8Array(a.buffer));
  let off = 0;
  const header: Record<string, unknown> = {};
  for (
    const [name, dtype, shape, p] of [
      ["a", "I32", [2], parts[0]],
      ["b", "I64", [2], parts[1]],
      ["c", "F64", [2], parts[2]],
      ["d", "U8", [8], parts[3]],
    ] as const
  ) {
    header[name] = { dtype, shape, data_offsets: [off, off + p.length] };
    off += p.length;
  }
  const data = new Uint8Array(off);
  parts.reduce((at, p) => (data.set(p, at), at + p.length), 0);
  await Deno.writeFile(path, rawFile(header, data));
  const h = await readSafetensorsHeader(path);
  assertEquals([...await readTensor(path, h, "a", { as: "f64" })], [16777217, -3]);
  assertEquals([...await readTensor(path, h, "b", { as: "f64" })], [2 ** 53 - 1, -7]);
  assertEquals([...await readTensor(path, h, "c", { as: "f64" })], [0.1, -1e300]);
  assertEquals([...await readTensor(path, h, "d", { as: "f64" })], [255, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals([...await readTensor(path, h, "a")], [16777216, -3]);
  assertEquals([...await readTensor(path, h, "c")], [Math.fround(0.1), -Infinity]);
  assertEquals([...await readTensor(path, h, "a", { as: "f16" })], [0x7c00, 0xc200]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: Uint16Array data is written as raw F16/BF16 bits", async () => {
  const dir = await tmp();
  const path = `${dir}/b.safetensors`;
  const bits = new Uint16Array([0x3f80, 0xc000, 0x0000, 0x7f80]); // bf16: 1, -2, 0, inf
  await writeSafetensors(path, [{ name: "w", dtype: "BF16", shape: [4], data: bits }]);
  const h = await readSafetensorsHeader(path);
  assertEquals([...await readTensor(path, h, "w")], [1, -2, 0, Infinity]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: float16 and bfloat16 rounding is round-to-nearest-even", () => {
  assertEquals(f32ToF16Bits(1), 0x3c00);
  assertEquals(f32ToF16Bits(-2), 0xc000);
  assertEquals(f32ToF16Bits(65504), 0x7bff);
  assertEquals(f32ToF16Bits(65520), 0x7c00); // rounds up to infinity
  assertEquals(f32ToF16Bits(2 ** -24), 0x0001); // smallest subnormal
  assertEquals(f32ToF16Bits(2 ** -25), 0x0000); // tie to even (zero)
  assertEquals(f32ToF16Bits(3 * 2 ** -25), 0x0002); // tie to even (2)
  assertEquals(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie, even stays
  assertEquals(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie, odd rounds up
  assert(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))));
  for (const x of [0.1, -3.14159, 1e-5, 6e-8, 12345.678]) {
    const back = f16BitsToF32(f32ToF16Bits(x));
    assert(Math.abs(back - x) <= Math.abs(x) * 2 ** -11 + 2 ** -25, `${x} -> ${back}`);
  }
  assertEquals(f32ToBf16Bits(1), 0x3f80);
  assertEquals(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie to even
  assertEquals(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
  assertEquals(f32ToBf16Bits(-Infinity), 0xff80);
  assert(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
});

Deno.test("bulk conversions give the one-value conversions' bits, at every exponent", () => {
  // Every f32 exponent, both signs, and mantissas at and around the f16 and bf16 rounding
  // points (ties, carries into the exponent, the subnormal shifts), plus random ones.
  const rand = mulberry32(5);
  const mans = [0, 1, 0xfff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001];
  mans.push(0x18000, 0x7fe000, 0x7ff000, 0x7fffff, 0x400000, 0x3fffff);
  const bits: number[] = [];
  for (let e = 0; e < 256; e++) {
    for (const sign of [0, 0x80000000]) {
      for (const m of mans) bits.push((sign | (e << 23) | m) >>> 0);
      for (let k = 0; k < 16; k++) bits.push((sign | (e << 23) | (rand() * 0x800000)) >>> 0);
    }
  }
  const src = new Uint32Array(bits), f = new Float32Array(src.buffer);
  const h = new Uint16Array(src.length), b = new Uint16Array(src.length);
  f32ToF16Into(src, h);
  f32ToBf16Into(src, b);
  for (let i = 0; i < src.length; i++) {
    const x = `0x${src[i].toString(16)}`;
    if (Number.isNaN(f[i])) {
      assert(Number.isNaN(f16BitsToF32(h[i])) && Number.isNaN(bf16BitsToF32(b[i])), x);
      continue;
    }
    assertEquals(h[i], f32ToF16Bits(f[i]), `f16 of ${x}`);
    assertEquals(b[i], f32ToBf16Bits(f[i]), `bf16 of ${x}`);
  }
  // 16-bit sources: all 65536 patterns.
  const all = new Uint16Array(65536).map((_, i) => i);
  const w = new Uint32Array(65536), wf = new Float32Array(w.buffer), h2 = new Uint16Array(65536);
  for (
    const [what, bulk, one] of [
      ["f16", f16ToF32Into, f16BitsToF32],
      ["bf16", bf16ToF32Into, bf16BitsToF32],
    ] as const
  ) {
    bulk(all, w);
    for (let i = 0; i < 65536; i++) {
      const v = one(i);
      const same = Object.is(wf[i], v) || (Number.isNaN(wf[i]) && Number.isNaN(v));
      assert(same, `${what} 0x${i.toString(16)}`);
    }
  }
  bf16ToF16Into(all, h2);
  for (let i = 0; i < 65536; i++) {
    const v = bf16BitsToF32(i);
    if (Number.isNaN(v)) assert(Number.isNaN(f16BitsToF32(h2[i])), `bf16 0x${i.toString(16)}`);
    else assertEquals(h2[i], f32ToF16Bits(v), `bf16 0x${i.toString(16)} -> f16`);
  }
});

Deno.test("safetensors: sharded folders through model.safetensors.index.json", async () => {
  const dir = await tmp();
  await writeSafetensors(`${dir}/model-00001-of-00002.safetensors`, [
    { name: "a", dtype: "F32", shape: [2], data: new Float32Array([1, 2]) },
  ]);
  await writeSafetensors(`${dir}/model-00002-of-00002.safetensors`, [
    { name: "b", dtype: "F32", shape: [1], data: new Float32Array([3]) },
  ]);
  await Deno.writeTextFile(
    `${dir}/model.safetensors.index.json`,
    JSON.stringify({
      metadata: { total_size: 12 },
      weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" },
    }),
  );
  const set = await openSafetensorsDir(dir);
  assertEquals(set.files.size, 2);
  const hb = set.where.get("b")!;
  assertEquals([...await readTensor(hb.path, hb, "b")], [3]);
  // An index pointing at the wrong shard is an error naming the tensor.
  await Deno.writeTextFile(
    `${dir}/model.safetensors.index.json`,
    JSON.stringify({ weight_map: { a: "model-00002-of-00002.safetensors" } }),
  );
  await assertRejects(() => openSafetensorsDir(dir), /index\.json.*"a" is in model-00002/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: malformed files give errors naming the file and tensor", async () => {
  const dir = await tmp();
  const p = (n: string) => `${dir}/${n}.safetensors`;
  const f32 = (n: number) => new Uint8Array(n * 4);
  const cases: [string, Uint8Array, RegExp][] = [
    ["short", new Uint8Array(5), /short\.safetensors: truncated file: 5 bytes/],
    [
      "hlen",
      rawFile({ w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(1), 10_000n),
      /hlen\.safetensors: header length 10000 is beyond the file size/,
    ],
    [
      "json",
      rawFile('{"w": {"dtype": "F32",', new Uint8Array(0)),
      /json\.safetensors: invalid header JSON/,
    ],
    [
      "dtype",
      rawFile({ w: { dtype: "Q4", shape: [1], data_offsets: [0, 4] } }, f32(1)),
      /dtype\.safetensors: tensor "w": unknown dtype "Q4"/,
    ],
    [
      "trunc",
      rawFile({ w: { dtype: "F32", shape: [8], data_offsets: [0, 32] } }, f32(3)),
      /trunc\.safetensors: tensor "w": data_offsets \[0, 32\] run past the data section \(12 bytes\)/,
    ],
    [
      "size",
      rawFile({ w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 16] } }, f32(4)),
      /size\.safetensors: tensor "w": .*hold 16 bytes but F32 \[2, 3\] needs 24/,
    ],
    [
      "shape",
      rawFile({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, f32(1)),
      /shape\.safetensors: tensor "w": shape \[-1\]/,
    ],
    [
      "offs",
      rawFile({ w: { dtype: "F32", shape: [1], data_offsets: [8, 4] } }, f32(4)),
      /offs\.safetensors: tensor "w": data_offsets \[8,4\]/,
    ],
  ];
  for (const [name, bytes, re] of cases) {
    await Deno.writeFile(p(name), bytes);
    await assertRejects(() => readSafetensorsHeader(p(name)), re, name);
  }
  await assertRejects(
    () => readSafetensorsHeader(p("missing")),
    /missing\.safetensors: cannot open/,
  );
  // A file cut short after its header was read: the tensor read names file and tensor.
  const good = p("good");
  await writeSafetensors(good, [{
    name: "w",
    dtype: "F32",
    shape: [4],
    data: new Float32Array(4),
  }]);
  const h = await readSafetensorsHeader(good);
  await Deno.truncate(good, h.dataStart + 8);
  await assertRejects(
    () => readTensor(good, h, "w"),
    /good\.safetensors: truncated file: tensor "w"/,
  );
  await assertRejects(() => readTensor(good, h, "nope"), /good\.safetensors: no tensor "nope"/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: the writer rejects wrong sizes and duplicate names", () => {
  let threw = false;
  try {
    buildHeader([
      { name: "a", dtype: "F32", shape: [1], data: new Float32Array(1) },
      { name: "a", dtype: "F32", shape: [1], data: new Float32Array(1) },
    ]);
  } catch (e) {
    threw = /given twice/.test((e as Error).message);
  }
  assert(threw);
});

Deno.test("safetensors: a wrong value count is rejected before anything is written", async () => {
  const dir = await tmp();
  await assertRejects(
    () =>
      writeSafetensors(`${dir}/w.safetensors`, [
        { name: "w", dtype: "F32", shape: [2, 2], data: new Float32Array(3) },
      ]),
    /tensor "w": 3 values but shape \[2, 2\] needs 4/,
  );
  assertEquals([...Deno.readDirSync(dir)].length, 0);
  await Deno.remove(dir, { recursive: true });
});
