/**
 * JATS XML research articles (PLOS and other publishers) into paper
 * Documents: title, authors, publication date, licence, abstract, body
 * sections, tables (label, caption, header row, body rows) and figure
 * captions. Maths is kept as text: `<tex-math>` when an `<alternatives>`
 * offers it, else a MathML `alttext`, else the MathML token text, so no tag
 * soup reaches the text. Rendering walks the tree with an explicit stack.
 */
import type { Document } from "../../tasks/generators/types.ts";
import { isoDate, stem } from "./common.ts";
import {
  child,
  childElements,
  descendants,
  find,
  localName,
  textContent,
  type XmlElement,
  type XmlNode,
} from "./xml.ts";

type Table = NonNullable<Document["tables"]>[number];

/** Elements whose content never belongs in the running text. */
const SKIP = new Set([
  "graphic",
  "inline-graphic",
  "object-id",
  "ref-list",
  "fn-group",
  "table-wrap-foot",
  "permissions",
  "media",
]);
/** Elements that start and end a paragraph of their own. */
const BLOCK = new Set([
  "p",
  "title",
  "sec",
  "list",
  "list-item",
  "def-list",
  "def-item",
  "boxed-text",
  "disp-quote",
  "caption",
  "abstract",
  "ack",
  "statement",
  "supplementary-material",
  "disp-formula",
  "label",
  "speech",
  "verse-group",
  "app",
]);

/** The formula of a `<tex-math>`: the maths inside a full LaTeX document wrapper. */
function texMath(el: XmlElement): string {
  const raw = textContent(el);
  const m = /\\begin\{document\}([\s\S]*?)\\end\{document\}/.exec(raw);
  return (m ? m[1] : raw).trim();
}

/** Chooses what to render of an `<alternatives>`: TeX, then MathML, then anything but an image. */
function pickAlternative(el: XmlElement): XmlElement | undefined {
  const kids = childElements(el);
  return kids.find((k) => localName(k.name) === "tex-math") ??
    kids.find((k) => localName(k.name) === "math") ??
    kids.find((k) => localName(k.name) === "table") ??
    kids.find((k) => !SKIP.has(localName(k.name)));
}

/**
 * Renders mixed content as text: block elements become paragraphs separated
 * by blank lines, inline markup is flattened, maths becomes text, tables and
 * figures become a caption line (tables also as pipe rows). `omit` elements
 * (e.g. a section's own title) are left out.
 */
export function renderText(root: XmlElement, omit?: Set<XmlElement>): string {
  const out: string[] = [];
  const stack: (XmlNode | { close: string })[] = [root];
  while (stack.length) {
    const item = stack.pop()!;
    if (typeof item === "string") {
      out.push(item.replace(/\s+/g, " "));
      continue;
    }
    if ("close" in item) {
      out.push(item.close);
      continue;
    }
    const el = item;
    if (omit?.has(el)) continue;
    const name = localName(el.name);
    if (SKIP.has(name)) continue;
    if (name === "alternatives") {
      const pick = pickAlternative(el);
      if (pick) stack.push(pick);
      continue;
    }
    if (name === "tex-math") {
      out.push(` ${texMath(el)} `);
      continue;
    }
    if (name === "math") {
      out.push(` ${el.attrs.alttext?.trim() || textContent(el)} `);
      continue;
    }
    if (name === "table-wrap") {
      const t = readTable(el);
      const lines = [[t.label, t.caption].filter(Boolean).join(". ")];
      if (t.header.length) lines.push(`| ${t.header.join(" | ")} |`);
      for (const r of t.rows) lines.push(`| ${r.join(" | ")} |`);
      out.push(`\n\n${lines.join("\n")}\n\n`);
      continue;
    }
    if (name === "fig") {
      const f = readFigure(el);
      out.push(`\n\n${[f.label, f.caption].filter(Boolean).join(". ")}\n\n`);
      continue;
    }
    if (name === "break") {
      out.push("\n");
      continue;
    }
    const block = BLOCK.has(name) || name === "table" || name === "tr";
    if (block) {
      out.push("\n\n");
      stack.push({ close: "\n\n" });
    } else if ((name === "td" || name === "th") && el !== root) {
      out.push(" ");
      stack.push({ close: " |" });
    }
    for (let i = el.children.length - 1; i >= 0; i--) stack.push(el.children[i]);
  }
  return out.join("").split(/\n\s*\n/).map((p) => p.replace(/[ \t]+/g, " ").trim())
    .filter(Boolean).join("\n\n");
}

