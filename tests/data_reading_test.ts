/**
 * Issue 14, "data that teaches reading": golds derived from text use whole-word normalized
 * matching, labels never carry the answer, padding never holds another answer, ranking has no
 * ties, generators share their task, buckets do not repeat questions, prompt lengths count the
 * chat template, and `data audit` measures no-reading shortcuts through the verifiers.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";
import type { Document, Draft, Sample } from "../tasks/generators/types.ts";
import { mulberry32 } from "../core/rng.ts";
import { saysValue, saysVerbatim } from "../tasks/generators/text.ts";
import { GENERATORS, getGenerator, routeDocuments } from "../tasks/generators/mod.ts";
import { spreadPosition, withAnswerAt } from "../tasks/generators/formats.ts";
import { assemble, PaddingPool } from "../data/assemble.ts";
import { constructPhase, ingestPhase } from "../data/build.ts";
import { promptCounter } from "../data/prompt_tokens.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { auditSamples } from "../data/audit.ts";

const SHARED = `${ROOT}/../shared`;
const C = `${SHARED}/corpora`;

let docsP: Promise<Document[]> | undefined;
/** A small real corpus: two books, papers, QMSum meetings, SGD dialogues and 40 speeches. */
function smallDocs(): Promise<Document[]> {
  return docsP ??= (async () => {
    const dir = await Deno.makeTempDir();
    await Deno.copyFile(`${C}/books/pg11_alice_in_wonderland.txt`, `${dir}/alice.txt`);
    await Deno.copyFile(`${C}/books/pg43_jekyll_and_hyde.txt`, `${dir}/jekyll.txt`);
    for (const f of ["journal.pcbi.1004089.md", "journal.pcbi.1004113.md"]) {
      await Deno.copyFile(`${C}/papers/plos_md/${f}`, `${dir}/${f}`);
    }
    const lines = (p: string, n: number) =>
      Deno.readTextFileSync(p).split("\n").filter((l) => l.trim()).slice(0, n).join("\n") + "\n";
    Deno.writeTextFileSync(
      `${dir}/qmsum.jsonl`,
      lines(`${C}/dialogues/qmsum/qmsum_all_val.jsonl`, 4),
    );
    Deno.writeTextFileSync(
      `${dir}/sotu.jsonl`,
      lines(`${C}/speeches/sotu_state_of_the_union_1790_2021.jsonl`, 40),
    );
    const sgd = JSON.parse(Deno.readTextFileSync(`${C}/dialogues/sgd/sgd_dev_dialogues_001.json`));
    Deno.writeTextFileSync(`${dir}/sgd_dev.json`, JSON.stringify(sgd.slice(0, 30)));
    return (await ingestPhase([dir], { quiet: true })).docs;
  })();
}

function allDrafts(docs: Document[], maxEvidenceChars = 10_000, perDoc = 2): Draft[] {
  const routes = routeDocuments(docs);
  return GENERATORS.flatMap((g) =>
    g.make(routes.get(g.name) ?? [], mulberry32(7), { maxEvidenceChars, perDoc })
  );
}

Deno.test("item 1: a value is said only as whole words, numbers as digits or words", () => {
  assert(!saysValue("I want a table on the 13th", "3"), '"13th" does not say 3');
  assert(!saysValue("at 12:30 pm please", "2"), '"12:30 pm" does not say 2');
  assert(saysValue("a table for three persons", "3"), '"three" says 3');
  assert(saysValue("at 12:30 pm please", "12:30 pm"));
  assert(saysValue("Book it at ZAOH.", "Zaoh"));
  assert(!saysVerbatim("San Josefina", "San Jose"));
  assert(saysVerbatim("to San Jose, please", "San Jose"));
});

Deno.test("item 1: final_state never takes a value the user only said inside another word", () => {
  const turns = [
    { speaker: "USER", text: "Book a table at Zaoh for the 13th at 12:30 pm." },
    { speaker: "SYSTEM", text: "Sure, how many people?" },
    { speaker: "USER", text: "It is for my group, in San Jose." },
    { speaker: "SYSTEM", text: "Done." },
  ];
  const state = {
    restaurant_name: ["Zaoh"],
    passengers: ["3"],
    number_of_seats: ["2"],
    city: ["San Jose"],
    time: ["12:30 pm"],
  };
  const frames = turns.map((t) =>
    t.speaker === "USER"
      ? [{ service: "Restaurants_1", actions: [], state: { slot_values: state } }]
      : []
  );
  const doc: Document = {
    id: "sgd:x",
    title: "x",
    kind: "dialogue",
    source: "x",
    lang: "en",
    text: turns.map((t) => `${t.speaker}: ${t.text}`).join("\n"),
    turns,
    meta: { frames },
  };
  const drafts = getGenerator("dialogue/final_state")!.make([doc], mulberry32(1), { perDoc: 8 });
  assert(drafts.length > 0);
  for (const d of drafts) {
    for (const item of d.ground_truth.doc_ids) {
      assert(!/^(passengers|number_of_seats):/.test(item), `gold ${item} was never said`);
    }
  }
});

