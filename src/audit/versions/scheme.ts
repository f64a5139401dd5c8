/**
 * A version scheme: how one ecosystem spells and orders its versions. Every comparator in this folder
 * is a total preorder on the strings `valid` accepts (equal classes allowed: dpkg `1.0` = `1.0-0`,
 * PEP 440 `1.0` = `1.0.0`), which the range evaluator relies on; strings it does not accept are never
 * compared (a range event or component version that is not a version of the scheme is reported, not
 * guessed at).
 */
export interface VersionScheme {
  /** Short name shown in reports: `dpkg`, `rpm`, `apk`, `semver`, `go`, `npm`, `pep440`, `maven`. */
  readonly name: string;
  /** True when `v` is a version in this scheme. */
  valid(v: string): boolean;
  /** Negative, zero or positive as `a` sorts before, with or after `b`. Both must be valid. */
  compare(a: string, b: string): number;
}

/** -1, 0 or 1: comparators built from parts return the sign of the first part that differs. */
export function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compare two strings of decimal digits as unbounded integers (no Number overflow at 2^53). */
export function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
