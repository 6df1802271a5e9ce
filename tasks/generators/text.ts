/**
 * Text and randomness helpers shared by the rule-based generators: paragraphs, sentences, word
 * counts, excerpts, turn rendering and seeded sampling. Everything is deterministic given the
 * `Rng` passed in (never `Math.random`), and nothing here throws on odd input.
 *
 * @module
 */
import type { Document } from "./types.ts";

/** A seeded source of floats in [0, 1), e.g. `mulberry32(seed)` from core/rng.ts. */
export type Rng = () => number;

/** A uniform integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** One element, uniformly; undefined for an empty list. */
export function pick<T>(rng: Rng, xs: readonly T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[randInt(rng, xs.length)];
}

/** A shuffled copy (Fisher–Yates). */
export function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** `k` distinct elements in random order (all of them when `k >= xs.length`). */
export function sample<T>(rng: Rng, xs: readonly T[], k: number): T[] {
  return shuffle(rng, xs).slice(0, Math.max(0, k));
}

/** `k` distinct indices of [0, n) in ascending order. */
export function sortedIndices(rng: Rng, n: number, k: number): number[] {
  return sample(rng, [...Array(n).keys()], k).sort((a, b) => a - b);
}

/** Collapse whitespace runs to one space and trim. */
export function collapse(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** Markdown heading lines (`# …`) and table rows (`| … |`) are not prose. */
function isProse(p: string): boolean {
  return !/^#{1,6}\s/.test(p) && !p.startsWith("|") && !p.startsWith("[Table]") &&
    !p.startsWith("[Figure]") && !p.startsWith("$$");
}

/**
 * Paragraphs of a text: split on blank lines, whitespace collapsed (Gutenberg's hard wraps go),
 * headings and table rows dropped; a paragraph over 1,500 characters (speeches have no breaks) is
 * cut into sentence groups of about 900 characters so excerpts can be sized.
 */
export function paragraphs(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\n[ \t]*\n/)) {
    const p = collapse(raw);
    if (p.length === 0 || !isProse(p)) continue;
    if (p.length <= 1500) {
      out.push(p);
      continue;
    }
    let cur = "";
    for (const s of sentences(p)) {
      cur = cur ? `${cur} ${s}` : s;
      if (cur.length >= 900) {
        out.push(cur);
        cur = "";
      }
    }
    if (cur) out.push(cur);
  }
  return out;
}

/** Sentence ends: . ! ? (and closing quotes) before a capital, but not after an abbreviation or an initial. */
const SENTENCE_END = new RegExp(
  "(?<!\\b(?:Mr|Mrs|Ms|Dr|St|Mt|Jr|Sr|Prof|Gen|Col|Capt|Lt|Rev|Hon|Gov|Sen|Rep|vs|etc|No|Nos|" +
    "Fig|Figs|Eq|Ref|Refs|Vol|al|ca|approx|i\\.e|e\\.g|[A-Z])\\.)" +
    "(?<=[.!?][”\"’')\\]]*)\\s+(?=[“\"‘'(\\[]?[A-Z])",
);

/** Sentences of a collapsed paragraph, cut at {@link SENTENCE_END}. */
export function sentences(p: string): string[] {
  return p.split(SENTENCE_END).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Words of a text: maximal runs of letters and digits. */
export function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Number of whitespace-separated words. */
export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w.length > 0).length;
}

/** Whole-word, case-insensitive occurrences of `w` (a letters-only word) in `text`. */
export function countWord(text: string, w: string): number {
  const lw = w.toLowerCase();
  let n = 0;
  for (const t of words(text)) if (t.toLowerCase() === lw) n++;
  return n;
}

/** Lowercased word → whole-word, case-insensitive count, for counting many words in one text. */
export function wordCounts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of words(text)) {
    const w = t.toLowerCase();
    m.set(w, (m.get(w) ?? 0) + 1);
  }
  return m;
}

/** Whole-word, case-sensitive occurrences of `w` in `text`. */
export function countWordExact(text: string, w: string): number {
  let n = 0;
  for (const t of words(text)) if (t === w) n++;
  return n;
}

/**
 * A checker of unambiguous keywords in `text` (precomputed, so checking many words is cheap):
 * `w` passes when no occurrence touches an apostrophe or hyphen ("whale's", "sea-whale") and no
 * other word starts with it ("whales"), so "how many times does the word occur" has one reading.
 */
export function keywordChecker(text: string): (w: string) => boolean {
  const lt = text.toLowerCase();
  const dirty = new Set<string>();
  const distinct = new Set<string>();
  for (const m of lt.matchAll(/[\p{L}\p{N}]+/gu)) {
    distinct.add(m[0]);
    const before = lt[m.index - 1] ?? "";
    const after = lt[m.index + m[0].length] ?? "";
    if (/['’-]/.test(before) || /['’-]/.test(after)) dirty.add(m[0]);
  }
  const sorted = [...distinct].sort();
  return (w: string) => {
    const lw = w.toLowerCase();
    if (dirty.has(lw)) return false;
    // The first token > lw in sort order is the only candidate that could extend it.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= lw) lo = mid + 1;
      else hi = mid;
    }
    return !(lo < sorted.length && sorted[lo].startsWith(lw));
  };
}

