/**
 * Issue 12 (hardening) for the CLI's inputs: lengths that cannot yield samples, directories given
 * as files, tokenizer training input, checkpoints. Each case broke before the fix.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli } from "./helpers.ts";

Deno.test("--lengths below 1k is a usage error, not a build of 0 samples", async () => {
  const out = await Deno.makeTempDir();
  const src = await Deno.makeTempDir();
  await Deno.writeTextFile(`${src}/a.txt`, "Some text. ".repeat(2000));
  for (const bad of ["0", "1,2", "512", "4k,100"]) {
    const r = await cli("data", "build", "-q", "--sources", src, "--lengths", bad, "--out", out);
    assertEquals(r.code, 2, `--lengths ${bad}: ${r.err}`);
    assertMatch(r.err, /--lengths: \d+ is below the smallest context length, 1k \(1024 tokens\)/);
  }
  assertEquals([...Deno.readDirSync(out)].length, 0, "nothing written");
  await Deno.writeTextFile(`${src}/docs.jsonl`, "");
  const docs = `${src}/docs.jsonl`;
  const c = await cli("data", "construct", "--docs", docs, "--lengths", "0", "--out", `${out}/d`);
  assertEquals(c.code, 2);
});

Deno.test("a directory where a JSONL file belongs: the error names the path", async () => {
  const dir = await Deno.makeTempDir();
  let r = await cli("reward", "--data", dir, "--responses", dir);
  assertEquals(r.code, 1);
  assert(r.err.includes(`${dir}: is a directory; expected a JSONL file`), r.err);
  r = await cli("data", "construct", "--docs", dir, "--out", `${dir}/out.jsonl`);
  assertEquals(r.code, 1);
  assert(r.err.includes(`${dir}: is a directory`), r.err);
});
