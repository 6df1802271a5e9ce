/**
 * golongrl: long-context RLVR (data, rewards, training, evaluation) in one
 * Deno binary, computing on WebGPU.
 *
 * ```sh
 * deno run -A main.ts --help
 * ```
 * @module
 */
import { runCli } from "./cli/app.ts";
import { setScoreWorkerEntry } from "./reward/pool.ts";
import { isScoreWorker } from "./reward/score_worker.ts";

// Bundled into one file, score_worker.ts is no file of its own: the bundle (this module) is the
// scoring workers' module, and its score_worker part starts the worker loop inside them.
if (!import.meta.url.endsWith(".ts")) setScoreWorkerEntry(import.meta.url);

if (import.meta.main && !isScoreWorker()) {
  // wgpu warns on stderr when XDG_RUNTIME_DIR is unset (headless machines, CI).
  if (!Deno.env.get("XDG_RUNTIME_DIR")) {
    const dir = `/tmp/golongrl-runtime-${Deno.uid?.() ?? 0}`;
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      Deno.env.set("XDG_RUNTIME_DIR", dir);
    } catch { /* only a warning is at stake */ }
  }
  Deno.exit(await runCli(Deno.args));
}
