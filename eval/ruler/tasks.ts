/**
 * The RULER-style task generators: NIAH (single 1/2/3, multi-key 1/2/3, multi-value,
 * multi-query), variable tracking, common-words extraction and QA over NQ-Open passages, with the
 * task settings of RULER's `scripts/synthetic.yaml`. Every sample is a pure function of
 * (task, length, index, seed, resources, token counter): its random stream is seeded from those,
 * not from generation order.
 *
 * Length follows RULER: `tokens(input + answer_prefix) + tokens_to_generate <= length`, with the
 * haystack grown to the largest size that fits (so the total lands within a unit of the target).
 *
 * @module
 */

import { InputError } from "../../core/errors.ts";
import { formatTemplate, type TokenCounter } from "../benchmarks/common.ts";
import { subSeed } from "../../core/rng.ts";
import {
  fitLargest,
  placeAtDepths,
  ringStart,
  ringWords,
  RULER_DEPTHS,
  splitSentences,
} from "./haystack.ts";
import { Rng } from "./random.ts";
import type { RulerResources } from "./resources.ts";
import {
  CWE_ANSWER_PREFIX,
  CWE_TEMPLATE,
  NIAH_ANSWER_PREFIX,
  NIAH_NEEDLE,
  NIAH_NOISE,
  NIAH_TEMPLATE,
  QA_ANSWER_PREFIX,
  QA_DOCUMENT,
  QA_TEMPLATE,
  TOKENS_TO_GENERATE,
  VT_ANSWER_PREFIX,
  VT_NOISE,
  VT_TEMPLATE,
} from "./templates.ts";

type NeedleType = "words" | "numbers" | "uuids";

interface NiahConfig {
  family: "niah";
  haystack: "noise" | "essay" | "needle";
  keyType: NeedleType;
  valueType: NeedleType;
  numK: number;
  numV: number;
  numQ: number;
}
interface OtherConfig {
  family: "vt" | "cwe" | "qa";
}

/** The tasks of the suite (RULER's names; `qa_nq` replaces qa_1/qa_2). */
export const RULER_TASKS = {
  niah_single_1: {
    family: "niah",
    haystack: "noise",
    keyType: "words",
    valueType: "numbers",
    numK: 1,
    numV: 1,
    numQ: 1,
  },
  niah_single_2: {
    family: "niah",
    haystack: "essay",
    keyType: "words",
    valueType: "numbers",
    numK: 1,
    numV: 1,
    numQ: 1,
  },
  niah_single_3: {
    family: "niah",
    haystack: "essay",
    keyType: "words",
    valueType: "uuids",
    numK: 1,
    numV: 1,
    numQ: 1,
  },
  niah_multikey_1: {
    family: "niah",
    haystack: "essay",
    keyType: "words",
    valueType: "numbers",
    numK: 4,
    numV: 1,
    numQ: 1,
  },
  niah_multikey_2: {
    family: "niah",
    haystack: "needle",
    keyType: "words",
    valueType: "numbers",
    numK: 1,
    numV: 1,
    numQ: 1,
  },
  niah_multikey_3: {
    family: "niah",
    haystack: "needle",
    keyType: "uuids",
    valueType: "uuids",
    numK: 1,
    numV: 1,
    numQ: 1,
  },
  niah_multivalue: {
    family: "niah",
    haystack: "essay",
    keyType: "words",
    valueType: "numbers",
    numK: 1,
    numV: 4,
    numQ: 1,
  },
  niah_multiquery: {
    family: "niah",
    haystack: "essay",
    keyType: "words",
    valueType: "numbers",
    numK: 4,
    numV: 1,
    numQ: 4,
  },
  vt: { family: "vt" },
  cwe: { family: "cwe" },
  qa_nq: { family: "qa" },
} as const satisfies Record<string, NiahConfig | OtherConfig>;

/** A task name of the suite. */
export type RulerTask = keyof typeof RULER_TASKS;

/** All task names, in RULER's order. */
export const RULER_TASK_NAMES = Object.keys(RULER_TASKS) as RulerTask[];

