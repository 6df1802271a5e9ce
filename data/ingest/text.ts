/**
 * Plain-text books, Project Gutenberg style. The e-texts arrive verbatim: a
 * BOM, CRLF line ends, a licence header and footer around the real text, and
 * metadata only in that header. We keep the text between the `*** START OF`
 * and `*** END OF` markers (their variants: "THIS"/"THE", no spaces, a marker
 * wrapped onto two lines, the older "End of Project Gutenberg's ..." line), and
 * split chapters with layout heuristics. A file without markers is kept whole.
 */
import type { Document } from "../../tasks/generators/types.ts";
import { isoDate, stem } from "./common.ts";

const START_RE = /^[ \t]*\*{3}\s*START OF (?:THIS|THE) PROJECT GUTENBERG E-?BOOK\b/im;
const END_RE = /^[ \t]*\*{3}\s*END OF (?:THIS|THE) PROJECT GUTENBERG E-?BOOK\b/im;
/** The plain closing line older e-texts put just before (or instead of) the END marker. */
const END_LINE_RE =
  /^[ \t]*End of (?:the )?Project Gutenberg(?:['\u2019]s)?(?: E-?book| Etext)?\b/im;
/** The end of the very old "small print" header. */
const SMALL_PRINT_RE = /^.*\*END\*THE SMALL PRINT!.*$/im;
/** Volunteer credits that open many e-texts right after the START marker. */
const CREDITS_RE =
  /^(?:Produced by|E-?text prepared by|Transcribed from|Prepared by|This etext was)/i;

/** What a Gutenberg header tells us, and where the real text lies. */
export interface GutenbergSplit {
  /** Whether START/END markers (or the small-print header) were found. */
  hasMarkers: boolean;
  header: string;
  body: string;
  title?: string;
  author?: string;
  date?: string;
  ebook?: string;
  language?: string;
}

/** One header field ("Title:", "Author:"), with an indented continuation line. */
function field(header: string, name: string, wrap = true): string | undefined {
  // Not anchored at line start: some headers glue "Title:" to the previous line.
  const m = new RegExp(`${name}:[ \\t]*(.+)(\\n[ \\t]+\\S.*)?`, "i").exec(header);
  if (!m) return undefined;
  const v = (m[1] + (wrap && m[2] ? ": " + m[2].trim() : "")).trim();
  return v || undefined;
}

/** Splits a cleaned ("\n" line ends) e-text into header, body and header metadata. */
export function splitGutenberg(text: string): GutenbergSplit {
  let header = "", body = text, hasMarkers = false;
  const start = START_RE.exec(text);
  if (start) {
    hasMarkers = true;
    header = text.slice(0, start.index);
    // The marker ends at its closing "***", which a wrapped marker puts on the next line.
    const from = start.index + start[0].length;
    let nl = text.indexOf("\n", from);
    if (nl >= 0 && !text.slice(from, nl).includes("***")) {
      const nl2 = text.indexOf("\n", nl + 1);
      const next = text.slice(nl + 1, nl2 < 0 ? text.length : nl2);
      if (next.includes("***")) nl = nl2;
    }
    body = nl < 0 ? "" : text.slice(nl + 1);
  } else {
    const sp = SMALL_PRINT_RE.exec(text);
    if (sp) {
      hasMarkers = true;
      header = text.slice(0, sp.index);
      body = text.slice(sp.index + sp[0].length);
    }
  }
  const end = END_RE.exec(body);
  let cut = end ? end.index : body.length;
  const endLine = END_LINE_RE.exec(body);
  // The plain "End of ..." line counts only near the marker (or with none, in the last tenth).
  if (
    endLine && endLine.index < cut &&
    (end ? cut - endLine.index < 2000 : endLine.index > body.length * 0.9)
  ) {
    cut = endLine.index;
  }
  if (end || (endLine && cut === endLine.index)) hasMarkers = true;
  body = body.slice(0, cut);
  if (!hasMarkers) header = text.slice(0, 3000);
  const credits = /^\s*/.exec(body)![0].length;
  if (CREDITS_RE.test(body.slice(credits))) {
    const para = body.indexOf("\n\n", credits);
    body = para < 0 ? "" : body.slice(para);
  }

  const out: GutenbergSplit = { hasMarkers, header, body: tidy(body) };
  if (hasMarkers || /Project Gutenberg/i.test(header)) {
    out.title = field(header, "Title");
    out.author = field(header, "Author", false);
    const rd = field(header, "Release Date", false);
    if (rd) out.date = isoDate(rd);
    out.ebook = /\[E-?book #(\d+)\]/i.exec(header)?.[1] ?? /EBook #(\d+)/i.exec(header)?.[1];
    out.language = field(header, "Language", false);
    // "Project Gutenberg's X, by Y" / "The Project Gutenberg EBook of X, by Y" on line one.
    const first = /^(?:The )?Project Gutenberg(?:['\u2019]s| E-?book of)\s+(.+?),\s+by\s+(.+)$/im
      .exec(header);
    if (first) {
      out.title ??= first[1].trim();
      out.author ??= first[2].trim();
    }
  }
  return out;
}

/** Trims line ends, collapses runs of blank lines to two, trims the whole. */
export function tidy(s: string): string {
  return s.replace(/[ \t]+$/gm, "").replace(/\n{4,}/g, "\n\n\n").trim();
}

const KEYWORD_RE =
  /^(?:CHAPTER|Chapter|STAVE|Stave|BOOK|Book|PART|Part|ACT|Act)\s+(?:the\s+)?(?:[IVXLCDM]+|\d+|[A-Z][A-Za-z]+)\b/;
const NUMERAL_RE = /^(?:[IVXLCDM]+|\d{1,3})\.?(?:\s+["'\u201c\u2018]?[A-Z].{0,70})?$/;
const CAPS_RE = /^(?=.*[A-Z]{2})[^a-z]{2,60}$/;

/** Minimum characters a chapter must hold; shorter candidates are table-of-contents lines. */
const MIN_SECTION = 200;

/**
 * Splits a book into chapters. Headings are short lines with a blank line
 * before and a blank line after (or one subtitle line, then a blank), matched
 * by tiers tried in order: keyword ("CHAPTER I", "Chapter 1", "STAVE I",
 * "BOOK ONE"), bare numerals ("I.", "XII. THE STORM"), then all-caps lines.
 * The first tier that yields two or more chapters of at least
 * {@link MIN_SECTION} characters wins; candidates followed by less text
 * (table-of-contents entries, "BOOK ONE" right above "I.") are not headings.
 * Text before the first heading is a "Front matter" section. With no tier,
 * the whole text is one section titled `fallbackTitle`.
 */
export function splitChapters(
  text: string,
  fallbackTitle: string,
): { title: string; text: string }[] {
  const lines = text.split("\n");
  const blank = (i: number) => i < 0 || i >= lines.length || lines[i].trim() === "";
  const tiers: ((t: string) => boolean)[] = [
    (t) => KEYWORD_RE.test(t) || NUMERAL_RE.test(t),
    (t) => CAPS_RE.test(t),
  ];
  for (const isHeading of tiers) {
    // Candidates: line index, lines the heading spans (a subtitle line may follow), title.
    const cands: { at: number; span: number; title: string }[] = [];
    for (let i = 0; i < lines.length; i++) {
      const t = lines[i].trim();
      if (!t || t.length > 80 || !blank(i - 1) || !isHeading(t)) continue;
      if (blank(i + 1)) cands.push({ at: i, span: 1, title: t });
      else if (blank(i + 2) && lines[i + 1].trim().length <= 80) {
        cands.push({ at: i, span: 2, title: `${t} ${lines[i + 1].trim()}` });
      }
    }
    // A heading whose title (or keyword and number: "Chapter 8") recurs later is a
    // table-of-contents line for the later one.
    const key = (t: string) =>
      (KEYWORD_RE.exec(t)?.[0] ?? t).toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
    const lastAt = new Map<string, number>();
    cands.forEach((c, k) => lastAt.set(key(c.title), k));
    const real = cands.filter((c, k) => lastAt.get(key(c.title)) === k);
    // Keep a candidate only when enough text follows it before the next one.
    const kept = real.filter((c, k) => {
      const next = k + 1 < real.length ? real[k + 1].at : lines.length;
      return lines.slice(c.at + c.span, next).join("\n").trim().length >= MIN_SECTION;
    });
    if (kept.length < 2) continue;
    const sections: { title: string; text: string }[] = [];
    const front = lines.slice(0, kept[0].at).join("\n").trim();
    if (front) sections.push({ title: "Front matter", text: front });
    kept.forEach((c, k) => {
      const next = k + 1 < kept.length ? kept[k + 1].at : lines.length;
      sections.push({
        // "Chapter I.]" closes an illustration caption; "[6]" is a footnote mark.
        title: c.title.replace(/\s+/g, " ").replace(/^([^[]*)\]$/, "$1").trim(),
        text: lines.slice(c.at + c.span, next).join("\n").trim(),
      });
    });
    return sections;
  }
  return [{ title: fallbackTitle, text }];
}

/**
 * A plain-text file (already decoded and cleaned) as a book Document. Ids:
 * `pg<N>` from the e-book number (header, else a `pg<N>` file name), else
 * `txt:<file stem>`.
 */
export function parsePlainText(text: string, path: string): Document {
  const g = splitGutenberg(text);
  const name = stem(path);
  const ebook = g.ebook ?? /^pg(\d+)/i.exec(name)?.[1];
  const isPg = g.hasMarkers || g.ebook !== undefined;
  const firstLine = g.body.split("\n").find((l) => l.trim())?.trim().slice(0, 200);
  const title = g.title ?? firstLine ?? name;
  const doc: Document = {
    id: isPg && ebook ? `pg${ebook}` : `txt:${name}`,
    title,
    kind: "book",
    source: path,
    lang: "und",
    text: g.body,
    sections: splitChapters(g.body, title),
  };
  if (g.author) doc.author = g.author;
  if (g.date) doc.date = g.date;
  if (isPg) doc.licence = "Public domain in the USA (Project Gutenberg)";
  const meta: Record<string, unknown> = {};
  if (ebook && isPg) meta.gutenberg = Number(ebook);
  if (g.language) meta.declaredLanguage = g.language;
  if (Object.keys(meta).length) doc.meta = meta;
  return doc;
}
