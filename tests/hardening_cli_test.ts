/**
 * Issue 12 (hardening) for the CLI's inputs: lengths that cannot yield samples, directories given
 * as files, tokenizer training input, checkpoints. Each case broke before the fix.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";

Deno.test("--lengths below 1k is a usage error, not a build of 0 samples", async () => {
  const out = await Deno.makeTempDir();
  const src = await Deno.makeTempDir();
  await Deno.writeTextFile(`${src}/a.txt`, "Some text. ".repeat(2000));
  for (const bad of ["0", "1,2", "255", "4k,100"]) {
    const r = await cli("data", "build", "-q", "--sources", src, "--lengths", bad, "--out", out);
    assertEquals(r.code, 2, `--lengths ${bad}: ${r.err}`);
    assertMatch(r.err, /--lengths: \d+ is below the smallest context length, 256 tokens/);
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

const FIXTURE = new URL("./fixtures/qwen3_tiny/tied/", import.meta.url).pathname;

/** A copy of the tiny checkpoint (config.json, model.safetensors) in a fresh folder. */
async function tinyCheckpoint(): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const f of ["config.json", "model.safetensors"]) {
    await Deno.copyFile(FIXTURE + f, `${dir}/${f}`);
  }
  return dir;
}

Deno.test("model init refuses an --out that holds a checkpoint, and changes nothing there", async () => {
  const tok = `${ROOT}/../shared/tokenizers/qwen3`;
  const dir = await tinyCheckpoint();
  const before = await Deno.readFile(`${dir}/model.safetensors`);
  let r = await cli("model", "init", "--tokenizer", tok, "--out", dir);
  assertEquals(r.code, 1);
  assertMatch(r.err, /already holds a checkpoint \(config\.json, model\.safetensors\)/);
  assertEquals(await Deno.readFile(`${dir}/model.safetensors`), before);
  // A leftover shard index (and the shard it lists) alone is refused too.
  const leftover = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${leftover}/model.safetensors.index.json`,
    JSON.stringify({ weight_map: { "a": "keep.bin" } }),
  );
  await Deno.writeTextFile(`${leftover}/keep.bin`, "precious");
  r = await cli("model", "init", "--tokenizer", tok, "--out", leftover);
  assertEquals(r.code, 1);
  assertEquals(await Deno.readTextFile(`${leftover}/keep.bin`), "precious");
  assertEquals([...Deno.readDirSync(leftover)].length, 2);
});

Deno.test("model info checks the tensors: truncated, garbage, header-bomb and mismatched checkpoints fail", async () => {
  const ok = await cli("model", "info", await tinyCheckpoint());
  assertEquals(ok.code, 0, ok.err);
  assertMatch(ok.out, /parameters\s+21,728/);
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    ["truncated", async (d) => {
      const b = await Deno.readFile(`${d}/model.safetensors`);
      await Deno.writeFile(`${d}/model.safetensors`, b.subarray(0, b.length >> 1));
    }, /model\.safetensors/],
    [
      "garbage",
      (d) =>
        Deno.writeFile(
          `${d}/model.safetensors`,
          new Uint8Array(4096).map((_, i) => (i * 37) & 255),
        ),
      /model\.safetensors/,
    ],
    ["header bomb", async (d) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
      await Deno.writeFile(`${d}/model.safetensors`, b);
    }, /model\.safetensors: header length \d+ is beyond the file size/],
    ["config disagrees", async (d) => {
      const c = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
      c.hidden_size = 64;
      await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(c));
    }, /config\.json says vocab_size \d+, hidden_size 64/],
    ["weights missing", (d) => Deno.remove(`${d}/model.safetensors`), /model\.safetensors/],
  ];
  for (const [name, spoil, want] of cases) {
    const dir = await tinyCheckpoint();
    await spoil(dir);
    const r = await cli("model", "info", dir);
    assertEquals(r.code, 1, `${name}: ${r.out}`);
    assertMatch(r.err, want, name);
  }
});

Deno.test("data ingest follows symlinks and reports dangling links, loops and FIFOs instead of dropping them", async () => {
  const real = await Deno.makeTempDir();
  await Deno.writeTextFile(`${real}/a.txt`, "Alpha text about rivers. ".repeat(40));
  await Deno.mkdir(`${real}/sub`);
  await Deno.writeTextFile(`${real}/sub/b.md`, "# Beta\n\n" + "Beta text about hills. ".repeat(40));
  const src = await Deno.makeTempDir();
  await Deno.symlink(`${real}/a.txt`, `${src}/link_a.txt`);
  await Deno.symlink(`${real}/sub`, `${src}/linked_dir`);
  await Deno.symlink(`${real}/gone.txt`, `${src}/dangling.txt`);
  await Deno.symlink(src, `${src}/loop`); // a link to its own folder
  const fifo = await new Deno.Command("mkfifo", { args: [`${src}/pipe.txt`] }).output();
  assert(fifo.success);
  const out = `${await Deno.makeTempDir()}/docs.jsonl`;
  const r = await cli("data", "ingest", "--sources", src, "--out", out);
  assertEquals(r.code, 0, r.err);
  assertMatch(r.err, /^2 documents, 2 skipped/m);
  assertMatch(r.err, /skipped .*dangling\.txt: cannot read: .*dangling link/);
  assertMatch(r.err, /skipped .*pipe\.txt: not a regular file/);
  const docs = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(docs.map((d) => d.text.includes("Beta text") ? "b" : d.text.slice(0, 5)).sort(), [
    "Alpha",
    "b",
  ]);
});
