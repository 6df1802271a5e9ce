/**
 * Flags typed from each command's flag spec. The `@ts-expect-error` lines are checked by
 * `deno check` (and `deno test`, which type-checks): if the flags stop being typed (an `any`, an
 * index signature), those lines stop being errors and the check fails.
 */
import { command } from "../cli/command.ts";
import { type FlagsOf, parseFlags } from "../cli/args.ts";
import type { GPU_FLAGS } from "../cli/gpu_flags.ts";
import type { Backend, PowerPreference } from "../core/gpu/device.ts";
import { assertEquals } from "./assert.ts";

const FLAGS = {
  name: { type: "string", description: "A string without default." },
  count: { type: "integer", default: 3, description: "An integer with a default." },
  ratio: { type: "number", description: "A number without default." },
  mode: { type: "string", choices: ["fast", "slow"], default: "fast", description: "A choice." },
  tag: { type: "string", multiple: true, description: "Repeatable." },
  dry: { type: "boolean", description: "A boolean." },
} as const;

let seen: FlagsOf<typeof FLAGS> | undefined;

const demo = command({
  name: "demo",
  summary: "A command to type-check flags against.",
  usage: "golongrl demo",
  flags: FLAGS,
  run({ flags }) {
    // @ts-expect-error: an undeclared flag is not there.
    flags.nmae;
    // @ts-expect-error: a string flag is no number.
    const asNumber: number = flags.name;
    // @ts-expect-error: a flag without default may be missing.
    const given: string = flags.name;
    // @ts-expect-error: a number flag is no string.
    const asString: string | undefined = flags.ratio;
    // @ts-expect-error: a choice flag holds only its choices.
    const other: "medium" = flags.mode;
    // @ts-expect-error: a repeatable flag is a list.
    const one: string | undefined = flags.tag;
    const count: number = flags.count;
    const mode: "fast" | "slow" = flags.mode;
    const tags: string[] | undefined = flags.tag;
    const dry: boolean = flags.dry;
    const quiet: boolean = flags.quiet;
    void [asNumber, given, asString, other, one, count, mode, tags, dry, quiet];
    seen = flags;
    return Promise.resolve();
  },
});

Deno.test("flags: shared groups and pattern-named flags are typed", () => {
  const gpu = {} as FlagsOf<typeof GPU_FLAGS>;
  const backend: Backend = gpu.backend;
  const power: PowerPreference = gpu.power;
  // @ts-expect-error: no such GPU flag.
  gpu.device;
  // Flags named by a pattern, as eval's `--data-<bench>`: strings; other names are not flags.
  type DataFlags = Record<`data-${string}`, { type: "string"; description: string }>;
  const e = {} as FlagsOf<typeof GPU_FLAGS & DataFlags>;
  const data: string | undefined = e["data-longbench-v2"];
  // @ts-expect-error: not a data flag.
  e["datalongbench"];
  void [backend, power, data];
});

Deno.test("flags: parsed values match their types (a missing boolean is false)", async () => {
  const { flags, positionals } = parseFlags("golongrl demo", [
    "--tag",
    "a",
    "--ratio",
    "-0.5",
    "--tag",
    "b",
    "--mode",
    "slow",
  ], FLAGS);
  await demo.run!({ io: { out: () => {}, err: () => {} }, flags, positionals });
  assertEquals(seen, {
    help: false,
    quiet: false,
    name: undefined,
    count: 3,
    ratio: -0.5,
    mode: "slow",
    tag: ["a", "b"],
    dry: false,
  });
  const b = parseFlags("golongrl demo", ["--dry", "-q", "--count", "7"], FLAGS).flags;
  assertEquals([b.dry, b.quiet, b.count, b.tag, b.mode], [true, true, 7, undefined, "fast"]);
});
