/** Flash attention (forward, backward) and KV-cache kernels against f64 CPU references. */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { acquireGpu, type Gpu } from "../core/gpu/device.ts";
import { BufferPool } from "../core/gpu/pool.ts";
import { Recorder, storageBuffer, uploadBuffer } from "../core/gpu/recorder.ts";
import { mulberry32 } from "../core/rng.ts";
import {
  attentionBackward,
  attentionBackwardRef,
  attentionDecode,
  attentionDecodeRef,
  attentionForward,
  attentionForwardRef,
  attentionForwardRefF64,
  kvAppend,
} from "../kernels/attention.ts";
import { tileOverride } from "../kernels/attention_wgsl.ts";
import { laneOverride, laneShapeFor, simdLanes } from "../kernels/attention_lanes_wgsl.ts";

let shared: Gpu | undefined;
let sharedPool: BufferPool | undefined;
async function gpu(): Promise<Gpu> {
  return shared ??= await acquireGpu();
}
const opts = { sanitizeResources: false, sanitizeOps: false };
const rand = mulberry32(7);
const randArr = (n: number, amp = 1) =>
  Float32Array.from({ length: n }, () => (rand() * 2 - 1) * amp);

function maxRelDiff(got: Float32Array, want: ArrayLike<number>): number {
  assert(got.length === want.length, `length ${got.length} vs ${want.length}`);
  let m = 0, scale = 1e-6;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < got.length; i++) {
    assert(Number.isFinite(got[i]), `non-finite at ${i}`);
    m = Math.max(m, Math.abs(got[i] - want[i]));
  }
  return m / scale;
}

function starts(lengths: number[]): Uint32Array {
  const s = new Uint32Array(lengths.length + 1);
  lengths.forEach((l, i) => s[i + 1] = s[i] + l);
  return s;
}

interface Case {
  lengths: number[];
  hq: number;
  hkv: number;
  d: number;
}

async function runGpu(c: Case, backward: boolean) {
  const g = await gpu();
  const pool = sharedPool ??= new BufferPool(g);
  const ss = starts(c.lengths);
  const T = ss[ss.length - 1];
  const Q = randArr(T * c.hq * c.d, 2), K = randArr(T * c.hkv * c.d, 2);
  const V = randArr(T * c.hkv * c.d), DO = randArr(T * c.hq * c.d);
  const scale = 1 / Math.sqrt(c.d);
  const q = uploadBuffer(g, Q), k = uploadBuffer(g, K), v = uploadBuffer(g, V);
  const dOut = uploadBuffer(g, DO), seqStarts = uploadBuffer(g, ss);
  const out = storageBuffer(g, Q.byteLength), lse = storageBuffer(g, T * c.hq * 4);
  const dq = storageBuffer(g, Q.byteLength), dk = storageBuffer(g, K.byteLength);
  const dv = storageBuffer(g, K.byteLength);
  const rec = new Recorder(g, pool);
  const args = {
    q,
    k,
    v,
    out,
    lse,
    seqStarts,
    numSeqs: c.lengths.length,
    totalTokens: T,
    hq: c.hq,
    hkv: c.hkv,
    headDim: c.d,
    scale,
  };
  await attentionForward(g, rec, args);
  if (backward) await attentionBackward(g, rec, { ...args, dOut, dq, dk, dv });
  const reads = [out, lse, dq, dk, dv].map((b) =>
    rec.read(b, backward || b === out || b === lse ? b.size : 4)
  );
  await rec.submit();
  const [o, l, gq, gk, gv] = (await Promise.all(reads)).map((b) => new Float32Array(b));
  for (const b of [q, k, v, dOut, seqStarts, out, lse, dq, dk, dv]) b.destroy();
  return { Q, K, V, DO, ss, T, scale, o, l, gq, gk, gv };
}

const FWD_CASES: Case[] = [
  { lengths: [1, 3, 17, 33, 70], hq: 2, hkv: 2, d: 16 },
  { lengths: [70, 1, 33, 3, 17], hq: 4, hkv: 2, d: 32 },
  { lengths: [17, 70, 3], hq: 4, hkv: 1, d: 64 },
  { lengths: [33, 1, 40], hq: 2, hkv: 1, d: 128 },
  { lengths: [5, 9], hq: 3, hkv: 3, d: 20 },
];

