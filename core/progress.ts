/**
 * Progress for long work on stderr: items done, rate, ETA. On a terminal the
 * line is redrawn in place; otherwise (logs, CI) a line is printed at most every
 * `logEveryMs`. Silent with `quiet`. Machine-readable results never go here.
 */

export interface ProgressOptions {
  /** What is being counted, e.g. "documents". */
  unit?: string;
  total?: number;
  quiet?: boolean;
  /** Where lines go; defaults to stderr. */
  write?: (s: string) => void;
  /** Whether to redraw in place; defaults to whether stderr is a terminal. */
  tty?: boolean;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
  /** Minimum ms between redraws on a terminal, and between lines otherwise. */
  redrawEveryMs?: number;
  logEveryMs?: number;
}

const enc = new TextEncoder();

/** Formats seconds as h:mm:ss or m:ss. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

function formatRate(r: number): string {
  if (!Number.isFinite(r)) return "?";
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

export class Progress {
  readonly label: string;
  done = 0;
  private readonly opts: Required<Omit<ProgressOptions, "total">> & { total?: number };
  private readonly start: number;
  private lastDraw = -Infinity;
  private finished = false;

  constructor(label: string, opts: ProgressOptions = {}) {
    this.label = label;
    this.opts = {
      unit: "items",
      quiet: false,
      write: (s) => Deno.stderr.writeSync(enc.encode(s)),
      tty: Deno.stderr.isTerminal(),
      now: () => performance.now(),
      redrawEveryMs: 100,
      logEveryMs: 10_000,
      ...opts,
    };
    this.start = this.opts.now();
  }

  /** The status line: "label 40/100 items, 12.5 items/s, ETA 0:05". */
  line(): string {
    const elapsed = (this.opts.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : NaN;
    const { unit, total } = this.opts;
    const count = total !== undefined ? `${this.done}/${total}` : `${this.done}`;
    let s = `${this.label} ${count} ${unit}, ${formatRate(rate)} ${unit}/s`;
    if (total !== undefined && !this.finished) {
      s += `, ETA ${formatDuration(rate > 0 ? (total - this.done) / rate : NaN)}`;
    } else s += `, ${formatDuration(elapsed)} elapsed`;
    return s;
  }

  /** Counts `n` more items done and redraws if due. */
  tick(n = 1): void {
    this.done += n;
    this.maybeDraw();
  }

  private maybeDraw(): void {
    if (this.opts.quiet) return;
    const t = this.opts.now();
    const every = this.opts.tty ? this.opts.redrawEveryMs : this.opts.logEveryMs;
    if (t - this.lastDraw < every) return;
    this.lastDraw = t;
    this.opts.write(this.opts.tty ? `\r\x1b[2K${this.line()}` : `${this.line()}\n`);
  }

  /** Prints the final line. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.opts.quiet) return;
    this.opts.write(this.opts.tty ? `\r\x1b[2K${this.line()}\n` : `${this.line()}\n`);
  }
}
