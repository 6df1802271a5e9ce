/**
 * The Qwen3-0.6B preset's shape and the memory plan's verdicts: it fits, or it names the knob
 * that makes it fit (recompute, then micro-batches, f16 weights for generation), or says that
 * none does; limits of the adapter (its largest buffer) are checked too.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { makeConfig, paramCount, PRESETS } from "../engine/model_config.ts";
import {
  formatPlan,
  type MemoryBudget,
  planGeneration,
  planTrainStep,
  type TrainPlanOptions,
} from "../engine/memory_plan.ts";

const GiB = 2 ** 30;
const qwen = makeConfig("qwen3-0.6b", PRESETS["qwen3-0.6b"].vocab_size!);
const P = paramCount(qwen);

function budget(deviceGiB: number | null, maxBufferGiB = 2): MemoryBudget {
  return {
    deviceBytes: deviceGiB === null ? null : deviceGiB * GiB,
    deviceSource: "test budget",
    maxBufferSize: maxBufferGiB * GiB,
    maxBindingSize: 128 * 2 ** 20,
    hostAvailable: deviceGiB === null ? 64 * GiB : deviceGiB * GiB,
    unified: deviceGiB !== null,
  };
}
const step = (tokens: number, checkpoint = false): TrainPlanOptions => ({
  tokens,
  checkpoint,
  ntBackward: true,
  maxBindingSize: 128 * 2 ** 20,
});

Deno.test("the qwen3-0.6b preset is Qwen/Qwen3-0.6B's shape", () => {
  assertEquals(qwen.vocab_size, 151936);
  assertEquals(qwen.hidden_size, 1024);
  assertEquals(qwen.num_hidden_layers, 28);
  assertEquals([qwen.num_attention_heads, qwen.num_key_value_heads, qwen.head_dim], [16, 8, 128]);
  assertEquals(qwen.intermediate_size, 3072);
  assertEquals([qwen.rope_theta, qwen.rms_norm_eps, qwen.tie_word_embeddings], [1e6, 1e-6, true]);
  // 0.6B in all, 0.44B outside the embedding (the model card's figures).
  assertEquals(P, 596_049_920);
  assertEquals(P - 151936 * 1024, 440_467_456);
  // The preset's vocabulary is a default: a tokenizer's size still wins.
  assertEquals(makeConfig("qwen3-0.6b", 1000).vocab_size, 1000);
});

Deno.test("train plan: fits, or recompute, or micro-batches, or nothing helps", () => {
  const fits = planTrainStep(qwen, step(1024), budget(64));
  assertEquals([fits.fits, fits.knob, fits.reasons], [true, null, []]);
  // State: 16 bytes per parameter, in the plan's items.
  const state = fits.items.slice(0, 3).reduce((a, i) => a + i.bytes, 0);
  assertEquals(state, 16 * P);
  // Activations of 28 layers kept at 16K tokens: recompute is the knob.
  const long = planTrainStep(qwen, step(16384), budget(24));
  assertEquals(long.fits, false);
  assertMatch(long.knob!, /^recompute: optim\.recompute=true/);
  assert(planTrainStep(qwen, step(16384, true), budget(24)).fits);
  // Tighter: recompute alone is not enough, micro-batches of fewer tokens are.
  const tight = planTrainStep(qwen, step(16384), budget(15));
  assertMatch(
    tight.knob!,
    /micro_batch_tokens=(\d+) \((\d+) accumulation steps; sequences are not split/,
  );
  const t = Number(/micro_batch_tokens=(\d+)/.exec(tight.knob!)![1]);
  assert(t < 16384 && planTrainStep(qwen, step(t, true), budget(15)).fits === true);
  assert(planTrainStep(qwen, step(2 * t, true), budget(15)).fits === false);
  // Below the state alone: no knob of the step helps, and the plan says so.
  const none = planTrainStep(qwen, step(1024), budget(8));
  assertMatch(none.knob!, /^none: .*16 bytes per parameter/);
  assertMatch(formatPlan("x", none), /fits: no \(needs .* GiB .* over the 8\.00 GiB/);
});

Deno.test("train plan: the adapter's largest buffer and an unknown device memory", () => {
  const small = planTrainStep(qwen, step(1024), budget(64, 0.5));
  assertEquals(small.fits, false);
  assertMatch(small.reasons[0], /the embedding \[151936, 1024\] needs 0\.58 GiB.*maxBufferSize/);
  assertMatch(small.knob!, /^none of recompute, micro-batch or f16/);
  const unknown = planTrainStep(qwen, step(1024), budget(null));
  assertEquals(unknown.fits, null);
  assertEquals(unknown.knob, null);
  assertMatch(unknown.reasons[0], /not checked/);
});

Deno.test("generation plan: f16 weights are the knob when f32 does not fit", () => {
  const o = {
    batch: 1,
    positions: 512,
    prefillTokens: 256,
    weights: "f32" as const,
    maxBindingSize: 128 * 2 ** 20,
  };
  // Host copy (2.2 GiB) + f32 weights (2.2 GiB) do not fit 4 GiB; f16 matrices do.
  const p = planGeneration(qwen, o, budget(4));
  assertEquals(p.fits, false);
  assertMatch(p.knob!, /^f16 weights \(--dtype f16\)/);
  const f16 = planGeneration(qwen, { ...o, weights: "f16" }, budget(4));
  assertEquals(f16.fits, true);
  assert(f16.items[0].bytes < 0.51 * p.items[0].bytes + 1e6);
});
