/**
 * RULER's prompt templates and constants, verbatim from NVIDIA/RULER
 * `scripts/data/synthetic/constants.py` (templates, answer prefixes, tokens to generate),
 * `niah.py` (needle sentence, noise haystack) and `variable_tracking.py` (noise line), typos
 * included ("assgined").
 *
 * @module
 */

/** NIAH task template. */
export const NIAH_TEMPLATE =
  "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic {type_needle_v} for {query} mentioned in the provided text?";
/** NIAH answer prefix. */
export const NIAH_ANSWER_PREFIX =
  " The special magic {type_needle_v} for {query} mentioned in the provided text are";
/** niah.py needle sentence (with the plural `type_needle_v`). */
export const NIAH_NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}.";
/** niah.py noise haystack unit. */
export const NIAH_NOISE =
  "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

/** Variable-tracking template. */
export const VT_TEMPLATE =
  "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.";
/** Variable-tracking answer prefix (RULER's spelling). */
export const VT_ANSWER_PREFIX =
  " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are assgined the value {query}, they are: ";
/** variable_tracking.py noise unit (ends with a newline; units are joined by "\n"). */
export const VT_NOISE =
  "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n";

/** Common-words-extraction template. */
export const CWE_TEMPLATE =
  "Below is a numbered list of words. In these words, some appear more often than others. Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common words in the above list?";
/** Common-words-extraction answer prefix. */
export const CWE_ANSWER_PREFIX =
  " Answer: The top 10 words that appear most often in the list are:";

/** QA template. */
export const QA_TEMPLATE =
  "Answer the question based on the given documents. Only give me the answer and do not output any other words.\n\nThe following are given documents.\n\n{context}\n\nAnswer the question based on the given documents. Only give me the answer and do not output any other words.\n\nQuestion: {query}";
/** QA answer prefix. */
export const QA_ANSWER_PREFIX = " Answer:";
/** qa.py `DOCUMENT_PROMPT`. */
export const QA_DOCUMENT = "Document {i}:\n{document}";

/** `tokens_to_generate` per task family. */
export const TOKENS_TO_GENERATE = { niah: 128, vt: 30, cwe: 120, qa: 32 } as const;
