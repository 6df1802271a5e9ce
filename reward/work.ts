/**
 * The work estimate behind the reward service's caps. The costliest verifiers compare the
 * response with its ground truth word by word (ROUGE-L's LCS is a words × words table), so an
 * item's work is bounded by words(response) × words(ground truth), plus the characters read.
 * Words are whitespace-separated runs, and every CJK character counts as one word (the Chinese
 * segmenter yields words of one or two characters). The estimate is an upper bound for every
 * registered verifier, not a prediction of time: summary items with repeated sentences come
 * close to it, most items take far less.
 *
 * @module
 */

/** Words as the caps count them (see the module doc). Linear in the text. */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 0x3000 || c === 0xa0) {
      inWord = false;
    } else if ((c >= 0x3040 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af)) {
      words++; // CJK ideographs, kana, hangul: one word each
      inWord = false;
    } else if (!inWord) {
      words++;
      inWord = true;
    }
  }
  return words;
}

/** The text of a ground truth (or any JSON value) as the verifiers may read it. */
function textOf(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v) ?? "";
  } catch {
    return "";
  }
}

/** Estimated work of scoring one response against its ground truth and extra info. */
export function itemWork(response: string, groundTruth: unknown, extraInfo?: unknown): number {
  const gt = textOf(groundTruth);
  const extra = extraInfo === undefined ? "" : textOf(extraInfo);
  return countWords(response) * countWords(gt) + response.length + gt.length + extra.length;
}
