/**
 * Sequences for training: a prompt followed by a response, packed into micro-batches by a
 * token budget, with per-token arrays laid out in packed order.
 *
 * In a packed batch position t predicts token t+1 of its sequence (engine/qwen3.ts
 * packSequences), so response token j of a sequence whose response starts at index r is
 * predicted at position offset + r + j - 1. {@link scatter} puts one value per response token
 * at those positions and 0 elsewhere (prompt tokens carry no loss); {@link gather} reads them
 * back.
 */
import { type PackedBatch, packSequences } from "../engine/qwen3.ts";

/** One training sequence. */
export interface TrainSeq {
  tokens: number[];
  /** Index in `tokens` of the first response token (>= 1). */
  respStart: number;
}

/** The response length of a sequence. */
export const respLen = (s: TrainSeq) => s.tokens.length - s.respStart;

/** Groups sequence indices into micro-batches of at most `budget` tokens (one sequence may exceed it alone). */
export function microBatches(seqs: readonly TrainSeq[], budget: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [], n = 0;
  for (const [i, s] of seqs.entries()) {
    if (cur.length && n + s.tokens.length > budget) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(i);
    n += s.tokens.length;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** A packed micro-batch with where each of its sequences starts. */
export interface Packed {
  batch: PackedBatch;
  /** Sequence indices (into the full list) in packed order. */
  members: number[];
}

export function pack(seqs: readonly TrainSeq[], members: number[]): Packed {
  return { batch: packSequences(members.map((i) => seqs[i].tokens)), members };
}

/**
 * A [T] array with `values(i)[j]` at the position that predicts response token j of member i
 * (0 elsewhere).
 */
export function scatter(
  p: Packed,
  seqs: readonly TrainSeq[],
  values: (seq: number, j: number) => number,
): Float32Array {
  const out = new Float32Array(p.batch.ids.length);
  for (const [k, i] of p.members.entries()) {
    const start = p.batch.seqStarts[k], s = seqs[i];
    for (let j = 0; j < respLen(s); j++) out[start + s.respStart + j - 1] = values(i, j);
  }
  return out;
}

/** The per-response-token values of member `k` from a packed [T] array. */
export function gather(
  p: Packed,
  seqs: readonly TrainSeq[],
  k: number,
  arr: Float32Array,
): Float32Array {
  const s = seqs[p.members[k]];
  const at = p.batch.seqStarts[k] + s.respStart - 1;
  return arr.slice(at, at + respLen(s));
}

/**
 * Per-token loss weights for verl's aggregation modes over a set of sequences (a mini-batch),
 * so that accumulating micro-batches gives exactly the aggregated loss:
 * - token-mean: 1 / (response tokens in the set);
 * - seq-mean-token-mean: 1 / (L_i · S);
 * - seq-mean-token-sum: 1 / S;
 * - seq-mean-token-sum-norm: 1 / (S · maxLen) (Dr. GRPO's constant normaliser).
 */
export function aggWeights(
  mode: string,
  lengths: readonly number[],
  maxLen: number,
): number[] {
  const S = lengths.length;
  const total = lengths.reduce((a, b) => a + b, 0);
  return lengths.map((L) => {
    if (L === 0) return 0;
    switch (mode) {
      case "token-mean":
        return 1 / total;
      case "seq-mean-token-mean":
        return 1 / (L * S);
      case "seq-mean-token-sum":
        return 1 / S;
      case "seq-mean-token-sum-norm":
        return 1 / (S * maxLen);
      default:
        throw new Error(`unknown loss aggregation "${mode}"`);
    }
  });
}
