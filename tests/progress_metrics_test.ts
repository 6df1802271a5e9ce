import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { formatDuration, Progress } from "../core/progress.ts";
import { writeFileAtomic } from "../core/fsutil.ts";

function fake(tty: boolean, total?: number, quiet = false) {
  let t = 0;
  const lines: string[] = [];
  const p = new Progress("build", {
    unit: "docs",
    total,
    quiet,
    tty,
    now: () => t,
    write: (s) => lines.push(s),
    logEveryMs: 1000,
    redrawEveryMs: 100,
  });
  return { p, lines, advance: (ms: number) => t += ms };
}

Deno.test("progress shows count, rate and ETA", () => {
  const { p, advance } = fake(false, 100);
  advance(2000);
  p.tick(40);
  assertEquals(p.line(), "build 40/100 docs, 20.0 docs/s, ETA 0:03");
  p.finish();
  assertMatch(p.line(), /100 docs|40\/100 docs, 20\.0 docs\/s, 0:02 elapsed/);
});

Deno.test("progress throttles log lines and is silent when quiet", () => {
  const { p, lines, advance } = fake(false, 1000);
  for (let i = 0; i < 100; i++) {
    advance(100);
    p.tick();
  }
  // 10 s of work, a line at most every 1 s (first tick draws at once).
  assert(lines.length >= 9 && lines.length <= 11, `${lines.length} lines`);
  assert(lines.every((l) => l.endsWith("\n") && !l.includes("\r")));
  const q = fake(false, 10, true);
  q.p.tick(5);
  q.p.finish();
  assertEquals(q.lines, []);
  const t = fake(true);
  t.p.tick();
  assert(t.lines[0].startsWith("\r\x1b[2Kbuild 1 docs"));
});

Deno.test("durations format as m:ss and h:mm:ss", () => {
  assertEquals(formatDuration(5), "0:05");
  assertEquals(formatDuration(65), "1:05");
  assertEquals(formatDuration(3725), "1:02:05");
  assertEquals(formatDuration(Infinity), "?");
});

Deno.test("atomic writes leave no temporary file and replace whole", async () => {
  const dir = await Deno.makeTempDir();
  await writeFileAtomic(`${dir}/a.txt`, "one");
  await writeFileAtomic(`${dir}/a.txt`, "two");
  assertEquals(await Deno.readTextFile(`${dir}/a.txt`), "two");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["a.txt"]);
  await assertRejects(() => writeFileAtomic(`${dir}/missing/b.txt`, "x"));
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["a.txt"]);
});
