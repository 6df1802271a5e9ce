/** Test helpers: run the CLI in-process with captured output, or as a subprocess. */
import { runCli } from "../cli/app.ts";

export interface Captured {
  code: number;
  out: string;
  err: string;
}

/** Runs `golongrl argv...` in this process, capturing stdout and stderr. */
export async function cli(...argv: string[]): Promise<Captured> {
  let out = "", err = "";
  const code = await runCli(argv, { out: (s) => out += s, err: (s) => err += s });
  return { code, out, err };
}

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Runs `deno run -A main.ts argv...` as a child process. */
export async function cliProcess(
  argv: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<Captured> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}/main.ts`, ...argv],
    cwd: ROOT,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
}
