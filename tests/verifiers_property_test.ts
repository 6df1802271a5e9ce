/**
 * Property tests: seeded random and adversarial responses and ground truths, fed to every
 * verifier through computeReward. Each result must be finite, in [0,1], and nothing may throw.
 */
import { assert } from "./assert.ts";
import { computeReward, listVerifiers } from "../tasks/registry.ts";
import { TASK_METRIC_CONFIG } from "../tasks/longbench_pro.ts";
import { parsePyJson, PyJsonDecodeError, PyRecursionError, pyStr } from "../tasks/python_str.ts";
import type { RewardInput, RewardOptions } from "../tasks/types.ts";
import { mulberry32 } from "../core/rng.ts";

const rng = mulberry32;

const PIECES = [
  "<think>",
  "</think>",
  "[Answer]",
  "[答案]",
  "<answer>",
  "</answer>",
  "\\boxed{",
  "}",
  "{",
  "[",
  "]",
  "(",
  ")",
  '"',
  "'",
  "\\",
  "\n",
  "\r\n",
  "\r",
  "\t",
  " ",
  "\u3000",
  "\u00a0",
  "\u0085",
  "\ufeff",
  "\u200b",
  ".",
  ",",
  ":",
  "The correct answer is (B)",
  "The correct answer is C",
  "*",
  '{"data": [["a", 1.0], ["b", 2]]}',
  '{"data": ',
  "NaN",
  "1e400",
  "-0",
  "true",
  "null",
  "a",
  "b",
  "c",
  "A",
  "Paris",
  "42",
  "\\frac{1}{2}",
  "北京",
  "今天天气很好",
  "😀",
  "👍🏽",
  "é",
  "e\u0301",
  "\ud800",
  "\udfff",
  "\u0000",
  "$",
  "\\(",
  "\\)",
  "^",
  "_",
  "=",
  "\\sqrt{",
  "\\left(",
  "\\right)",
];

function randomCodePoint(r: () => number): string {
  const x = r();
  if (x < 0.5) return String.fromCharCode(0x20 + Math.floor(r() * 0x5f));
  if (x < 0.7) return String.fromCharCode(Math.floor(r() * 0x80));
  if (x < 0.9) return String.fromCharCode(Math.floor(r() * 0x10000)); // lone surrogates included
  return String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff));
}

function randomString(r: () => number, maxParts: number): string {
  const parts: string[] = [];
  const n = Math.floor(r() * maxParts);
  for (let i = 0; i < n; i++) {
    parts.push(r() < 0.6 ? PIECES[Math.floor(r() * PIECES.length)] : randomCodePoint(r));
  }
  return parts.join("");
}

function adversarial(r: () => number): string {
  const reps = [
    "[",
    "{",
    "\\boxed{",
    "{[",
    '{"data":[',
    "</think>",
    "<think>",
    "\n",
    "[Answer]\n",
    ".",
    "a ",
  ];
  const unit = reps[Math.floor(r() * reps.length)];
  const count = [10, 1000, 100_000][Math.floor(r() * 3)];
  const body = unit.repeat(count);
  const shape = Math.floor(r() * 4);
  if (shape === 0) return "</think>" + body;
  if (shape === 1) return "<think>" + body + "</think>" + body.slice(0, 1000);
  if (shape === 2) return body;
  return "</think>[Answer]\n" + body;
}

function randomGold(r: () => number): unknown {
  const x = r();
  if (x < 0.05) return null;
  if (x < 0.1) return randomString(r, 5);
  if (x < 0.15) return [];
  const docIds = Array.from({ length: Math.floor(r() * 6) }, () => randomString(r, 4));
  const gt: Record<string, unknown> = {
    doc_ids: r() < 0.9 ? docIds : randomString(r, 3),
    golden_label: r() < 0.5 ? randomString(r, 6) : '{"data": [["a", 1.0], ["b", 2]]}',
    summary: r() < 0.3 ? "Chinese" : "English",
  };
  if (r() < 0.05) gt.golden_label = 7;
  if (r() < 0.05) gt.doc_ids = [1, null];
  return r() < 0.1 ? [gt, gt] : gt;
}

