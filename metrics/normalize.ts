/**
 * Answer normalizers shared by the QA metrics.
 *
 * - `normalizeAnswer`: SQuAD v1.1 `normalize_answer`, reused verbatim by LongBench v1
 *   (`metrics.py`), RULER's QA, HELMET, etc.: lowercase → drop `string.punctuation` → replace
 *   `\b(a|an|the)\b` with a space → `" ".join(text.split())`.
 * - `normalizeZhAnswer`: LongBench's `normalize_zh_answer`: lowercase → drop ASCII and the
 *   listed CJK punctuation → remove every whitespace (`"".join(text.split())`).
 *
 * @module
 */

import { PY_PUNCTUATION, pySplit, removeArticles } from "./pystr.ts";

const EN_PUNCT = new Set(Array.from(PY_PUNCTUATION));

/**
 * The CJK punctuation string from LongBench `normalize_zh_answer`, copied as-is. It contains
 * "》" but not "《" — a quirk of the original that we keep for parity.
 */
export const LONGBENCH_CN_PUNCTUATION =
  "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏.";

const ZH_PUNCT = new Set([...EN_PUNCT, ...Array.from(LONGBENCH_CN_PUNCTUATION)]);

function dropChars(text: string, drop: Set<string>): string {
  let out = "";
  for (const ch of text) if (!drop.has(ch)) out += ch;
  return out;
}

/** SQuAD v1.1 / LongBench `normalize_answer`. */
export function normalizeAnswer(s: string): string {
  return pySplit(removeArticles(dropChars(s.toLowerCase(), EN_PUNCT))).join(" ");
}

/** LongBench `normalize_zh_answer`. */
export function normalizeZhAnswer(s: string): string {
  return pySplit(dropChars(s.toLowerCase(), ZH_PUNCT)).join("");
}
