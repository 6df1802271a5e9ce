/**
 * Deduplication of ingested documents, first seen wins. Exact duplicates are
 * found by a 64-bit hash of the normalised text (NFKC, lowercase, whitespace
 * collapsed). Near duplicates are found by MinHash over word 5-shingles (each
 * CJK character counts as a word) with a seeded family of 32-bit hashes, and
 * LSH banding to find candidates; a candidate is a duplicate when its
 * estimated Jaccard similarity (the share of equal signature slots) reaches
 * the threshold. Everything is deterministic for a given seed and input
 * order, and streaming-friendly: {@link Deduper} keeps only hashes and
 * signatures of the documents it kept.
 */
import type { Document } from "../tasks/generators/types.ts";

/** Dedup settings. */
export interface DedupOptions {
  /** Estimated Jaccard similarity at or above which a document is a near duplicate (default 0.8). */
  threshold?: number;
  /** MinHash signature length (default 128). */
  numHashes?: number;
  /** LSH bands; must divide numHashes (default: chosen from the threshold). */
  bands?: number;
  /** Words per shingle (default 5). */
  shingle?: number;
  /** Seed of the hash family (default 1). */
  seed?: number;
}

/** Why a document was dropped. */
export interface DedupVerdict {
  reason: "exact" | "near";
  /** Id of the kept document it duplicates. */
  duplicateOf: string;
  /** 1 for exact; the estimated Jaccard similarity for near. */
  similarity: number;
}

/** A dropped document with its verdict. */
export interface Removed extends DedupVerdict {
  doc: Document;
}

/** Murmur3's 32-bit finaliser: a bijection on 32-bit values that mixes all bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units, from `basis`. */
function fnv1a(s: string, basis = 0x811c9dc5): number {
  let h = basis;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The text dedup compares: NFKC, lowercase, whitespace runs as one space. */
export function normalizeForDedup(text: string): string {
  // Only runs that are not already one plain space are replaced (same result as /\s+/ → " "):
  // V8 rebuilds the string per match, and a 10 MB line has millions of single spaces.
  return text.normalize("NFKC").toLowerCase().replace(/\s{2,}|[^\S ]/g, " ").trim();
}

/** A 64-bit hash (16 hex digits) of the normalised text, the exact-duplicate key. */
export function exactKey(text: string): string {
  return exactKeyOfNormalized(normalizeForDedup(text));
}

function exactKeyOfNormalized(n: string): string {
  const a = fmix32(fnv1a(n)), b = fmix32(fnv1a(n, 0x9747b28c) ^ n.length);
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

const WORD_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{N}]+/gu;

/** Distinct 32-bit hashes of the word `k`-shingles of `text` (one shingle if fewer words). */
export function shingleHashes(text: string, k = 5): Uint32Array {
  return shinglesOfNormalized(normalizeForDedup(text), k);
}

/**
 * {@link shingleHashes} of normalised text, streaming: word hashes go through a ring of the
 * last `k`, so memory is the distinct shingles only, not an array of every word.
 */
function shinglesOfNormalized(text: string, k: number): Uint32Array {
  const ring = new Uint32Array(k);
  let count = 0;
  const set = new Set<number>();
  const shingle = (end: number, len: number) => {
    let h = 0x2545f491;
    for (let j = end - len; j < end; j++) h = fmix32(Math.imul(h, 0x01000193) ^ ring[j % k]);
    set.add(h);
  };
  const re = new RegExp(WORD_RE.source, WORD_RE.flags);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    ring[count % k] = fnv1a(m[0]);
    count++;
    if (count >= k) shingle(count, k);
  }
  if (count === 0) return new Uint32Array(0);
  if (count < k) shingle(count, count); // fewer words than k: one shingle of them all
  return Uint32Array.from(set);
}

/** `n` seeds drawn from `seed` with splitmix32, the members of the hash family. */
function familySeeds(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    out[i] = fmix32(s);
  }
  return out;
}

/**
 * The MinHash signature of a set of shingle hashes: slot i holds the minimum
 * of fmix32(x ^ seed_i), a seeded permutation of the 32-bit space.
 */