/** {@link keywordChecker} for one word. */
export function cleanKeyword(text: string, w: string): boolean {
  return keywordChecker(text)(w);
}

const STOP = new Set(
  ("about above after again against among another anything around because been before being " +
    "below between both came cannot could didn does doing done down during each either else " +
    "enough even ever every first found from further going great have having here hers herself " +
    "himself into itself just know last least less like little made make many might more most " +
    "much must myself never next none nothing often once only other ought ours ourselves over " +
    "perhaps quite rather really said same says seem seemed shall should since some something " +
    "still such take than that their theirs them themselves then there these they thing things " +
    "think this those though through thus together too toward towards under until upon very " +
    "want well were what when where whether which while whom whose will with within without " +
    "would years your yours yourself also although always another away back come could " +
    "little long looked think thought think through time upon went yeah okay right sort kind " +
    "actually maybe mean probably people things going gonna wanna")
    .split(" "),
);

/** Lowercase content words of a text (5+ letters, not a stop word), in first-seen order. */
export function contentWords(text: string): string[] {
  const seen = new Set<string>();
  for (const t of words(text)) {
    const w = t.toLowerCase();
    if (w.length >= 5 && /^\p{L}+$/u.test(w) && !STOP.has(w)) seen.add(w);
  }
  return [...seen];
}

/** Capitalised words that never occur in lowercase in the text (names), in first-seen order. */
export function names(text: string): string[] {
  const lower = new Set(words(text).filter((w) => /^\p{Ll}/u.test(w)));
  const seen = new Set<string>();
  for (const w of words(text)) {
    if (
      /^\p{Lu}\p{Ll}{2,}$/u.test(w) && !lower.has(w.toLowerCase()) && !STOP.has(w.toLowerCase())
    ) {
      seen.add(w);
    }
  }
  return [...seen];
}

/** The sections of a document, or the whole text as one section. */
export function docSections(doc: Document): { title: string; text: string }[] {
  const secs = Array.isArray(doc.sections) ? doc.sections : [];
  const good = secs.filter((s) =>
    s && typeof s.text === "string" && typeof s.title === "string" && s.text.trim().length > 0
  );
  if (good.length > 0) return good;
  return typeof doc.text === "string" && doc.text.trim().length > 0
    ? [{ title: doc.title ?? "", text: doc.text }]
    : [];
}

/** Section titles that are apparatus, not content (papers). */
export const APPARATUS =
  /^(abstract|references?|acknowledge?ments?|supporting information|author contributions|funding|competing interests|data availability|author summary|ethics statement|abbreviations|bibliography|notes?|contents|table of contents)\b/i;

/**
 * Consecutive paragraphs from `start` while they fit in `maxChars` (at least one; a single
 * paragraph that is too long is cut at a sentence end). Joined with blank lines.
 */
export function excerpt(paras: readonly string[], start: number, maxChars: number): string {
  const out: string[] = [];
  let len = 0;
  for (let i = start; i < paras.length; i++) {
    const p = paras[i];
    if (len + p.length + 2 > maxChars) {
      if (out.length === 0) {
        let cut = "";
        for (const s of sentences(p)) {
          if (cut.length + s.length + 1 > maxChars) break;
          cut = cut ? `${cut} ${s}` : s;
        }
        if (cut) out.push(cut);
      }
      break;
    }
    out.push(p);
    len += p.length + 2;
  }
  return out.join("\n\n");
}

/** Every sentence of a multi-paragraph excerpt, in order. */
export function excerptSentences(text: string): string[] {
  return text.split("\n\n").flatMap(sentences);
}

/**
 * The first `n` sentences of a passage as pieces (in text order), or null when it has fewer: the
 * items of excerpt questions in buckets too short for `n` excerpts spread over a document.
 */
export function sentencePieces(text: string, n: number): { text: string }[] | null {
  const s = excerptSentences(text);
  return s.length >= n ? s.slice(0, n).map((t) => ({ text: t })) : null;
}

