/**
 * A small, iterative XML tokenizer and tree builder (Deno has no DOMParser and
 * we take no npm XML package). It handles the XML that real publishers emit:
 * entities (the five predefined, numeric, and the named ones common in JATS),
 * CDATA, comments, processing instructions and a DOCTYPE with an internal
 * subset. Nothing here recurses: the open elements live on an explicit stack,
 * so a deeply nested file cannot overflow the call stack. Malformed input
 * (a mismatched or unclosed tag, a stray `<`) throws {@link XmlError} with the
 * line, which ingestion turns into a Skipped record.
 */

/** An element: name as written (prefix kept, e.g. "mml:math"), attributes, children in order. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** 1-based line of the start tag. */
  line: number;
}

/** A child: an element or a run of (entity-decoded) character data. */
export type XmlNode = XmlElement | string;

/** Malformed XML, with the 1-based line where it was noticed. */
export class XmlError extends Error {
  override name = "XmlError";
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Named entities beyond the XML five. JATS files normally use numeric
 * references, but hand-made or converted files carry HTML names; an unknown
 * name is kept literally rather than failing the document.
 */
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  ndash: "\u2013",
  mdash: "\u2014",
  hellip: "\u2026",
  lsquo: "\u2018",
  rsquo: "\u2019",
  ldquo: "\u201c",
  rdquo: "\u201d",
  laquo: "\u00ab",
  raquo: "\u00bb",
  times: "\u00d7",
  divide: "\u00f7",
  minus: "\u2212",
  plusmn: "\u00b1",
  deg: "\u00b0",
  micro: "\u00b5",
  middot: "\u00b7",
  bull: "\u2022",
  prime: "\u2032",
  le: "\u2264",
  ge: "\u2265",
  ne: "\u2260",
  asymp: "\u2248",
  infin: "\u221e",
  sum: "\u2211",
  copy: "\u00a9",
  reg: "\u00ae",
  trade: "\u2122",
  sect: "\u00a7",
  para: "\u00b6",
  thinsp: "\u2009",
  ensp: "\u2002",
  emsp: "\u2003",
  alpha: "\u03b1",
  beta: "\u03b2",
  gamma: "\u03b3",
  delta: "\u03b4",
  epsilon: "\u03b5",
  theta: "\u03b8",
  lambda: "\u03bb",
  mu: "\u03bc",
  pi: "\u03c0",
  sigma: "\u03c3",
  tau: "\u03c4",
  phi: "\u03c6",
  chi: "\u03c7",
  omega: "\u03c9",
  Delta: "\u0394",
  Sigma: "\u03a3",
  Omega: "\u03a9",
  auml: "\u00e4",
  ouml: "\u00f6",
  uuml: "\u00fc",
  eacute: "\u00e9",
  egrave: "\u00e8",
  aacute: "\u00e1",
  oacute: "\u00f3",
  iacute: "\u00ed",
  ccedil: "\u00e7",
  ntilde: "\u00f1",
  szlig: "\u00df",
};

/** Decodes entity and character references in `s`; unknown names stay as written. */
export function decodeEntities(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g, (m, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X"
        ? parseInt(ref.slice(2), 16)
        : parseInt(ref.slice(1), 10);
      // An out-of-range or surrogate reference is kept literally, not thrown on.
      if (!(code > 0 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) return m;
      return String.fromCodePoint(code);
    }
    return NAMED[ref] ?? m;
  });
}

const NAME_START = /[A-Za-z_:\u00c0-\uffff]/;

