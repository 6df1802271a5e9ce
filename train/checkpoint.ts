/**
 * Run checkpoints: everything a killed run needs to continue exactly as if it had never stopped.
 *
 *   DIR/checkpoints/step-000010/   the model in HF layout (+ tokenizer files), optimizer state
 *                                  (AdamW m, v, step count), state.json (run step, sampler
 *                                  cursor, guard counters, the effective config)
 *   DIR/checkpoints/latest         the name of the newest complete checkpoint
 *
 * A checkpoint is written into a temporary folder, checked (no NaN or infinite weight is ever
 * saved), renamed into place, and only then does `latest` move (written atomically). A run
 * killed mid-write leaves a stray temporary folder and the previous `latest`. The newest `keep`
 * checkpoints are kept.
 */
import { Recorder } from "../core/gpu/recorder.ts";
import { saveCheckpoint } from "../engine/checkpoint.ts";
import { copyTokenizerFiles } from "../engine/load.ts";
import type { Qwen3 } from "../engine/qwen3.ts";
import type { Trainer } from "../engine/train_step.ts";
import { joinPath, writeFileAtomic, writeJsonAtomic } from "../core/fsutil.ts";
import { InputError } from "../core/errors.ts";
import { readJsonlTolerant } from "../core/jsonl.ts";

/** What state.json holds besides the weights and the optimizer. */
export interface RunState {
  /** Steps completed. */
  step: number;
  /** Sampler cursor (train/data.ts SamplerState) or other loop state, JSON. */
  sampler: unknown;
  /** Non-finite steps in a row at save time, and in total. */
  nonfiniteStreak: number;
  nonfiniteTotal: number;
  /** The effective config the run was started with. */
  config: unknown;
  [extra: string]: unknown;
}

const NAME = (step: number) => `step-${String(step).padStart(6, "0")}`;

/** Writes checkpoint `state.step` of a run into `runDir/checkpoints`; returns its folder. */
export async function saveRunCheckpoint(
  runDir: string,
  model: Qwen3,
  trainer: Trainer,
  state: RunState,
  opts: { tokenizerDir: string; keep: number },
): Promise<string> {
  const root = joinPath(runDir, "checkpoints");
  await Deno.mkdir(root, { recursive: true });
  const host = await model.weights.toHost(model.gpu, new Recorder(model.gpu, model.pool));
  for (const [name, data] of host) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new Error(
          `refusing to save step ${state.step}: tensor ${name} holds a non-finite value at ${i}`,
        );
      }
    }
  }
  const final = joinPath(root, NAME(state.step));
  const tmp = joinPath(root, `.tmp-${NAME(state.step)}-${crypto.randomUUID().slice(0, 8)}`);
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await saveCheckpoint(tmp, model.config, host);
    await copyTokenizerFiles(opts.tokenizerDir, tmp);
    await trainer.saveState(tmp);
    await writeJsonAtomic(joinPath(tmp, "state.json"), state);
    await Deno.remove(final, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, final);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  await writeFileAtomic(joinPath(root, "latest"), NAME(state.step) + "\n");
  // Keep the newest `keep`; remove stray temporary folders of killed writes.
  const entries = [...Deno.readDirSync(root)].filter((e) => e.isDirectory).map((e) => e.name);
  const steps = entries.filter((n) => /^step-\d+$/.test(n)).sort();
  for (const old of steps.slice(0, Math.max(0, steps.length - opts.keep))) {
    await Deno.remove(joinPath(root, old), { recursive: true });
  }
  for (const stray of entries.filter((n) => n.startsWith(".tmp-"))) {
    await Deno.remove(joinPath(root, stray), { recursive: true }).catch(() => {});
  }
  return final;
}

/** The newest complete checkpoint of a run, or undefined when it has none. */
export async function latestCheckpoint(
  runDir: string,
): Promise<{ dir: string; state: RunState } | undefined> {
  const root = joinPath(runDir, "checkpoints");
  let name: string;
  try {
    name = (await Deno.readTextFile(joinPath(root, "latest"))).trim();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  if (!/^step-\d+$/.test(name)) {
    throw new InputError(
      `not a checkpoint name: ${JSON.stringify(name)}`,
      joinPath(root, "latest"),
    );
  }
  const dir = joinPath(root, name);
  const path = joinPath(dir, "state.json");
  let state: RunState;
  try {
    state = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new InputError(`cannot read the run state: ${(e as Error).message}`, path);
  }
  if (!Number.isSafeInteger(state.step) || state.step < 0) {
    throw new InputError("not a non-negative integer", path, undefined, "step");
  }
  return { dir, state };
}

/**
 * Drops the lines of a JSONL log whose `step` is above `step` (those steps will be run again),
 * and a torn last line; atomic. A missing file is fine.
 */
export async function truncateLog(path: string, step: number): Promise<void> {
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const keep = (await readJsonlTolerant(path))
    .filter(({ value }) => !(typeof value.step === "number" && value.step > step));
  await writeFileAtomic(path, keep.map((l) => l.text + "\n").join(""));
}

/**
 * The checkpoint a run continues from: the latest one with `resume`, none for a fresh run; a
 * fresh run into a folder that already holds one is refused (it would mix two runs' logs).
 */
export async function runStart(
  runDir: string,
  resume: boolean,
): Promise<{ dir: string; state: RunState } | undefined> {
  const latest = await latestCheckpoint(runDir);
  if (latest && !resume) {
    throw new Error(
      `${runDir} already holds a run; pass --resume auto to continue it, or another --out`,
    );
  }
  return latest;
}
