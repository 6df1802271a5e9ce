/**
 * `golongrl bench model --preset`: the memory plan before the step, the step's measured device
 * memory against it, every figure beside its reference with a ratio, progress on stderr. Run on
 * the tiny preset (the qwen3-0.6b run takes minutes of a whole machine: the lead runs it).
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli } from "./helpers.ts";
import type { PresetBenchResult } from "../bench/preset.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
/** The bench's temporary checkpoint folders present now. */
async function benchLoadDirs(): Promise<string[]> {
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const out: string[] = [];
  for await (const e of Deno.readDir(tmp)) {
    if (e.name.startsWith("golongrl_bench_load_")) out.push(e.name);
  }
  return out.sort();
}

const small = ["--preset", "tiny", "--seq-len", "32", "--prompt-len", "8", "--new-tokens", "2"];

Deno.test({
  name: "bench model --preset: plan, train step, prefill and decode, each with its ratio",
  ...opts,
  fn: async () => {
    const dirsBefore = await benchLoadDirs();
    const r = await cli("bench", "model", ...small, "--steps", "1", "--json");
    assertEquals(r.code, 0, r.err);
    const j = JSON.parse(r.out) as PresetBenchResult;
    assertEquals(j.preset, "tiny");
    assertEquals(j.trainPlan.fits, true);
    assert(j.train !== null && j.trainSkipped === null);
    assertEquals(j.train.tokens, 32);
    // The plan is what the step allocated (weights, gradients, moments and the pool's scratch).
    const memory = j.rows.find((row) => row.figure.startsWith("train step device memory"))!;
    assert(memory.ratio! > 0.9 && memory.ratio! < 1.1, `plan / measured ${memory.ratio}`);
    for (const row of j.rows.filter((row) => row.reference !== "-")) {
      assert(row.ratio !== null && Number.isFinite(row.ratio) && row.ratio > 0, row.figure);
      assert(row.value! > 0 && row.referenceValue! > 0, row.figure);
    }
    // The load is timed on a real F16 checkpoint of these weights: 2 bytes a parameter plus
    // the header, in a temporary folder that is gone afterwards.
    assert(j.load.fileBytes > 2 * j.params && j.load.fileBytes < 2 * j.params + 65536);
    const load = j.rows.find((row) => row.figure.startsWith("checkpoint load, tiny"))!;
    assertEquals(load.value, j.load.loadMs);
    assertEquals(load.referenceValue, j.load.readMs);
    assertMatch(load.figure, /F16 file -> f16 matrices/);
    assertEquals(load.reference, "plain read of the file into memory (warm cache)");
    // The model phases' peak is theirs: the high-water mark is reset after the load (Linux).
    const peak = j.rows.find((row) =>
      row.figure.startsWith("peak resident memory of the process")
    )!;
    assertEquals(
      peak.figure.endsWith("after the checkpoint load (train step, prefill, decode)"),
      j.peakRssReset,
    );
    assert(j.loadPeakRssBytes === null || j.loadPeakRssBytes > 0);
    assertEquals(await benchLoadDirs(), dirsBefore);
    assert(j.decode !== null && j.generationSkipped === null);
    assert(j.decode.bandwidthGBs > 0 && j.decode.bytesPerStep > 4 * j.params);
    // The shader read ceiling, measured in the same run, beside the copy bandwidth; batch-1
    // decode against the bytes per step at that ceiling.
    const ceiling = j.rows.find((row) => row.figure.startsWith("shader read ceiling"))!;
    assertEquals(ceiling.ratio, j.decode.shaderReadGBs / j.decode.bandwidthGBs);
    const nearCeiling = j.rows.find((row) =>
      row.figure.endsWith("against the shader read ceiling")
    )!;
    assertEquals(nearCeiling.value, j.decode.msPerToken);
    assertEquals(nearCeiling.referenceValue, j.decode.shaderReadLimitMs);
    assert(
      Math.abs(j.decode.shaderReadLimitMs * j.decode.shaderReadGBs * 1e6 - j.decode.bytesPerStep) <
        1e-6 * j.decode.bytesPerStep,
    );
    // Progress: the plan before the step, each phase as it starts.
    const plan = r.err.indexOf("memory plan, train step of 32 tokens");
    const warm = r.err.indexOf("train step 1 (warm-up");
    assert(plan >= 0 && warm > plan, r.err);
    assertMatch(r.err, /prefill, batch 1\.\.\./);
    // Decode at batch 1 and 16 (the default), the larger one against batch 1's tokens/s.
    assertEquals(j.decodeByBatch.map((d) => d.batch), [1, 16]);
    // Each timed over decode steps alone (a difference of two runs could go below zero).
    for (const d of j.decodeByBatch) assert(d.msPerStep > 0, `batch ${d.batch}: ${d.msPerStep}`);
    const b16 = j.rows.find((row) => row.figure.includes("batch 16"))!;
    assertEquals(b16.target, ">= 8");
    assertEquals(b16.referenceValue, j.decodeByBatch[0].tokensPerSec);
    assertEquals(b16.ratio, j.decodeByBatch[1].tokensPerSec / j.decodeByBatch[0].tokensPerSec);
    // ... and against its roofline: the weights read once for the batch, or its FLOPs.
    const roof = j.rows.find((row) => row.figure.includes("batch 16, ms per step"))!;
    assertEquals(roof.value, j.decodeByBatch[1].msPerStep);
    assertEquals(roof.referenceValue, j.decodeByBatch[1].rooflineMs);
    assert(j.decodeByBatch[1].rooflineMs >= j.decodeByBatch[0].rooflineMs);
  },
});