for (const c of FWD_CASES) {
  Deno.test({
    name: `attention forward matches the reference: lengths ${c.lengths}, hq ${c.hq}, ` +
      `hkv ${c.hkv}, d ${c.d}`,
    ...opts,
    fn: async () => {
      const r = await runGpu(c, false);
      const ref = attentionForwardRef(r.Q, r.K, r.V, r.ss, c.hq, c.hkv, c.d, r.scale);
      const eo = maxRelDiff(r.o.subarray(0, ref.out.length), ref.out);
      const el = maxRelDiff(r.l.subarray(0, ref.lse.length), ref.lse);
      assert(eo < 2e-5 && el < 2e-5, `out ${eo}, lse ${el}`);
    },
  });
}

const BWD_CASES: Case[] = [
  { lengths: [1, 3, 17, 33, 70], hq: 2, hkv: 2, d: 16 },
  { lengths: [70, 1, 33, 3, 17], hq: 4, hkv: 2, d: 32 },
  { lengths: [17, 70, 3, 1], hq: 4, hkv: 1, d: 64 },
  { lengths: [33, 40], hq: 2, hkv: 1, d: 128 },
];

for (const c of BWD_CASES) {
  Deno.test({
    name: `attention backward matches the reference: lengths ${c.lengths}, hq ${c.hq}, ` +
      `hkv ${c.hkv}, d ${c.d}`,
    ...opts,
    fn: async () => {
      const r = await runGpu(c, true);
      const ref = attentionBackwardRef(r.Q, r.K, r.V, r.DO, r.ss, c.hq, c.hkv, c.d, r.scale);
      const eq = maxRelDiff(r.gq.subarray(0, ref.dq.length), ref.dq);
      const ek = maxRelDiff(r.gk.subarray(0, ref.dk.length), ref.dk);
      const ev = maxRelDiff(r.gv.subarray(0, ref.dv.length), ref.dv);
      assert(eq < 1e-4 && ek < 1e-4 && ev < 1e-4, `dq ${eq}, dk ${ek}, dv ${ev}`);
    },
  });
}

Deno.test({
  name: "attention backward matches central finite differences of the f64 reference",
  ...opts,
  fn: async () => {
    const c: Case = { lengths: [3, 5], hq: 2, hkv: 1, d: 8 };
    const r = await runGpu(c, true);
    const loss = (q: Float64Array, k: Float64Array, v: Float64Array) => {
      const { out } = attentionForwardRefF64(q, k, v, r.ss, c.hq, c.hkv, c.d, r.scale);
      let s = 0;
      for (let i = 0; i < out.length; i++) s += out[i] * r.DO[i];
      return s;
    };
    const inputs = [Float64Array.from(r.Q), Float64Array.from(r.K), Float64Array.from(r.V)];
    const grads = [r.gq, r.gk, r.gv];
    const eps = 1e-5;
    for (let which = 0; which < 3; which++) {
      const x = inputs[which];
      for (let i = 0; i < x.length; i++) {
        const x0 = x[i];
        x[i] = x0 + eps;
        const up = loss(inputs[0], inputs[1], inputs[2]);
        x[i] = x0 - eps;
        const down = loss(inputs[0], inputs[1], inputs[2]);
        x[i] = x0;
        const fd = (up - down) / (2 * eps);
        const got = grads[which][i];
        assert(
          Math.abs(got - fd) < 1e-4 + 1e-3 * Math.abs(fd),
          `input ${which}[${i}]: ${got} vs ${fd}`,
        );
      }
    }
  },
});

