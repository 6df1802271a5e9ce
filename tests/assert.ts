/** Assertions on top of node:assert/strict (JSR's @std/assert is unreachable here). */
import assertStrict from "node:assert/strict";

export function assert(cond: unknown, msg?: string): asserts cond {
  assertStrict.ok(cond, msg);
}
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assertStrict.deepStrictEqual(actual, expected, msg);
}
export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  assertStrict.match(actual, re, msg);
}
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tol = 1e-9,
  msg?: string,
): void {
  assertStrict.ok(
    Math.abs(actual - expected) <= tol,
    `${msg ? msg + ": " : ""}expected ${expected} ± ${tol}, got ${actual}`,
  );
}
export async function assertRejects(
  f: () => Promise<unknown>,
  re?: RegExp,
  msg?: string,
): Promise<Error> {
  try {
    await f();
  } catch (e) {
    if (re) assertStrict.match((e as Error).message, re, msg);
    return e as Error;
  }
  throw new assertStrict.AssertionError({
    message: `${msg ? msg + ": " : ""}expected a rejection`,
  });
}
export function assertThrows(f: () => unknown, re?: RegExp, msg?: string): Error {
  try {
    f();
  } catch (e) {
    if (re) assertStrict.match((e as Error).message, re, msg);
    return e as Error;
  }
  throw new assertStrict.AssertionError({ message: `${msg ? msg + ": " : ""}expected a throw` });
}
