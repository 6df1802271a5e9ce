/**
 * Plain-text tables for terminal reports: the first column left-aligned, the rest right-aligned,
 * columns two spaces apart, one line per row.
 * @module
 */

/** Renders `rows` under `head` (numbers are printed with String()). */
export function textTable(head: readonly string[], rows: readonly (string | number)[][]): string {
  const all = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "))
    .join("\n") + "\n";
}

/** A number with `digits` decimals, or "-" when missing or not finite. */
export const fmtNum = (x: number | null, digits = 1): string =>
  x === null || !Number.isFinite(x) ? "-" : x.toFixed(digits);
