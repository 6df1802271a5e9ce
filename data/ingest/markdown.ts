/**
 * Markdown documents: the title is the first `#` heading, sections follow the
 * headings (any level), and pipe tables become `tables` (the first row is the
 * header; a `|---|` separator row is optional). A `[Table] caption` line just
 * above a table, as in the PLOS renderings, becomes its caption. Header lines
 * "Authors:", "DOI:", "License:" before the first section are read as metadata.
 */
import type { Document } from "../../tasks/generators/types.ts";
import { isoDate, stem } from "./common.ts";

type Table = NonNullable<Document["tables"]>[number];

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

const SEPARATOR = /^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$/;

/** A Markdown file's text (already decoded and cleaned) as a Document; PLOS files are papers. */
export function parseMarkdown(text: string, path: string): Document {
  const lines = text.split("\n");
  const name = stem(path);
  const sections: { title: string; text: string }[] = [];
  const tables: Table[] = [];
  let title: string | undefined;
  let cur: { title: string; lines: string[] } = { title: "", lines: [] };
  const flush = () => {
    const t = cur.lines.join("\n").trim();
    if (t || cur.title) sections.push({ title: cur.title || "Front matter", text: t });
  };
  // The last "[Table]" caption line; it belongs to a table starting within 3 lines.
  let lastCaption: { label?: string; caption: string; at: number } | undefined;
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const h = inFence ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      if (title === undefined && h[1].length === 1) {
        title = h[2];
        continue;
      }
      flush();
      cur = { title: h[2], lines: [] };
      continue;
    }
    const cap = /^\[Table\]\s*(?:(Table\s+[\w.]+)\.\s*)?(.*)$/.exec(line.trim());
    if (cap) lastCaption = { label: cap[1], caption: cap[2].trim(), at: i };
    if (!inFence && line.trim().startsWith("|") && line.trim().length > 1) {
      const rows: string[][] = [];
      let j = i;
      for (; j < lines.length && lines[j].trim().startsWith("|"); j++) {
        if (!SEPARATOR.test(lines[j].trim())) rows.push(cells(lines[j]));
        cur.lines.push(lines[j]);
      }
      if (rows.length) {
        const c = lastCaption && i - lastCaption.at <= 3 ? lastCaption : undefined;
        const t: Table = { caption: c?.caption ?? "", header: rows[0], rows: rows.slice(1) };
        if (c?.label) t.label = c.label;
        tables.push(t);
      }
      lastCaption = undefined;
      i = j - 1;
      continue;
    }
    cur.lines.push(line);
  }
  flush();

  const head = sections[0]?.title === "Front matter" ? sections[0].text : "";
  const hfield = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, "im").exec(head)?.[1].trim();
  const isPlos = /^journal\.p[a-z]+\.\d+$/.test(name);
  const doc: Document = {
    id: isPlos ? `plos-md:${name}` : `md:${name}`,
    title: title ?? sections[0]?.title ?? name,
    kind: isPlos ? "paper" : "book",
    source: path,
    lang: "und",
    text: text.trim(),
    sections: sections.length ? sections : [{ title: title ?? name, text: text.trim() }],
  };
  const authors = hfield("Authors?");
  if (authors) doc.author = authors;
  const licence = hfield("Licen[cs]e");
  if (licence) doc.licence = licence;
  const journal = hfield("Journal");
  if (journal) {
    const d = isoDate(journal);
    if (d) doc.date = d;
  }
  if (tables.length) doc.tables = tables;
  const doi = hfield("DOI");
  if (doi || journal) doc.meta = { ...(doi ? { doi } : {}), ...(journal ? { journal } : {}) };
  return doc;
}
