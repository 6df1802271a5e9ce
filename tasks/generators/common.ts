/**
 * The generator interface and the two drivers every generator uses: one draft per attempt on a
 * single document ({@link perDoc}), or on a random group of documents ({@link perGroup}). The
 * drivers own the never-throw guarantee: an attempt that throws or returns null is skipped, and
 * duplicate questions are dropped.
 *
 * @module
 */
import type { DocKind, Document, Draft } from "./types.ts";
import type { TaskType } from "../types.ts";
import { type Rng, sample } from "./text.ts";

/** Options of `make`. */
export interface GenOptions {
  /** Drafts wanted per eligible document (multi-document generators: per document used). Default 2. */
  perDoc?: number;
  /** Evidence budget per draft in characters (≈ 4 characters a token). Default 10,000. */
  maxEvidenceChars?: number;
}

/** A rule-based generator of drafts for one task type. */
export interface Generator {
  /** e.g. "books/next_sentence". */
  name: string;
  task: TaskType;
  /** Document kinds it can use. */
  kinds: readonly Document["kind"][];
  /** The P2 selection criterion, in words (docs/generators.md lists them). */
  criteria: string;
  /** The P2 selection criterion: can this generator make drafts from this document? */
  accepts(doc: Document): boolean;
  /** Documents per draft (1 for single-document generators). */
  docsPerDraft: number;
  /** Drafts from the documents (those it does not accept are skipped). Deterministic in `rng`; never throws. */
  make(docs: Document[], rng: Rng, opts?: GenOptions): Draft[];
}

/** Resolved options. */
export function resolve(opts?: GenOptions): Required<GenOptions> {
  const perDoc = opts?.perDoc ?? 2;
  const max = opts?.maxEvidenceChars ?? 10_000;
  return {
    perDoc: Number.isFinite(perDoc) ? Math.max(0, Math.floor(perDoc)) : 2,
    maxEvidenceChars: Number.isFinite(max) ? Math.max(500, max) : 10_000,
  };
}

function safe(f: () => Draft | null): Draft | null {
  try {
    return f();
  } catch {
    return null;
  }
}

function safeAccept(accepts: (d: Document) => boolean, d: Document): boolean {
  try {
    return !!d && typeof d === "object" && accepts(d);
  } catch {
    return false;
  }
}

/** Two drafts are duplicates when they ask the same question over the same evidence. */
function draftKey(d: Draft): string {
  return `${d.question}\u0000${d.evidence.map((p) => `${p.label}\u0001${p.text}`).join("\u0002")}`;
}

/**
 * Up to `perDoc` drafts from each accepted document, `attempt` being tried up to 4×perDoc times
 * per document (attempts that return null, throw, or repeat a draft are skipped).
 */
export function perDoc(
  docs: Document[],
  rng: Rng,
  opts: GenOptions | undefined,
  accepts: (d: Document) => boolean,
  attempt: (doc: Document, rng: Rng, o: Required<GenOptions>) => Draft | null,
): Draft[] {
  const o = resolve(opts);
  const out: Draft[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (!safeAccept(accepts, doc)) continue;
    const seen = new Set<string>();
    for (let i = 0; i < 4 * o.perDoc && seen.size < o.perDoc; i++) {
      const d = safe(() => attempt(doc, rng, o));
      if (d && !seen.has(draftKey(d))) {
        seen.add(draftKey(d));
        out.push(d);
      }
    }
  }
  return out;
}

/**
 * Drafts from random groups of `k` accepted documents: about perDoc × n / k drafts for n
 * accepted documents (none when n < k), each group drawn afresh.
 */
export function perGroup(
  docs: Document[],
  rng: Rng,
  opts: GenOptions | undefined,
  accepts: (d: Document) => boolean,
  k: number,
  attempt: (group: Document[], rng: Rng, o: Required<GenOptions>) => Draft | null,
): Draft[] {
  const o = resolve(opts);
  const ok = (Array.isArray(docs) ? docs : []).filter((d) => safeAccept(accepts, d));
  if (ok.length < k) return [];
  const target = Math.max(1, Math.floor((o.perDoc * ok.length) / k));
  const out: Draft[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < 4 * target && out.length < target; i++) {
    const group = sample(rng, ok, k);
    const d = safe(() => attempt(group, rng, o));
    if (d && !seen.has(draftKey(d))) {
      seen.add(draftKey(d));
      out.push(d);
    }
  }
  return out;
}

/** True for a document of one of `kinds`. */
export function ofKind(doc: Document, kinds: readonly Document["kind"][]): boolean {
  return kinds.includes(doc.kind as DocKind);
}
