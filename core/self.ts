/**
 * How to run this CLI again in a child process: as `deno run -A <main>` under
 * `deno run` (source or bundle), or the executable itself under `deno compile`.
 * Used where a fresh process is required, e.g. to probe another WebGPU backend
 * (Deno fixes the backend once per process).
 */

export function selfCommand(): { cmd: string; args: string[]; cwd?: string } {
  const exec = Deno.execPath();
  const base = exec.split(/[\\/]/).pop() ?? "";
  if (!/^deno(\.exe)?$/.test(base)) return { cmd: exec, args: [] };
  const main = Deno.mainModule;
  const args = ["run", "-A", "--quiet"];
  let cwd: string | undefined;
  if (main.startsWith("file://") && main.endsWith(".ts")) {
    // Source checkout: run from its folder so deno.json and deno.lock apply.
    const path = decodeURIComponent(new URL(main).pathname);
    cwd = path.slice(0, path.lastIndexOf("/"));
  }
  return { cmd: exec, args: [...args, main], cwd };
}