Deno.test({
  name: "bench model --preset --steps 0: no train step, and the report says why",
  ...opts,
  fn: async () => {
    const r = await cli(
      "bench",
      "model",
      ...small,
      "--steps",
      "0",
      "--batches",
      "4",
      "--profile",
      "--quiet",
    );
    assertEquals(r.code, 0, r.err);
    assertEquals(r.err, "");
    // --profile: a table per decode batch, GPU time per kernel per step, largest first.
    for (const b of [1, 4]) {
      const at = r.out.indexOf(`decode at batch ${b}, GPU time per step by kernel`);
      assert(at >= 0, r.out);
      const table = r.out.slice(at, r.out.indexOf("\n\n", at));
      for (const k of ["attention_decode", `matmul NT ${b}x`, "sample"]) {
        assert(table.includes(k), k);
      }
      const ms = [...table.matchAll(/^(\S[^\n]*?)\s{2,}([\d.]+)\s+[\d.]+%/gm)].map((m) =>
        Number(m[2])
      );
      assert(ms.length > 5 && ms.every((x, i) => i === 0 || x <= ms[i - 1]), table);
    }
    assertMatch(r.out, /memory plan, train step of 32 tokens: .* GiB on the device at the peak/);
    assertMatch(r.out, /train step: not run \(--steps 0\)/);
    assertMatch(r.out, /decode, tiny, batch 1, tokens 3-4 after the prompt .* >= 0\.5/);
    // --batches names the larger batches; batch 1 is always measured as their reference.
    assertMatch(r.out, /decode, tiny, batch 4 \(4 rollouts of one prompt\), tokens\/s .* >= 2/);
    const bad = await cli("bench", "model", "--steps", "0");
    assertEquals(bad.code, 2);
    assertMatch(bad.err, /--steps must be at least 1 without --preset/);
    const noPreset = await cli("bench", "model", "--profile");
    assertEquals(noPreset.code, 2);
    assertMatch(noPreset.err, /--profile needs --preset/);
  },
});

Deno.test({
  name: "bench model --preset --load-only: the plans and the checkpoint load, nothing else",
  ...opts,
  fn: async () => {
    const r = await cli("bench", "model", ...small, "--load-only", "--json");
    assertEquals(r.code, 0, r.err);
    const j = JSON.parse(r.out) as PresetBenchResult;
    assertEquals([j.train, j.prefill, j.decode], [null, null, null]);
    assertEquals(j.generationSkipped, "not run (--load-only)");
    assertEquals(j.peakRssReset, false);
    for (const row of j.rows.filter((row) => /^(train|prefill|decode)/.test(row.figure))) {
      assertEquals([row.value, row.noRatio], [null, "not run (--load-only)"], row.figure);
    }
    const load = j.rows.find((row) => row.figure.startsWith("checkpoint load"))!;
    assert(load.ratio! > 0 && load.ratio === j.load.readMs / j.load.loadMs, load.figure);
    assert(!/train step 1|prefill\.\.\./.test(r.err), r.err);
    const bad = await cli("bench", "model", "--load-only");
    assertEquals(bad.code, 2);
    assertMatch(bad.err, /--load-only needs --preset/);
  },
});
