/** The one tolerant JSONL reader (core/jsonl.ts) and the log readers built on it. */
import { readJsonl, readJsonlLines, readJsonlTolerant } from "../core/jsonl.ts";
import { truncateLog } from "../train/checkpoint.ts";
import { InputError } from "../core/errors.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";

const tmpFile = async (text: string) => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(path, text);
  return path;
};

Deno.test("jsonl: each line keeps its text as read; a leading BOM is not part of it", async () => {
  const path = await tmpFile('\ufeff{"a": 1.50}\r\n\n{"b":"x"}');
  const lines = [];
  for await (const l of readJsonl(path)) lines.push(l);
  assertEquals(lines, [
    { line: 1, value: { a: 1.5 }, text: '{"a": 1.50}\r' },
    { line: 3, value: { b: "x" }, text: '{"b":"x"}' },
  ]);
});

Deno.test("jsonl: missingOk reads a missing file as empty; other failures still throw", async () => {
  const dir = await Deno.makeTempDir();
  const missing = `${dir}/nope.jsonl`;
  const got = [];
  for await (const r of readJsonlLines(missing, { missingOk: true })) got.push(r);
  assertEquals(got, []);
  await assertRejects(async () => {
    for await (const _ of readJsonlLines(missing)) { /* throws */ }
  }, /cannot open/);
  // A directory is not "missing": the error names it.
  const e = await assertRejects(() => readJsonlTolerant(dir), /is a directory/);
  assert(e instanceof InputError && e.message.includes(dir), e.message);
  assertEquals(await readJsonlTolerant(missing), []);
});

Deno.test("jsonl: the tolerant read skips torn and non-object lines and keeps the rest", async () => {
  const path = await tmpFile('{"step":1}\n{"step":2,"x":\n[1,2]\n{"step":3}\n{"st');
  assertEquals((await readJsonlTolerant(path)).map((l) => [l.line, l.value]), [
    [1, { step: 1 }],
    [4, { step: 3 }],
  ]);
});

Deno.test("truncateLog: drops steps above the checkpoint and torn lines, keeps lines verbatim", async () => {
  const path = await tmpFile(
    '{"step":1,  "loss":1.0}\n{"event":"start"}\n{"step":2}\n{"step":3,"loss"\n{"step":4}\n',
  );
  await truncateLog(path, 2);
  assertEquals(
    await Deno.readTextFile(path),
    '{"step":1,  "loss":1.0}\n{"event":"start"}\n{"step":2}\n',
  );
  // A missing log stays missing.
  const missing = `${await Deno.makeTempDir()}/metrics.jsonl`;
  await truncateLog(missing, 2);
  assertEquals(await Deno.stat(missing).then(() => true, () => false), false);
});
