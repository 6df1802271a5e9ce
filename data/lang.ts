/**
 * A small language guesser for filtering: script ratios decide Chinese,
 * Japanese and Korean; English is Latin script with enough English stop
 * words. Limits, by design: it only ever answers "en", "zh", "ja", "ko" or
 * "und"; other Latin-script languages (French, German, ...) and Cyrillic,
 * Arabic, etc. are "und"; Japanese needs kana (kanji-only text reads as
 * Chinese); a mixed document gets its majority script; texts with fewer than
 * 20 letters are "und". Only the first 20,000 characters and a sample from
 * the middle are read, so cost is bounded.
 */

/** The codes {@link detectLanguage} can return. */
export type LangCode = "en" | "zh" | "ja" | "ko" | "und";

const STOP = new Set(
  ("the of and to a in is that it was for on with as he she his her be at by i you this had not " +
    "are but from or have an they which one were all we there been has their its would what so " +
    "if will no when who more can my me them him said do could into than then our your these " +
    "those about up out over any also only other such may some very").split(" "),
);

const SAMPLE = 20_000;

/** Guesses the language of `text` (see the module notes for what it cannot tell). */
export function detectLanguage(text: string): LangCode {
  const s = text.length <= SAMPLE * 1.5
    ? text
    : text.slice(0, SAMPLE) + " " + text.slice(text.length / 2, text.length / 2 + SAMPLE / 2);
  let latin = 0, han = 0, kana = 0, hangul = 0, other = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c <= 0x24f)) latin++;
    else if (
      (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x20000 && c <= 0x2a6df)
    ) han++;
    else if (c >= 0x3040 && c <= 0x30ff) kana++;
    else if ((c >= 0xac00 && c <= 0xd7af) || (c >= 0x1100 && c <= 0x11ff)) hangul++;
    else if (c > 0x24f && /\p{L}/u.test(ch)) other++;
  }
  // A CJK character carries about as much as a short Latin word, so weigh it up.
  const cjk = (han + kana + hangul) * 3;
  const total = latin + cjk + other;
  if (total < 20) return "und";
  if (cjk > latin && cjk > other) {
    if (hangul >= (han + kana) * 0.5) return "ko";
    if (kana >= (han + kana) * 0.1) return "ja";
    return "zh";
  }
  if (latin < other) return "und";
  const words = s.toLowerCase().match(/[a-z']+/g) ?? [];
  if (words.length < 5) return "und";
  let stop = 0;
  for (const w of words) if (STOP.has(w)) stop++;
  // English prose runs 35-50% stop words by this list; French or German about 5%.
  return stop / words.length >= 0.15 ? "en" : "und";
}
