/**
 * Small, dependency-free SVG charts for reports: line charts with named series,
 * optional ± bands, small multiples with one shared legend, and grouped bar
 * charts with error bars. Output is deterministic (coordinates rounded to 0.01,
 * no clocks, no random ids), every text is XML-escaped, and no attribute ever
 * holds NaN or Infinity: non-finite points are gaps, an empty panel says so.
 */

/** Eight distinguishable colours; series past the eighth reuse them dashed. */
export const PALETTE: readonly string[] = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

/** Colour and dash for the i-th series, so more than eight stay tellable apart. */
export function seriesStyle(i: number): { color: string; dash?: string } {
  const color = PALETTE[i % PALETTE.length];
  const cycle = Math.floor(i / PALETTE.length) % 3;
  return cycle === 0 ? { color } : { color, dash: cycle === 1 ? "6 3" : "2 2" };
}

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}

/** The document frame every golongrl chart shares: white background, 12px sans-serif. */
export function svgDocument(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    "</svg>",
  ].join("\n") + "\n";
}

/** A coordinate: rounded to 0.01 so output does not depend on float noise; never NaN. */
function c(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`svg: non-finite coordinate ${x}`);
  const r = Math.round(x * 100) / 100;
  return String(r === 0 ? 0 : r);
}

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** Smallest and largest of `xs` (a loop: spreading 10^5 values into Math.min overflows the stack). */
export function extent(xs: number[]): [number, number] | null {
  if (!xs.length) return null;
  let lo = xs[0], hi = xs[0];
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

/** About how wide a 12px sans-serif string is, for layout (no font metrics available). */
function textWidth(s: string, size = 12): number {
  return s.length * size * 0.6;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

// ---------------------------------------------------------------------------
// Axes

export interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  step: number;
}

/** Nice axis over [lo, hi]: steps of 1, 2 or 5 × 10^k, ends snapped to ticks. */
export function niceAxis(lo: number, hi: number, count = 5, integer = false): Axis {
  if (!isNum(lo) || !isNum(hi)) lo = 0, hi = 1;
  if (lo > hi) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = lo === 0 ? 0.5 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  let step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  if (integer) step = Math.max(1, Math.round(step));
  const k0 = Math.floor(lo / step + 1e-9), k1 = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) ticks.push(k * step);
  return { lo: k0 * step, hi: k1 * step, ticks, step };
}

/** A tick label with no more digits than the step needs; exponents for tiny or huge values. */
export function formatTick(v: number, step: number): string {
  const big = Math.abs(v) >= 1e6, tiny = step < 1e-3;
  if (big || tiny) {
    if (Math.abs(v) < step * 1e-9) return "0";
    // Enough mantissa digits to tell neighbouring ticks apart: 1.05e-5 next to 1e-5.
    const digits = Math.max(0, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step)));
    const [m, e] = v.toExponential(Math.min(6, digits)).split("e");
    return `${m.includes(".") ? m.replace(/\.?0+$/, "") : m}e${Number(e)}`;
  }
  // 150000 reads as 150k; only where the step keeps the label exact.
  if (Math.abs(v) >= 1e4 && step >= 1000) return `${Number((v / 1000).toFixed(3))}k`;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(decimals);
}

/** Pixel y of a value on `axis` drawn from B (bottom) up to T, clamped to the frame. */
function yScale(axis: Axis, T: number, B: number): (y: number) => number {
  return (y) => {
    const v = Math.min(axis.hi, Math.max(axis.lo, y));
    return B - ((v - axis.lo) / (axis.hi - axis.lo)) * (B - T);
  };
}

/** Width of the widest y tick label. */
function yTickWidth(axis: Axis): number {
  return Math.max(24, ...axis.ticks.map((t) => textWidth(formatTick(t, axis.step), 11)));
}

