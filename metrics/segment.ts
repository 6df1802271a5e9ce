/**
 * Word segmentation for Chinese metrics, replacing jieba (`jieba.cut(text, cut_all=False)`)
 * with the ICU dictionary segmenter behind `Intl.Segmenter` (built into Deno, no model files).
 *
 * Output is the list of non-whitespace segments in order. jieba also yields whitespace tokens,
 * but every LongBench caller either normalizes tokens and drops empties (`qa_f1_zh_score`) or
 * re-joins with spaces and lets ROUGE collapse whitespace (`rouge_zh_score`), so dropping them
 * here does not change any score. Token boundaries themselves differ from jieba in places; see
 * docs/metrics.md ("Chinese segmentation").
 *
 * @module
 */

import { pySplit } from "./pystr.ts";

const segmenters = new Map<string, Intl.Segmenter>();

function segmenter(locale: string): Intl.Segmenter {
  let s = segmenters.get(locale);
  if (!s) {
    s = new Intl.Segmenter(locale, { granularity: "word" });
    segmenters.set(locale, s);
  }
  return s;
}

/** The Chinese segmenters: ICU (built in, default) or jieba (jieba-rs compiled to WASM). */
export const ZH_SEGMENTERS = ["icu", "jieba"] as const;
export type ZhSegmenter = typeof ZH_SEGMENTERS[number];

let jiebaCut: ((text: string) => string[]) | undefined;
let active: ZhSegmenter = "icu";

/**
 * Chooses the segmenter for Chinese text. "jieba" loads jieba-rs (same dictionary and HMM as
 * Python jieba's precise mode, so scores match the reference) on first use: ~30 ms to load,
 * ~200 ms to build its dictionary, ~100 MB of memory; it needs the npm package on disk, so a
 * single-file bundle cannot use it. "icu" needs nothing and is deterministic across runtimes.
 */
export async function setChineseSegmenter(name: ZhSegmenter): Promise<void> {
  if (name === "jieba" && !jiebaCut) {
    try {
      const jieba = await import("jieba-wasm");
      jiebaCut = (t: string) => jieba.cut(t, true);
      jiebaCut("预热"); // build the dictionary now, not inside the first timed call
    } catch (e) {
      throw new Error(
        `the jieba segmenter could not be loaded (${(e as Error).message}); ` +
          "run golongrl from source or the compiled binary, or use the icu segmenter",
      );
    }
  }
  active = name;
}

/** The segmenter in use for Chinese text. */
export function chineseSegmenter(): ZhSegmenter {
  return active;
}

/**
 * Segment `text` into words. `"zh"` uses the Chinese locale; `"auto"` uses the root locale,
 * which still applies ICU's CJK dictionary to Han runs and UAX #29 rules elsewhere.
 */
export function segmentWords(text: string, lang: "zh" | "auto" = "zh"): string[] {
  const out: string[] = [];
  if (lang === "zh" && active === "jieba" && jiebaCut) {
    for (const w of jiebaCut(text)) for (const piece of pySplit(w)) out.push(piece);
    return out;
  }
  for (const { segment } of segmenter(lang === "zh" ? "zh" : "und").segment(text)) {
    // A segment may mix whitespace kinds ICU groups together; keep only the non-space parts.
    for (const piece of pySplit(segment)) out.push(piece);
  }
  return out;
}
