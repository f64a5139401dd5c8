/** Shared checks for the version-scheme tests: total-order laws and agreement with a reference tool. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import type { VersionScheme } from './scheme.ts';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

/**
 * A comparator on the generated versions is a total preorder: reflexive, antisymmetric in sign,
 * transitive, and sorting with it gives a sequence that never goes down.
 */
export function assertTotalOrder(scheme: VersionScheme, version: fc.Arbitrary<string>, numRuns = 300): void {
  fc.assert(
    fc.property(version, version, version, (a, b, c) => {
      assert.ok(
        scheme.valid(a) && scheme.valid(b) && scheme.valid(c),
        `generated an invalid version: ${a} ${b} ${c}`,
      );
      assert.equal(scheme.compare(a, a), 0, `${a} = ${a}`);
      assert.ok(sign(scheme.compare(a, b)) + sign(scheme.compare(b, a)) === 0, `antisymmetry ${a} ${b}`);
      if (scheme.compare(a, b) <= 0 && scheme.compare(b, c) <= 0)
        assert.ok(scheme.compare(a, c) <= 0, `transitivity ${a} ≤ ${b} ≤ ${c}`);
      if (scheme.compare(a, b) === 0)
        assert.equal(
          sign(scheme.compare(a, c)),
          sign(scheme.compare(b, c)),
          `equal elements compare alike ${a} ${b} ${c}`,
        );
    }),
    { numRuns },
  );
  fc.assert(
    fc.property(fc.array(version, { maxLength: 12 }), (list) => {
      const sorted = [...list].sort((x, y) => scheme.compare(x, y));
      for (let i = 1; i < sorted.length; i++)
        assert.ok(scheme.compare(sorted[i - 1] as string, sorted[i] as string) <= 0);
    }),
    { numRuns: 100 },
  );
}

/** Each list is strictly increasing under the scheme (hand-checked orderings from the ecosystem's docs). */
export function assertAscending(scheme: VersionScheme, lists: string[][]): void {
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) {
      for (let j = 0; j < list.length; j++) {
        const a = list[i] as string;
        const b = list[j] as string;
        assert.equal(
          sign(scheme.compare(a, b)),
          sign(i - j),
          `${a} vs ${b}: expected ${i < j ? '<' : i > j ? '>' : '='}`,
        );
      }
    }
  }
}

/** Pairs that the scheme must call equal. */
export function assertEqualPairs(scheme: VersionScheme, pairs: Array<[string, string]>): void {
  for (const [a, b] of pairs) assert.equal(scheme.compare(a, b), 0, `${a} = ${b}`);
}

/** Generated pairs compared by the scheme and by a reference (a real tool); returns how many agreed. */
export function assertAgreesWith(
  scheme: VersionScheme,
  pairs: Array<[string, string]>,
  reference: (pairs: Array<[string, string]>) => number[],
): void {
  const expected = reference(pairs);
  assert.equal(expected.length, pairs.length);
  pairs.forEach(([a, b], i) => {
    assert.equal(
      sign(scheme.compare(a, b)),
      sign(expected[i] as number),
      `${a} vs ${b}: reference says ${expected[i]}`,
    );
  });
}

/** Samples `n` pairs from an arbitrary, deterministically. */
export function samplePairs(version: fc.Arbitrary<string>, n: number): Array<[string, string]> {
  return fc.sample(fc.tuple(version, version), { numRuns: n, seed: 11 });
}

export function hasCommand(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
