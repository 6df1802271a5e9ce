/** `golongrl data filter` with a real local checkpoint and with an endpoint policy. */
import { assert, assertEquals } from "./assert.ts";
import { cli, ROOT } from "./helpers.ts";
import { MockOpenAI } from "../eval/backends/mock_openai.ts";
import { goldResponse } from "../data/stats.ts";
import type { Sample } from "../tasks/generators/types.ts";

const SHARED = `${ROOT}/../shared`;
const opts = { sanitizeResources: false, sanitizeOps: false };
const read = async (p: string) =>
  (await Deno.readTextFile(p)).trim().split("\n").map((l) => JSON.parse(l) as Sample);

async function smallDataset(dir: string): Promise<string> {
  const r = await cli(
    "data",
    "build",
    "-q",
    "--sources",
    `${SHARED}/corpora/dialogues/sgd`,
    // Padding text of another kind: conversations never pad a question about a conversation.
    `${SHARED}/corpora/books/pg11_alice_in_wonderland.txt`,
    "--lengths",
    "1k",
    "--per-task",
    "1",
    "--tasks",
    "precise_retrieval,structured_matching",
    "--out",
    `${dir}/d`,
  );
  assertEquals(r.code, 0, r.err);
  return `${dir}/d/data.jsonl`;
}

Deno.test({
  name: "filter with a local checkpoint: k rollouts through the WebGPU generator, bands recorded",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const data = await smallDataset(dir);
    const book = `${SHARED}/corpora/books/pg11_alice_in_wonderland.txt`;
    assertEquals(
      (await cli(
        "tokenizer",
        "train",
        "-q",
        "--corpus",
        book,
        "--vocab",
        "600",
        "--out",
        `${dir}/tok`,
      )).code,
      0,
    );
    assertEquals(
      (await cli("model", "init", "--tokenizer", `${dir}/tok`, "--out", `${dir}/m`)).code,
      0,
    );
    const r = await cli(
      "data",
      "filter",
      "-q",
      "--data",
      data,
      "--out",
      `${dir}/kept.jsonl`,
      "--policy-model",
      `${dir}/m`,
      "--k",
      "2",
      "--max-new-tokens",
      "4",
    );
    assertEquals(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    const n = (await read(data)).length;
    // A random model solves nothing: every sample is "unsolved", kept pending a stronger policy.
    assertEquals(res.bands.unsolved, n);
    const kept = await read(`${dir}/kept.jsonl`);
    assertEquals(kept.length, n);
    for (const s of kept) {
      assertEquals(s.extra_info.difficulty, {
        pass_rate: 0,
        band: "unsolved",
        k: 2,
        policy: `${dir}/m`,
      });
    }
  },
});

Deno.test("filter with an endpoint policy, two stages", async () => {
  const dir = await Deno.makeTempDir();
  const samples = await read(await smallDataset(dir));
  assert(samples.length >= 2);
  const gold = new Map(samples.map((s) => {
    const g = goldResponse(s);
    return [s.prompt[0].content, "error" in g ? "" : g.response];
  }));
  // Stage 1 ("small") solves the first sample always; stage 2 ("large") solves everything.
  const first = samples[0].prompt[0].content;
  const server = await MockOpenAI.start({
    script: (q) => {
      const model = q.body?.model;
      const right = model === "large" || q.prompt === first;
      const texts = Array.from(
        { length: Number(q.body?.n ?? 1) },
        () => right ? gold.get(q.prompt)! : "<think>x</think>no",
      );
      return { kind: "answer", texts };
    },
  });
  try {
    const r = await cli(
      "data",
      "filter",
      "-q",
      "--data",
      `${dir}/d/data.jsonl`,
      "--out",
      `${dir}/kept.jsonl`,
      "--policy-endpoint",
      server.baseUrl,
      "--policy-name",
      "small",
      "--stage2-endpoint",
      server.baseUrl,
      "--stage2-name",
      "large",
      "--k",
      "4",
    );
    assertEquals(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    assertEquals(res.bands.easy, 1);
    assertEquals(res.bands.medium, samples.length - 1); // re-labelled by stage 2 (pass rate 1)
    const kept = await read(`${dir}/kept.jsonl`);
    assertEquals(kept.length, samples.length);
    assertEquals(kept[0].extra_info.difficulty?.band, "easy");
    assert(String(kept[1].extra_info.difficulty?.policy).includes("large"));
  } finally {
    await server.close();
  }
});