/** Inline text of an element: rendered, then all on one line. */
function inline(el: XmlElement | undefined): string {
  return el ? renderText(el).replace(/\s+/g, " ").trim() : "";
}

/** Label and caption (title plus caption paragraphs) of a table or figure. */
function labelCaption(el: XmlElement): { label?: string; caption: string } {
  const label = inline(child(el, "label")) || undefined;
  const cap = child(el, "caption");
  const caption = cap
    ? childElements(cap).map(inline).filter(Boolean).join(" ").trim() || inline(cap)
    : "";
  return { label, caption };
}

/** A figure's label and caption. */
export function readFigure(el: XmlElement): { label?: string; caption: string } {
  return labelCaption(el);
}

/** Cells of a row, each repeated across its colspan so columns line up. */
function rowCells(tr: XmlElement): string[] {
  const cells: string[] = [];
  for (const c of childElements(tr)) {
    const n = localName(c.name);
    if (n !== "td" && n !== "th") continue;
    const span = Math.min(Math.max(parseInt(c.attrs.colspan ?? "1", 10) || 1, 1), 64);
    const text = inline(c);
    cells.push(text);
    for (let k = 1; k < span; k++) cells.push("");
  }
  return cells;
}

/**
 * A `<table-wrap>` as label, caption, header and rows. Several header rows
 * are merged column by column; with no `<thead>`, a first row made of `<th>`
 * cells is the header. Row spans are not filled down (the cell is in its
 * first row only).
 */
export function readTable(wrap: XmlElement): Table {
  const { label, caption } = labelCaption(wrap);
  const table = find(wrap, "table");
  const head: string[][] = [];
  const body: string[][] = [];
  if (table) {
    for (const part of childElements(table)) {
      const n = localName(part.name);
      if (n === "thead") head.push(...childElements(part, "tr").map(rowCells));
      else if (n === "tbody" || n === "tfoot") {
        body.push(...childElements(part, "tr").map(rowCells));
      } else if (n === "tr") body.push(rowCells(part));
    }
    const first = descendants(table, "tr")[0];
    if (
      !head.length && body.length && first &&
      childElements(first).every((c) => localName(c.name) === "th")
    ) {
      head.push(body.shift()!);
    }
  }
  const width = Math.max(0, ...head.map((r) => r.length));
  const header = Array.from({ length: width }, (_, i) => {
    const parts = head.map((r) => r[i] ?? "").filter(Boolean);
    return [...new Set(parts)].join(" / ");
  });
  const t: Table = { caption, header, rows: body };
  if (label) t.label = label;
  return t;
}

/** Short names for the licence URLs publishers use. */
function licenceName(url: string): string {
  const cc = /creativecommons\.org\/licenses\/([a-z-]+)\/(\d\.\d)/i.exec(url);
  if (cc) return `CC ${cc[1].toUpperCase()} ${cc[2]}`;
  const zero = /creativecommons\.org\/publicdomain\/zero\/(\d\.\d)/i.exec(url);
  if (zero) return `CC0 ${zero[1]}`;
  return url;
}

/** The licence of an article: a known name from the URL, else the URL, else the licence text. */
function readLicence(meta: XmlElement): { licence?: string; url?: string } {
  const lic = find(meta, "license");
  if (!lic) return {};
  const ref = find(lic, "license_ref");
  const url = (ref ? textContent(ref) : "") || lic.attrs["xlink:href"] || "";
  if (url) return { licence: licenceName(url.trim()), url: url.trim() };
  const text = textContent(lic);
  return text ? { licence: text.slice(0, 300) } : {};
}

function readDate(meta: XmlElement): string | undefined {
  const dates = childElements(meta, "pub-date");
  const d = dates.find((e) => e.attrs["pub-type"] === "epub" || e.attrs["date-type"] === "pub") ??
    dates[0];
  if (!d) return undefined;
  const y = inline(child(d, "year"));
  if (!y) return d.attrs["iso-8601-date"] ? isoDate(d.attrs["iso-8601-date"]) : undefined;
  const m = inline(child(d, "month")), day = inline(child(d, "day"));
  const pad = (s: string) => s.padStart(2, "0");
  return m && /^\d+$/.test(m)
    ? (day && /^\d+$/.test(day) ? `${y}-${pad(m)}-${pad(day)}` : `${y}-${pad(m)}`)
    : y;
}

