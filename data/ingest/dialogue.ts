/**
 * Conversations: QMSum meetings (one JSON object per JSONL line) and
 * Schema-Guided Dialogue files (a JSON array of dialogues). Turns with empty
 * content are dropped and counted in `meta.emptyTurns`; `meta.turnIndex`
 * maps each kept turn to its position in the source, because QMSum's
 * `relevant_text_span` and SGD's per-turn annotations index source turns.
 */
import type { Document, Skipped } from "../../tasks/generators/types.ts";
import { skip, stem } from "./common.ts";

type Turn = NonNullable<Document["turns"]>[number];

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

function turnsText(turns: Turn[]): string {
  return turns.map((t) => `${t.speaker}: ${t.text}`).join("\n");
}

/** QMSum licence (dataset MIT; the AMI/ICSI/committee transcripts are CC BY 4.0). */
export const QMSUM_LICENCE = "MIT (QMSum); transcripts CC BY 4.0";
/** Schema-Guided Dialogue licence. */
export const SGD_LICENCE = "CC BY-SA 4.0";

/** Whether a JSONL record looks like a QMSum meeting. */
export function isQmsum(r: Record<string, unknown>): boolean {
  return Array.isArray(r.meeting_transcripts);
}

/**
 * One QMSum meeting (record `index`, 0-based, at `line` of `path`) as a
 * meeting Document with id `qmsum:<file stem>:<index>`. Queries and answers
 * go to meta (`topics`, `generalQueries`, `specificQueries`) for the
 * summarisation generators.
 */
export function qmsumToDocument(
  r: Record<string, unknown>,
  path: string,
  line: number,
  index: number,
): Document | Skipped {
  const source = `${path}:${line}`;
  if (!Array.isArray(r.meeting_transcripts)) {
    return skip(source, `field "meeting_transcripts" is not a list`);
  }
  const turns: Turn[] = [];
  const turnIndex: number[] = [];
  let empty = 0;
  r.meeting_transcripts.forEach((t: unknown, i: number) => {
    const o = (t ?? {}) as Record<string, unknown>;
    const text = str(o.content).trim();
    if (!text) {
      empty++;
      return;
    }
    turns.push({ speaker: str(o.speaker).trim() || "Unknown", text });
    turnIndex.push(i);
  });
  if (!turns.length) return skip(source, "meeting with no non-empty turns");
  const topics = Array.isArray(r.topic_list) ? r.topic_list : [];
  const topicNames = topics.map((t) => str((t as Record<string, unknown>)?.topic)).filter(Boolean);
  const name = stem(path);
  return {
    id: `qmsum:${name}:${index}`,
    title: `QMSum meeting ${name} #${index}` +
      (topicNames.length ? `: ${topicNames.slice(0, 3).join("; ")}` : ""),
    kind: "meeting",
    source,
    licence: QMSUM_LICENCE,
    lang: "und",
    text: turnsText(turns),
    turns,
    meta: {
      topics,
      generalQueries: Array.isArray(r.general_query_list) ? r.general_query_list : [],
      specificQueries: Array.isArray(r.specific_query_list) ? r.specific_query_list : [],
      emptyTurns: empty,
      turnIndex,
      speakers: [...new Set(turns.map((t) => t.speaker))],
    },
  };
}

/** Whether parsed JSON looks like an SGD dialogues file (an array of dialogues with turns). */
export function isSgd(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.length > 0 &&
    typeof (v[0] as Record<string, unknown>)?.dialogue_id === "string" &&
    Array.isArray((v[0] as Record<string, unknown>)?.turns);
}

/** The split an SGD file belongs to: "dev" from "sgd_dev_dialogues_001.json", else the stem. */
export function sgdSplit(path: string): string {
  const name = stem(path);
  return /^sgd_([a-z]+)_dialogues/.exec(name)?.[1] ?? name;
}

/**
 * One SGD dialogue as a dialogue Document with id `sgd:<split>:<dialogue_id>`.
 * Per-turn annotations go to `meta.frames` (one entry per kept turn: the
 * source frames with service, slots, actions, state), and the dialogue's
 * final slot values per service to `meta.finalState`.
 */
export function sgdToDocument(
  d: Record<string, unknown>,
  path: string,
  index: number,
): Document | Skipped {
  const did = str(d.dialogue_id);
  const source = `${path}#${index}`;
  if (!did) return skip(source, `dialogue ${index} has no "dialogue_id"`);
  if (!Array.isArray(d.turns)) return skip(source, `dialogue ${did}: field "turns" is not a list`);
  const turns: Turn[] = [];
  const frames: unknown[] = [];
  const turnIndex: number[] = [];
  const finalState: Record<string, unknown> = {};
  let empty = 0;
  d.turns.forEach((t: unknown, i: number) => {
    const o = (t ?? {}) as Record<string, unknown>;
    const text = str(o.utterance).trim();
    const fr = Array.isArray(o.frames) ? o.frames : [];
    for (const f of fr as Record<string, unknown>[]) {
      const state = f?.state as Record<string, unknown> | undefined;
      if (state?.slot_values) finalState[str(f.service)] = state.slot_values;
    }
    if (!text) {
      empty++;
      return;
    }
    turns.push({ speaker: str(o.speaker) || "UNKNOWN", text });
    frames.push(fr);
    turnIndex.push(i);
  });
  if (!turns.length) return skip(source, `dialogue ${did} has no non-empty turns`);
  const services = Array.isArray(d.services) ? d.services.map(str) : [];
  return {
    id: `sgd:${sgdSplit(path)}:${did}`,
    title: `SGD dialogue ${did}` + (services.length ? ` (${services.join(", ")})` : ""),
    kind: "dialogue",
    source,
    licence: SGD_LICENCE,
    lang: "und",
    text: turnsText(turns),
    turns,
    meta: { dialogueId: did, services, frames, finalState, emptyTurns: empty, turnIndex },
  };
}