/** What one sample needs. */
export interface RulerSampleOptions {
  task: RulerTask;
  /** Target total tokens (input + answer prefix + tokens to generate), RULER's max_seq_length. */
  length: number;
  index: number;
  seed: number;
  resources: RulerResources;
  countTokens: TokenCounter;
  /** Depths in percent for the needles (NIAH), chain statements (VT) or gold passage (QA). */
  depths?: number[];
}

/** A needle (or chain statement, or gold passage) and where it went. */
export interface PlacedNeedle {
  text: string;
  /** Requested depth, percent. */
  depth: number;
  /** Character offset inside the context (see {@link RulerSample.contextSpan}). */
  offset: number;
}

/** One generated sample. */
export interface RulerSample {
  task: RulerTask;
  length: number;
  index: number;
  seed: number;
  /** The prompt (the user message). */
  input: string;
  /** RULER's answer prefix (appended after the prompt for base models). */
  answerPrefix: string;
  /** The references. */
  outputs: string[];
  metric: "string_match_all" | "string_match_part";
  tokensToGenerate: number;
  /** RULER's `length`: tokens(input + answerPrefix) + tokensToGenerate. */
  totalTokens: number;
  /** [start, end) of the haystack context inside `input`. */
  contextSpan: [number, number];
  needles: PlacedNeedle[];
  meta: Record<string, unknown>;
}

interface Built {
  before: string;
  context: string;
  after: string;
  offsets: number[];
}

/** Fills a template around `{context}`: the parts before and after it. */
function splitAround(template: string, vars: Record<string, string | number>): [string, string] {
  const i = template.indexOf("{context}");
  return [
    formatTemplate(template.slice(0, i), vars),
    formatTemplate(template.slice(i + "{context}".length), vars),
  ];
}

function finish(
  o: RulerSampleOptions,
  family: keyof typeof TOKENS_TO_GENERATE,
  build: (n: number) => Built,
  lo: number,
  hi: number,
  answerPrefix: string,
  outputs: string[],
  inserts: { text: string; depth: number }[],
  meta: Record<string, unknown>,
): RulerSample {
  const ttg = TOKENS_TO_GENERATE[family];
  const cache = new Map<number, number>();
  const measure = (n: number): number => {
    let v = cache.get(n);
    if (v === undefined) {
      const b = build(n);
      v = o.countTokens(b.before + b.context + b.after + answerPrefix) + ttg;
      cache.set(n, v);
    }
    return v;
  };
  const n = fitLargest(measure, o.length, lo, hi);
  if (n < lo) {
    throw new InputError(
      `RULER ${o.task}: length ${o.length} is too short (the minimal prompt needs ${
        measure(lo)
      } tokens)`,
    );
  }
  const b = build(n);
  const input = b.before + b.context + b.after;
  return {
    task: o.task,
    length: o.length,
    index: o.index,
    seed: o.seed,
    input,
    answerPrefix,
    outputs,
    metric: family === "qa" ? "string_match_part" : "string_match_all",
    tokensToGenerate: ttg,
    totalTokens: measure(n),
    contextSpan: [b.before.length, b.before.length + b.context.length],
    needles: inserts.map((ins, i) => ({ text: ins.text, depth: ins.depth, offset: b.offsets[i] })),
    meta: { ...meta, haystackUnits: n },
  };
}

function pickDepths(o: RulerSampleOptions, rng: Rng, count: number): number[] {
  if (o.depths) {
    if (o.depths.length < count) {
      throw new RangeError(`${o.task} needs ${count} depths, got ${o.depths.length}`);
    }
    return o.depths.slice(0, count);
  }
  return rng.sample(RULER_DEPTHS, count);
}

// ---------------------------------------------------------------- NIAH

