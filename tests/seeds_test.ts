/** The one seed derivation (core/rng.ts subSeed) and the one length label (core/lengths.ts). */
import { assert, assertEquals } from "./assert.ts";
import { subSeed } from "../core/rng.ts";
import { lengthLabel, parseLengths } from "../core/lengths.ts";

Deno.test("subSeed: single-name seeds are those data builds and the trainer always derived", () => {
  // Values of the former data/build.ts subSeed: datasets built before stay reproducible.
  assertEquals(subSeed(0, "validation"), 2995824254);
  assertEquals(subSeed(42, "shuffle:precise_retrieval"), 2536687684);
  assertEquals(subSeed(7, "assemble:comprehension:4k"), 2657708503);
});

Deno.test("subSeed: several names are one stream each, independent of order and run seed", () => {
  const a = subSeed(1, "niah_single_1", 4096, 0);
  assertEquals(a, subSeed(1, "niah_single_1", 4096, 0));
  const others = [
    subSeed(2, "niah_single_1", 4096, 0),
    subSeed(1, "niah_single_1", 4096, 1),
    subSeed(1, 4096, "niah_single_1", 0),
    subSeed(1, "niah_single_14096", 0), // parts are delimited, not concatenated
  ];
  for (const o of others) assert(o !== a, `${o} collides with ${a}`);
  for (const s of [a, ...others]) assert(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
});

Deno.test("lengths: parsed lists and bucket labels", () => {
  assertEquals(parseLengths("4k,4096, 16K,32768", "x"), [4096, 16384, 32768]);
  assertEquals([512, 4096, 131072, 1 << 20, 5000].map(lengthLabel), [
    "512",
    "4k",
    "128k",
    "1m",
    "5000",
  ]);
});
