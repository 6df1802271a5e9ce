/** The generation cache (core/chat/cache.ts) keeps what a killed run wrote and reads it back. */
import { assertEquals } from "./assert.ts";
import { JsonlCache } from "../core/chat/cache.ts";

Deno.test("cache: entries survive a reopen; a truncated last line is skipped and ended", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cache.jsonl`;
  const c = await new JsonlCache<{ key: string; v: number }>(path).open();
  await c.put({ key: "a", v: 1 });
  await c.put({ key: "b", v: 2 });
  await c.put({ key: "a", v: 3 }); // a later line wins
  c.close();
  await Deno.writeTextFile(path, '{"key": "c", "v"', { append: true }); // killed mid-line
  const c2 = await new JsonlCache<{ key: string; v: number }>(path).open();
  assertEquals(c2.skippedLines, 1);
  assertEquals([...c2.entries.values()].map((e) => [e.key, e.v]), [["a", 3], ["b", 2]]);
  await c2.put({ key: "d", v: 4 });
  c2.close();
  const c3 = await new JsonlCache<{ key: string; v: number }>(path).open();
  assertEquals(c3.skippedLines, 1); // the partial line stays one bad line; "d" is whole
  assertEquals(c3.get("d")?.v, 4);
  c3.close();
  const fresh = await new JsonlCache(`${dir}/new.jsonl`).open();
  assertEquals(fresh.entries.size, 0);
  fresh.close();
});