function readAuthors(meta: XmlElement): string[] {
  const out: string[] = [];
  for (const c of descendants(meta, "contrib")) {
    if (c.attrs["contrib-type"] && c.attrs["contrib-type"] !== "author") continue;
    const name = child(c, "name") ?? find(c, "name");
    if (name) {
      const given = inline(child(name, "given-names")), sur = inline(child(name, "surname"));
      const full = [given, sur].filter(Boolean).join(" ");
      if (full) out.push(full);
      continue;
    }
    const collab = child(c, "collab");
    if (collab) out.push(inline(collab));
  }
  return out;
}

/** A section's title and its text without the title. */
function section(sec: XmlElement, fallback: string): { title: string; text: string } {
  const t = child(sec, "title");
  return { title: inline(t) || fallback, text: renderText(sec, t ? new Set([t]) : undefined) };
}

/**
 * A parsed JATS `<article>` as a paper Document, or a string saying why it is
 * not one. Ids: `plos:<doi suffix>` for PLOS DOIs, `doi:<doi>` for others,
 * `jats:<file stem>` without a DOI.
 */
export function jatsToDocument(article: XmlElement, path: string): Document | string {
  if (localName(article.name) !== "article") return `not a JATS article (root <${article.name}>)`;
  const front = child(article, "front");
  const meta = front && child(front, "article-meta");
  if (!meta) return "JATS article without <front>/<article-meta>";
  const title = inline(find(meta, "article-title"));
  if (!title) return "JATS article without an <article-title>";
  const doi = childElements(meta, "article-id").find((e) => e.attrs["pub-id-type"] === "doi");
  const doiText = doi ? textContent(doi) : "";
  const id = doiText.startsWith("10.1371/")
    ? `plos:${doiText.slice("10.1371/".length)}`
    : doiText
    ? `doi:${doiText}`
    : `jats:${stem(path)}`;

  const sections: { title: string; text: string }[] = [];
  const abstracts = childElements(meta, "abstract");
  for (const a of abstracts) {
    const kind = a.attrs["abstract-type"];
    if (kind === "toc") continue; // a one-line teaser for the journal's table of contents
    const s = section(a, kind === "summary" ? "Author Summary" : kind ? kind : "Abstract");
    if (s.text) sections.push(s);
  }
  const body = child(article, "body");
  if (body) {
    let loose: XmlElement[] = [];
    const flushLoose = () => {
      const text = loose.map((e) => renderText(e)).filter(Boolean).join("\n\n");
      if (text) sections.push({ title: sections.length ? "Body" : "Introduction", text });
      loose = [];
    };
    for (const c of childElements(body)) {
      if (localName(c.name) === "sec") {
        flushLoose();
        const s = section(c, "Section");
        if (s.text) sections.push(s);
      } else loose.push(c);
    }
    flushLoose();
  }
  const back = child(article, "back");
  if (back) {
    for (const c of childElements(back)) {
      const n = localName(c.name);
      if (n === "ack" || n === "sec" || n === "app-group" || n === "notes") {
        const s = section(c, n === "ack" ? "Acknowledgments" : "Notes");
        if (s.text) sections.push(s);
      }
    }
  }

  const tables = descendants(article, "table-wrap").map(readTable);
  const figures = descendants(article, "fig").map(readFigure);
  const text = [title, ...sections.map((s) => `${s.title}\n\n${s.text}`)].join("\n\n");
  const authors = readAuthors(meta);
  const { licence, url } = readLicence(meta);
  const journal = front && find(front, "journal-title");
  const keywords = descendants(meta, "kwd").map(inline).filter(Boolean);
  const doc: Document = {
    id,
    title,
    kind: "paper",
    source: path,
    lang: "und",
    text,
    sections,
  };
  if (authors.length) doc.author = authors.join(", ");
  const date = readDate(meta);
  if (date) doc.date = date;
  if (licence) doc.licence = licence;
  if (tables.length) doc.tables = tables;
  const m: Record<string, unknown> = {};
  if (doiText) m.doi = doiText;
  if (journal) m.journal = inline(journal);
  if (url) m.licenceUrl = url;
  if (authors.length) m.authors = authors;
  if (keywords.length) m.keywords = keywords;
  if (figures.length) m.figures = figures;
  const abs = sections.find((s) => s.title === "Abstract");
  if (abs) m.abstract = abs.text;
  doc.meta = m;
  return doc;
}
