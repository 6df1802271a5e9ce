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

Deno.test("tokenizer train rejects invalid UTF-8 and an empty corpus instead of training on them", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/bad.txt`, new Uint8Array([0x68, 0x69, 0xff, 0xfe, 0x20, 0x61]));
  let r = await cli(
    "tokenizer",
    "train",
    "-q",
    "--corpus",
    `${dir}/bad.txt`,
    "--vocab",
    "300",
    "--out",
    `${dir}/t1`,
  );
  assertEquals(r.code, 1);
  assert(r.err.includes(`${dir}/bad.txt: not valid UTF-8`), r.err);
  await Deno.writeTextFile(`${dir}/empty.txt`, "");
  await Deno.writeTextFile(`${dir}/empty.jsonl`, "");
  for (const f of ["empty.txt", "empty.jsonl"]) {
    r = await cli(
      "tokenizer",
      "train",
      "-q",
      "--corpus",
      `${dir}/${f}`,
      "--vocab",
      "300",
      "--out",
      `${dir}/t2`,
    );
    assertEquals(r.code, 1, f);
    assertMatch(r.err, /the corpus has no text to learn from/);
  }
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "bad.txt",
    "empty.jsonl",
    "empty.txt",
  ]);
});