function genNiah(cfg: NiahConfig, o: RulerSampleOptions, rng: Rng): RulerSample {
  const R = o.resources;
  const word = (r: Rng) => `${r.choice(R.adjectives)}-${r.choice(R.nouns)}`;
  const gen = (type: NeedleType, r: Rng): string =>
    type === "numbers"
      ? String(r.randint(1_000_000, 9_999_999))
      : type === "words"
      ? word(r)
      : r.uuid4();
  const numK = Math.max(cfg.numK, cfg.numQ);
  const keys: string[] = [];
  while (keys.length < numK) {
    const k = gen(cfg.keyType, rng);
    if (!keys.includes(k)) keys.push(k);
  }
  const values: string[][] = [];
  const needles: string[] = [];
  for (const key of keys) {
    const vs: string[] = [];
    for (let j = 0; j < cfg.numV; j++) {
      const value = gen(cfg.valueType, rng);
      vs.push(value);
      needles.push(formatTemplate(NIAH_NEEDLE, { type_needle_v: cfg.valueType, key, value }));
    }
    values.push(vs);
  }
  rng.shuffle(needles);
  const depths = pickDepths(o, rng, needles.length);
  const inserts = needles.map((text, i) => ({ text, depth: depths[i] }));
  const qIdx = rng.sample(keys.map((_, i) => i), cfg.numQ);
  const queries = qIdx.map((i) => keys[i]);
  const outputs = qIdx.flatMap((i) => values[i]);
  const query = queries.length > 1
    ? `${queries.slice(0, -1).join(", ")}, and ${queries[queries.length - 1]}`
    : queries[0];

  let template = NIAH_TEMPLATE;
  let prefix = NIAH_ANSWER_PREFIX;
  let typeV: string = cfg.valueType;
  if (cfg.numQ * cfg.numV === 1) {
    // niah.py: the template (answer prefix included) goes singular.
    const sing = (t: string) =>
      t.replaceAll("Some", "A").replaceAll("are all", "is").replaceAll("are", "is")
        .replaceAll("answers", "answer");
    template = sing(template);
    prefix = sing(prefix);
    typeV = typeV.slice(0, -1);
  }
  const [before, after] = splitAround(template, { type_needle_v: typeV, query });
  const answerPrefix = formatTemplate(prefix, { type_needle_v: typeV, query });

  let build: (n: number) => Built;
  let hi: number;
  if (cfg.haystack === "essay") {
    const start = ringStart(R.ring, rng);
    hi = Math.min(R.ring.length, o.length * 2);
    build = (n) => {
      const units = splitSentences(ringWords(R.ring, start, n));
      const p = placeAtDepths(units, inserts, " ");
      return { before, context: p.context, after, offsets: p.offsets };
    };
  } else if (cfg.haystack === "noise") {
    hi = o.length;
    build = (n) => {
      const p = placeAtDepths(new Array<string>(n).fill(NIAH_NOISE), inserts, "\n");
      return { before, context: p.context, after, offsets: p.offsets };
    };
  } else {
    // "needle" haystack: distractor needles with fresh keys and values.
    const fr = new Rng(subSeed(o.seed, o.task, o.length, o.index, "filler"));
    const filler: string[] = [];
    const fill = (n: number) => {
      while (filler.length < n) {
        const key = gen(cfg.keyType, fr);
        if (keys.includes(key)) continue;
        filler.push(
          formatTemplate(NIAH_NEEDLE, {
            type_needle_v: cfg.valueType,
            key,
            value: gen(cfg.valueType, fr),
          }),
        );
      }
    };
    hi = o.length;
    build = (n) => {
      fill(n);
      const p = placeAtDepths(filler.slice(0, n), inserts, "\n");
      return { before, context: p.context, after, offsets: p.offsets };
    };
  }
  return finish(o, "niah", build, 0, hi, answerPrefix, outputs, inserts, {
    haystack: cfg.haystack,
    keys,
    queries,
  });
}

// ---------------------------------------------------------------- variable tracking

function uppercase(rng: Rng, k: number): string {
  let s = "";
  for (let i = 0; i < k; i++) s += String.fromCharCode(65 + Math.floor(rng.random() * 26));
  return s;
}

