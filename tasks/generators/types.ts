/**
 * The dataset's two record types: a source {@link Document} (what ingestion
 * yields) and a training {@link Sample} in GoLongRL's schema (what
 * construction yields and what verl reads).
 */
import type { GroundTruth, TaskType } from "../types.ts";

export type DocKind =
  | "book"
  | "paper"
  | "meeting"
  | "dialogue"
  | "speech"
  | "passage"
  | "benchmark"
  | "qa";

/** A cleaned source document with its metadata. */
export interface Document {
  /** Stable id derived from the source, e.g. "pg11", "plos:journal.pone.0081648", "qmsum:val:3". */
  id: string;
  title: string;
  author?: string;
  /** ISO date or a year. */
  date?: string;
  kind: DocKind;
  /** The file it came from (and the line or record, when one file holds many). */
  source: string;
  licence?: string;
  /** ISO 639-1 code from a script/stop-word heuristic ("en", "zh", ...; "und" when unsure). */
  lang: string;
  /** Clean full text: no BOM, "\n" line ends, boilerplate removed. */
  text: string;
  /** Chapters of books, sections of papers. */
  sections?: { title: string; text: string }[];
  /** Tables of papers: caption, header row, body rows (cell text). */
  tables?: { label?: string; caption: string; header: string[]; rows: string[][] }[];
  /** Turns of meetings and dialogues. */
  turns?: { speaker: string; text: string; session?: string }[];
  /** Source-specific fields: QMSum queries, SGD frames, speech year/president/party, NQ answers... */
  meta?: Record<string, unknown>;
}

/** A document that could not be used, with why (counted and named in reports). */
export interface Skipped {
  skipped: true;
  source: string;
  reason: string;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One RLVR sample: GoLongRL's fields plus our provenance in extra_info. */
export interface Sample {
  id: string;
  /** Verifier routing (tasks/registry.ts): "EM", "selection", "math_longcot_math_verify", "multitableqa_pretraining", "longbench_pro". */
  data_source: string;
  /** The capability (one of the 9 task types). */
  ability: TaskType;
  prompt: ChatMessage[];
  /** Samples golongrl writes carry all three ground-truth fields (imports fill the missing). */
  reward_model: { style: "rule"; ground_truth: Required<GroundTruth> };
  extra_info: {
    /** Fine-grained task name: a LongBench-Pro sub-task name or the raw reward type. */
    reward_mode: string;
    /** The bare question (decontamination reads it). */
    question: string;
    index: string;
    /** The generator that made it, e.g. "books/quote_retrieval". */
    generator: string;
    /** The documents the context was built from (first ones hold the evidence). */
    source_docs: { id: string; title: string; kind: DocKind; licence?: string }[];
    /** Set by length bucketing. */
    length_bucket?: string;
    tokens?: number;
    /** Relative position (0..1) of the evidence in the context, when placed. */
    needle_depth?: number;
    /** Set by difficulty filtering. */
    difficulty?: { pass_rate: number; band: string; k: number; policy: string };
    [key: string]: unknown;
  };
}

/** One piece of context: a passage of a real document, labelled for the prompt. */
export interface Passage {
  docId: string;
  /** Shown as the passage's header, e.g. "Document 3" or a title. */
  label: string;
  text: string;
}

/**
 * What a generator makes (P3): a question with its verifiable answer and the
 * evidence it needs, before the context is assembled to a target length (P4).
 * Assembly puts the evidence, in order, into the context at a chosen depth and
 * pads with other real text (distractor documents) up to the token budget.
 */
export interface Draft {
  task: TaskType;
  data_source: string;
  reward_mode: string;
  /** e.g. "books/quote_retrieval". */
  generator: string;
  /** The bare question (no context, no format instruction). */
  question: string;
  /** The exact output format the verifier parses, appended after the question. */
  instruction: string;
  ground_truth: Required<GroundTruth>;
  /** Evidence passages, kept whole and in this order. */
  evidence: Passage[];
  /** Documents the evidence came from (the first is the main one). */
  source_docs: Sample["extra_info"]["source_docs"];
  /** Document ids that must not be used as padding (they would leak or contradict the answer). */
  exclude_from_padding?: string[];
  /** Document kinds that must not be used as padding (same-kind text could hold another answer). */
  exclude_kinds?: DocKind[];
  /** Extra provenance for extra_info. */
  meta?: Record<string, unknown>;
}
