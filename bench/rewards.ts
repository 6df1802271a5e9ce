/**
 * Reward throughput: responses per second for every verifier at ~2K and ~16K
 * tokens, with real book text as the responses' bulk (the thinking) and as
 * summary references, on one core. Targets from the rewards issue: 200
 * responses/s per verifier at 16K tokens, 20/s for summarization. Token counts
 * are approximated as 4 characters per token (English text under BPE).
 */
import { textTable } from "../core/text_table.ts";
import { computeReward } from "../tasks/registry.ts";
import type { RewardInput } from "../tasks/types.ts";
import { Progress } from "../core/progress.ts";
import { splitGutenberg } from "../data/ingest/text.ts";
import { cleanText } from "../data/ingest/common.ts";
import { mulberry32 } from "../core/rng.ts";

export const CHARS_PER_TOKEN = 4;

/** Book bodies from a folder of Gutenberg .txt files (header and footer cut). */
export async function loadBookText(dir: string): Promise<string> {
  const names = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".txt"))
    .map((e) => e.name)
    .sort();
  // The ingestion's Gutenberg handling (BOM, CRLF, header, footer, credits).
  const parts = await Promise.all(
    names.map(async (n) => splitGutenberg(cleanText(await Deno.readTextFile(`${dir}/${n}`))).body),
  );
  if (!parts.length) throw new Error(`no .txt books in ${dir}`);
  return parts.join("\n\n");
}

interface Case {
  verifier: string;
  make: (thinking: string, rand: () => number, text: string) => RewardInput;
}

const LBP = (mode: string, gold: string[], answer: string[]): Case["make"] => (thinking) => ({
  dataSource: "longbench_pro",
  response: `<think>${thinking}</think>\n[Answer]\n${answer.join("\n")}`,
  groundTruth: { doc_ids: gold, summary: "English" },
  extraInfo: { reward_mode: mode },
});

function sentencesOf(text: string, from: number, n: number): string[] {
  return text.slice(from, from + 4000).split(/(?<=[.!?])\s+/).slice(1, n + 1).map((s) =>
    s.replace(/\s+/g, " ")
  );
}

const CASES: Case[] = [
  {
    verifier: "em",
    make: (t) => ({
      dataSource: "EM",
      response: `<think>${t}</think>Captain Ahab`,
      groundTruth: { golden_label: "Captain Ahab" },
    }),
  },
  {
    verifier: "selection",
    make: (t) => ({
      dataSource: "selection",
      response: `<think>${t}</think>The correct answer is (C)`,
      groundTruth: { golden_label: "C" },
    }),
  },
  {
    verifier: "math",
    make: (t) => ({
      dataSource: "math_longcot_math_verify",
      response: `<think>${t}</think>So the total is $\\frac{3}{4} \\times 1{,}200 = \\boxed{900}$.`,
      groundTruth: { golden_label: "900" },
    }),
  },
  {
    verifier: "table_iou",
    make: (t) => ({
      dataSource: "multitableqa_pretraining",
      response:
        `<think>${t}</think><answer>{"data": [["1842", "Pequod", 3.5], ["1851", "Rachel", 2.0]]}</answer>`,
      groundTruth: { golden_label: '{"data": [["1842", "Pequod", 3.5], ["1851", "Essex", 2.0]]}' },
    }),
  },
  {
    verifier: "ndcg",
    make: LBP("T1.1 Global Cohesive Retrieval", ["d3", "d1", "d7", "d2"], ["d1", "d3", "d2", "d9"]),
  },
  {
    verifier: "pairwise",
    make: LBP("T2.1 Global Timeline Reconstruction", ["e1", "e2", "e3", "e4", "e5"], [
      "e2",
      "e1",
      "e3",
      "e5",
      "e4",
    ]),
  },
  {
    verifier: "accuracy",
    make: LBP("T3.2 Single-Hop Fact QA", ["Nantucket"], ["nantucket", "because"]),
  },
  {
    verifier: "f1",
    make: LBP("T5.1 Full-Sentence Citation Alignment", ["s1", "s4", "s9"], ["s1", "s9", "s12"]),
  },
  {
    verifier: "subem",
    make: LBP("T6.1 Large-Scale Document Clustering", ["g1: a b", "g2: c"], ["g1: a b", "g3: d"]),
  },
  {
    verifier: "summary",
    make: (t, rand, text) => {
      const refs = [0, 1, 2].map(() =>
        sentencesOf(text, Math.floor(rand() * (text.length - 5000)), 6).join(" ")
      );
      return {
        dataSource: "longbench_pro",
        response: `<think>${t}</think>\n${refs[0]}`,
        groundTruth: { doc_ids: refs, summary: "English" },
        extraInfo: { reward_mode: "T4.2 Query-Focused Summary" },
      };
    },
  },
];

export interface RewardBenchRow {
  verifier: string;
  tokens: number;
  responsesPerSec: number;
  target: number;
  /** responsesPerSec / target: at least 1 meets the target. */
  ratio: number;
  meanReward: number;
}

/** Measures every verifier at each length in `tokens` for about `seconds` each. */
export function rewardBench(
  text: string,
  opts: { tokens: number[]; seconds: number; seed: number; verifiers?: string[]; quiet?: boolean },
): RewardBenchRow[] {
  const rand = mulberry32(opts.seed);
  const cases = CASES.filter((c) => !opts.verifiers || opts.verifiers.includes(c.verifier));
  const progress = new Progress("bench rewards", {
    unit: "cells",
    total: cases.length * opts.tokens.length,
    quiet: opts.quiet,
  });
  const rows: RewardBenchRow[] = [];
  for (const tokens of opts.tokens) {
    const chars = tokens * CHARS_PER_TOKEN;
    for (const c of cases) {
      // Eight different responses, so nothing is cached between calls.
      const inputs = Array.from({ length: 8 }, () => {
        const start = Math.floor(rand() * Math.max(1, text.length - chars));
        return c.make(text.slice(start, start + chars), rand, text);
      });
      let n = 0, sum = 0;
      const t0 = performance.now();
      let el = 0;
      while (el < opts.seconds * 1000 || n < 8) {
        sum += computeReward(inputs[n % inputs.length]).reward;
        n++;
        el = performance.now() - t0;
      }
      const rate = n / (el / 1000);
      const target = c.verifier === "summary" ? 20 : 200;
      rows.push({
        verifier: c.verifier,
        tokens,
        responsesPerSec: rate,
        target,
        ratio: rate / target,
        meanReward: sum / n,
      });
      progress.tick();
    }
  }
  progress.finish();
  return rows;
}

export function formatRewardBench(rows: RewardBenchRow[]): string {
  const head = ["verifier", "tokens", "responses/s", "target", "ratio", "mean reward"];
  const body = rows.map((r) => [
    r.verifier,
    String(r.tokens),
    r.responsesPerSec.toFixed(0),
    String(r.target),
    r.ratio.toFixed(2) + (r.ratio >= 1 ? "" : " (below)"),
    r.meanReward.toFixed(3),
  ]);
  return textTable(head, body);
}
