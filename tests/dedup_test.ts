/**
 * Deduplication: exact (normalised hash) and near (MinHash + LSH) on real
 * books, first seen kept, deterministic.
 */
import { assert, assertEquals } from "./assert.ts";
import type { Document } from "../tasks/generators/types.ts";
import { ingestPaths } from "../data/ingest/mod.ts";
import {
  chooseBands,
  dedupe,
  Deduper,
  exactKey,
  minhashSignature,
  shingleHashes,
  signatureSimilarity,
} from "../data/dedup.ts";

const shared = (p: string) => new URL(`../../shared/${p}`, import.meta.url).pathname;

async function book(name: string): Promise<Document> {
  for await (const d of ingestPaths([shared(`corpora/books/${name}`)])) {
    if (!("skipped" in d)) return d;
  }
  throw new Error(`no document from ${name}`);
}

const doc = (id: string, text: string): Document => ({
  id,
  title: id,
  kind: "book",
  source: id,
  lang: "en",
  text,
});

/** `text` with every `every`-th word replaced, `count` times. */
function mutate(text: string, count: number, every: number): string {
  const words = text.split(" ");
  for (let k = 1; k <= count; k++) words[(k * every) % words.length] = `changed${k}`;
  return words.join(" ");
}

Deno.test("exact duplicates: case and whitespace differences are the same text", () => {
  assertEquals(exactKey("Hello   World\n"), exactKey("hello world"));
  assert(exactKey("hello world") !== exactKey("hello, world"));
  const { kept, removed } = dedupe([
    doc("a", "One two three."),
    doc("b", "ONE  two\nthree."),
    doc("c", "Other."),
  ]);
  assertEquals(kept.map((d) => d.id), ["a", "c"]);
  assertEquals(removed.map(({ doc, ...v }) => [doc.id, v]), [["b", {
    reason: "exact",
    duplicateOf: "a",
    similarity: 1,
  }]]);
});

Deno.test("near duplicates on real books: a few words changed is removed at 0.8; different books kept", async () => {
  const alice = await book("pg11_alice_in_wonderland.txt");
  const carol = await book("pg46_a_christmas_carol.txt");
  const jekyll = await book("pg43_jekyll_and_hyde.txt");
  const edited = { ...alice, id: "pg11-edited", text: mutate(alice.text, 20, 997) };
  assert(edited.text !== alice.text);
  const { kept, removed } = dedupe([alice, carol, edited, jekyll], { threshold: 0.8 });
  assertEquals(kept.map((d) => d.id), ["pg11", "pg46", "pg43"]);
  assertEquals(removed.length, 1);
  assertEquals(removed[0].doc.id, "pg11-edited");
  assertEquals(removed[0].reason, "near");
  assertEquals(removed[0].duplicateOf, "pg11");
  assert(removed[0].similarity >= 0.9, `similarity ${removed[0].similarity}`);
  // Order decides which copy survives: the first seen.
  const rev = dedupe([edited, alice]);
  assertEquals(rev.kept.map((d) => d.id), ["pg11-edited"]);
  // Half of a book rewritten is not a near duplicate at 0.8.
  const heavy = { ...alice, id: "pg11-heavy", text: mutate(alice.text, 6000, 4) };
  assertEquals(dedupe([alice, heavy]).removed.length, 0);
});

Deno.test("MinHash estimates Jaccard similarity", () => {
  const words = Array.from({ length: 4000 }, (_, i) => `w${i}`);
  const a = words.slice(0, 3000).join(" ");
  const b = words.slice(1000, 4000).join(" ");
  const seeds = Uint32Array.from({ length: 256 }, (_, i) => (i * 2654435761) >>> 0);
  const sa = shingleHashes(a), sb = shingleHashes(b);
  const inter = [...sa].filter((x) => new Set(sb).has(x)).length;
  const jaccard = inter / (sa.length + sb.length - inter);
  const est = signatureSimilarity(minhashSignature(sa, seeds), minhashSignature(sb, seeds));
  assert(Math.abs(est - jaccard) < 0.08, `estimate ${est} vs true ${jaccard}`);
});

Deno.test("dedup is deterministic; short and empty texts are handled", () => {
  assertEquals(chooseBands(128, 0.8), 16);
  const texts = [
    "alpha beta gamma delta epsilon zeta eta theta",
    "alpha beta gamma delta epsilon zeta eta iota",
    "x",
    "",
  ];
  const run = () => dedupe(texts.map((t, i) => doc(`d${i}`, t)), { threshold: 0.5 });
  const a = run(), b = run();
  assertEquals(a.kept.map((d) => d.id), b.kept.map((d) => d.id));
  assertEquals(
    a.removed.map((r) => [r.doc.id, r.similarity]),
    b.removed.map((r) => [r.doc.id, r.similarity]),
  );
  const seeds1 = new Deduper({ seed: 1 }), seeds2 = new Deduper({ seed: 2 });
  assert(
    seeds1.check(doc("s", "one")) === undefined && seeds2.check(doc("s", "one")) === undefined,
  );
  assertEquals(shingleHashes("").length, 0);
  assertEquals(
    shingleHashes("just three words").length,
    1,
    "fewer words than a shingle: one shingle",
  );
  const d = new Deduper();
  assertEquals(d.check(doc("e1", "")), undefined);
  assertEquals(d.check(doc("e2", "  "))?.reason, "exact");
});
