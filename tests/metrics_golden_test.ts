/**
 * Golden parity: every case in tests/fixtures/metrics_golden.json (written by
 * tools/golden/metrics_golden.py from Python references) must match the TypeScript port to 1e-9.
 */

import assert from "node:assert/strict";
import { sequenceRatio } from "../metrics/difflib.ts";
import { fuzzRatio } from "../metrics/fuzz.ts";
import {
  classificationScore,
  codeSimScore,
  countScore,
  longBenchSampleScore,
  longBenchScore,
  qaF1Score,
  qaF1ZhTokens,
  retrievalScore,
  retrievalZhScore,
  rougeZhTokens,
} from "../metrics/longbench.ts";
import { normalizeAnswer, normalizeZhAnswer } from "../metrics/normalize.ts";
import { rougeL } from "../metrics/rouge.ts";
import { squadExactMatch, squadF1 } from "../metrics/squad.ts";
import { extractLongBenchV2Answer } from "../metrics/longbench_v2.ts";
import { rulerPostprocess, stringMatchAll, stringMatchPart } from "../metrics/ruler.ts";
import { mrcrGrade } from "../metrics/mrcr.ts";
import { framesCem } from "../metrics/frames.ts";
import { babilongScore } from "../metrics/babilong.ts";
import { docmathRuleAcc } from "../metrics/docmath.ts";
import { pyRound } from "../metrics/pystr.ts";

interface GoldenCase {
  fn: string;
  // deno-lint-ignore no-explicit-any
  args: any[];
  expected: number;
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/metrics_golden.json", import.meta.url)),
) as { cases: GoldenCase[] };

// deno-lint-ignore no-explicit-any
const FNS: Record<string, (...a: any[]) => number> = {
  "rougeL.f": (h, r) => rougeL(h, r).f,
  "rougeL.p": (h, r) => rougeL(h, r).p,
  "rougeL.r": (h, r) => rougeL(h, r).r,
  "rougeL.throws": (h, r) => {
    try {
      rougeL(h, r);
      return 0;
    } catch {
      return 1;
    }
  },
  sequenceRatio,
  fuzzRatio,
  qaF1Score,
  squadExactMatch,
  squadF1,
  "normalizeAnswer.eq": (s, want) => (normalizeAnswer(s) === want ? 1 : 0),
  "normalizeZhAnswer.eq": (s, want) => (normalizeZhAnswer(s) === want ? 1 : 0),
  qaF1ZhTokens,
  rougeZhTokens,
  classificationScore: (p, g, classes) => classificationScore(p, g, { allClasses: classes }),
  retrievalScore,
  retrievalZhScore,
  countScore,
  codeSimScore,
  longBenchScore,
  longBenchSampleScore,
  extractLongBenchV2Answer: (r) => " ABCD".indexOf(extractLongBenchV2Answer(r) ?? " "),
  stringMatchAll,
  stringMatchPart,
  "rulerPostprocess.len": (raw) => Array.from(rulerPostprocess(raw)).length,
  mrcrGrade,
  framesCem,
  babilongScore,
  docmathRuleAcc: (r, g, t) => docmathRuleAcc(r, g, t),
  docmathRuleAcc3: (r, g, t) => docmathRuleAcc(r, g, t, { decimals: 3 }),
  pyRound2: (x) => pyRound(x, 2),
};

Deno.test("golden fixture has enough cases and known functions", () => {
  assert.ok(fixture.cases.length >= 300, `only ${fixture.cases.length} cases`);
  for (const c of fixture.cases) assert.ok(c.fn in FNS, `no TS binding for ${c.fn}`);
});

const families = [...new Set(fixture.cases.map((c) => c.fn))];
for (const fn of families) {
  Deno.test(`golden parity: ${fn}`, () => {
    const failures: string[] = [];
    for (const c of fixture.cases.filter((x) => x.fn === fn)) {
      const got = FNS[fn](...c.args);
      if (!Number.isFinite(got) || Math.abs(got - c.expected) > 1e-9) {
        failures.push(`${JSON.stringify(c.args).slice(0, 300)} → got ${got}, want ${c.expected}`);
      }
    }
    assert.deepEqual(failures, []);
  });
}