/** Counts the line of offset `pos` (only on the error path, so it may be slow). */
function lineAt(src: string, pos: number): number {
  let n = 1;
  for (let i = src.indexOf("\n"); i >= 0 && i < pos; i = src.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * Parses a whole XML document into its root element. Throws {@link XmlError}
 * on malformed input. Whitespace-only text between elements is kept (it
 * matters in mixed content); callers normalise it.
 */
export function parseXml(src: string): XmlElement {
  // Line numbers are tracked incrementally: `line` is the line at `lineFrom`.
  let line = 1, lineFrom = 0;
  const lineOf = (pos: number): number => {
    for (let i = src.indexOf("\n", lineFrom); i >= 0 && i < pos; i = src.indexOf("\n", i + 1)) {
      line++;
      lineFrom = i + 1;
    }
    return line;
  };
  const fail = (msg: string, pos: number): never => {
    throw new XmlError(msg, lineAt(src, pos));
  };

  const doc: XmlElement = { name: "#document", attrs: {}, children: [], line: 1 };
  const stack: XmlElement[] = [doc];
  let pos = 0;
  const n = src.length;
  if (src.charCodeAt(0) === 0xfeff) pos = 1;

  while (pos < n) {
    const lt = src.indexOf("<", pos);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > pos) {
      const raw = src.slice(pos, textEnd);
      const top = stack[stack.length - 1];
      if (top === doc) {
        if (raw.trim() !== "") fail("text outside the root element", pos);
      } else top.children.push(decodeEntities(raw));
    }
    if (lt < 0) break;
    pos = lt;
    if (src.startsWith("<!--", pos)) {
      const end = src.indexOf("-->", pos + 4);
      if (end < 0) fail("unterminated comment", pos);
      pos = end + 3;
    } else if (src.startsWith("<![CDATA[", pos)) {
      const end = src.indexOf("]]>", pos + 9);
      if (end < 0) fail("unterminated CDATA section", pos);
      const top = stack[stack.length - 1];
      if (top === doc) fail("CDATA outside the root element", pos);
      top.children.push(src.slice(pos + 9, end));
      pos = end + 3;
    } else if (src.startsWith("<?", pos)) {
      const end = src.indexOf("?>", pos + 2);
      if (end < 0) fail("unterminated processing instruction", pos);
      pos = end + 2;
    } else if (src.startsWith("<!", pos)) {
      // DOCTYPE (possibly with an [internal subset]) or another declaration:
      // skipped, tracking brackets and quotes so a '>' inside them is not the end.
      let i = pos + 2, depth = 0, quote = "";
      for (; i < n; i++) {
        const c = src[i];
        if (quote) {
          if (c === quote) quote = "";
        } else if (c === '"' || c === "'") quote = c;
        else if (c === "[") depth++;
        else if (c === "]") depth--;
        else if (c === ">" && depth <= 0) break;
      }
      if (i >= n) fail("unterminated declaration", pos);
      pos = i + 1;
    } else if (src[pos + 1] === "/") {
      const end = src.indexOf(">", pos + 2);
      if (end < 0) fail("unterminated end tag", pos);
      const name = src.slice(pos + 2, end).trim();
      const top = stack[stack.length - 1];
      if (top === doc) fail(`end tag </${name}> with no open element`, pos);
      if (top.name !== name) {
        fail(`mismatched end tag </${name}>: <${top.name}> (line ${top.line}) is open`, pos);
      }
      stack.pop();
      pos = end + 1;
    } else {
      pos = parseStartTag(src, pos, stack, doc, lineOf, fail);
    }
  }
  if (stack.length > 1) {
    const top = stack[stack.length - 1];
    throw new XmlError(
      `unclosed <${top.name}> at end of input (opened on line ${top.line})`,
      top.line,
    );
  }
  const roots = doc.children.filter((c): c is XmlElement => typeof c !== "string");
  if (roots.length !== 1) {
    throw new XmlError(roots.length === 0 ? "no root element" : "more than one root element", 1);
  }
  return roots[0];
}

/** Parses `<name attr="v" ...>` or `<name/>` at `pos`; returns the offset after it. */
function parseStartTag(
  src: string,
  pos: number,
  stack: XmlElement[],
  doc: XmlElement,
  lineOf: (pos: number) => number,
  fail: (msg: string, pos: number) => never,
): number {
  const n = src.length;
  let i = pos + 1;
  if (i >= n || !NAME_START.test(src[i])) fail("'<' not starting a tag (escape it as &lt;)", pos);
  const nameStart = i;
  while (i < n && !/[\s/>]/.test(src[i])) i++;
  const el: XmlElement = {
    name: src.slice(nameStart, i),
    attrs: {},
    children: [],
    line: lineOf(pos),
  };
  for (;;) {
    while (i < n && /\s/.test(src[i])) i++;
    if (i >= n) fail(`unterminated start tag <${el.name}>`, pos);
    if (src[i] === ">") {
      i++;
      break;
    }
    if (src[i] === "/" && src[i + 1] === ">") {
      i += 2;
      addChild(el, stack, doc, pos, fail);
      return i;
    }
    const an = i;
    while (i < n && !/[\s=/>]/.test(src[i])) i++;
    const attr = src.slice(an, i);
    if (!attr) fail(`bad attribute in <${el.name}>`, i);
    while (i < n && /\s/.test(src[i])) i++;
    if (src[i] !== "=") fail(`attribute ${attr} in <${el.name}> has no value`, i);
    i++;
    while (i < n && /\s/.test(src[i])) i++;
    const q = src[i];
    if (q !== '"' && q !== "'") fail(`attribute ${attr} in <${el.name}> is not quoted`, i);
    const close = src.indexOf(q, i + 1);
    if (close < 0) fail(`unterminated attribute ${attr} in <${el.name}>`, i);
    el.attrs[attr] = decodeEntities(src.slice(i + 1, close));
    i = close + 1;
  }
  addChild(el, stack, doc, pos, fail);
  stack.push(el);
  return i;
}

function addChild(
  el: XmlElement,
  stack: XmlElement[],
  doc: XmlElement,
  pos: number,
  fail: (msg: string, pos: number) => never,
): void {
  const top = stack[stack.length - 1];
  if (top === doc && doc.children.some((c) => typeof c !== "string")) {
    fail(`second root element <${el.name}>`, pos);
  }
  top.children.push(el);
}

/** The local part of a (possibly prefixed) name: "mml:math" -> "math". */
export function localName(name: string): string {
  const c = name.indexOf(":");
  return c < 0 ? name : name.slice(c + 1);
}

/** Direct child elements, optionally only those with local name `name`. */
export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (typeof c !== "string" && (name === undefined || localName(c.name) === name)) out.push(c);
  }
  return out;
}

