/**
 * bAbI tasks: numbered lines, the number restarting at 1 for each story;
 * question lines hold "question<TAB>answer<TAB>supporting fact ids". Each
 * story becomes one Document whose text is its statements, one per line;
 * `meta.lineIds` gives each text line's bAbI number (supporting facts refer
 * to them) and `meta.questions` the questions in order.
 */
import type { Document, Skipped } from "../../tasks/generators/types.ts";
import { skip, stem } from "./common.ts";

/** One bAbI question: asked after statement `after`, answered from `supporting`. */
export interface BabiQuestion {
  q: string;
  answer: string;
  supporting: number[];
  after: number;
}

/** Whether text looks like bAbI: every non-blank line starts with a number, and some have tabs. */
export function isBabi(text: string): boolean {
  const lines = text.split("\n", 200).filter((l) => l.trim());
  return lines.length > 0 && lines.every((l) => /^\d+ \S/.test(l)) &&
    lines.some((l) => l.includes("\t"));
}

/** Parses a bAbI file into one qa Document per story (id `babi:<stem>:<story>`). */
export function parseBabi(text: string, path: string): (Document | Skipped)[] {
  const out: (Document | Skipped)[] = [];
  const name = stem(path);
  let story: { start: number; lines: string[]; ids: number[]; qs: BabiQuestion[] } | undefined;
  let last = 0;
  const flush = () => {
    if (!story) return;
    const k = out.length;
    if (!story.lines.length) {
      out.push(skip(`${path}:${story.start}`, "bAbI story with no statements"));
    } else {
      out.push({
        id: `babi:${name}:${k}`,
        title: `bAbI ${name} story ${k}`,
        kind: "qa",
        source: `${path}:${story.start}`,
        lang: "und",
        text: story.lines.join("\n"),
        meta: { questions: story.qs, lineIds: story.ids },
      });
    }
    story = undefined;
  };
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!line.trim()) return;
    const m = /^(\d+) (.*)$/.exec(line);
    if (!m) return;
    const n = Number(m[1]);
    if (n <= last || !story) {
      flush();
      story = { start: i + 1, lines: [], ids: [], qs: [] };
    }
    last = n;
    const parts = m[2].split("\t");
    if (parts.length >= 2) {
      story!.qs.push({
        q: parts[0].trim(),
        answer: parts[1].trim(),
        supporting: (parts[2] ?? "").trim().split(/\s+/).filter(Boolean).map(Number),
        after: story!.ids.at(-1) ?? 0,
      });
    } else {
      story!.lines.push(parts[0].trim());
      story!.ids.push(n);
    }
  });
  flush();
  return out;
}