function vtChain(
  rng: Rng,
  numHops: number,
  k: number,
): { vars: string[]; chain: string[]; value: string } {
  const vars: string[] = [];
  while (vars.length < numHops + 1) {
    const v = uppercase(rng, k);
    if (!vars.includes(v)) vars.push(v);
  }
  const value = String(rng.randint(10000, 99998)); // np.random.randint(10000, 99999)
  const chain = [`VAR ${vars[0]} = ${value}`];
  for (let j = 0; j < numHops; j++) chain.push(`VAR ${vars[j + 1]} = VAR ${vars[j]} `);
  return { vars, chain, value };
}

function genVt(o: RulerSampleOptions, rng: Rng): RulerSample {
  const numHops = 4;
  const ttg = TOKENS_TO_GENERATE.vt;
  // The one-shot example RULER puts before the task (built at max_seq_length 500, 3-letter vars).
  const er = new Rng(subSeed(o.seed, o.task, o.length, o.index, "icl"));
  const ex = vtChain(er, numHops, 3);
  const exDepths = [...er.sample(RULER_DEPTHS, ex.chain.length)].sort((a, b) => a - b);
  const exInserts = ex.chain.map((text, i) => ({ text, depth: exDepths[i] }));
  const exText = (n: number) => {
    const p = placeAtDepths(new Array<string>(n).fill(VT_NOISE), exInserts, "\n");
    const vars = { context: p.context, query: ex.value, num_v: numHops + 1 };
    return formatTemplate(VT_TEMPLATE, vars) + formatTemplate(VT_ANSWER_PREFIX, vars) + " " +
      ex.vars.join(" ");
  };
  const exN = fitLargest((n) => o.countTokens(exText(n)) + ttg, 500, 1, 200);
  const example = exText(Math.max(1, exN)) + "\n\n";

  const main = vtChain(rng, numHops, 5);
  const depths = [...pickDepths(o, rng, main.chain.length)].sort((a, b) => a - b);
  const inserts = main.chain.map((text, i) => ({ text, depth: depths[i] }));
  const vars = { query: main.value, num_v: numHops + 1 };
  const [b0, after] = splitAround(VT_TEMPLATE, vars);
  const before = example + "\n\n" + b0;
  const answerPrefix = formatTemplate(VT_ANSWER_PREFIX, vars);
  const build = (n: number): Built => {
    const p = placeAtDepths(new Array<string>(n).fill(VT_NOISE), inserts, "\n");
    return { before, context: p.context, after, offsets: p.offsets };
  };
  return finish(o, "vt", build, 1, o.length, answerPrefix, main.vars, inserts, {
    value: main.value,
    exampleVars: ex.vars,
  });
}

// ---------------------------------------------------------------- common words

function numbered(words: readonly string[]): string {
  return words.map((w, i) => `${i + 1}. ${w}`).join(" ");
}

function genCwe(o: RulerSampleOptions, rng: Rng): RulerSample {
  const R = o.resources;
  const all = [...new Set([...R.nouns, ...R.adjectives, ...R.verbs])].sort();
  const numCw = 10;
  const small = o.length < 4096;
  const [exN, exCr, exUr] = small ? [20, 3, 1] : [40, 10, 3];
  const [cr, ur] = small ? [6, 1] : [30, 3];
  const list = (ws: readonly string[], c: number, u: number, r: Rng): string[] => {
    const out: string[] = [];
    for (let i = 0; i < c; i++) out.push(...ws.slice(0, numCw));
    for (let i = 0; i < u; i++) out.push(...ws.slice(numCw));
    return r.shuffle(out);
  };
  const exWords = rng.sample(all, exN);
  const exContext = numbered(list(exWords, exCr, exUr, rng));
  const example = formatTemplate(CWE_TEMPLATE, { context: exContext, query: "" }) +
    CWE_ANSWER_PREFIX + numbered(exWords.slice(0, numCw));
  const pool = rng.shuffle([...all]);
  const outputs = pool.slice(0, numCw);
  const [b0, after] = splitAround(CWE_TEMPLATE, { query: "" });
  const before = example + "\n" + b0;
  const build = (n: number): Built => {
    const shuffler = new Rng(subSeed(o.seed, o.task, o.length, o.index, "cwe", n));
    return {
      before,
      context: numbered(list(pool.slice(0, n), cr, ur, shuffler)),
      after,
      offsets: [],
    };
  };
  return finish(o, "cwe", build, numCw, pool.length, CWE_ANSWER_PREFIX, outputs, [], {
    freqCommon: cr,
    freqUncommon: ur,
  });
}

