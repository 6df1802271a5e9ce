import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, cliProcess } from "./helpers.ts";
import { closest, editDistance } from "../core/suggest.ts";
import { COMMANDS } from "../cli/app.ts";

Deno.test("--help works at every level and exits 0", async () => {
  const paths: string[][] = [[]];
  for (const c of COMMANDS) {
    paths.push([c.name]);
    for (const s of c.subcommands ?? []) paths.push([c.name, s.name]);
  }
  for (const p of paths) {
    const r = await cli(...p, "--help");
    assertEquals(r.code, 0, `golongrl ${p.join(" ")} --help`);
    assertMatch(r.out, /^Usage: golongrl/, p.join(" "));
    assertMatch(r.out, /--help/);
  }
  const h = await cli("help", "info");
  assertEquals(h.code, 0);
  assertMatch(h.out, /Usage: golongrl info/);
});

Deno.test("--version prints the deno.json version", async () => {
  const r = await cli("--version");
  assertEquals(r.code, 0);
  assertMatch(r.out, /^golongrl \d+\.\d+\.\d+\n$/);
});

Deno.test("no command prints help on stderr with usage exit code", async () => {
  const r = await cli();
  assertEquals(r.code, 2);
  assertMatch(r.err, /Commands:/);
  // `bench` alone runs every suite (tests/bench_all_test.ts); its help still lists them.
  const g = await cli("bench", "--help");
  assertEquals(g.code, 0);
  assertMatch(g.out, /runtime/);
});

Deno.test("unknown command suggests the closest", async () => {
  const r = await cli("ifno");
  assertEquals(r.code, 2);
  assertMatch(r.err, /unknown command 'ifno' \(did you mean info\?\)/);
  const s = await cli("bench", "runtme");
  assertEquals(s.code, 2);
  assertMatch(s.err, /did you mean runtime\?/);
});

Deno.test("unknown flag is named with the closest valid one", async () => {
  const r = await cli("info", "--jsn");
  assertEquals(r.code, 2);
  assertMatch(r.err, /unknown flag --jsn \(did you mean --json\?\)/);
  assertMatch(r.err, /See 'golongrl info --help'/);
  const q = await cli("doctor", "--backnd", "gl");
  assertEquals(q.code, 2);
  assertMatch(q.err, /--backnd \(did you mean --backend\?\)/);
});

Deno.test("missing value, value for a boolean, bad choice, bad number", async () => {
  let r = await cli("doctor", "--out");
  assertEquals(r.code, 2);
  assertMatch(r.err, /flag --out needs a value/);
  r = await cli("doctor", "--out", "--json");
  assertEquals(r.code, 2);
  assertMatch(r.err, /--out needs a value/);
  r = await cli("info", "--json=yes");
  assertEquals(r.code, 2);
  assertMatch(r.err, /--json takes no value/);
  r = await cli("info", "--backend", "vulkn");
  assertEquals(r.code, 2);
  assertMatch(r.err, /"vulkn" is not one of .*did you mean vulkan\?/);
  r = await cli("doctor", "--seed", "1.5");
  assertEquals(r.code, 2);
  assertMatch(r.err, /--seed: "1.5" is not an integer/);
  r = await cli("doctor", "--seed", "-3");
  assertEquals(r.code, 2);
  assertMatch(r.err, /below the minimum 0/);
  r = await cli("info", "extra");
  assertEquals(r.code, 2);
  assertMatch(r.err, /unexpected argument "extra"/);
});

Deno.test("a bad --set is a usage error naming the key", async () => {
  const r = await cli("bench", "runtime", "--set", "bench.repets=2");
  assertEquals(r.code, 2);
  assertMatch(r.err, /no config key bench\.repets \(did you mean bench\.repeats\?\)/);
});

Deno.test("exit codes hold for a real process", async () => {
  const bad = await cliProcess(["info", "--bogus"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.err, /unknown flag --bogus/);
  assertEquals(bad.out, "");
  const ok = await cliProcess(["--version"]);
  assertEquals(ok.code, 0);
});

Deno.test("edit distance and closest match", () => {
  assertEquals(editDistance("kitten", "sitting"), 3);
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(closest("jsn", ["json", "out", "quiet"]), "json");
  assertEquals(closest("zzzzzz", ["json", "out"]), undefined);
  assertEquals(closest("back", ["backend", "power"]), "backend");
  assert(closest("q", ["quiet", "json"]) === undefined);
});