export function minhashSignature(shingles: Uint32Array, seeds: Uint32Array): Uint32Array {
  const sig = new Uint32Array(seeds.length).fill(0xffffffff);
  for (let i = 0; i < seeds.length; i++) {
    const s = seeds[i];
    let min = 0xffffffff;
    for (let j = 0; j < shingles.length; j++) {
      const h = fmix32(shingles[j] ^ s);
      if (h < min) min = h;
    }
    sig[i] = min;
  }
  return sig;
}

/** The estimated Jaccard similarity of two signatures: the share of equal slots. */
export function signatureSimilarity(a: Uint32Array, b: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}

/**
 * LSH bands for a threshold: the most rows per band (fewest false
 * candidates) whose S-curve midpoint (1/b)^(1/r) still sits at least 0.05
 * below the threshold, so true duplicates are almost never missed.
 */
export function chooseBands(numHashes: number, threshold: number): number {
  let best = numHashes;
  for (let b = numHashes; b >= 1; b--) {
    if (numHashes % b) continue;
    const r = numHashes / b;
    if (Math.pow(1 / b, 1 / r) <= threshold - 0.05) best = b;
  }
  return best;
}

/**
 * Streaming deduplicator: {@link Deduper.check} says whether a document
 * duplicates one already kept, and remembers it when it does not.
 */
export class Deduper {
  readonly threshold: number;
  readonly bands: number;
  private readonly k: number;
  private readonly seeds: Uint32Array;
  private readonly rows: number;
  private readonly exact = new Map<string, string>();
  private readonly sigs: { id: string; sig: Uint32Array }[] = [];
  private readonly buckets = new Map<string, number[]>();

  constructor(opts: DedupOptions = {}) {
    this.threshold = opts.threshold ?? 0.8;
    const n = opts.numHashes ?? 128;
    this.bands = opts.bands ?? chooseBands(n, this.threshold);
    if (n % this.bands) throw new RangeError(`bands (${this.bands}) must divide numHashes (${n})`);
    this.rows = n / this.bands;
    this.k = opts.shingle ?? 5;
    this.seeds = familySeeds(n, opts.seed ?? 1);
  }

  /** Undefined when `doc` is new (it is then remembered), else why it is a duplicate. */
  check(doc: Document): DedupVerdict | undefined {
    const norm = normalizeForDedup(doc.text);
    const key = exactKeyOfNormalized(norm);
    const same = this.exact.get(key);
    if (same !== undefined) return { reason: "exact", duplicateOf: same, similarity: 1 };
    const sh = shinglesOfNormalized(norm, this.k);
    if (!sh.length) {
      this.exact.set(key, doc.id);
      return undefined;
    }
    const sig = minhashSignature(sh, this.seeds);
    const keys: string[] = [];
    const cands = new Set<number>();
    for (let b = 0; b < this.bands; b++) {
      const k = `${b}:${sig.subarray(b * this.rows, (b + 1) * this.rows).join(",")}`;
      keys.push(k);
      for (const i of this.buckets.get(k) ?? []) cands.add(i);
    }
    let best = -1, bestSim = -1;
    // Candidates in the order they were kept, so ties go to the first seen.
    for (const i of [...cands].sort((a, b) => a - b)) {
      const sim = signatureSimilarity(sig, this.sigs[i].sig);
      if (sim > bestSim) [best, bestSim] = [i, sim];
    }
    if (best >= 0 && bestSim >= this.threshold) {
      return { reason: "near", duplicateOf: this.sigs[best].id, similarity: bestSim };
    }
    this.exact.set(key, doc.id);
    const idx = this.sigs.length;
    this.sigs.push({ id: doc.id, sig });
    for (const k of keys) {
      const list = this.buckets.get(k);
      if (list) list.push(idx);
      else this.buckets.set(k, [idx]);
    }
    return undefined;
  }
}

/** Deduplicates `docs` in order (first seen kept): the kept ones and the removed with why. */
export function dedupe(
  docs: Iterable<Document>,
  opts: DedupOptions = {},
): { kept: Document[]; removed: Removed[] } {
  const d = new Deduper(opts);
  const kept: Document[] = [];
  const removed: Removed[] = [];
  for (const doc of docs) {
    const v = d.check(doc);
    if (v) removed.push({ doc, ...v });
    else kept.push(doc);
  }
  return { kept, removed };
}
