/**
 * Context lengths in tokens: the `--lengths` list of the data, eval and bench commands, and the
 * one label of a length bucket ("4k", "1m") that data samples, benchmark items and reports share.
 */
import { UsageError } from "./errors.ts";

/** "4k,16k,32768" → [4096, 16384, 32768]. */
export function parseLengths(s: string, cmd: string): number[] {
  const all = s.split(",").map((x) => {
    const m = /^\s*(\d+)\s*([kK])?\s*$/.exec(x);
    if (!m) {
      throw new UsageError(
        `--lengths: "${x}" is not a token count like 4k or 4096`,
        `${cmd} --help`,
      );
    }
    const n = Number(m[1]) * (m[2] ? 1024 : 1);
    if (n < MIN_LENGTH) {
      // Below this no generator's evidence fits a bucket ("0" and "1,2" gave 0 samples). 512 is
      // a real short-context bucket with a small tokenizer (the recipe's default data).
      throw new UsageError(
        `--lengths: ${x.trim()} is below the smallest context length, ${MIN_LENGTH} tokens`,
        `${cmd} --help`,
      );
    }
    return n;
  });
  return [...new Set(all)]; // "4k,4096" is one bucket
}

/** The smallest accepted `--lengths` value, in tokens. */
export const MIN_LENGTH = 256;

/** "1k", "4k", "128k", "1m" for powers-of-two-ish token counts; the number itself otherwise. */
export function lengthLabel(tokens: number): string {
  if (tokens >= 1 << 20 && tokens % (1 << 20) === 0) return `${tokens / (1 << 20)}m`;
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}k`;
  return String(tokens);
}
