/**
 * The shared data folder (real third-party corpora, benchmarks, the tokenizer): the one lookup
 * that the benchmarks and the commands use.
 */

/** The shared data folder: `$GOLONGRL_SHARED` if set, else `../shared` next to the repository. */
export function defaultSharedDir(): string {
  let env: string | undefined;
  try {
    env = Deno.env.get("GOLONGRL_SHARED");
  } catch { /* no env permission */ }
  if (env) return env.replace(/\/+$/, "");
  return new URL("../../shared", import.meta.url).pathname.replace(/\/+$/, "");
}

/**
 * A folder of the shared data, when present: under {@link defaultSharedDir}, else under
 * `../shared` or `shared` of the working directory (a compiled binary run beside the data).
 */
export function sharedFolder(rel: string): string | undefined {
  const candidates = [`${defaultSharedDir()}/${rel}`, `../shared/${rel}`, `shared/${rel}`];
  return candidates.find((c) => {
    try {
      return Deno.statSync(c).isDirectory;
    } catch {
      return false;
    }
  });
}