Deno.test("items 2, 3, 5: no label carries the answer; no SGD turn counts; ranking has no ties", async () => {
  const docs = await smallDocs();
  const drafts = allDrafts(docs);
  const gens = new Set(drafts.map((d) => d.generator));
  for (const g of ["passages/entity_cloze", "excerpts/word_count", "excerpts/mentions"]) {
    assert(gens.has(g), `${g} makes drafts`);
  }
  const numbered = /^(Excerpt|Document|Fragment|Segment|Passage|Address) \d+$/;
  for (const d of drafts) {
    const gt = d.ground_truth;
    let golds: string[] = gt.doc_ids.length ? gt.doc_ids : [gt.golden_label];
    if (d.data_source === "selection") {
      golds = [d.question.split("\n").find((l) => l.startsWith(`${gt.golden_label}. `))!.slice(3)];
    }
    for (const p of d.evidence) {
      if (numbered.test(p.label) || d.data_source === "multitableqa_pretraining") continue;
      for (const g of golds) {
        // A gold that names one of the listed passages (a year among the years) is the
        // answer space itself, not a leak.
        const cands = (d.meta as { candidates?: string[] }).candidates ?? [];
        if (
          g === p.label || cands.includes(g) || g.length < 2 || /^-?\d+$/.test(g) && Number(g) < 10
        ) continue;
        assert(!saysValue(p.label, g), `${d.generator}: label "${p.label}" holds "${g}"`);
      }
      assert(!/Delivered by/.test(p.text), `${d.generator}: the passage states its year`);
    }
    if (d.generator === "meetings/turn_count") {
      assert(d.source_docs[0].kind === "meeting", "turn counts are not asked of SGD dialogues");
      assert(d.ground_truth.golden_label !== "0", "no zero difference");
    }
    if (d.generator === "excerpts/keyword_rank") {
      const counts = (d.meta as { counts: number[] }).counts;
      assertEquals(new Set(counts).size, counts.length, "no ties");
      assert(Math.min(...counts) > 0, "no zero counts");
    }
    if (d.generator === "excerpts/mentions") {
      assert(gt.doc_ids.length * 6 <= Math.max(6, d.evidence.length), "few hits among many");
    }
  }
  // Exhaustive retrieval gold sizes vary (with enough evidence for 12+ excerpts).
  const sizes = new Set(
    allDrafts(docs, 10_000, 8).filter((d) => d.generator === "excerpts/mentions").map((d) =>
      d.ground_truth.doc_ids.length
    ),
  );
  assert(sizes.size >= 2, `mention set sizes ${[...sizes]}`);
});

Deno.test("item 4: padding never comes from a document of the kind the question is about", async () => {
  const docs = await smallDocs();
  const pool = new PaddingPool(docs);
  const kinds = new Map(docs.map((d) => [d.id, d.kind]));
  const drafts = allDrafts(docs).filter((d) =>
    ["dialogue", "meeting", "speech"].includes(d.source_docs[0].kind)
  );
  assert(drafts.length > 10);
  let checked = 0;
  for (const [i, d] of drafts.entries()) {
    const r = assemble(d, `x${i}`, {
      targetTokens: 4096,
      bucket: "4k",
      depth: 0.5,
      count: (t) => Math.ceil(t.length / 4),
      pool,
      rand: mulberry32(i),
    });
    if ("skip" in r) continue;
    checked++;
    // Books and papers are asked about through numbered labels: other books may pad them.
    const own = new Set<string>(
      d.source_docs.map((s) => s.kind).filter((k) => k !== "book" && k !== "paper"),
    );
    for (const p of r.extra_info.padding_docs as string[]) {
      assert(!own.has(kinds.get(p)!), `${d.generator}: padded with ${kinds.get(p)} ${p}`);
    }
  }
  assert(checked > 10);
});

