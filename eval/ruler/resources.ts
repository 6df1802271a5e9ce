/**
 * What the RULER-style generator draws from, all real third-party text from the shared data
 * folder: the Project Gutenberg novels of `corpora/books/` (the haystack, in place of RULER's
 * Paul Graham essays), RULER's wonderwords lists (`qa/ruler_wordlists/`), and the NQ-Open oracle
 * questions with their gold passages (`qa/nq_open_oracle_dev200.jsonl`, in place of SQuAD /
 * HotpotQA). Loaded once per folder and cached.
 *
 * The folder is `$GOLONGRL_SHARED` if set, else `../shared` next to the repository.
 *
 * @module
 */

import { InputError } from "../../core/errors.ts";
import { defaultSharedDir } from "../../core/shared.ts";

/** One cleaned book: Gutenberg header/footer removed, whitespace collapsed, split into words. */
export interface BookText {
  /** File stem, e.g. "pg11_alice_in_wonderland". */
  id: string;
  words: string[];
}

/** One NQ-Open question with its gold passage. */
export interface NqItem {
  question: string;
  answers: string[];
  title: string;
  text: string;
}

/** Everything the generator needs. */
export interface RulerResources {
  dir: string;
  books: BookText[];
  /** All books' words back to back, in file-name order (the haystack ring). */
  ring: string[];
  nouns: string[];
  adjectives: string[];
  verbs: string[];
  nq: NqItem[];
}

/**
 * The text between a Project Gutenberg e-text's `*** START OF …` and `*** END OF …` lines, with
 * the BOM dropped and CRLF normalized; the whole text when the markers are missing.
 */
export function stripGutenberg(raw: string): string {
  const text = raw.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const start = /^[ \t]*\*\*\*\s*START OF[^\n]*$/m.exec(text);
  const end = /^[ \t]*\*\*\*\s*END OF[^\n]*$/m.exec(text);
  const a = start ? start.index + start[0].length : 0;
  const b = end && end.index > a ? end.index : text.length;
  return text.slice(a, b).trim();
}

async function readLines(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, path);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

async function loadBooks(dir: string): Promise<BookText[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".txt")) names.push(e.name);
    }
  } catch (e) {
    throw new InputError(`cannot list books: ${(e as Error).message}`, dir);
  }
  if (names.length === 0) throw new InputError("no .txt books here", dir);
  names.sort();
  const out: BookText[] = [];
  for (const name of names) {
    const body = stripGutenberg(await Deno.readTextFile(`${dir}/${name}`));
    // RULER: re.sub(r'\s+', " ", essay).split(" ")
    const words = body.split(/\s+/).filter((w) => w.length > 0);
    out.push({ id: name.replace(/\.txt$/, ""), words });
  }
  return out;
}

async function loadNq(path: string): Promise<NqItem[]> {
  const lines = await readLines(path);
  return lines.map((line, i) => {
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new InputError(`invalid JSON: ${(e as Error).message}`, path, i + 1);
    }
    const ctxs = Array.isArray(r.ctxs) ? r.ctxs as Record<string, unknown>[] : [];
    const gold = ctxs.find((c) => c.isgold === true) ?? ctxs[0];
    if (!gold || typeof r.question !== "string" || !Array.isArray(r.answers)) {
      throw new InputError("needs question, answers and a gold ctx", path, i + 1);
    }
    return {
      question: r.question,
      answers: r.answers.map(String),
      title: String(gold.title ?? ""),
      text: String(gold.text ?? ""),
    };
  });
}

const CACHE = new Map<string, Promise<RulerResources>>();

/** Loads (once per folder) the books, word lists and NQ passages under `sharedDir`. */
export function loadRulerResources(
  sharedDir: string = defaultSharedDir(),
): Promise<RulerResources> {
  const dir = sharedDir.replace(/\/+$/, "");
  let p = CACHE.get(dir);
  if (!p) {
    p = (async () => {
      const books = await loadBooks(`${dir}/corpora/books`);
      const wl = `${dir}/qa/ruler_wordlists`;
      const [nouns, adjectives, verbs, nq] = await Promise.all([
        readLines(`${wl}/wonderwords_nounlist.txt`),
        readLines(`${wl}/wonderwords_adjectivelist.txt`),
        readLines(`${wl}/wonderwords_verblist.txt`),
        loadNq(`${dir}/qa/nq_open_oracle_dev200.jsonl`),
      ]);
      const ring: string[] = [];
      for (const b of books) for (const w of b.words) ring.push(w);
      return { dir, books, ring, nouns, adjectives, verbs, nq };
    })();
    p.catch(() => CACHE.delete(dir));
    CACHE.set(dir, p);
  }
  return p;
}
