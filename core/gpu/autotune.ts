/**
 * Autotuning: a kernel with several candidate configurations times them once
 * per (adapter, operation, shape bucket), keeps the fastest, and remembers the
 * choice in memory and on disk so later runs skip the measurement.
 *
 * The cache is one JSON file: `$GOLONGRL_CACHE_DIR/autotune.json`, else
 * `$XDG_CACHE_HOME/golongrl/autotune.json`, else `~/.cache/golongrl/autotune.json`.
 * Writes go through a temporary file and a rename, merged with what another
 * process may have written meanwhile. `GOLONGRL_AUTOTUNE=0` turns measuring
 * off: every choice is the caller's heuristic default.
 */
import { joinPath, writeJsonAtomic } from "../fsutil.ts";
import type { Gpu } from "./device.ts";

/** One remembered choice. */
export interface TuneEntry {
  choice: string;
  /** Measured time of each candidate, milliseconds (Infinity when it failed). */
  timesMs?: Record<string, number>;
  at?: string;
  /** How the candidates were timed ({@link TuneRequest.method}); absent: the plain way. */
  method?: string;
}

interface CacheFile {
  version: 1;
  entries: Record<string, TuneEntry>;
}

/** Counters for tests and reports. */
export const autotuneStats = { measured: 0, diskHits: 0, memoryHits: 0, heuristic: 0 };

const memory = new Map<string, Promise<string>>();
let diskCache: { path: string; file: CacheFile } | undefined;

/** Where the autotune cache lives (read from the environment on every call). */
export function autotuneCachePath(): string {
  const env = (k: string) => Deno.env.get(k) || undefined;
  const dir = env("GOLONGRL_CACHE_DIR") ??
    (env("XDG_CACHE_HOME") ? joinPath(env("XDG_CACHE_HOME")!, "golongrl") : undefined) ??
    joinPath(env("HOME") ?? env("USERPROFILE") ?? ".", ".cache", "golongrl");
  return joinPath(dir, "autotune.json");
}

/** Whether measuring is on (`GOLONGRL_AUTOTUNE=0` turns it off). */
export function autotuneEnabled(): boolean {
  const v = Deno.env.get("GOLONGRL_AUTOTUNE");
  return !(v === "0" || v?.toLowerCase() === "false" || v?.toLowerCase() === "off");
}

/** Forgets in-memory choices (the disk cache stays); for tests and for a changed cache path. */
export function clearAutotuneMemory(): void {
  memory.clear();
  diskCache = undefined;
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path));
    if (parsed && parsed.version === 1 && typeof parsed.entries === "object") return parsed;
  } catch { /* missing or unreadable: start empty */ }
  return { version: 1, entries: {} };
}

async function loadDisk(): Promise<CacheFile> {
  const path = autotuneCachePath();
  if (diskCache?.path !== path) diskCache = { path, file: await readCache(path) };
  return diskCache.file;
}

async function saveEntry(key: string, entry: TuneEntry): Promise<void> {
  const path = autotuneCachePath();
  try {
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (dir) await Deno.mkdir(dir, { recursive: true });
    // Merge with the file as it is now: another process may have added entries.
    const file = await readCache(path);
    file.entries[key] = entry;
    await writeJsonAtomic(path, file);
    diskCache = { path, file };
  } catch {
    // A read-only home must not stop training: the choice stays in memory.
  }
}

/** The cache key: adapter identity, operation (variant) and shape bucket. */
export function tuneKey(gpu: Gpu, op: string, bucket: string): string {
  const d = gpu.description;
  return `${d.description} [${d.vendor}/${d.architecture}]|${op}|${bucket}`;
}

export interface TuneRequest {
  /** Operation and variant, e.g. "matmul/NT/f32". */
  op: string;
  /** Shape bucket, e.g. "m512/n1024/k1024". */
  bucket: string;
  candidates: readonly string[];
  /** The heuristic choice, used when measuring is off or fails. */
  fallback: string;
  /** Times every candidate (milliseconds, Infinity for one that failed), in order. */
  measure: (candidates: readonly string[]) => Promise<number[]>;
  /**
   * How `measure` times them, when not the plain way (e.g. "cold-b": operands that are read
   * from memory, not cache). An entry timed another way is measured again.
   */
  method?: string;
}

/**
 * The configuration to use: from memory, else from the disk cache, else
 * measured now (and saved). Concurrent requests for one key share a
 * measurement. Never throws for a failed measurement: it falls back.
 */
export function tuned(gpu: Gpu, req: TuneRequest): Promise<string> {
  if (!autotuneEnabled() || req.candidates.length < 2) {
    autotuneStats.heuristic++;
    return Promise.resolve(req.fallback);
  }
  const key = tuneKey(gpu, req.op, req.bucket);
  const memKey = `${autotuneCachePath()}\0${key}`;
  const hit = memory.get(memKey);
  if (hit) {
    autotuneStats.memoryHits++;
    return hit;
  }
  const p = (async () => {
    const disk = await loadDisk();
    const e = disk.entries[key];
    // A choice measured against a different candidate list (a newer release added some) is
    // measured again: otherwise a new candidate would never be tried on a machine with a cache.
    const sameList = !e?.timesMs || req.candidates.every((c) => c in e.timesMs!);
    // Likewise a choice timed another way (a release that changed how a bucket is timed).
    const sameMethod = (e?.method ?? "") === (req.method ?? "");
    if (e && req.candidates.includes(e.choice) && sameList && sameMethod) {
      autotuneStats.diskHits++;
      return e.choice;
    }
    let times: number[];
    try {
      times = await req.measure(req.candidates);
    } catch {
      return req.fallback;
    }
    autotuneStats.measured++;
    let best = -1;
    for (let i = 0; i < times.length; i++) {
      if (Number.isFinite(times[i]) && (best < 0 || times[i] < times[best])) best = i;
    }
    if (best < 0) return req.fallback;
    const choice = req.candidates[best];
    const timesMs: Record<string, number> = {};
    req.candidates.forEach((c, i) => timesMs[c] = Number.isFinite(times[i]) ? times[i] : -1);
    const entry: TuneEntry = { choice, timesMs, at: new Date().toISOString() };
    if (req.method) entry.method = req.method;
    await saveEntry(key, entry);
    return choice;
  })();
  memory.set(memKey, p);
  return p;
}
