/**
 * Ingestion (P1) on the real corpora in ../shared and on hand-made trap
 * fixtures in tests/fixtures/ingest: BOM/CRLF and Gutenberg boilerplate,
 * JATS with MathML and tables, invalid XML, empty dialogue turns, truncated
 * JSONL, binary files named .txt, filters, language guessing, determinism.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import type { Document, Skipped } from "../tasks/generators/types.ts";
import { ingestPaths, listFiles, newStats } from "../data/ingest/mod.ts";
import { parseXml, XmlError } from "../data/ingest/xml.ts";
import { isoDate, paragraphize, splitSentences } from "../data/ingest/common.ts";
import { detectLanguage } from "../data/lang.ts";

const shared = (p: string) => new URL(`../../shared/${p}`, import.meta.url).pathname;
const fixture = (p: string) => new URL(`./fixtures/ingest/${p}`, import.meta.url).pathname;

async function collect(
  paths: string[],
  opts = {},
): Promise<{ docs: Document[]; skips: Skipped[] }> {
  const docs: Document[] = [], skips: Skipped[] = [];
  for await (const d of ingestPaths(paths, opts)) ("skipped" in d ? skips : docs).push(d as never);
  return { docs, skips };
}

async function one(path: string): Promise<Document> {
  const { docs, skips } = await collect([path]);
  assertEquals(skips, [], "no skips");
  assertEquals(docs.length, 1);
  return docs[0];
}

Deno.test("gutenberg fixture: BOM, CRLF, header and footer removed, metadata read", async () => {
  const d = await one(fixture("gutenberg_bom_crlf.txt"));
  assertEquals(d.id, "pg99999");
  assertEquals(d.kind, "book");
  assertEquals(d.title, "The Tiny Test Book");
  assertEquals(d.author, "Ada Example");
  assertEquals(d.date, "2006-02-26");
  assert(!d.text.includes("\r") && d.text.charCodeAt(0) !== 0xfeff, "no CR, no BOM");
  assert(!/Project Gutenberg|START OF|END OF|at no cost/i.test(d.text), "boilerplate gone");
  assert(!d.text.includes("Produced by"), "volunteer credits gone");
  assert(d.text.startsWith("THE TINY TEST BOOK"), "first real line kept");
  assert(d.text.endsWith("as quietly as it began."), "last real line kept");
  assertEquals(d.sections!.map((s) => s.title), [
    "Front matter",
    "CHAPTER I. The Beginning",
    "CHAPTER II. The End",
  ]);
  assert(d.sections![1].text.startsWith("It was a bright cold day"));
  assertEquals(d.lang, "en");
});

Deno.test("plain text without Gutenberg markers is kept whole", async () => {
  const d = await one(fixture("no_markers.txt"));
  assertEquals(d.id, "txt:no_markers");
  assertEquals(d.title, "A Little Story Without Markers");
  assert(d.text.startsWith("A Little Story Without Markers"));
  assert(d.text.endsWith("The last line stays too."));
  assertEquals(d.licence, undefined);
  assertEquals(d.sections!.length, 1);
});

Deno.test("binary or non-UTF-8 files given as .txt are skipped", async () => {
  const { docs, skips } = await collect([fixture("binary.txt"), fixture("latin1.txt")]);
  assertEquals(docs.length, 0);
  assertEquals(skips.length, 2);
  assertMatch(skips[0].reason, /binary|NUL/);
  assertMatch(skips[1].reason, /UTF-8/);
  assert(skips[1].source.endsWith("latin1.txt"));
});

Deno.test("real books: 16 Gutenberg novels, boilerplate gone, chapters found", async () => {
  const { docs, skips } = await collect([shared("corpora/books")]);
  assertEquals(skips, []);
  assertEquals(docs.length, 16);
  for (const d of docs) {
    assertEquals(d.kind, "book");
    assertMatch(d.id, /^pg\d+$/);
    assert(d.title && d.author && d.date, `${d.id}: title/author/date`);
    assert(!/\*\*\* ?(START|END) OF|Project Gutenberg License|\r/.test(d.text), `${d.id}: clean`);
    assert(d.text.length > 30_000, d.id);
    assertEquals(d.lang, "en", d.id);
    assertEquals(d.sections!.map((s) => s.text).join("").length > d.text.length * 0.9, true);
  }
  const by = new Map(docs.map((d) => [d.id, d]));
  const alice = by.get("pg11")!;
  assertEquals(alice.title, "Alice’s Adventures in Wonderland");
  assert(alice.text.startsWith("ALICE’S ADVENTURES IN WONDERLAND"));
  assertEquals(alice.sections!.filter((s) => s.title.startsWith("CHAPTER")).length, 12);
  // Jekyll's START marker wraps onto a second line; none of it may remain.
  assert(!by.get("pg43")!.text.includes("MR. HYDE ***"));
  // Yellow Wallpaper glues "Title:" to the previous header line.
  assertEquals(by.get("pg1952")!.title, "The Yellow Wallpaper");
  assertEquals(by.get("pg46")!.sections!.filter((s) => s.title.startsWith("STAVE")).length, 5);
  const moby = by.get("pg2701")!.sections!;
  assertEquals(
    moby.filter((s) => /^CHAPTER \d+\./.test(s.title)).length,
    135,
    "TOC lines are not chapters",
  );
});

Deno.test("real PLOS papers: 17 JATS articles with metadata, tables and clean maths", async () => {
  const { docs, skips } = await collect([shared("corpora/papers/plos_xml")]);
  assertEquals(skips, []);
  assertEquals(docs.length, 17);
  for (const d of docs) {
    assertEquals(d.kind, "paper");
    assertMatch(d.id, /^plos:journal\.p[a-z]+\.\d{7}$/);
    assert(d.title && d.author && d.date && d.licence, d.id);
    assert(!/<\/?[a-z][\w:-]*[\s>\/]|mml:/.test(d.text), `${d.id}: no tag garbage`);
    assert(d.sections!.some((s) => s.title === "Abstract"), d.id);
  }
  const by = new Map(docs.map((d) => [d.id, d]));
  const p = by.get("plos:journal.pone.0117014")!;
  assertEquals(p.tables!.length, 3);
  const t = p.tables![0];
  assertEquals(t.label, "Table 1");
  assertEquals(
    t.caption,
    "Frequency of selected linear models according to their MSE within 1000 modelling repeats.",
  );
  assertEquals(t.header, ["Gene deletion", "simple", "additive", "interaction"]);
  assertEquals(t.rows[0], ["MCM22", "908", "81", "11"]);
  assertEquals(p.date, "2015-01-27");
  assertEquals(p.licence, "CC BY 4.0");
  assertEquals(by.get("plos:journal.pone.0081648")!.licence, "CC0 1.0");
  const math = by.get("plos:journal.pcbi.1004141")!;
  assert(math.text.includes("λ = f ( K ⊤ s )"), "MathML token text kept");
  assert(!math.text.includes("References"), "reference list left out");
});

Deno.test("JATS fixture: entities, CDATA, comments, PI, DOCTYPE subset, TeX, MathML, tables", async () => {
  const d = await one(fixture("mathml_table.xml"));
  assertEquals(d.id, "doi:10.9999/jtt.0001");
  assertEquals(d.title, "Entities & Maths: a <Test> of café “quotes” – done");
  assertEquals(d.author, "Marie Curie, Emmy Noether");
  assertEquals(d.date, "2021-03-07");
  assertEquals(d.licence, "CC BY 4.0");
  assertEquals(d.sections!.map((s) => s.title), [
    "Abstract",
    "Introduction",
    "Results",
    "Acknowledgments",
  ]);
  assert(d.text.includes("inline maths x^2 here"), "alttext used");
  assert(d.text.includes("Energy is E=mc2 and code is if (a < b && c > d) {}."), d.text);
  assert(d.text.includes("$$\\int_0^1 f(x)\\,dx$$"), "tex-math preferred, wrapper removed");
  assert(d.text.includes("Nested part\n\nA nested paragraph."));
  assert(!d.text.includes("comment") && !d.text.includes("Should not appear"));
  assertEquals(d.tables, [{
    label: "Table 1",
    caption: "Counts per group. Values are totals.",
    header: ["Group / Name", "Counts / A", "B"],
    rows: [["alpha", "42", "7"], ["beta", "3", "9"]],
  }]);
  assertEquals((d.meta!.figures as unknown[])[0], {
    label: "Fig 1",
    caption: "A figure. With a caption.",
  });
});

Deno.test("invalid XML becomes a Skipped naming the file and line, never a crash", async () => {
  const { docs, skips } = await collect([fixture("invalid.xml"), fixture("no_markers.txt")]);
  assertEquals(docs.length, 1, "the next file is still read");
  assertEquals(skips.length, 1);
  assert(skips[0].source.endsWith("invalid.xml"));
  assertMatch(
    skips[0].reason,
    /invalid XML: line 4: mismatched end tag <\/article-meta>: <p> \(line 3\)/,
  );
  const unclosed = (() => {
    try {
      parseXml("<a><b>text</b>");
    } catch (e) {
      return e as XmlError;
    }
  })();
  assert(unclosed instanceof XmlError);
  assertMatch(unclosed.message, /unclosed <a>/);
  for (const bad of ["<a>x < y</a>", "<a b=c/>", "<a></b>", "<a/><b/>", "text", "<a><!-- x</a>"]) {
    let threw = false;
    try {
      parseXml(bad);
    } catch (e) {
      threw = e instanceof XmlError;
    }
    assert(threw, bad);
  }
});

Deno.test("XML parsing is iterative: 100k nested elements do not overflow the stack", () => {
  const n = 100_000;
  const root = parseXml("<x>".repeat(n) + "deep" + "</x>".repeat(n));
  let el = root, depth = 1;
  while (el.children.length && typeof el.children[0] !== "string") {
    el = el.children[0] as typeof el;
    depth++;
  }
  assertEquals(depth, n);
  assertEquals(el.children, ["deep"]);
});

Deno.test("real QMSum: 35 + 24 meetings, empty turns dropped and counted, queries in meta", async () => {
  const { docs, skips } = await collect([shared("corpora/dialogues/qmsum")]);
  assertEquals(skips, []);
  const val = docs.filter((d) => d.id.startsWith("qmsum:qmsum_all_val:"));
  const train = docs.filter((d) => d.id.startsWith("qmsum:qmsum_committee_train:"));
  assertEquals([val.length, train.length], [35, 24]);
  let empty = 0, queries = 0;
  for (const d of docs) {
    assertEquals(d.kind, "meeting");
    assert(d.turns!.length > 10 && d.turns!.every((t) => t.text.trim() && t.speaker), d.id);
    empty += d.meta!.emptyTurns as number;
    queries += (d.meta!.generalQueries as unknown[]).length +
      (d.meta!.specificQueries as unknown[]).length;
    assertEquals((d.meta!.turnIndex as number[]).length, d.turns!.length);
  }
  assertEquals(empty, 18, "17 empty turns in val, 1 in committee train");
  assertEquals(queries, 272 + 308);
  assertEquals(val[3].id, "qmsum:qmsum_all_val:3");
});

Deno.test("QMSum fixture: empty turns skipped and counted; a meeting of only empty turns is Skipped", async () => {
  const { docs, skips } = await collect([fixture("qmsum_tiny.jsonl")]);
  assertEquals(docs.length, 1);
  const d = docs[0];
  assertEquals(d.turns, [{ speaker: "A", text: "The budget is fine ." }, {
    speaker: "B",
    text: "Agreed .",
  }]);
  assertEquals(d.meta!.emptyTurns, 2);
  assertEquals(d.meta!.turnIndex, [0, 3]);
  assertEquals((d.meta!.specificQueries as { answer: string }[])[0].answer, "It is fine.");
  assertEquals(skips.length, 1);
  assertMatch(skips[0].source, /qmsum_tiny\.jsonl:2$/);
});

Deno.test("real SGD: 256 dialogues with per-turn frames; fixture with an empty utterance", async () => {
  const { docs, skips } = await collect([shared("corpora/dialogues/sgd")]);
  assertEquals(skips, []);
  assertEquals(docs.length, 256);
  const ids = new Set(docs.map((d) => d.id));
  assertEquals(ids.size, 256);
  assert(ids.has("sgd:dev:1_00000") && ids.has("sgd:test:1_00000"));
  for (const d of docs) {
    assertEquals(d.kind, "dialogue");
    assertEquals((d.meta!.frames as unknown[]).length, d.turns!.length);
  }
  const f = await one(fixture("sgd_tiny_dialogues_001.json"));
  assertEquals(f.id, "sgd:tiny:9_00001");
  assertEquals(f.turns!.map((t) => t.speaker), ["USER", "SYSTEM"]);
  assertEquals(f.meta!.emptyTurns, 1);
  assertEquals(f.meta!.turnIndex, [0, 2]);
  assertEquals(f.meta!.finalState, { Hotels_1: { location: ["Paris"] } });
  assertEquals(f.text, "USER: Find me a hotel in Paris.\nSYSTEM: Hotel Lutetia has 4 stars.");
});

Deno.test("real speeches: 233 addresses, unique ids, re-paragraphed by sentences", async () => {
  const { docs, skips } = await collect([shared("corpora/speeches")]);
  assertEquals(skips, []);
  assertEquals(docs.length, 233);
  assertEquals(new Set(docs.map((d) => d.id)).size, 233);
  const first = docs[0];
  assertEquals(first.id, "sotu:1790");
  assertEquals(first.author, "George Washington");
  assertEquals(first.date, "1790");
  assertEquals(first.meta!.party, "none");
  assertEquals(first.meta!.text, undefined);
  assert(docs.some((d) => d.id === "sotu:1961") && docs.some((d) => /^sotu:1961-/.test(d.id)));
  for (const d of docs) {
    assertEquals(d.kind, "speech");
    assert(d.sections!.length > 1, `${d.id} has paragraphs`);
    assertEquals(d.sections!.map((s) => s.text).join("\n\n"), d.text);
    assert(d.sections!.every((s) => s.text.length < 6000), `${d.id}: no giant paragraph`);
  }
});

Deno.test("NQ-Open: one passage Document per gold passage, question and answers in meta", async () => {
  const { docs, skips } = await collect([shared("qa/nq_open_oracle_dev200.jsonl")]);
  assertEquals(skips, []);
  assertEquals(docs.length, 200);
  assertEquals(docs[0].id, "nq:0");
  assertEquals(docs[12].id, "nq:12");
  assertEquals(docs[0].kind, "passage");
  assertEquals(docs[0].title, "List of Nobel laureates in Physics");
  assertEquals(docs[0].meta!.question, "who got the first nobel prize in physics");
  assertEquals(docs[0].meta!.answers, ["Wilhelm Conrad Röntgen"]);
});

Deno.test("LongBench v2 (real) and v1 (fixture): context is the text, the rest is meta", async () => {
  const { docs } = await collect([
    shared("qa/longbench_v2_format_examples.jsonl"),
    fixture("longbench_v1_tiny.jsonl"),
  ]);
  assertEquals(docs.length, 4);
  const v2 = docs[0];
  assertEquals(v2.kind, "benchmark");
  assertEquals(v2.id, "longbench-v2:66f36490821e116aacb2cc22");
  assertEquals(v2.meta!.answer, "D");
  assertEquals(v2.meta!.context, undefined);
  assert(typeof v2.meta!.choice_A === "string" && v2.text.length > 10_000);
  const v1 = docs[3];
  assertEquals(v1.id, "longbench:narrativeqa:abc123");
  assertEquals(v1.meta!.answers, ["blue"]);
  assertEquals(v1.meta!.longbench, 1);
});

Deno.test("bAbI: one Document per story with questions, answers and supporting facts", async () => {
  const { docs } = await collect([fixture("babi_tiny.txt")]);
  assertEquals(docs.map((d) => d.id), ["babi:babi_tiny:0", "babi:babi_tiny:1"]);
  assertEquals(
    docs[0].text,
    "Mary moved to the bathroom.\nJohn went to the hallway.\nDaniel went back to the hallway.",
  );
  assertEquals(docs[0].meta!.lineIds, [1, 2, 4]);
  assertEquals(docs[0].meta!.questions, [
    { q: "Where is Mary?", answer: "bathroom", supporting: [1], after: 2 },
    { q: "Where is Daniel?", answer: "hallway", supporting: [4], after: 4 },
  ]);
  assertEquals((docs[1].meta!.questions as { answer: string }[])[0].answer, "kitchen");
});

Deno.test("a truncated or bad JSONL line is a Skipped naming file and line; the rest is read", async () => {
  const { docs, skips } = await collect([fixture("truncated_speeches.jsonl")]);
  assertEquals(docs.map((d) => d.id), ["sotu:1801", "sotu:1802", "sotu:1804"]);
  assertEquals(skips.length, 2);
  assertMatch(skips[0].source, /truncated_speeches\.jsonl:3$/);
  assertMatch(skips[0].reason, /line 3: invalid JSON/);
  assertMatch(skips[1].source, /truncated_speeches\.jsonl:5$/);
  assertMatch(skips[1].reason, /line 5: invalid JSON/);
});

Deno.test("Markdown: title, heading sections, pipe tables with captions; real PLOS renderings", async () => {
  const d = await one(fixture("tables.md"));
  assertEquals(d.id, "md:tables");
  assertEquals(d.title, "A Markdown Paper");
  assertEquals(d.author, "Ann Writer, Bob Reader");
  assertEquals(d.licence, "CC BY 4.0");
  assertEquals(d.sections!.map((s) => s.title), ["Front matter", "Methods", "Details", "Results"]);
  assertEquals(d.tables, [
    {
      label: "Table 1",
      caption: "Things counted per site.",
      header: ["Site", "Count"],
      rows: [["North", "12"], ["South", "30"]],
    },
    { caption: "", header: ["a", "b"], rows: [["1", "2"]] },
  ]);
  const { docs } = await collect([shared("corpora/papers/plos_md")]);
  assertEquals(docs.length, 17);
  assert(
    docs.every((p) => p.kind === "paper" && p.id.startsWith("plos-md:") && p.title && p.licence),
  );
  const md = docs.find((p) => p.id === "plos-md:journal.pone.0117014")!;
  assertEquals(md.tables![0].rows[0], ["MCM22", "908", "81", "11"]);
});

Deno.test("filters: min/max characters and languages become Skipped with the reason", async () => {
  const files = [fixture("no_markers.txt"), fixture("gutenberg_bom_crlf.txt")];
  const short = await collect(files, { minChars: 500 });
  assertEquals(short.docs.map((d) => d.id), ["pg99999"]);
  assertMatch(short.skips[0].reason, /txt:no_markers: too short: \d+ chars < 500/);
  const long = await collect(files, { maxChars: 500 });
  assertEquals(long.docs.map((d) => d.id), ["txt:no_markers"]);
  const zh = await collect(files, { languages: ["zh"] });
  assertEquals(zh.docs.length, 0);
  assertMatch(zh.skips[0].reason, /language "en" not in zh/);
});

Deno.test("detectLanguage: en, zh, ja, ko and und", () => {
  assertEquals(
    detectLanguage(
      "It was the best of times, it was the worst of times, it was the age of wisdom.",
    ),
    "en",
  );
  assertEquals(
    detectLanguage("根据报告，如何推进智慧法院建设？通过技术赋能改变工作方式，提高办公效率。"),
    "zh",
  );
  assertEquals(
    detectLanguage("吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"),
    "ja",
  );
  assertEquals(
    detectLanguage(
      "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고 모든 권력은 국민으로부터 나온다.",
    ),
    "ko",
  );
  assertEquals(
    detectLanguage(
      "Longtemps, je me suis couché de bonne heure. Parfois, à peine ma bougie éteinte.",
    ),
    "und",
  );
  assertEquals(detectLanguage("12 34"), "und");
});

Deno.test("helpers: dates, sentences, paragraphs", () => {
  assertEquals(isoDate("March, 1994"), "1994-03");
  assertEquals(isoDate("February 26, 2006 [eBook #120]"), "2006-02-26");
  assertEquals(isoDate("June 1, 1998 [eBook #1342]"), "1998-06-01");
  assertEquals(isoDate("no date"), undefined);
  assertEquals(
    splitSentences("Mr. Smith went to Washington. He met Gen. Grant! Was it 1865? Yes."),
    [
      "Mr. Smith went to Washington.",
      "He met Gen. Grant!",
      "Was it 1865?",
      "Yes.",
    ],
  );
  const paras = paragraphize("A sentence that is long enough. ".repeat(200), 500);
  assert(paras.length > 5 && paras.every((p) => p.endsWith(".")));
});

Deno.test("walking: sorted, recursive, licence/manifest files left out, unknown types skipped", async () => {
  const files = await listFiles([shared("corpora/papers"), shared("corpora/dialogues")]);
  assert(!files.some((f) => /MANIFEST|LICENSE/.test(f)));
  assertEquals(files.length, 17 + 17 + 2 + 2);
  const rel = files.map((f) => f.slice(shared("corpora").length));
  assertEquals(rel[0], "/papers/plos_md/journal.pcbi.1004089.md");
  assertEquals(rel.at(-1), "/dialogues/sgd/sgd_test_dialogues_001.json");
  const { skips } = await collect([shared("qa/narrativeqa_meta")]);
  assertMatch(skips[0].reason, /unsupported file type \.csv/);
  await assertRejects(() => collect(["/nonexistent/folder"]), /nonexistent.*cannot read/);
});

Deno.test("every real corpus file ingests with the right kind; deterministic; throughput", async () => {
  const stats = newStats();
  const t0 = performance.now();
  const { docs, skips } = await collect([shared("corpora")], { stats });
  const s = (performance.now() - t0) / 1000;
  assertEquals(skips, []);
  const kinds: Record<string, number> = {};
  for (const d of docs) {
    kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
    assert(d.text.trim() && d.title.trim() && d.source, d.id);
  }
  assertEquals(kinds, { book: 16, paper: 34, meeting: 59, dialogue: 256, speech: 233 });
  assertEquals(new Set(docs.map((d) => d.id)).size, docs.length, "ids unique");
  console.log(
    `ingest: ${docs.length} docs, ${(stats.bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s: ` +
      `${(docs.length / s).toFixed(0)} docs/s, ${(stats.bytes / 1e6 / s).toFixed(1)} MB/s`,
  );
  const again = await collect([shared("corpora/dialogues/sgd"), shared("corpora/papers")]);
  const firstIds = docs.filter((d) => d.kind === "paper" || d.kind === "dialogue").map((d) => d.id);
  assertEquals(again.docs.map((d) => d.id), firstIds);
  assertEquals(
    JSON.stringify(again.docs.find((d) => d.id === "plos:journal.pone.0117014")),
    JSON.stringify(docs.find((d) => d.id === "plos:journal.pone.0117014")),
  );
});
