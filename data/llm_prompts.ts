/**
 * Prompts of the LLM track (P3, synthetic track): one QA-generation prompt per task type, each
 * asking a strong LLM for one strict JSON object about one evidence excerpt, plus the JSON
 * contracts those replies must meet. The contracts are what `llm_track.ts` parses and turns into
 * Drafts with the rule-based track's factories (docs/llm-track.md lists them).
 *
 * Every prompt shows the task type on a `Task type: <task>` line and the excerpt between
 * `<excerpt>` and `</excerpt>` lines, so logs and test servers can tell requests apart.
 *
 * @module
 */
import type { TaskType } from "../tasks/types.ts";

/** The system message of every generation request. */
export const GENERATION_SYSTEM =
  "You write question-answer pairs for training language models to read long documents. " +
  "You only use facts stated in the excerpt you are given, you copy quotations character for " +
  "character, and you answer with a single JSON object and nothing else.";

/** Rules shared by every task's prompt. */
const COMMON_RULES = [
  "The question must be answerable from the excerpt alone, with exactly one correct answer.",
  "In training, the excerpt is hidden among many unrelated documents: make the question " +
  'self-contained (name the work, people, places or terms; never say "the excerpt" or ' +
  '"the passage").',
  "Every quotation must be copied exactly from the excerpt (a sentence or part of one).",
  "Reply with the JSON object only: no code fences, no commentary.",
];

/** What one task type asks for: the task description and the JSON contract. */
export interface TaskPrompt {
  /** What kind of question to write. */
  describe: string;
  /** The JSON object's shape, shown to the model as an example. */
  contract: string;
  /** Task-specific rules, appended to the common ones. */
  rules: string[];
}

/** The generation prompt of each task type. */
export const TASK_PROMPTS: Readonly<Record<TaskType, TaskPrompt>> = {
  precise_retrieval: {
    describe: "a precise-retrieval question whose answer is a short span copied verbatim from " +
      "the excerpt (a name, a number with its unit, a short phrase).",
    contract: '{"question": "...", "answer": "...", "evidence_quote": "..."}',
    rules: [
      '"answer" must occur in the excerpt exactly as written (same capitalisation and ' +
      "punctuation), be at most a dozen words, and be the only correct answer.",
      '"evidence_quote" is the sentence of the excerpt that contains the answer.',
    ],
  },
  comprehension: {
    describe: "a four-option multiple-choice question that tests understanding of the excerpt " +
      "(motives, causes, consequences, what a statement implies), not word matching.",
    contract:
      '{"question": "...", "options": ["...", "...", "...", "..."], "correct": "A", "evidence_quote": "..."}',
    rules: [
      '"options" are four distinct one-line answers without letters; exactly one is right and ' +
      "the others are plausible but contradicted or unsupported by the excerpt.",
      '"correct" is the letter (A, B, C or D) of the right option in the order given.',
      '"evidence_quote" is the passage of the excerpt that settles the question.',
    ],
  },
  numerical_reasoning: {
    describe: "a question whose answer is a single number computed from numbers or counts stated " +
      "in the excerpt (a sum, a difference, a count, a ratio, a duration).",
    contract: '{"question": "...", "answer": 42, "evidence_quote": "..."}',
    rules: [
      '"answer" is one number (integer or decimal, no units, no thousands separators).',
      '"evidence_quote" contains the numbers the computation uses (join several quotes with " ... " ' +
      "only if they are far apart; better, quote the longest sentence that holds them).",
    ],
  },
  exhaustive_retrieval: {
    describe: "a question that asks for every item of a kind mentioned in the excerpt (all the " +
      "people who …, every place where …), with two to eight answers.",
    contract: '{"question": "...", "items": ["...", "..."], "evidence_quotes": ["...", "..."]}',
    rules: [
      '"items" is the complete list of answers, each a short span copied exactly from the excerpt, ' +
      "all distinct.",
      '"evidence_quotes" holds the sentences that mention the items.',
    ],
  },
  structured_matching: {
    describe: "a question that asks for several attribute values at once (for each named " +
      "person, their role; for each item, its amount), answered as `key: value` pairs.",
    contract:
      '{"question": "...", "items": ["key: value", "key: value"], "evidence_quotes": ["..."]}',
    rules: [
      '"items" are two to six `key: value` lines whose keys are named in the question and whose ' +
      "values are worded as in the excerpt.",
      '"evidence_quotes" holds the sentences that state each value.',
    ],
  },
  graded_ranking: {
    describe: "a question that asks to rank three to six items named in the excerpt by a " +
      "criterion the excerpt settles (importance, size, how often they are mentioned, when they " +
      "appear).",
    contract:
      '{"question": "...", "items": ["first", "second", "third"], "evidence_quotes": ["..."]}',
    rules: [
      '"items" are in the correct ranked order, best first; each is a short name or phrase ' +
      "from the excerpt. The question states the criterion but not the order; the items will " +
      "be listed after it in shuffled order.",
    ],
  },
  sequence_ordering: {
    describe: "a question that asks to put three to six events of the excerpt in the order in " +
      "which they happen.",
    contract:
      '{"question": "...", "items": ["earliest event", "...", "latest event"], "evidence_quotes": ["..."]}',
    rules: [
      '"items" are short one-line descriptions of events, in the correct order, earliest first, ' +
      "worded with the excerpt's own words. The items will be listed after the question in " +
      "shuffled order.",
    ],
  },
  summarization: {
    describe: "a query-focused summary task: a question asking for a summary of one aspect of " +
      "the excerpt, and a reference summary.",
    contract: '{"question": "...", "summary": "..."}',
    rules: [
      '"summary" is one paragraph of 40 to 150 words that only states what the excerpt says.',
    ],
  },
  structured_extraction: {
    describe:
      "a table-extraction question: the rows of a table that collects facts stated in the " +
      "excerpt (for example every person with their role, or every measurement with its value).",
    contract:
      '{"question": "...", "columns": ["col1", "col2"], "rows": [["cell", "cell"], ["cell", "cell"]]}',
    rules: [
      '"columns" names two to five columns; "rows" has two or more rows with one cell per ' +
      "column; every cell is text copied exactly from the excerpt.",
    ],
  },
};

/** The user message asking for one QA pair of `task` about `excerpt`. */
export function generationPrompt(task: TaskType, title: string, excerpt: string): string {
  const p = TASK_PROMPTS[task];
  const rules = [...COMMON_RULES, ...p.rules].map((r) => `- ${r}`).join("\n");
  return `Task type: ${task}\n` +
    `Write ${p.describe}\n\n` +
    `Document title: ${title}\n` +
    `<excerpt>\n${excerpt}\n</excerpt>\n\n` +
    `Rules:\n${rules}\n\n` +
    `Answer with one JSON object of this shape:\n${p.contract}`;
}
