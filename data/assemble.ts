/**
 * P4 length bucketing: a {@link Draft}'s evidence is placed at a chosen depth
 * inside real padding text (passages of other documents, the distractors) so
 * that the prompt has the requested number of tokens of the target tokenizer.
 *
 * Token counts: each passage is counted once (cached), the parts are summed,
 * and the finished prompt is counted exactly; if it is over the budget the last
 * padding passage is cut further, so every sample lands in [0.9, 1.0] x target.
 */
import type { DocKind, Document, Draft, Passage, Sample } from "../tasks/generators/types.ts";

/** Counts tokens of a text (the target tokenizer's encode length). */
export type TokenCounter = (text: string) => number;

/** Real text from other documents, cut into paragraph-aligned passages. */
export class PaddingPool {
  readonly passages: Passage[] = [];
  /** The kind of each document that gave passages. */
  readonly kinds = new Map<string, DocKind>();

  /** `chunkChars`: about how long each passage is (paragraph-aligned). */
  constructor(docs: Document[], chunkChars = 2400) {
    for (const d of docs) {
      this.kinds.set(d.id, d.kind);
      const paras = d.text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length > 0);
      let cur = "";
      for (const p of paras) {
        // A paragraph longer than a chunk (speeches have none) is cut at sentence ends.
        const pieces = p.length > chunkChars ? splitLong(p, chunkChars) : [p];
        for (const piece of pieces) {
          cur = cur ? `${cur}\n\n${piece.trim()}` : piece.trim();
          if (cur.length >= chunkChars) {
            this.passages.push({ docId: d.id, label: `Passage from "${d.title}"`, text: cur });
            cur = "";
          }
        }
      }
      if (cur.length > 200) {
        this.passages.push({ docId: d.id, label: `Passage from "${d.title}"`, text: cur });
      }
    }
  }

  /** Passages in a seeded order, skipping excluded documents and documents of excluded kinds. */
  *draw(
    rand: () => number,
    exclude: Set<string>,
    excludeKinds: ReadonlySet<DocKind> = new Set(),
  ): Generator<Passage> {
    const n = this.passages.length;
    if (n === 0) return;
    // A random start and a stride coprime with n visit every passage once, in a seed-fixed order.
    let stride = 1 + Math.floor(rand() * Math.max(1, n - 1));
    while (gcd(stride, n) !== 1) stride++;
    let i = Math.floor(rand() * n);
    for (let k = 0; k < n; k++, i = (i + stride) % n) {
      const p = this.passages[i];
      if (!exclude.has(p.docId) && !excludeKinds.has(this.kinds.get(p.docId)!)) yield p;
    }
  }
}

/** Cuts text into pieces of at most `max` characters, at a sentence end when one is near. */
export function splitLong(text: string, max: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.length - i <= max) {
      out.push(text.slice(i));
      break;
    }
    const window = text.slice(i, i + max);
    // The last sentence end (Latin or CJK) in the second half of the window, else a space,
    // else a hard cut: nothing is dropped, whatever the punctuation.
    let cut = -1;
    for (const m of window.matchAll(/[.!?](?:\s|$)|[。！？]/g)) {
      if (m.index! + m[0].length > max / 2) cut = m.index! + m[0].length;
    }
    if (cut < 0) cut = window.lastIndexOf(" ") > max / 2 ? window.lastIndexOf(" ") + 1 : max;
    out.push(text.slice(i, i + cut));
    i += cut;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export const PROMPT_HEAD =
  "Please read the following documents and answer the question after them.";

/** Renders one passage with its header. */
export function renderPassage(p: Passage): string {
  return `[${p.label}]\n${p.text}`;
}

/** The user message for a context and a draft. */
export function renderPrompt(context: string, draft: Draft): string {
  return `${PROMPT_HEAD}\n\n<documents>\n${context}\n</documents>\n\nQuestion: ${draft.question}\n\n${draft.instruction}`;
}

export interface AssembleOptions {
  /** Token budget of the user message, e.g. 4096. */
  targetTokens: number;
  /** Label of the bucket, e.g. "4k". */
  bucket: string;
  /** Where the evidence starts, as a fraction of the padding before it (0 = at the start). */
  depth: number;
  count: TokenCounter;
  /**
   * Tokens of the whole user message as the model sees it (chat template applied, see
   * prompt_tokens.ts); the bucket limit applies to this count. Default: `count`.
   */
  countPrompt?: TokenCounter;
  pool: PaddingPool;
  rand: () => number;
  /** Lower bound as a fraction of the target (default 0.9). */
  minFill?: number;
}

