import { acquireGpu } from "../core/gpu/device.ts";
import { loadModel } from "../engine/load.ts";
import { loadTokenizer } from "../core/tokenizer/tokenizer.ts";
import { defaults } from "../core/config_schema.ts";
import { TRAIN_SCHEMA, type TrainConfig } from "../train/config.ts";
import { loadSamples } from "../train/data.ts";
import { validate } from "../train/rl.ts";
const [dir, data, nStr, maxNew, temp] = Deno.args;
const gpu = await acquireGpu();
const tok = await loadTokenizer(dir);
const { model } = await loadModel(gpu, dir, { matrices: "f32" });
const cfg = defaults(TRAIN_SCHEMA) as TrainConfig;
cfg.rollout.max_new_tokens = Number(maxNew ?? 48);
cfg.log.val_temperature = Number(temp ?? 0);
const all = await loadSamples(data);
const by = new Map<string, typeof all>();
for (const s of all) by.set(s.ability, [...(by.get(s.ability) ?? []), s]);
const lists = [...by.values()];
const held: typeof all = [];
for (let i = 0; held.length < all.length; i++) {
  for (const l of lists) if (i < l.length) held.push(l[i]);
}
const t = performance.now();
const v = await validate(model, tok, held.slice(0, Number(nStr ?? 16)), cfg);
console.log(
  JSON.stringify({
    mean: v.reward_mean,
    se: v.reward_se,
    n: v.n,
    by: v.reward_by_task,
    s: (performance.now() - t) / 1000,
  }),
);
for (let i = 0; i < Math.min(6, v.responses.length); i++) {
  console.log(held[i].ability, v.rewards[i], JSON.stringify(v.responses[i]).slice(0, 200));
}
gpu.destroy();