Deno.test({
  name: "attention with the 64-thread tiles real GPUs choose matches the reference",
  ...opts,
  fn: async () => {
    // lavapipe picks the lane kernels; force the tiled ones, with the wide tiles, so the
    // hardware path is checked here too.
    Object.assign(laneOverride, { fwd: "tiles", dq: "tiles", dkdv: "tiles" });
    Object.assign(tileOverride, {
      fwd: { bq: 16, bk: 64 },
      dq: { bq: 16, bk: 64 },
      dkdv: { bq: 32, bk: 32 },
    });
    try {
      for (const c of [BWD_CASES[0], BWD_CASES[1]]) {
        const r = await runGpu(c, true);
        const f = attentionForwardRef(r.Q, r.K, r.V, r.ss, c.hq, c.hkv, c.d, r.scale);
        const b = attentionBackwardRef(r.Q, r.K, r.V, r.DO, r.ss, c.hq, c.hkv, c.d, r.scale);
        const errs = [
          maxRelDiff(r.o.subarray(0, f.out.length), f.out),
          maxRelDiff(r.gq.subarray(0, b.dq.length), b.dq),
          maxRelDiff(r.gk.subarray(0, b.dk.length), b.dk),
          maxRelDiff(r.gv.subarray(0, b.dv.length), b.dv),
        ];
        assert(errs.every((e) => e < 1e-4), `d ${c.d}: out, dq, dk, dv errors ${errs}`);
      }
    } finally {
      for (const k of ["fwd", "dq", "dkdv"] as const) {
        delete tileOverride[k];
        delete laneOverride[k];
      }
    }
  },
});

// Lane kernels: a lane owns rows of several heads (rh) and tokens (rt); these shapes put
// sequence starts and ends on and off the workgroup's row span (8 lanes x rt), cover group
// ratios 3 and 8 (two head blocks per kv head), one-token sequences and d 64 / 128.
const LANE_CASES: Case[] = [
  { lengths: [32, 1, 31, 33, 8], hq: 6, hkv: 2, d: 64 },
  { lengths: [16, 17, 1, 15], hq: 8, hkv: 1, d: 16 },
  { lengths: [9, 32, 24], hq: 2, hkv: 2, d: 128 },
];

for (const c of LANE_CASES) {
  Deno.test({
    name: `attention lane kernels at tile edges: lengths ${c.lengths}, hq ${c.hq}, hkv ${c.hkv}, ` +
      `d ${c.d}`,
    ...opts,
    fn: async () => {
      const r = await runGpu(c, true);
      const f = attentionForwardRef(r.Q, r.K, r.V, r.ss, c.hq, c.hkv, c.d, r.scale);
      const b = attentionBackwardRef(r.Q, r.K, r.V, r.DO, r.ss, c.hq, c.hkv, c.d, r.scale);
      const errs = [
        maxRelDiff(r.o.subarray(0, f.out.length), f.out),
        maxRelDiff(r.l.subarray(0, f.lse.length), f.lse),
        maxRelDiff(r.gq.subarray(0, b.dq.length), b.dq),
        maxRelDiff(r.gk.subarray(0, b.dk.length), b.dk),
        maxRelDiff(r.gv.subarray(0, b.dv.length), b.dv),
      ];
      assert(errs.every((e) => e < 1e-4), `out, lse, dq, dk, dv errors ${errs}`);
    },
  });
}

Deno.test({
  name: "attention lane shapes follow the adapter's SIMD width and the group ratio",
  fn: () => {
    assert(simdLanes("llvmpipe (LLVM 15.0.6, 256 bits)") === 8, "256-bit llvmpipe: 8 lanes");
    assert(simdLanes("llvmpipe (LLVM 17.0.6, 512 bits)") === 16, "512-bit llvmpipe: 16 lanes");
    assert(simdLanes("llvmpipe (LLVM 12, 128 bits)") === 4, "128-bit llvmpipe: 4 lanes");
    const desc = "llvmpipe (LLVM 15.0.6, 256 bits)";
    assert(laneShapeFor("fwd", 16, 4, desc, false) === undefined, "hardware GPUs take tiles");
    // 8 rows per lane at d 64 (one key per block): the 3 heads of a group, 2 tokens each.
    const s = laneShapeFor("fwd", 16, 3, desc, true)!;
    assert(s.wg === 8 && s.rh === 3 && s.rt === 2 && s.bk === 1, `ratio 3: ${JSON.stringify(s)}`);
    const m = laneShapeFor("dq", 16, 1, desc, true)!;
    assert(m.rh === 1 && m.rt === 8, `MHA: tokens per lane ${JSON.stringify(m)}`);
    const k = laneShapeFor("dkdv", 16, 4, desc, true)!;
    assert(k.rh === 1 && k.rt === 8 && k.bk === 1, `key rows per lane ${JSON.stringify(k)}`);
    // Rows shrink as d grows, keeping the unrolled body (rows x d) the size LLVM compiles fast;
    // the forward's smaller body gets twice the budget.
    const q = laneShapeFor("fwd", 32, 2, desc, true)!;
    assert(q.rh * q.rt === 8, `forward, d 128: 8 rows per lane: ${JSON.stringify(q)}`);
    const qd = laneShapeFor("dq", 32, 2, desc, true)!;
    assert(qd.rh * qd.rt === 4, `dQ, d 128: 4 rows per lane: ${JSON.stringify(qd)}`);
    const w = laneShapeFor("fwd", 64, 2, desc, true)!;
    assert(w.rh * w.rt === 4, `forward, d 256: 4 rows per lane: ${JSON.stringify(w)}`);
    assertEquals(laneShapeFor("dkdv", 64, 2, desc, true)!.rt, 2);
    // Decode: a lane's rows are heads of one sequence's kv group, half as many (two keys a block).
    const dec = laneShapeFor("decode", 32, 2, desc, true)!;
    assert(dec.rt === 1 && dec.rh === 2 && dec.wg === 4, `decode ${JSON.stringify(dec)}`);
  },
});