const SEP = "\n\n";

/**
 * Builds the sample for one draft at one length, or says why it cannot:
 * evidence alone over budget, or not enough padding text.
 */
export function assemble(draft: Draft, id: string, o: AssembleOptions): Sample | { skip: string } {
  const cache = new Map<string, number>();
  const tokens = (t: string) => {
    let n = cache.get(t);
    if (n === undefined) cache.set(t, n = o.count(t));
    return n;
  };
  const promptTokens = o.countPrompt ?? tokens;
  const evidence = draft.evidence.map(renderPassage);
  const fixed = promptTokens(renderPrompt("", draft)) +
    evidence.reduce((a, e) => a + tokens(e) + 1, 0);
  const budget = o.targetTokens - fixed;
  const minFill = o.minFill ?? 0.9;
  if (budget < 0) {
    return {
      skip: `evidence needs ${fixed} tokens, over the ${o.bucket} budget of ${o.targetTokens}`,
    };
  }
  // Draw padding passages until the budget is covered.
  const exclude = new Set([
    ...draft.source_docs.map((d) => d.id),
    ...(draft.exclude_from_padding ?? []),
  ]);
  const padding: string[] = [];
  const padDocs: string[] = [];
  let have = 0;
  // Documents of the kinds the question is about never pad it: another conversation or address
  // beside "this conversation" would hold a second valid answer.
  for (const p of o.pool.draw(o.rand, exclude, new Set(draft.exclude_kinds ?? []))) {
    if (have >= budget) break;
    const text = renderPassage(p);
    padding.push(text);
    padDocs.push(p.docId);
    have += tokens(text) + 1;
  }
  if (have < budget * minFill && o.targetTokens * minFill > fixed) {
    const kinds = draft.exclude_kinds?.length
      ? ` (documents of kind ${draft.exclude_kinds.join("/")} never pad it)`
      : "";
    return { skip: `only ${have} tokens of padding text for a budget of ${budget}${kinds}` };
  }
  // Evidence goes after `before` padding passages.
  const before = Math.round(o.depth * padding.length);
  let pad = padding.slice();
  const build = () => [...pad.slice(0, before), ...evidence, ...pad.slice(before)].join(SEP);
  let context = build();
  let total = promptTokens(renderPrompt(context, draft));
  // Trim: drop whole passages from the end (after the evidence first), then cut the last one.
  for (let guard = 0; total > o.targetTokens && guard < 64; guard++) {
    const over = total - o.targetTokens;
    const lastIdx = pad.length - 1;
    if (lastIdx < 0) break;
    const last = pad[lastIdx];
    const lastTokens = tokens(last);
    if (over >= lastTokens) {
      pad = pad.slice(0, lastIdx);
    } else {
      // Keep a prefix of the last passage proportional to what must go, cut at a word end.
      const keepFrac = Math.max(0, (lastTokens - over - 8) / lastTokens);
      let cut = last.slice(0, Math.floor(last.length * keepFrac));
      cut = cut.slice(0, Math.max(0, cut.lastIndexOf(" ")));
      pad = [...pad.slice(0, lastIdx), ...(cut.length > 40 ? [cut] : [])];
    }
    context = build();
    total = promptTokens(renderPrompt(context, draft));
  }
  if (total > o.targetTokens) return { skip: `could not fit ${o.bucket}: ${total} tokens` };
  if (total < o.targetTokens * minFill && o.targetTokens * minFill > fixed) {
    return { skip: `only ${total} tokens for ${o.bucket} (below ${minFill} of the target)` };
  }
  const depthTokens = pad.slice(0, Math.min(before, pad.length)).reduce(
    (a, p) => a + tokens(p) + 1,
    0,
  );
  const user = renderPrompt(context, draft);
  return {
    id,
    data_source: draft.data_source,
    ability: draft.task,
    prompt: [{ role: "user", content: user }],
    reward_model: { style: "rule", ground_truth: draft.ground_truth },
    extra_info: {
      reward_mode: draft.reward_mode,
      question: draft.question,
      index: id,
      generator: draft.generator,
      source_docs: draft.source_docs,
      padding_docs: [...new Set(padDocs.slice(0, pad.length))],
      length_bucket: o.bucket,
      tokens: total,
      needle_depth: total > 0 ? Number((depthTokens / total).toFixed(4)) : 0,
      ...(draft.meta ?? {}),
    },
  };
}
