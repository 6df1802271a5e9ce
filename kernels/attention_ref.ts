/**
 * CPU references for causal grouped-query attention over packed sequences and for cached
 * single-token decode, accumulating in f64. Layouts match the GPU kernels: q [T, hq, d],
 * k and v [T, hkv, d], caches [slots, hkv, maxLen, d].
 */

type Arr = ArrayLike<number>;

/** Forward in f64: out [T, hq, d] and lse [T, hq] (natural log of the softmax denominator). */
export function attentionForwardRefF64(
  q: Arr,
  k: Arr,
  v: Arr,
  seqStarts: Arr,
  hq: number,
  hkv: number,
  d: number,
  scale: number,
): { out: Float64Array; lse: Float64Array } {
  const T = seqStarts[seqStarts.length - 1];
  const ratio = hq / hkv;
  const out = new Float64Array(T * hq * d);
  const lse = new Float64Array(T * hq);
  const s = new Float64Array(T);
  for (let si = 0; si + 1 < seqStarts.length; si++) {
    const start = seqStarts[si];
    for (let i = start; i < seqStarts[si + 1]; i++) {
      for (let h = 0; h < hq; h++) {
        const g = Math.floor(h / ratio);
        const qo = (i * hq + h) * d;
        let m = -Infinity;
        for (let j = start; j <= i; j++) {
          const ko = (j * hkv + g) * d;
          let dot = 0;
          for (let x = 0; x < d; x++) dot += q[qo + x] * k[ko + x];
          s[j] = dot * scale;
          m = Math.max(m, s[j]);
        }
        let l = 0;
        for (let j = start; j <= i; j++) {
          s[j] = Math.exp(s[j] - m);
          l += s[j];
        }
        for (let j = start; j <= i; j++) {
          const w = s[j] / l, vo = (j * hkv + g) * d;
          for (let x = 0; x < d; x++) out[qo + x] += w * v[vo + x];
        }
        lse[i * hq + h] = m + Math.log(l);
      }
    }
  }
  return { out, lse };
}

/** Forward reference: out [T, hq, d] and lse [T, hq] as f32. */
export function attentionForwardRef(
  q: Arr,
  k: Arr,
  v: Arr,
  seqStarts: Arr,
  hq: number,
  hkv: number,
  d: number,
  scale: number,
): { out: Float32Array; lse: Float32Array } {
  const r = attentionForwardRefF64(q, k, v, seqStarts, hq, hkv, d, scale);
  return { out: Float32Array.from(r.out), lse: Float32Array.from(r.lse) };
}

/** Backward reference: gradients of sum(dOut ∘ out) with respect to q, k and v. */
export function attentionBackwardRef(
  q: Arr,
  k: Arr,
  v: Arr,
  dOut: Arr,
  seqStarts: Arr,
  hq: number,
  hkv: number,
  d: number,
  scale: number,
): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  const T = seqStarts[seqStarts.length - 1];
  const ratio = hq / hkv;
  const { out, lse } = attentionForwardRefF64(q, k, v, seqStarts, hq, hkv, d, scale);
  const dq = new Float64Array(T * hq * d);
  const dk = new Float64Array(T * hkv * d);
  const dv = new Float64Array(T * hkv * d);
  for (let si = 0; si + 1 < seqStarts.length; si++) {
    const start = seqStarts[si];
    for (let i = start; i < seqStarts[si + 1]; i++) {
      for (let h = 0; h < hq; h++) {
        const g = Math.floor(h / ratio);
        const qo = (i * hq + h) * d;
        let delta = 0;
        for (let x = 0; x < d; x++) delta += dOut[qo + x] * out[qo + x];
        for (let j = start; j <= i; j++) {
          const ko = (j * hkv + g) * d;
          let dot = 0, dp = 0;
          for (let x = 0; x < d; x++) {
            dot += q[qo + x] * k[ko + x];
            dp += dOut[qo + x] * v[ko + x];
          }
          const p = Math.exp(dot * scale - lse[i * hq + h]);
          const ds = p * (dp - delta) * scale;
          for (let x = 0; x < d; x++) {
            dv[ko + x] += p * dOut[qo + x];
            dq[qo + x] += ds * k[ko + x];
            dk[ko + x] += ds * q[qo + x];
          }
        }
      }
    }
  }
  return { dq: Float32Array.from(dq), dk: Float32Array.from(dk), dv: Float32Array.from(dv) };
}

/**
 * Decode reference: query b ([B, hq, d]) attends to the first prefixLen rows of slot prefixSlot
 * then the first ownLen rows of slot ownSlot; seqInfo is [B, 4] = (prefixSlot, prefixLen,
 * ownSlot, ownLen). Returns out [B, hq, d].
 */
export function attentionDecodeRef(
  q: Arr,
  kCache: Arr,
  vCache: Arr,
  seqInfo: Arr,
  batch: number,
  hq: number,
  hkv: number,
  d: number,
  maxLen: number,
  scale: number,
): Float32Array {
  const ratio = hq / hkv;
  const out = new Float32Array(batch * hq * d);
  for (let b = 0; b < batch; b++) {
    const [ps, pl, os, ol] = [0, 1, 2, 3].map((i) => seqInfo[b * 4 + i]);
    const rows: [number, number][] = [];
    for (let j = 0; j < pl; j++) rows.push([ps, j]);
    for (let j = 0; j < ol; j++) rows.push([os, j]);
    for (let h = 0; h < hq; h++) {
      const g = Math.floor(h / ratio);
      const qo = (b * hq + h) * d;
      const s = rows.map(([slot, pos]) => {
        const ko = ((slot * hkv + g) * maxLen + pos) * d;
        let dot = 0;
        for (let x = 0; x < d; x++) dot += q[qo + x] * kCache[ko + x];
        return dot * scale;
      });
      const m = Math.max(...s);
      const w = s.map((x) => Math.exp(x - m));
      const l = w.reduce((a, b) => a + b, 0);
      const acc = new Float64Array(d);
      rows.forEach(([slot, pos], j) => {
        const vo = ((slot * hkv + g) * maxLen + pos) * d;
        for (let x = 0; x < d; x++) acc[x] += (w[j] / l) * vCache[vo + x];
      });
      out.set(acc, qo);
    }
  }
  return out;
}
