/**
 * Helpers every format reader shares: decoding a file as clean text (BOM,
 * line ends, binary detection), sentence-based paragraphing, date
 * normalisation, and the Skipped record constructor.
 */
import type { Skipped } from "../../tasks/generators/types.ts";

/** A Skipped record for `source` with `reason`. */
export function skip(source: string, reason: string): Skipped {
  return { skipped: true, source, reason };
}

/** True for a {@link Skipped} record. */
export function isSkipped(x: unknown): x is Skipped {
  return typeof x === "object" && x !== null && (x as Skipped).skipped === true;
}

/** Normalises line ends to "\n" and drops a leading BOM. */
export function cleanText(s: string): string {
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  return s.indexOf("\r") < 0 ? s : s.replace(/\r\n?/g, "\n");
}

/**
 * Decodes bytes as UTF-8 text, or says why they are not text: NUL bytes (a
 * binary file) or invalid UTF-8. The BOM is dropped and line ends normalised.
 */
export function decodeTextBytes(bytes: Uint8Array): { text: string } | { error: string } {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { error: `binary file: NUL byte at offset ${nul}` };
  try {
    return { text: cleanText(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) };
  } catch {
    return { error: "not valid UTF-8 text (a binary file?)" };
  }
}

/** Reads a file as clean text (see {@link decodeTextBytes}); I/O errors become `error`. */
export async function readTextFile(path: string): Promise<{ text: string } | { error: string }> {
  try {
    return decodeTextBytes(await Deno.readFile(path));
  } catch (e) {
    return { error: `cannot read: ${(e as Error).message}` };
  }
}

/** The file name without folders and without its last extension. */
export function stem(path: string): string {
  const base = path.replace(/\\/g, "/").split("/").pop() ?? path;
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

// Abbreviations whose period does not end a sentence (speech and book prose).
const ABBREV = new Set([
  "mr",
  "mrs",
  "ms",
  "dr",
  "st",
  "jr",
  "sr",
  "gen",
  "col",
  "capt",
  "lt",
  "gov",
  "rev",
  "hon",
  "sen",
  "rep",
  "vs",
  "etc",
  "no",
  "nos",
  "art",
  "sec",
  "vol",
  "co",
  "inc",
  "ltd",
  "jan",
  "feb",
  "mar",
  "apr",
  "jun",
  "jul",
  "aug",
  "sep",
  "sept",
  "oct",
  "nov",
  "dec",
  "u.s",
  "i.e",
  "e.g",
  "p",
  "pp",
  "fig",
  "ft",
  "mt",
]);

/**
 * Splits prose into sentences at `.`, `!` or `?` (with closing quotes or
 * brackets) followed by whitespace and a capital, digit or opening quote.
 * Known abbreviations and single initials ("J. Smith") do not end a sentence.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  const re = /[.!?]+["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = m.index + m[0].trimEnd().length;
    if (text[m.index] === ".") {
      const word = /([A-Za-z.]+)$/.exec(text.slice(Math.max(start, m.index - 12), m.index))?.[1]
        .toLowerCase() ?? "";
      if (ABBREV.has(word) || /^[a-z]$/.test(word)) continue;
    }
    const s = text.slice(start, end).trim();
    if (s) out.push(s);
    start = m.index + m[0].length;
  }
  const tail = text.slice(start).trim();
  if (tail) out.push(tail);
  return out;
}

/**
 * Groups sentences into paragraphs of about `target` characters (never
 * splitting a sentence), for texts that arrive as one line.
 */
export function paragraphize(text: string, target = 1500): string[] {
  const paras: string[] = [];
  let cur: string[] = [];
  let len = 0;
  for (const s of splitSentences(text.replace(/\s+/g, " ").trim())) {
    cur.push(s);
    len += s.length + 1;
    if (len >= target) {
      paras.push(cur.join(" "));
      cur = [];
      len = 0;
    }
  }
  if (cur.length) {
    // A short tail joins the previous paragraph rather than standing alone.
    if (paras.length && len < target / 4) paras[paras.length - 1] += " " + cur.join(" ");
    else paras.push(cur.join(" "));
  }
  return paras;
}

const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

/**
 * Normalises a free-form date ("February 26, 2006", "March, 1994",
 * "July 1992", "2015-01-27") to ISO "YYYY-MM-DD", "YYYY-MM" or "YYYY";
 * undefined when no year is found.
 */
export function isoDate(s: string): string | undefined {
  s = s.replace(/\[[^\]]*\]/g, " "); // "[EBook #1661]" is not a year
  const iso = /\b(\d{4})-(\d{2})(?:-(\d{2}))?\b/.exec(s);
  if (iso) return iso[3] ? `${iso[1]}-${iso[2]}-${iso[3]}` : `${iso[1]}-${iso[2]}`;
  const year = /\b(1[5-9]\d\d|20\d\d)\b/.exec(s)?.[1];
  if (!year) return undefined;
  const lower = s.toLowerCase();
  // The month named first wins ("June 1, 1998 ... updated: April 14, 2023" is June).
  let mi = -1, at = Infinity;
  MONTHS.forEach((m, i) => {
    const hit = new RegExp(`\\b${m.slice(0, 3)}[a-z]*\\.?(?![a-z])`).exec(lower);
    if (hit && hit.index < at) [mi, at] = [i, hit.index];
  });
  if (mi < 0) return year;
  const mm = String(mi + 1).padStart(2, "0");
  const day =
    new RegExp(`\\b${MONTHS[mi].slice(0, 3)}[a-z]*\\.?\\s+(\\d{1,2})\\b`).exec(lower)?.[1] ??
      /\b(\d{1,2})\s+[a-z]{3,}/.exec(lower)?.[1];
  return day ? `${year}-${mm}-${day.padStart(2, "0")}` : `${year}-${mm}`;
}

/** A lowercase ASCII slug for ids: "George Washington" -> "george-washington". */
export function slug(s: string): string {
  return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