/** Occurrences of `needle` in `hay` (non-overlapping). */
export function occurrences(hay: string, needle: string): number {
  if (needle.length === 0) return 0;
  let n = 0;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** A turn as shown in the context: "Speaker: text". */
export function renderTurn(t: { speaker: string; text: string }): string {
  return `${t.speaker}: ${collapse(t.text)}`;
}

/** Valid turns of a meeting or dialogue (speaker and text are non-empty strings). */
export function docTurns(doc: Document): { speaker: string; text: string; index: number }[] {
  const ts = Array.isArray(doc.turns) ? doc.turns : [];
  const out: { speaker: string; text: string; index: number }[] = [];
  ts.forEach((t, index) => {
    if (t && typeof t.speaker === "string" && typeof t.text === "string") {
      const speaker = collapse(t.speaker);
      const text = collapse(t.text);
      if (speaker && text) out.push({ speaker, text, index });
    }
  });
  return out;
}

/** A meeting transcript with `minTurns`+ turns and `minSpeakers`+ distinct speakers. */
export function meetingWith(doc: Document, minTurns: number, minSpeakers: number): boolean {
  if (doc.kind !== "meeting") return false;
  const ts = docTurns(doc);
  return ts.length >= minTurns && new Set(ts.map((t) => t.speaker)).size >= minSpeakers;
}

/**
 * A {@link turnWindow} from a random start among all but the last `tail` turns (so the window
 * is rarely cut short by the end of the transcript).
 */
export function randomTurnWindow<T extends { speaker: string; text: string }>(
  turns: readonly T[],
  rng: Rng,
  maxChars: number,
  tail = 30,
): T[] {
  return turnWindow(turns, randInt(rng, Math.max(1, turns.length - tail)), maxChars);
}

/**
 * A window of consecutive turns starting at `start`, as many as fit in `maxChars` when rendered
 * one per line.
 */
export function turnWindow<T extends { speaker: string; text: string }>(
  turns: readonly T[],
  start: number,
  maxChars: number,
): T[] {
  const out: T[] = [];
  let len = 0;
  for (let i = start; i < turns.length; i++) {
    const l = renderTurn(turns[i]).length + 1;
    if (len + l > maxChars) break;
    out.push(turns[i]);
    len += l;
  }
  return out;
}

/** Render turns one per line. */
export function renderTurns(turns: readonly { speaker: string; text: string }[]): string {
  return turns.map(renderTurn).join("\n");
}

/** A string field of `meta`, or undefined. */
export function metaString(doc: Document, key: string): string | undefined {
  const v = doc.meta?.[key];
  if (typeof v === "string" && v.trim()) return v.trim();
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A decimal literal ("12", "-0.5", "40.38"); thousands separators and ranges are not. */
export const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Exact decimal arithmetic on decimal literals: sum of `terms` with signs, formatted minimally. */
export function decimalSum(terms: { value: string; sign: 1 | -1 }[]): string {
  const scale = Math.max(0, ...terms.map((t) => (t.value.split(".")[1] ?? "").length));
  let acc = 0n;
  for (const t of terms) {
    const neg = t.value.startsWith("-");
    const [ip, fp = ""] = (neg ? t.value.slice(1) : t.value).split(".");
    const v = BigInt(ip + fp.padEnd(scale, "0"));
    acc += (neg ? -v : v) * BigInt(t.sign);
  }
  const neg = acc < 0n;
  let s = (neg ? -acc : acc).toString().padStart(scale + 1, "0");
  if (scale > 0) {
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`.replace(/\.?0+$/, "");
  }
  return (neg && s !== "0" ? "-" : "") + s;
}

/** Compare two decimal literals numerically (exactly). */
export function decimalCompare(a: string, b: string): number {
  const d = decimalSum([{ value: a, sign: 1 }, { value: b, sign: -1 }]);
  return d === "0" ? 0 : d.startsWith("-") ? -1 : 1;
}

const NUMBER_WORDS: Record<string, string> = Object.fromEntries(
  ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " +
    "fifteen sixteen seventeen eighteen nineteen twenty").split(" ").map((w, i) => [w, String(i)]),
);
for (const [w, n] of [["thirty", 30], ["forty", 40], ["fifty", 50], ["hundred", 100]] as const) {
  NUMBER_WORDS[w] = String(n);
}

/**
 * Words of a text normalized for matching facts: lowercase, and number words as digits
 * ("three" → "3"), so "three persons" says 3 while "13th" and "12:30" do not say 3 or 2.
 */
export function normWords(text: string): string[] {
  return words(text).map((w) => {
    const l = w.toLowerCase();
    return NUMBER_WORDS[l] ?? l;
  });
}

/** Whether `tokens` contains `needle` as a contiguous run. */
function hasRun(tokens: readonly string[], needle: readonly string[]): boolean {
  if (needle.length === 0) return false;
  outer: for (let i = 0; i + needle.length <= tokens.length; i++) {
    for (let j = 0; j < needle.length; j++) if (tokens[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Whether `text` states `value` as whole words, compared normalized ({@link normWords}: case,
 * punctuation, and numbers as digits or words): a substring inside another word never counts.
 */
export function saysValue(text: string, value: string): boolean {
  return hasRun(normWords(text), normWords(value));
}

/** Whether `value` occurs verbatim in `text` with no letter or digit touching either end. */
export function saysVerbatim(text: string, value: string): boolean {
  if (!value) return false;
  for (let i = text.indexOf(value); i !== -1; i = text.indexOf(value, i + 1)) {
    const before = text[i - 1] ?? " ", after = text[i + value.length] ?? " ";
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return true;
  }
  return false;
}
