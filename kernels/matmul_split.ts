/**
 * Splitting a matmul into dispatches whose operand windows fit one storage
 * binding (128 MiB on most adapters) and whose grids fit the per-dimension
 * workgroup limit. A piece is a block of the batch, of M, of N and of K; each
 * operand is bound as a 256-byte-aligned window of its buffer with the element
 * offset of the piece passed in the uniform. K pieces after the first
 * accumulate into C, so splitting K is exact up to f32 summation order.
 *
 * Which dimension shrinks an operand's window depends on its layout: a row
 * block of a row-major matrix is contiguous, a column block is not. So A [m,k]
 * splits over M, Aᵀ [k,m] over K, B [k,n] over K, Bᵀ [n,k] over N, C over M
 * (and all of them over the batch when their batch stride is not zero).
 */

export interface SplitShape {
  m: number;
  n: number;
  k: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  lda: number;
  ldb: number;
  ldc: number;
  strideA: number;
  strideB: number;
  strideC: number;
  /** Bytes per element of A, B, C. */
  bytesA: number;
  bytesB: number;
  bytesC: number;
}

/** Block sizes of one split: pieces are [bb batch × bm rows × bn cols × bk depth]. */
export interface SplitBlocks {
  bb: number;
  bm: number;
  bn: number;
  bk: number;
}

/** Elements an operand spans (first to last, inclusive) for a block of the given sizes. */
export function spans(s: SplitShape, b: SplitBlocks): { a: number; b: number; c: number } {
  const kk = Math.max(b.bk, 1), mm = Math.max(b.bm, 1), nn = Math.max(b.bn, 1);
  const a = s.transA ? (kk - 1) * s.lda + mm : (mm - 1) * s.lda + kk;
  const bb = s.transB ? (nn - 1) * s.ldb + kk : (kk - 1) * s.ldb + nn;
  const c = (mm - 1) * s.ldc + nn;
  return {
    a: (b.bb - 1) * s.strideA + a,
    b: (b.bb - 1) * s.strideB + bb,
    c: (b.bb - 1) * s.strideC + c,
  };
}

/** Halves a block size, keeping multiples of 64 (vector alignment) while it is large. */
function halve(x: number): number {
  const h = Math.ceil(x / 2);
  return h > 64 ? Math.ceil(h / 64) * 64 : h;
}

/**
 * The largest blocks such that every operand window fits `maxBindingBytes`
 * (less 256 bytes of alignment slack) and the grid fits `maxGroups` per
 * dimension, given the rows and columns one workgroup covers.
 */
export function planSplit(
  s: SplitShape,
  maxBindingBytes: number,
  maxGroups: number,
  tile: { rows: number; cols: number },
): SplitBlocks {
  const blocks: SplitBlocks = { bb: s.batch, bm: s.m, bn: s.n, bk: s.k };
  const budget = maxBindingBytes - 260;
  if (budget < 16) throw new Error(`matmul: binding limit ${maxBindingBytes} B is too small`);
  for (let guard = 0; guard < 10_000; guard++) {
    const sp = spans(s, blocks);
    if (sp.a * s.bytesA > budget) {
      if (s.strideA > 0 && blocks.bb > 1) blocks.bb = halve(blocks.bb);
      else if (s.transA ? blocks.bk > 1 : blocks.bm <= 1) blocks.bk = halve(blocks.bk);
      else blocks.bm = halve(blocks.bm);
    } else if (sp.b * s.bytesB > budget) {
      if (s.strideB > 0 && blocks.bb > 1) blocks.bb = halve(blocks.bb);
      else if (s.transB ? blocks.bn <= 1 : blocks.bk > 1) blocks.bk = halve(blocks.bk);
      else blocks.bn = halve(blocks.bn);
    } else if (sp.c * s.bytesC > budget) {
      if (s.strideC > 0 && blocks.bb > 1) blocks.bb = halve(blocks.bb);
      else if (blocks.bm > 1) blocks.bm = halve(blocks.bm);
      else blocks.bn = halve(blocks.bn);
    } else if (Math.ceil(blocks.bn / tile.cols) > maxGroups) blocks.bn = halve(blocks.bn);
    else if (Math.ceil(blocks.bm / tile.rows) > maxGroups) blocks.bm = halve(blocks.bm);
    else if (blocks.bb > maxGroups) blocks.bb = halve(blocks.bb);
    else return blocks;
  }
  throw new Error("matmul: could not split the problem to fit the binding limit");
}

/** One dispatch's piece: its origin and extent in batch, M, N and K. */
export interface Piece {
  b0: number;
  bc: number;
  m0: number;
  mc: number;
  n0: number;
  nc: number;
  k0: number;
  kc: number;
  /** Whether this piece adds to C (a later K piece, or the caller asked to accumulate). */
  accumulate: boolean;
}

/** The pieces of a split, K pieces of the same output block in order. */
export function pieces(s: SplitShape, blk: SplitBlocks, accumulate: boolean): Piece[] {
  const out: Piece[] = [];
  const step = (x: number) => Math.max(x, 1);
  for (let b0 = 0; b0 < s.batch; b0 += step(blk.bb)) {
    for (let m0 = 0; m0 < s.m; m0 += step(blk.bm)) {
      for (let n0 = 0; n0 < s.n; n0 += step(blk.bn)) {
        // k = 0 still needs one piece: C = 0 (or unchanged when accumulating).
        for (let k0 = 0; k0 < Math.max(s.k, 1); k0 += step(blk.bk)) {
          out.push({
            b0,
            bc: Math.min(blk.bb, s.batch - b0),
            m0,
            mc: Math.min(blk.bm, s.m - m0),
            n0,
            nc: Math.min(blk.bn, s.n - n0),
            k0,
            kc: Math.max(0, Math.min(blk.bk, s.k - k0)),
            accumulate: accumulate || k0 > 0,
          });
        }
      }
    }
  }
  return out;
}