/** Writes caches with kvAppend, then decodes; returns GPU and reference outputs. */
async function decodeCase(
  hq: number,
  hkv: number,
  d: number,
  maxLen: number,
  slotsN: number,
  info: number[][],
  rolloutsPerPrompt?: number,
) {
  const g = await gpu();
  const pool = sharedPool ??= new BufferPool(g);
  // Fill every (slot, row) through kvAppend so the append path is exercised too.
  const tokens = slotsN * maxLen;
  const Kt = randArr(tokens * hkv * d, 2), Vt = randArr(tokens * hkv * d);
  const slots = new Uint32Array(tokens), pos = new Uint32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    slots[t] = Math.floor(t / maxLen);
    pos[t] = t % maxLen;
  }
  const cacheLen = slotsN * hkv * maxLen * d;
  const kCache = storageBuffer(g, cacheLen * 4), vCache = storageBuffer(g, cacheLen * 4);
  const B = info.length;
  const Q = randArr(B * hq * d, 2);
  const seqInfo = Uint32Array.from(info.flat());
  const q = uploadBuffer(g, Q), out = storageBuffer(g, Q.byteLength);
  const bufs = [
    uploadBuffer(g, Kt),
    uploadBuffer(g, Vt),
    uploadBuffer(g, slots),
    uploadBuffer(g, pos),
  ];
  const si = uploadBuffer(g, seqInfo);
  const rec = new Recorder(g, pool);
  await kvAppend(g, rec, {
    k: bufs[0],
    v: bufs[1],
    kCache,
    vCache,
    slots: bufs[2],
    positions: bufs[3],
    tokens,
    hkv,
    headDim: d,
    maxLen,
  });
  const scale = 1 / Math.sqrt(d);
  await attentionDecode(g, rec, {
    q,
    kCache,
    vCache,
    out,
    seqInfo: si,
    batch: B,
    hq,
    hkv,
    headDim: d,
    maxLen,
    scale,
    rolloutsPerPrompt,
  });
  const ro = rec.read(out), rk = rec.read(kCache);
  await rec.submit();
  const got = new Float32Array(await ro), kc = new Float32Array(await rk);
  // The cache layout [slot, hkv, maxLen, d] holds token (slot, pos) of [tokens, hkv, d].
  const Kc = new Float32Array(cacheLen), Vc = new Float32Array(cacheLen);
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < hkv; h++) {
      const dst = ((slots[t] * hkv + h) * maxLen + pos[t]) * d, src = (t * hkv + h) * d;
      Kc.set(Kt.subarray(src, src + d), dst);
      Vc.set(Vt.subarray(src, src + d), dst);
    }
  }
  assert(maxRelDiff(kc.subarray(0, cacheLen), Kc) === 0, "kvAppend placed rows exactly");
  for (const b of [kCache, vCache, q, out, si, ...bufs]) b.destroy();
  const want = attentionDecodeRef(Q, Kc, Vc, seqInfo, B, hq, hkv, d, maxLen, scale);
  return { got: got.subarray(0, want.length), want };
}

