import { assertEquals, assertMatch, assertRejects, assertThrows } from "./assert.ts";
import {
  applyOverrides,
  bool,
  defaults,
  int,
  list,
  loadConfig,
  num,
  schemaKeys,
  section,
  str,
  writeEffectiveConfig,
} from "../core/config_schema.ts";
import type { ConfigError } from "../core/errors.ts";

const schema = {
  seed: int(0, { min: 0 }),
  train: section({
    lr: num(1e-6, { min: 0, max: 1 }),
    steps: int(100, { min: 1 }),
    estimator: str("tmn", { choices: ["grpo", "tmn"] }),
    shuffle: bool(true),
    lengths: list("number", [4096, 16384]),
  }),
  data: section({ tasks: list("string", ["em"]) }),
};

async function tmpFile(name: string, text: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  const p = `${dir}/${name}`;
  await Deno.writeTextFile(p, text);
  return p;
}

Deno.test("defaults, then file, then overrides", async () => {
  const f = await tmpFile("c.yaml", "train:\n  lr: 3.0e-6\n  lengths: [1, 2]\n");
  const cfg = await loadConfig(schema, {
    file: f,
    overrides: ["train.steps=7", "data.tasks=em,f1"],
  });
  assertEquals(cfg.train.lr, 3e-6);
  assertEquals(cfg.train.steps, 7);
  assertEquals(cfg.train.lengths, [1, 2]);
  assertEquals(cfg.train.estimator, "tmn");
  assertEquals(cfg.data.tasks, ["em", "f1"]);
  assertEquals(cfg.seed, 0);
  // The schema's defaults are not mutated by a load.
  assertEquals(defaults(schema).train.lengths, [4096, 16384]);
  assertEquals(schemaKeys(schema).length, 7);
});

Deno.test("a bad type in a YAML file names file, line and key", async () => {
  const f = await tmpFile("bad.yaml", "seed: 1\ntrain:\n  steps: 10\n  lr: fast\n");
  const e = await assertRejects(
    () => loadConfig(schema, { file: f }),
    /bad\.yaml, line 4: train\.lr: expected a number, got "fast"/,
  );
  assertEquals((e as ConfigError).key, "train.lr");
});

Deno.test("an unknown key in a file is named with the closest valid key", async () => {
  const f = await tmpFile("u.yaml", "train:\n  lrr: 0.1\n");
  await assertRejects(
    () => loadConfig(schema, { file: f }),
    /u\.yaml, line 2: unknown key train\.lrr \(did you mean train\.lr\?\)/,
  );
  const g = await tmpFile("s.json", '{"trian": {"lr": 0.1}}');
  await assertRejects(
    () => loadConfig(schema, { file: g }),
    /unknown key trian \(did you mean train\?\)/,
  );
});

Deno.test("ranges, integers and choices are enforced", async () => {
  const f = await tmpFile("r.json", '{\n  "train": {\n    "lr": 2\n  }\n}\n');
  await assertRejects(
    () => loadConfig(schema, { file: f }),
    /r\.json, line 3: train\.lr: 2 is above the maximum 1/,
  );
  await assertRejects(
    () => loadConfig(schema, { overrides: ["train.steps=2.5"] }),
    /train\.steps: expected an integer, got 2\.5/,
  );
  await assertRejects(
    () => loadConfig(schema, { overrides: ["train.estimator=gpro"] }),
    /"gpro" is not one of grpo, tmn \(did you mean grpo\?\)/,
  );
  await assertRejects(
    () => loadConfig(schema, { overrides: ["train.shuffle=yes"] }),
    /train\.shuffle: expected true or false/,
  );
  await assertRejects(
    () => loadConfig(schema, { overrides: ["train.lengths=1,x"] }),
    /train\.lengths: item 1: expected a number/,
  );
});

Deno.test("override of a missing key, or of a section, is rejected", () => {
  const cfg = defaults(schema) as Record<string, unknown>;
  assertThrows(
    () => applyOverrides(schema, cfg, ["train.lrate=1"]),
    /--set: no config key train\.lrate \(did you mean train\.lr\?\)/,
  );
  assertThrows(() => applyOverrides(schema, cfg, ["train=1"]), /no config key train\b/);
  assertThrows(
    () => applyOverrides(schema, cfg, ["nope.deeper.x=1"]),
    /no config key nope\.deeper\.x/,
  );
  assertThrows(() => applyOverrides(schema, cfg, ["train.lr"]), /expected KEY=VALUE/);
  assertThrows(() => applyOverrides(schema, cfg, ["train.lr="]), /train\.lr: expected a number/);
});

Deno.test("syntax errors report the line", async () => {
  const y = await tmpFile("y.yaml", "train:\n  lr: 1\n   steps: [\n");
  await assertRejects(() => loadConfig(schema, { file: y }), /y\.yaml, line \d+: invalid YAML/);
  const j = await tmpFile("j.json", '{\n  "seed": 1,\n  "train": {,}\n}');
  await assertRejects(() => loadConfig(schema, { file: j }), /j\.json, line 3: invalid JSON/);
  await assertRejects(
    () => loadConfig(schema, { file: "/nonexistent/c.yaml" }),
    /cannot read config file \/nonexistent\/c\.yaml/,
  );
  const top = await tmpFile("t.yaml", "- 1\n- 2\n");
  await assertRejects(() => loadConfig(schema, { file: top }), /expected a mapping/);
  const dup = await tmpFile("d.yaml", "seed: 1\nseed: 2\n");
  await assertRejects(() => loadConfig(schema, { file: dup }), /d\.yaml, line 2: invalid YAML/);
});

Deno.test("the effective config is written next to the outputs, atomically", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = await loadConfig(schema, { overrides: ["seed=5"] });
  const p = await writeEffectiveConfig(`${dir}/run`, cfg);
  assertEquals(p, `${dir}/run/config.json`);
  assertEquals(JSON.parse(await Deno.readTextFile(p)), cfg);
  const names = [...Deno.readDirSync(`${dir}/run`)].map((e) => e.name);
  assertEquals(names, ["config.json"]);
  // The written file loads back as a config file.
  const again = await loadConfig(schema, { file: p });
  assertEquals(again, cfg);
  assertMatch(await Deno.readTextFile(p), /"seed": 5/);
});