/** Horizontal grid lines, y tick labels and the rotated axis label left of them. */
function yAxisMarks(axis: Axis, L: number, R: number, T: number, B: number, label?: string) {
  const py = yScale(axis, T, B);
  const out: string[] = [];
  for (const t of axis.ticks) {
    out.push(
      `<line x1="${c(L)}" y1="${c(py(t))}" x2="${c(R)}" y2="${c(py(t))}" stroke="#e5e5e5"/>`,
      `<text x="${c(L - 6)}" y="${c(py(t) + 4)}" text-anchor="end" font-size="11">${
        formatTick(t, axis.step)
      }</text>`,
    );
  }
  if (label) {
    const x = L - 18 - yTickWidth(axis), y = (T + B) / 2;
    out.push(
      `<text x="${c(x)}" y="${c(y)}" text-anchor="middle" font-size="11" transform="rotate(-90 ${
        c(x)
      } ${c(y)})">${escapeXml(label)}</text>`,
    );
  }
  return out;
}

/** The chart's title and note, centred over its full width. */
function chartHeader(width: number, opts: { title?: string; note?: string }): string[] {
  const out: string[] = [];
  if (opts.title) {
    out.push(
      `<text x="${c(width / 2)}" y="19" text-anchor="middle" font-size="15" font-weight="bold">${
        escapeXml(opts.title)
      }</text>`,
    );
  }
  if (opts.note) {
    out.push(
      `<text x="${c(width / 2)}" y="${
        c((opts.title ? TITLE_H : 6) + NOTE_H - 4)
      }" text-anchor="middle" font-size="11" fill="#555">${escapeXml(opts.note)}</text>`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------
// Line charts

export interface Series {
  name: string;
  x: number[];
  /** Non-finite or missing values are gaps. */
  y: (number | null | undefined)[];
  /** A band drawn under the line, e.g. mean ± standard error. */
  band?: { lo: (number | null | undefined)[]; hi: (number | null | undefined)[] };
  color?: string;
  dash?: string;
  width?: number;
  opacity?: number;
  /** Left out of the legend (e.g. the faint raw curve under a smoothed one). */
  noLegend?: boolean;
  /** Draw a dot at every point (default: when the series has 12 points or fewer). */
  markers?: boolean;
}

export interface Panel {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: Series[];
  /** Fixed y range (values outside are clamped to the frame). */
  yMin?: number;
  yMax?: number;
  /** "inline": the series are named under the panel title instead of in the shared legend. */
  legend?: "shared" | "inline";
}

export interface GridOptions {
  title?: string;
  columns?: number;
  panelWidth?: number;
  panelHeight?: number;
  /** A line of small text under the title, e.g. how curves were smoothed. */
  note?: string;
  /** The shared legend on the right (default true; panel titles may say enough). */
  legend?: boolean;
}

interface LegendEntry {
  name: string;
  color: string;
  dash?: string;
  kind: "line" | "box";
}

const TITLE_H = 28, NOTE_H = 16;

/** Small multiples: panels in a grid, one legend on the right for all of them. */
export function lineChartGrid(panels: Panel[], opts: GridOptions = {}): string {
  const cols = Math.max(1, Math.min(opts.columns ?? 1, panels.length || 1));
  const pw = opts.panelWidth ?? 520, ph = opts.panelHeight ?? 300;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const legend: LegendEntry[] = [];
  for (const p of opts.legend === false ? [] : panels) {
    if (p.legend === "inline") continue;
    for (const s of p.series) {
      if (s.noLegend || legend.some((e) => e.name === s.name)) continue;
      legend.push({ name: s.name, color: s.color ?? "#000", dash: s.dash, kind: "line" });
    }
  }
  const top = (opts.title ? TITLE_H : 6) + (opts.note ? NOTE_H : 0);
  const legendW = legend.length ? legendWidth(legend) : 0;
  const W = cols * pw + legendW, H = top + rows * ph + 4;
  const body = chartHeader(W, opts);
  panels.forEach((p, i) => {
    const x0 = (i % cols) * pw, y0 = top + Math.floor(i / cols) * ph;
    body.push(...renderPanel(p, i, x0, y0, pw, ph));
  });
  if (legend.length) body.push(...renderLegend(legend, cols * pw + 8, top + 8));
  return svgDocument(Math.ceil(W), Math.ceil(H), body);
}

/** One line chart (a grid of one panel); the panel's title becomes the chart's. */
export function lineChart(panel: Panel, opts: Omit<GridOptions, "columns"> = {}): string {
  return lineChartGrid([{ ...panel, title: undefined }], {
    ...opts,
    columns: 1,
    title: opts.title ?? panel.title,
  });
}

const LEGEND_MAX_CHARS = 28;

function legendWidth(entries: LegendEntry[]): number {
  const longest = Math.max(...entries.map((e) => Math.min(e.name.length, LEGEND_MAX_CHARS)));
  return Math.ceil(40 + textWidth("x".repeat(longest)));
}

function renderLegend(entries: LegendEntry[], x: number, y: number): string[] {
  const out = [`<g class="legend">`];
  entries.forEach((e, i) => {
    const yy = y + 18 * i + 10;
    const shown = clip(e.name, LEGEND_MAX_CHARS);
    if (e.kind === "box") {
      out.push(
        `<rect x="${c(x)}" y="${c(yy - 9)}" width="18" height="10" fill="${e.color}"/>`,
      );
    } else {
      out.push(
        `<line x1="${c(x)}" y1="${c(yy - 4)}" x2="${c(x + 22)}" y2="${
          c(yy - 4)
        }" stroke="${e.color}" stroke-width="2.5"${
          e.dash ? ` stroke-dasharray="${e.dash}"` : ""
        }/>`,
      );
    }
    out.push(
      `<text x="${c(x + 28)}" y="${c(yy)}" data-series="${escapeXml(e.name)}">${
        shown !== e.name ? `<title>${escapeXml(e.name)}</title>` : ""
      }${escapeXml(shown)}</text>`,
    );
  });
  out.push("</g>");
  return out;
}

function finitePairs(s: Series): number[] {
  const ys: number[] = [];
  s.x.forEach((x, i) => {
    if (!isNum(x)) return;
    for (const v of [s.y[i], s.band?.lo[i], s.band?.hi[i]]) if (isNum(v)) ys.push(v);
  });
  return ys;
}

/** Runs of consecutive points where every needed value is finite. */
function segments(xs: number[], ...cols: (number | null | undefined)[][]): number[][] {
  const runs: number[][] = [];
  let cur: number[] = [];
  xs.forEach((x, i) => {
    if (isNum(x) && cols.every((col) => isNum(col[i]))) cur.push(i);
    else if (cur.length) runs.push(cur), cur = [];
  });
  if (cur.length) runs.push(cur);
  return runs;
}

/**
 * At most about `max` of a run's indices, keeping each bucket's lowest and
 * highest point so spikes survive: a 100k-step run draws as fast as a short one.
 */
export function thin(run: number[], ys: (number | null | undefined)[], max: number): number[] {
  if (run.length <= max) return run;
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = run.length / buckets;
  const keep: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const part = run.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (!part.length) continue;
    let lo = part[0], hi = part[0];
    for (const i of part) {
      if ((ys[i] as number) < (ys[lo] as number)) lo = i;
      if ((ys[i] as number) > (ys[hi] as number)) hi = i;
    }
    keep.push(...(lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]));
  }
  if (keep[0] !== run[0]) keep.unshift(run[0]);
  if (keep[keep.length - 1] !== run[run.length - 1]) keep.push(run[run.length - 1]);
  return keep;
}

function renderPanel(p: Panel, index: number, x0: number, y0: number, w: number, h: number) {
  const inline = p.legend === "inline" && p.series.some((s) => !s.noLegend);
  const ys = p.series.flatMap(finitePairs);
  const xs = p.series.flatMap((s) => s.x.filter(isNum));
  const [yLo, yHi] = extent(ys) ?? [0, 1];
  const yAxis = niceAxis(p.yMin ?? yLo, p.yMax ?? yHi, 4);
  if (p.yMin !== undefined) yAxis.lo = p.yMin;
  if (p.yMax !== undefined) yAxis.hi = p.yMax;
  yAxis.ticks = yAxis.ticks.filter((t) => t >= yAxis.lo - 1e-12 && t <= yAxis.hi + 1e-12);
  const [xLo, xHi] = extent(xs) ?? [0, 1];
  const integer = xs.every(Number.isInteger);
  const xAxis = xHi > xLo
    ? niceAxis(xLo, xHi, Math.max(2, Math.floor(w / 90)), integer)
    // One x value (one step): in the middle of a one-unit margin.
    : niceAxis(xLo - 1, xHi + 1, 2, integer);
  // The data range, not the snapped one: a run of 37 steps ends at the right edge.
  if (xHi > xLo) xAxis.lo = xLo, xAxis.hi = xHi;
  // No tick at step -1 when no x is negative.
  xAxis.ticks = xAxis.ticks.filter((t) => t >= xAxis.lo && t <= xAxis.hi && (t >= 0 || xLo < 0));
  const left = 14 + yTickWidth(yAxis) + (p.yLabel ? 16 : 0);
  const top = (p.title ? 22 : 8) + (inline ? 16 : 0) + 6;
  const bottom = 22 + (p.xLabel ? 16 : 0) + 6;
  const right = 16;
  const L = x0 + left, R = x0 + w - right, T = y0 + top, B = y0 + h - bottom;
  const px = (x: number) => L + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * (R - L);
  const py = yScale(yAxis, T, B);
  const out = [`<g class="panel" data-panel="${index}">`];
  if (p.title) {
    const shown = clip(p.title, Math.max(8, Math.floor((w - 16) / 8)));
    out.push(
      `<text class="panel-title" x="${c((L + R) / 2)}" y="${
        c(y0 + 16)
      }" text-anchor="middle" font-size="13" font-weight="bold">${
        shown !== p.title ? `<title>${escapeXml(p.title)}</title>` : ""
      }${escapeXml(shown)}</text>`,
    );
  }
  if (inline) {
    let x = L;
    const yy = y0 + (p.title ? 22 : 8) + 12;
    for (const s of p.series.filter((s) => !s.noLegend)) {
      const label = clip(s.name, 24);
      out.push(
        `<line x1="${c(x)}" y1="${c(yy - 4)}" x2="${c(x + 16)}" y2="${c(yy - 4)}" stroke="${
          s.color ?? "#000"
        }" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
        `<text x="${c(x + 20)}" y="${c(yy)}" font-size="11" data-series="${escapeXml(s.name)}">${
          escapeXml(label)
        }</text>`,
      );
      x += 32 + textWidth(label, 11);
    }
  }
  out.push(...yAxisMarks(yAxis, L, R, T, B, p.yLabel));
  for (const t of xAxis.ticks) {
    out.push(
      `<line x1="${c(px(t))}" y1="${c(B)}" x2="${c(px(t))}" y2="${c(B + 4)}" stroke="black"/>`,
      `<text x="${c(px(t))}" y="${c(B + 16)}" text-anchor="middle" font-size="11">${
        formatTick(t, xAxis.step)
      }</text>`,
    );
  }
  out.push(
    `<line x1="${c(L)}" y1="${c(B)}" x2="${c(R)}" y2="${c(B)}" stroke="black"/>`,
    `<line x1="${c(L)}" y1="${c(B)}" x2="${c(L)}" y2="${c(T)}" stroke="black"/>`,
  );
  if (p.xLabel) {
    out.push(
      `<text x="${c((L + R) / 2)}" y="${c(y0 + h - 8)}" text-anchor="middle" font-size="11">${
        escapeXml(p.xLabel)
      }</text>`,
    );
  }
  if (!ys.length) {
    out.push(
      `<text x="${c((L + R) / 2)}" y="${
        c((T + B) / 2)
      }" text-anchor="middle" fill="#888">no data</text>`,
    );
  }
  for (const s of p.series) {
    const color = s.color ?? "#000";
    const opacity = s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : "";
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    const maxPoints = Math.max(50, Math.round(2 * (R - L)));
    if (s.band) {
      for (const all of segments(s.x, s.band.lo, s.band.hi)) {
        const run = thin(all, s.y, maxPoints);
        if (run.length === 1) {
          const x = c(px(s.x[run[0]]));
          out.push(
            `<line class="band" x1="${x}" y1="${
              c(py(s.band.lo[run[0]] as number))
            }" x2="${x}" y2="${
              c(py(s.band.hi[run[0]] as number))
            }" stroke="${color}" stroke-opacity="0.5" stroke-width="6"/>`,
          );
          continue;
        }
        const upper = run.map((i) => `${c(px(s.x[i]))},${c(py(s.band!.hi[i] as number))}`);
        const lower = run.map((i) => `${c(px(s.x[i]))},${c(py(s.band!.lo[i] as number))}`)
          .reverse();
        out.push(
          `<polygon class="band" fill="${color}" fill-opacity="0.18" stroke="none" points="${
            [...upper, ...lower].join(" ")
          }"/>`,
        );
      }
    }
    const runs = segments(s.x, s.y);
    const n = runs.reduce((a, r) => a + r.length, 0);
    for (const all of runs) {
      if (all.length < 2) continue;
      const run = thin(all, s.y, maxPoints);
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="${s.width ?? 2}"${opacity}${
          s.dash ? ` stroke-dasharray="${s.dash}"` : ""
        } stroke-linejoin="round" points="${
          run.map((i) => `${c(px(s.x[i]))},${c(py(s.y[i] as number))}`).join(" ")
        }"/>`,
      );
    }
    if (s.markers ?? n <= 12) {
      for (const run of runs) {
        for (const i of run) {
          out.push(
            `<circle cx="${c(px(s.x[i]))}" cy="${c(py(s.y[i] as number))}" r="2.5" fill="${color}"${
              s.opacity !== undefined ? ` fill-opacity="${s.opacity}"` : ""
            }/>`,
          );
        }
      }
    }
    out.push("</g>");
  }
  out.push("</g>");
  return out;
}