// Both decode kernels: the lanes (CPU adapters, chosen here) and the tiles (hardware GPUs).
for (const kernel of ["lanes", "tiles"] as const) {
  Deno.test({
    name: `decode (${kernel}) matches the reference with shared prefixes and prefixLen 0`,
    ...opts,
    fn: async () => {
      if (kernel === "tiles") laneOverride.decode = "tiles";
      try {
        // Group ratios 1-6 (a lane owns up to 4 heads; at d 128 two lanes split a group of 6),
        // d 16-128; 6 sequences with 2 to 4 lanes each cross workgroups of 4 lanes.
        const shapes = [[4, 2, 32], [8, 2, 64], [3, 3, 16], [2, 1, 128], [6, 1, 128], [3, 1, 64]];
        for (const [hq, hkv, d] of shapes) {
          const maxLen = 80;
          const info = [
            [0, 70, 1, 5], // prompt slot 0 shared by two rollouts (slots 1 and 2)
            [0, 70, 2, 1],
            [3, 0, 4, 77], // no prefix
            [3, 17, 5, 1],
            [6, 1, 7, 0], // one key in all: the prefix's
            [6, 33, 8, 2],
          ];
          const { got, want } = await decodeCase(hq, hkv, d, maxLen, 9, info);
          const e = maxRelDiff(got, want);
          assert(e < 2e-5, `hq ${hq} hkv ${hkv} d ${d}: ${e}`);
        }
      } finally {
        delete laneOverride.decode;
      }
    },
  });
}

Deno.test({
  name: "decode with rollouts sharing their prompt's prefix (read once per lane) matches",
  ...opts,
  fn: async () => {
    // 2 prompts x n rollouts: prefix slots 0 and 1, rollout b's own slot 2 + b. Own lengths
    // differ between rollouts (0 included), as the kernel allows. The lanes take up to 4
    // rollouts of a prompt each (d 16 and 32), 2 (d 128) or 3 (n = 3).
    const cases = [[4, 2, 32], [2, 1, 128], [8, 2, 64], [3, 3, 16]];
    for (const n of [4, 3]) {
      // n = 3 (3 rollouts per lane, or 1 where only 2 fit) on the shapes that compile fast.
      for (const [hq, hkv, d] of n === 4 ? cases : [cases[0], cases[3]]) {
        const prefix = [70, 33];
        const info = Array.from({ length: 2 * n }, (_, b) => {
          const p = Math.floor(b / n);
          return [p, prefix[p], 2 + b, [5, 1, 0, 9][b % 4]];
        });
        const { got, want } = await decodeCase(hq, hkv, d, 80, 2 + 2 * n, info, n);
        const e = maxRelDiff(got, want);
        assert(e < 2e-5, `n ${n} hq ${hq} hkv ${hkv} d ${d}: ${e}`);
      }
    }
    // Lanes group the rollouts of one prompt only when told how many there are.
    const desc = "llvmpipe (LLVM 15.0.6, 256 bits)";
    assertEquals(laneShapeFor("decode", 8, 2, desc, true, 4)!.rt, 4);
    assertEquals(laneShapeFor("decode", 8, 2, desc, true)!.rt, 1);
  },
});

