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

if (import.meta.main) {
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