/** First direct child with local name `name`. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) {
    if (typeof c !== "string" && localName(c.name) === name) return c;
  }
  return undefined;
}

/**
 * All descendants with local name `name`, in document order (iterative).
 * With `stopAtMatch`, a match's own subtree is not searched.
 */
export function descendants(el: XmlElement, name: string, stopAtMatch = false): XmlElement[] {
  const out: XmlElement[] = [];
  const stack: XmlNode[] = [];
  for (let i = el.children.length - 1; i >= 0; i--) stack.push(el.children[i]);
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node === "string") continue;
    const hit = localName(node.name) === name;
    if (hit) out.push(node);
    if (hit && stopAtMatch) continue;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  return out;
}

/** First descendant with local name `name` (document order), if any. */
export function find(el: XmlElement, name: string): XmlElement | undefined {
  const stack: XmlNode[] = [];
  for (let i = el.children.length - 1; i >= 0; i--) stack.push(el.children[i]);
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node === "string") continue;
    if (localName(node.name) === name) return node;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  return undefined;
}

/** All character data under `el`, concatenated in order, whitespace collapsed (iterative). */
export function textContent(el: XmlElement): string {
  const parts: string[] = [];
  const stack: XmlNode[] = [el];
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node === "string") parts.push(node);
    else for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  return parts.join("").replace(/\s+/g, " ").trim();
}