const MODES = Object.keys(TASK_METRIC_CONFIG);
const SOURCES = [
  "EM",
  "selection",
  "math_longcot_math_verify",
  "multitableqa_pretraining",
  "longbench_pro",
  ...listVerifiers().map((v) => v.name),
  "unknown_source",
];

function randomInput(r: () => number, response: string): RewardInput {
  const dataSource = SOURCES[Math.floor(r() * SOURCES.length)];
  const extraInfo = r() < 0.9 ? { reward_mode: MODES[Math.floor(r() * MODES.length)] } : "x";
  return { dataSource, response, groundTruth: randomGold(r), extraInfo };
}

function check(input: RewardInput, opts: RewardOptions): void {
  let result;
  try {
    result = computeReward(input, opts);
  } catch (e) {
    throw new Error(`computeReward threw for ${input.dataSource}: ${e}`);
  }
  const x = result.reward;
  assert(
    typeof x === "number" && Number.isFinite(x) && x >= 0 && x <= 1,
    `bad reward ${x} for ${input.dataSource}`,
  );
  if (result.error !== undefined) assert(x === 0, "an error must give reward 0");
  assert(typeof result.taskKey === "string");
}

const OPTS: RewardOptions[] = [{}, { stripThink: true }, { format: "none" }];

Deno.test("property: random unicode / marker soup through every verifier", () => {
  const r = rng(20260519);
  for (let i = 0; i < 3000; i++) {
    const response = randomString(r, 60);
    check(randomInput(r, response), OPTS[i % 3]);
  }
});

Deno.test("property: every verifier × random responses × random ground truths", () => {
  const r = rng(7);
  for (const source of SOURCES) {
    for (let i = 0; i < 200; i++) {
      const input = randomInput(r, randomString(r, 40));
      input.dataSource = source;
      check(input, OPTS[i % 3]);
    }
  }
});

Deno.test("property: adversarial nesting and repetition (100k '[', '{', '\\boxed{', markers)", () => {
  const r = rng(99);
  for (let i = 0; i < 60; i++) {
    const response = adversarial(r);
    for (const source of SOURCES) {
      const input = randomInput(r, response);
      input.dataSource = source;
      check(input, OPTS[i % 3]);
    }
  }
});

Deno.test("property: parsePyJson only ever throws JSONDecodeError or RecursionError", () => {
  const r = rng(31337);
  const alphabet = [
    '{"a":',
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    '"',
    "1",
    "1.0",
    "-",
    "e",
    "true",
    "null",
    "\\",
    "u",
    " ",
  ];
  for (let i = 0; i < 5000; i++) {
    const parts: string[] = [];
    const n = Math.floor(r() * 30);
    for (let j = 0; j < n; j++) {
      parts.push(r() < 0.8 ? alphabet[Math.floor(r() * alphabet.length)] : randomCodePoint(r));
    }
    const text = parts.join("");
    try {
      const v = parsePyJson(text);
      // Whatever parses also agrees with JSON.parse on structure (when JSON.parse accepts it).
      pyStr(v);
    } catch (e) {
      assert(
        e instanceof PyJsonDecodeError || e instanceof PyRecursionError,
        `unexpected ${e} for ${JSON.stringify(text)}`,
      );
    }
  }
});

Deno.test("property: parsePyJson agrees with JSON.parse on valid JSON", () => {
  const r = rng(4242);
  const gen = (depth: number): unknown => {
    const x = r();
    if (depth > 4 || x < 0.3) {
      const y = r();
      if (y < 0.25) return Math.floor(r() * 1e6) - 5e5;
      if (y < 0.5) return randomString(r, 4);
      if (y < 0.6) return null;
      if (y < 0.7) return r() < 0.5;
      return (r() - 0.5) * 1e3;
    }
    if (x < 0.65) return Array.from({ length: Math.floor(r() * 4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let k = 0; k < Math.floor(r() * 4); k++) o[randomString(r, 3)] = gen(depth + 1);
    return o;
  };
  for (let i = 0; i < 2000; i++) {
    const v = gen(0);
    const text = JSON.stringify(v);
    const ours = parsePyJson(text);
    // JSON.stringify writes integral numbers without a fraction, so ints stay ints and
    // pyStr of both readings must agree.
    assert(pyStr(ours) === pyStr(JSON.parse(text)), `mismatch for ${text}`);
  }
});
