/**
 * Benchmark and reward metrics, one module per family. See docs/metrics.md for each metric's
 * source and the (few, documented) divergences from the Python references.
 *
 * @module
 */

export * from "./babilong.ts";
export * from "./difflib.ts";
export * from "./docmath.ts";
export * from "./frames.ts";
export * from "./fuzz.ts";
export * from "./longbench.ts";
export * from "./longbench_v2.ts";
export * from "./mrcr.ts";
export * from "./normalize.ts";
export * from "./ruler.ts";
export * from "./rouge.ts";
export * from "./segment.ts";
export * from "./squad.ts";
export { pyRound } from "./pystr.ts";
