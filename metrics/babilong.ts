/**
 * BABILong answer check (booydar/babilong `babilong/metrics.py` `compare_answers`, the version
 * with all 20 task label sets and the qa8 multi-target rule).
 *
 * Steps: lowercase the output; keep the text before the first "."; cut at "<context>" and
 * "<example>" (the original also cuts at "Question", which can never match the lowercased text —
 * kept as a no-op); find task labels contained in the output; discard labels contained in the
 * question; correct iff the target is the only remaining label, or, for a comma target longer
 * than 3 characters (qa8 lists), all sub-targets remain and nothing else.
 *
 * @module
 */

/** `TASK_LABELS` from babilong/metrics.py. */
export const BABILONG_TASK_LABELS: Readonly<Record<string, readonly string[]>> = {
  qa1: ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"],
  qa2: ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"],
  qa3: ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"],
  qa4: ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"],
  qa5: ["Bill", "Fred", "Jeff", "Mary", "apple", "football", "milk"],
  qa6: ["no", "yes"],
  qa7: ["none", "one", "three", "two"],
  qa8: ["apple", "football", "milk", "nothing"],
  qa9: ["no", "yes"],
  qa10: ["maybe", "no", "yes"],
  qa11: ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"],
  qa12: ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"],
  qa13: ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"],
  qa14: ["bedroom", "cinema", "kitchen", "office", "park", "school"],
  qa15: ["cat", "mouse", "sheep", "wolf"],
  qa16: ["gray", "green", "white", "yellow"],
  qa17: ["no", "yes"],
  qa18: ["no", "yes"],
  qa19: ["e,e", "e,n", "e,s", "n,e", "n,n", "n,w", "s,e", "s,s", "s,w", "w,n", "w,s", "w,w"],
  qa20: ["bedroom", "bored", "garden", "hungry", "kitchen", "thirsty", "tired"],
};

/** `preprocess_output`. */
export function babilongPreprocess(output: string): string {
  let o = output.toLowerCase();
  o = o.split(".")[0];
  o = o.split("<context>")[0];
  o = o.split("<example>")[0];
  o = o.split("Question")[0];
  return o;
}

/** `compare_answers(target, output, question, task_labels)` as 1 / 0. */
export function babilongCompare(
  target: string,
  output: string,
  question: string,
  taskLabels: readonly string[],
): number {
  const out = babilongPreprocess(output);
  const tgt = target.toLowerCase();
  const q = question.toLowerCase();
  const labels = new Set(taskLabels.map((l) => l.toLowerCase()));
  const inQuestion = new Set([...labels].filter((l) => q.includes(l)));
  const inOutput = new Set([...labels].filter((l) => out.includes(l) && !inQuestion.has(l)));
  if (tgt.includes(",") && tgt.length > 3) {
    const subs = tgt.split(",");
    return subs.every((t) => inOutput.has(t)) && inOutput.size === subs.length ? 1 : 0;
  }
  return inOutput.has(tgt) && inOutput.size === 1 ? 1 : 0;
}

/** `compare_answers` with the label set of a task name ("qa1".."qa20"); unknown tasks throw. */
export function babilongScore(task: string, target: string, output: string, question: string) {
  const labels = BABILONG_TASK_LABELS[task];
  if (!labels) throw new Error(`BABILong: no label set for task ${JSON.stringify(task)}`);
  return babilongCompare(target, output, question, labels);
}