// ---------------------------------------------------------------- QA over NQ-Open passages

function genQa(o: RulerSampleOptions, rng: Rng): RulerSample {
  const R = o.resources;
  const nq = R.nq;
  const perm = new Rng(subSeed(o.seed, "qa_nq-order")).shuffle(nq.map((_, i) => i));
  const q = perm[o.index % nq.length];
  const item = nq[q];
  const gold = `${item.title}\n${item.text}`;
  const depth = pickDepths(o, rng, 1)[0];
  // Distractors: the other NQ gold passages in random order, then book passages of 150 words.
  const docs: string[][] = rng.shuffle(nq.map((_, i) => i).filter((i) => i !== q))
    .map((i) => [nq[i].title, ...nq[i].text.split(/\s+/).filter((w) => w)]);
  let bookAt = ringStart(R.ring, rng);
  let words = docs.reduce((a, d) => a + d.length, 0);
  const ensure = (w: number) => {
    while (words < w) {
      docs.push(ringWords(R.ring, bookAt, 150).split(" "));
      bookAt = (bookAt + 150) % R.ring.length;
      words += 150;
    }
  };
  const [before, after] = splitAround(QA_TEMPLATE, { query: item.question });
  const build = (w: number): Built => {
    ensure(w);
    // Distractor texts holding w words in all (the last one cut), NQ titles on their own line.
    const texts: string[] = [];
    let left = w;
    for (let i = 0; i < docs.length && left > 0; i++) {
      const take = docs[i].slice(0, left);
      left -= take.length;
      const isNq = i < nq.length - 1;
      texts.push(
        isNq && take.length > 1 ? `${take[0]}\n${take.slice(1).join(" ")}` : take.join(" "),
      );
    }
    // Gold goes to the document boundary nearest the requested depth (by characters).
    const total = texts.reduce((a, t) => a + t.length, 0);
    let acc = 0;
    let slot = texts.length;
    let best = Infinity;
    for (let b = 0; b <= texts.length; b++) {
      const d = Math.abs(acc - (depth / 100) * total);
      if (d < best) {
        best = d;
        slot = b;
      }
      if (b < texts.length) acc += texts[b].length;
    }
    const all = [...texts.slice(0, slot), gold, ...texts.slice(slot)];
    const formatted = all.map((d, i) => formatTemplate(QA_DOCUMENT, { i: i + 1, document: d }));
    let offset = 0;
    for (let i = 0; i < slot; i++) offset += formatted[i].length + 2;
    offset += `Document ${slot + 1}:\n`.length;
    return { before, context: formatted.join("\n\n"), after, offsets: [offset] };
  };
  return finish(
    o,
    "qa",
    build,
    0,
    o.length * 2,
    QA_ANSWER_PREFIX,
    item.answers,
    [{ text: gold, depth }],
    { question: item.question, nqIndex: q },
  );
}

/** Generates one sample of a task (see the module doc for determinism and length). */
export function generateRulerSample(o: RulerSampleOptions): RulerSample {
  const cfg = RULER_TASKS[o.task] as NiahConfig | OtherConfig;
  if (!cfg) throw new InputError(`unknown RULER task ${JSON.stringify(o.task)}`);
  const rng = new Rng(subSeed(o.seed, o.task, o.length, o.index));
  switch (cfg.family) {
    case "niah":
      return genNiah(cfg, o, rng);
    case "vt":
      return genVt(o, rng);
    case "cwe":
      return genCwe(o, rng);
    case "qa":
      return genQa(o, rng);
  }
}