Deno.test({
  name: "kvAppend then decode equals the last row of a full causal forward",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const pool = sharedPool ??= new BufferPool(g);
    const hq = 4, hkv = 2, d = 32, maxLen = 64, scale = 1 / Math.sqrt(d);
    const P = 23, N = 9; // prompt tokens, then generated tokens one at a time
    const T = P + N;
    const Q = randArr(T * hq * d, 2), K = randArr(T * hkv * d, 2), V = randArr(T * hkv * d);
    const full = attentionForwardRef(Q, K, V, [0, T], hq, hkv, d, scale).out;
    // GPU forward over the same tokens too, for the identity on the GPU side.
    const q = uploadBuffer(g, Q), k = uploadBuffer(g, K), v = uploadBuffer(g, V);
    const ss = uploadBuffer(g, new Uint32Array([0, T]));
    const out = storageBuffer(g, Q.byteLength), lse = storageBuffer(g, T * hq * 4);
    const kCache = storageBuffer(g, 3 * hkv * maxLen * d * 4);
    const vCache = storageBuffer(g, 3 * hkv * maxLen * d * 4);
    const rowBytes = hkv * d * 4;
    const outs: Promise<ArrayBuffer>[] = [];
    const temps: GPUBuffer[] = [];
    const rec = new Recorder(g, pool);
    await attentionForward(g, rec, {
      q,
      k,
      v,
      out,
      lse,
      seqStarts: ss,
      numSeqs: 1,
      totalTokens: T,
      hq,
      hkv,
      headDim: d,
      scale,
    });
    const fwdOut = rec.read(out);
    // Prompt into slot 1 (prefill append), generated tokens into slot 2 one by one.
    const up = (a: Uint32Array) => {
      const b = uploadBuffer(g, a);
      temps.push(b);
      return b;
    };
    await kvAppend(g, rec, {
      k,
      v,
      kCache,
      vCache,
      slots: up(new Uint32Array(P).fill(1)),
      positions: up(Uint32Array.from({ length: P }, (_, i) => i)),
      tokens: P,
      hkv,
      headDim: d,
      maxLen,
    });
    for (let n = 0; n < N; n++) {
      const t = P + n;
      // Views at a token's row need 256-byte alignment: copy the row to its own buffer.
      const kr = storageBuffer(g, rowBytes), vr = storageBuffer(g, rowBytes);
      const qr = storageBuffer(g, hq * d * 4), o = storageBuffer(g, hq * d * 4);
      temps.push(kr, vr, qr, o);
      rec.copy(k, t * rowBytes, kr, 0, rowBytes);
      rec.copy(v, t * rowBytes, vr, 0, rowBytes);
      rec.copy(q, t * hq * d * 4, qr, 0, hq * d * 4);
      await kvAppend(g, rec, {
        k: kr,
        v: vr,
        kCache,
        vCache,
        slots: up(new Uint32Array([2])),
        positions: up(new Uint32Array([n])),
        tokens: 1,
        hkv,
        headDim: d,
        maxLen,
      });
      await attentionDecode(g, rec, {
        q: qr,
        kCache,
        vCache,
        out: o,
        seqInfo: up(new Uint32Array([1, P, 2, n + 1])),
        batch: 1,
        hq,
        hkv,
        headDim: d,
        maxLen,
        scale,
      });
      outs.push(rec.read(o));
    }
    await rec.submit();
    const gpuFull = new Float32Array(await fwdOut);
    for (let n = 0; n < N; n++) {
      const t = P + n, row = full.subarray(t * hq * d, (t + 1) * hq * d);
      const got = new Float32Array(await outs[n]);
      const e1 = maxRelDiff(got, row);
      const e2 = maxRelDiff(got, gpuFull.subarray(t * hq * d, (t + 1) * hq * d));
      assert(e1 < 2e-5 && e2 < 2e-5, `token ${t}: vs reference ${e1}, vs GPU forward ${e2}`);
    }
    for (const b of [q, k, v, ss, out, lse, kCache, vCache, ...temps]) b.destroy();
  },
});

Deno.test({
  name: "attention refuses bad shapes and oversized bindings by name",
  ...opts,
  fn: async () => {
    const g = await gpu();
    const rec = new Recorder(g, sharedPool ??= new BufferPool(g));
    const b = storageBuffer(g, 1024);
    const base = {
      q: b,
      k: b,
      v: b,
      out: b,
      lse: b,
      seqStarts: b,
      numSeqs: 1,
      totalTokens: 2,
      hq: 3,
      hkv: 2,
      headDim: 16,
      scale: 1,
    };
    await assertRejects(() => attentionForward(g, rec, base), /multiple of hkv/);
    await assertRejects(
      () => attentionForward(g, rec, { ...base, hq: 2, headDim: 18 }),
      /headDim 18/,
    );
    const big = { buffer: b, size: 1 << 30 } as unknown as GPUBuffer;
    await assertRejects(
      () => attentionForward(g, rec, { ...base, q: big, hq: 2, totalTokens: 1 << 20 }),
      /maxStorageBufferBindingSize|holds/,
    );
    b.destroy();
  },
});
