import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { mavenScheme } from './maven.ts';
import { assertAscending, assertEqualPairs, assertTotalOrder } from './test-support.ts';

const token = fc.oneof(
  fc.integer({ min: 0, max: 12 }).map(String),
  fc.constantFrom(
    'alpha',
    'beta',
    'milestone',
    'rc',
    'cr',
    'snapshot',
    'ga',
    'final',
    'release',
    'sp',
    'foo',
    'a1',
    'b2',
    'm3',
  ),
);
export const mavenVersion = fc
  .tuple(
    fc.integer({ min: 0, max: 9 }),
    fc.array(fc.tuple(fc.constantFrom('.', '-'), token), { maxLength: 4 }),
  )
  .map(([first, rest]) => `${first}${rest.map(([sep, t]) => `${sep}${t}`).join('')}`);

describe('Maven versions (ComparableVersion, "Version Order Specification")', () => {
  test("hand-checked: the specification's examples", () => {
    assertAscending(mavenScheme, [
      ['1', '1.1'],
      ['1-snapshot', '1', '1-sp'],
      ['1-foo2', '1-foo10'],
      ['1.foo', '1-1', '1.1'],
      ['1-alpha-1', '1-beta-1', '1-milestone-1', '1-rc-1', '1-snapshot', '1', '1-sp-1'],
      ['1.0-SNAPSHOT', '1.0', '1.0.1'],
      ['2.4', '2.5'],
      ['1.0-sp', '1.0-zzz'],
    ]);
    assertEqualPairs(mavenScheme, [
      ['1.ga', '1'],
      ['1-ga', '1'],
      ['1-0', '1'],
      ['1.0', '1'],
      ['1.0.0', '1'],
      ['1-final', '1'],
      ['1-a1', '1-alpha-1'],
      ['1-rc', '1-cr'],
      ['1.0-RC1', '1.0-rc1'],
    ]);
    assert.equal(mavenScheme.valid(''), false);
  });
  test('a total order on generated versions (fast-check)', () =>
    assertTotalOrder(mavenScheme, mavenVersion, 500));
});
