/**
 * Small statistics and the training logs: JSONL lines appended one per step (a killed run keeps
 * every complete line; resuming drops the steps it will redo, train/checkpoint.ts truncateLog).
 * Non-finite numbers are written as null so every line stays valid JSON.
 */

/** The mean (0 for an empty list). */
export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Mean, unbiased standard deviation (0 below two values), min and max. */
export function statsOf(
  xs: readonly number[],
): { mean: number; std: number; min: number; max: number } {
  if (!xs.length) return { mean: 0, std: 0, min: 0, max: 0 };
  const m = mean(xs);
  const v = xs.length > 1 ? xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) : 0;
  return { mean: m, std: Math.sqrt(v), min: Math.min(...xs), max: Math.max(...xs) };
}

/** JSON with non-finite numbers as null, at any depth. */
export function finiteJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? null : x));
}

/** Appends one JSON line to `path` (created if missing). */
export async function appendJsonl(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, finiteJson(value) + "\n", { append: true, create: true });
}
