/**
 * The command tree and dispatch: `golongrl <command> [sub] [flags]`.
 * Exit codes: 0 ok, 1 failure, 2 usage. Errors print one line naming what was
 * wrong (a stack only with GOLONGRL_DEBUG=1).
 */
import { formatHelp, parseFlags, suggestCommand } from "./args.ts";
import { type Command, type Io, stdio } from "./command.ts";
import { EXIT, UsageError } from "../core/errors.ts";
import { VERSION } from "../core/version.ts";
import { info } from "./info.ts";
import { doctor } from "./doctor.ts";
import { bench } from "./bench.ts";
import { reward } from "./reward.ts";
import { tokenizer } from "./tokenizer.ts";
import { modelCommand } from "./model.ts";
import { data } from "./data.ts";
import { evalCommand } from "./eval.ts";
import { advantage } from "./advantage.ts";
import { sft, train } from "./train.ts";
import { reportCommand } from "./report.ts";
import { compare } from "./compare.ts";
import { recipe } from "./recipe.ts";

/** Registered commands: only ones that work end to end. */
export const COMMANDS: Command[] = [
  recipe,
  info,
  doctor,
  data,
  tokenizer,
  modelCommand,
  reward,
  evalCommand,
  sft,
  train,
  reportCommand,
  compare,
  advantage,
  bench,
];

const ROOT: Command = {
  name: "golongrl",
  summary: "Long-context reinforcement learning with verifiable rewards, on WebGPU.",
  usage: "golongrl <command> [subcommand] [flags]",
  description: "Run 'golongrl <command> --help' for a command's flags.",
  flags: { version: { type: "boolean", short: "V", description: "Print the version and exit." } },
  subcommands: COMMANDS,
};

function helpFor(cmd: Command, path: string): string {
  return formatHelp({
    usage: cmd.usage,
    summary: cmd.summary,
    description: cmd.description,
    flags: cmd.flags,
    positionals: cmd.positionals,
    subcommands: cmd.subcommands?.map((s) => ({ name: s.name, summary: s.summary })),
    examples: cmd.examples,
  }).replace(/^Usage: golongrl/, `Usage: ${path.split(" ")[0]}`);
}

/** Runs the CLI on `argv`; returns the exit code. Never throws. */
export async function runCli(argv: string[], io: Io = stdio): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    const err = e as Error;
    if (Deno.env.get("GOLONGRL_DEBUG")) io.err(`${err.stack ?? err}\n`);
    io.err(`golongrl: error: ${err.message}\n`);
    if (e instanceof UsageError) {
      if (e.helpHint) io.err(`See '${e.helpHint}'.\n`);
      return EXIT.usage;
    }
    return EXIT.failure;
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  let cmd = ROOT;
  let path = "golongrl";
  let rest = argv;
  // `golongrl help [command...]` is `golongrl [command...] --help`.
  if (rest[0] === "help") rest = [...rest.slice(1), "--help"];
  // Walk down the tree while the next word names a subcommand.
  while (cmd.subcommands && rest.length) {
    const word = rest[0];
    if (word.startsWith("-")) break;
    const sub = cmd.subcommands.find((s) => s.name === word);
    if (!sub) {
      const names = cmd.subcommands.map((s) => s.name);
      throw new UsageError(
        `unknown ${cmd === ROOT ? "command" : `${path} subcommand`} '${word}'${
          suggestCommand(word, names)
        }`,
        `${path} --help`,
      );
    }
    cmd = sub;
    path = `${path} ${sub.name}`;
    rest = rest.slice(1);
  }
  const { flags, positionals } = parseFlags(path, rest, cmd.flags ?? {}, cmd.positionals);
  if (cmd === ROOT && flags.version) {
    io.out(`golongrl ${VERSION}\n`);
    return EXIT.ok;
  }
  if (flags.help) {
    io.out(helpFor(cmd, path));
    return EXIT.ok;
  }
  if (!cmd.run) {
    // A group (or the root) without a subcommand: show its help, as a usage error.
    if (positionals.length) {
      throw new UsageError(`${path}: unexpected argument "${positionals[0]}"`, `${path} --help`);
    }
    io.err(helpFor(cmd, path));
    return EXIT.usage;
  }
  return (await cmd.run({ io, flags, positionals })) ?? EXIT.ok;
}