Deno.test("item 6: generators share a task evenly and right options rotate through A-D", async () => {
  const docs = await smallDocs();
  const report = { drafts: {}, draftFailures: [], goldFailures: [] as string[] };
  const byTask = constructPhase(docs, {
    tasks: ["numerical_reasoning", "comprehension"],
    seed: 0,
    perTask: 8,
  }, report);
  const nums = byTask.get("numerical_reasoning")!;
  const first = nums.slice(0, 12);
  const share = new Map<string, number>();
  for (const d of first) share.set(d.generator, (share.get(d.generator) ?? 0) + 1);
  assert(share.size >= 3, `${[...share.keys()]}`);
  for (const [g, n] of share) assert(n / first.length <= 0.4, `${g}: ${n} of ${first.length}`);
  const letters = new Map<string, number>();
  for (const d of byTask.get("comprehension")!.slice(0, 16)) {
    letters.set(d.ground_truth.golden_label, (letters.get(d.ground_truth.golden_label) ?? 0) + 1);
  }
  for (const n of letters.values()) assert(n <= 6, JSON.stringify([...letters]));
  // Rotation keeps the question answerable: the right option's text is unchanged.
  const d = byTask.get("comprehension")![0];
  const text = (x: Draft) =>
    x.question.split("\n").find((l) => l.startsWith(`${x.ground_truth.golden_label}. `));
  for (let k = 0; k < 4; k++) {
    const r = withAnswerAt(d, k);
    assertEquals(r.ground_truth.golden_label, "ABCD"[spreadPosition(k, 4)]);
    assertEquals(text(r)!.slice(3), text(d)!.slice(3));
  }
});

Deno.test("items 6, 7, 8: short buckets, no repeats, templated lengths, --sources a b, audit", async () => {
  const out = await Deno.makeTempDir();
  const tok = `${out}/tok`;
  const t = await cli(
    "tokenizer",
    "train",
    "-q",
    "--corpus",
    `${C}/books/pg11_alice_in_wonderland.txt`,
    "--vocab",
    "2048",
    "--out",
    tok,
  );
  assertEquals(t.code, 0, t.err);
  const docs = await smallDocs();
  const dir = docs[0].source.replace(/\/[^/]*$/, "");
  // The small corpus folder and a second source, given as `--sources A B`.
  const r = await cli(
    "data",
    "build",
    "-q",
    "--sources",
    dir,
    `${C}/books/pg46_a_christmas_carol.txt`,
    "--tokenizer",
    tok,
    "--lengths",
    "512,1k",
    "--per-task",
    "4",
    "--out",
    `${out}/d`,
  );
  assertEquals(r.code, 0, r.err);
  const samples = (await Deno.readTextFile(`${out}/d/data.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l) as Sample
  );
  const tk = await loadTokenizer(tok);
  const count = promptCounter(tk);
  const seen = new Map<string, string>();
  const tasks = new Set<string>();
  for (const s of samples) {
    tasks.add(s.ability);
    const L = s.extra_info.length_bucket === "512" ? 512 : 1024;
    const templated = Math.max(
      ...[undefined, false].map((e) =>
        tk.encode(tk.applyChatTemplate(s.prompt, { addGenerationPrompt: true, enableThinking: e }))
          .length
      ),
    );
    assertEquals(count(s.prompt[0].content), templated, "counted as the model sees it");
    assert(templated <= L, `${s.id}: ${templated} templated tokens in a ${L} bucket`);
    const key = `${s.extra_info.question}\u0000${JSON.stringify(s.reward_model.ground_truth)}`;
    const other = seen.get(key);
    assert(
      !other || other === s.extra_info.length_bucket,
      `${s.id} repeats a question of ${other}`,
    );
    seen.set(key, s.extra_info.length_bucket!);
  }
  assert(
    tasks.size >= 8,
    `task types at 512/1k: ${[...tasks]}\n${r.out}\n${dir}\n${await Deno.readTextFile(
      `${out}/d/report.json`,
    ).then((x) => JSON.stringify(JSON.parse(x).bucketSkips))}`,
  );
  const md = await Deno.readTextFile(`${out}/d/stats.md`);
  assert(md.includes("Shortcut audit"), "stats.md has the audit section");
  const a = await cli("data", "audit", `${out}/d`, "--json");
  assertEquals(a.code, 0, a.err);
  const audit = JSON.parse(a.out);
  assertEquals(audit.samples, samples.length);
  assertEquals(audit.answerInQuestion, []);
});

Deno.test("audit: a planted shortcut is flagged; a balanced task is not", () => {
  const mk = (i: number, label: string, gen: string): Sample => ({
    id: `s${i}`,
    data_source: "selection",
    ability: "comprehension",
    prompt: [{ role: "user", content: "q" }],
    reward_model: {
      style: "rule",
      ground_truth: { doc_ids: [], golden_label: label, summary: "" },
    },
    extra_info: {
      reward_mode: "selection",
      question: "Which?\nA. w\nB. x\nC. y\nD. z",
      index: `s${i}`,
      generator: gen,
      source_docs: [],
    },
  });
  const planted = auditSamples(Array.from({ length: 12 }, (_, i) => mk(i, "B", "g")));
  assert(planted.tasks[0].flagged);
  assert(planted.flags.some((f) => f.includes('"B"')));
  const fair = auditSamples(Array.from({ length: 12 }, (_, i) => mk(i, "ABCD"[i % 4], "g")));
  assert(!fair.tasks[0].flagged, JSON.stringify(fair.tasks[0]));
  assertEquals(fair.tasks[0].random, 0.25);
});