// ---------------------------------------------------------------------------
// Grouped bar charts

export interface BarGroup {
  label: string;
  /** One value per bar series; null for a missing bar. */
  values: (number | null)[];
  /** Half-width of the error bar per value (e.g. one standard error). */
  errors?: (number | null)[];
  /** Small text above the group, e.g. the difference. */
  note?: string;
}

export interface BarChartOptions {
  title?: string;
  yLabel?: string;
  /** The bar series, in order inside each group. */
  series: { name: string; color?: string }[];
  yMin?: number;
  yMax?: number;
  /** A line of small text under the title. */
  note?: string;
}

/** Grouped bars with ± error bars, one legend entry per bar series. */
export function barChart(groups: BarGroup[], opts: BarChartOptions): string {
  const k = Math.max(1, opts.series.length);
  const barW = 18, gap = 22;
  const groupW = k * barW + gap;
  const maxLabel = Math.max(0, ...groups.map((g) => textWidth(clip(g.label, 30), 11)));
  const rotate = maxLabel > groupW - 4;
  const vals: number[] = [];
  for (const g of groups) {
    g.values.forEach((v, i) => {
      if (!isNum(v)) return;
      const e = g.errors?.[i];
      vals.push(v, ...(isNum(e) ? [v - e, v + e] : []));
    });
  }
  const [vLo, vHi] = extent([0, 1e-9, ...vals])!;
  const lo = opts.yMin ?? vLo, hi = opts.yMax ?? vHi;
  // Headroom above the tallest bar for the group notes.
  const yAxis = niceAxis(lo, opts.yMax ?? hi + 0.1 * (hi - lo), 5);
  if (opts.yMin !== undefined) yAxis.lo = opts.yMin;
  if (opts.yMax !== undefined) yAxis.hi = opts.yMax;
  yAxis.ticks = yAxis.ticks.filter((t) => t >= yAxis.lo - 1e-12 && t <= yAxis.hi + 1e-12);
  const legend: LegendEntry[] = opts.series.map((s, i) => ({
    name: s.name,
    color: s.color ?? seriesStyle(i).color,
    kind: "box",
  }));
  const left = Math.max(
    14 + yTickWidth(yAxis) + (opts.yLabel ? 16 : 0),
    // A slanted first label reaches left of its group by about cos(35°) of its width.
    rotate ? 0.82 * maxLabel - gap - (k * barW) / 2 + 6 : 0,
  );
  const top = (opts.title ? TITLE_H : 6) + (opts.note ? NOTE_H : 0) + 22;
  const bottom = (rotate ? 0.58 * maxLabel + 24 : 24) + 8;
  const plotW = Math.max(240, groups.length * groupW + gap);
  const L = left, R = left + plotW, T = top, B = top + 260;
  const W = Math.ceil(R + 16 + legendWidth(legend)), H = Math.ceil(B + bottom);
  const py = yScale(yAxis, T, B);
  const body = chartHeader(W, opts);
  body.push(...yAxisMarks(yAxis, L, R, T, B, opts.yLabel));
  const zero = py(Math.max(yAxis.lo, Math.min(yAxis.hi, 0)));
  groups.forEach((g, gi) => {
    const gx = L + gap + gi * groupW;
    body.push(`<g class="group" data-group="${escapeXml(g.label)}">`);
    g.values.forEach((v, i) => {
      if (!isNum(v)) return;
      const x = gx + i * barW, color = legend[i]?.color ?? "#000";
      const yv = py(v);
      body.push(
        `<rect class="bar" data-series="${escapeXml(opts.series[i]?.name ?? "")}" x="${
          c(x + 1)
        }" y="${c(Math.min(yv, zero))}" width="${barW - 2}" height="${
          c(Math.abs(zero - yv))
        }" fill="${color}"/>`,
      );
      const e = g.errors?.[i];
      if (isNum(e) && e > 0) {
        const cx = x + barW / 2, y1 = py(v - e), y2 = py(v + e);
        body.push(
          `<path class="err" d="M${c(cx)} ${c(y1)}V${c(y2)}M${c(cx - 4)} ${c(y1)}H${c(cx + 4)}M${
            c(cx - 4)
          } ${c(y2)}H${c(cx + 4)}" stroke="#222" stroke-width="1.2" fill="none"/>`,
        );
      }
    });
    const mid = gx + (k * barW) / 2;
    if (g.note) {
      const tops = g.values.flatMap((v, i) => {
        if (!isNum(v)) return [];
        const e = g.errors?.[i];
        return [py(v + (isNum(e) ? Math.abs(e) : 0)), py(v)];
      });
      const ny = Math.max(T - 4, Math.min(zero, ...tops) - 6);
      body.push(
        `<text x="${c(mid)}" y="${c(ny)}" text-anchor="middle" font-size="10">${
          escapeXml(g.note)
        }</text>`,
      );
    }
    const label = clip(g.label, 30);
    body.push(
      rotate
        ? `<text x="${c(mid)}" y="${
          c(B + 14)
        }" text-anchor="end" font-size="11" transform="rotate(-35 ${c(mid)} ${c(B + 14)})">${
          escapeXml(label)
        }</text>`
        : `<text x="${c(mid)}" y="${c(B + 16)}" text-anchor="middle" font-size="11">${
          escapeXml(label)
        }</text>`,
    );
    body.push("</g>");
  });
  body.push(
    `<line x1="${c(L)}" y1="${c(zero)}" x2="${c(R)}" y2="${c(zero)}" stroke="black"/>`,
    `<line x1="${c(L)}" y1="${c(B)}" x2="${c(L)}" y2="${c(T)}" stroke="black"/>`,
  );
  body.push(...renderLegend(legend, R + 16, T));
  return svgDocument(W, H, body);
}
