import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { apkScheme } from './apk.ts';
import { assertAscending, assertEqualPairs, assertTotalOrder } from './test-support.ts';

const SUFFIXES = ['alpha', 'beta', 'pre', 'rc', 'cvs', 'svn', 'git', 'hg', 'p'];
export const apkVersion = fc
  .tuple(
    fc.array(fc.oneof(fc.integer({ min: 0, max: 30 }).map(String), fc.constantFrom('0', '01', '001', '10')), {
      minLength: 1,
      maxLength: 4,
    }),
    fc.constantFrom('', 'a', 'b', 'z'),
    fc.array(fc.tuple(fc.constantFrom(...SUFFIXES), fc.constantFrom('', '0', '1', '2', '10')), {
      maxLength: 2,
    }),
    fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
  )
  .map(([nums, letter, suffixes, rev]) => {
    const first = String(Number(nums[0])); // the first number has no leading zero
    return `${[first, ...nums.slice(1)].join('.')}${letter}${suffixes.map(([s, n]) => `_${s}${n}`).join('')}${rev !== undefined ? `-r${rev}` : ''}`;
  });

describe('apk versions (apk-tools, Gentoo version syntax)', () => {
  test('hand-checked orderings: suffixes around the release, revisions, letters, leading zeros', () => {
    assertAscending(apkScheme, [
      [
        '1.0_alpha1',
        '1.0_beta',
        '1.0_pre2',
        '1.0_rc1',
        '1.0',
        '1.0_cvs',
        '1.0_git20230101',
        '1.0_p1',
        '1.0a',
        '1.0.1',
      ],
      ['3.1.7-r0', '3.1.7-r1', '3.1.7-r10', '3.1.8-r0'],
      ['2.14.4-r0', '2.14.4-r1'],
      ['1.01', '1.1'],
      ['1.2.12-r1', '1.2.13-r0', '1.3-r0'],
      ['1.0', '1.0.0'],
    ]);
    assertEqualPairs(apkScheme, [
      ['1.0-r0', '1.0'],
      ['1.0_p', '1.0_p0'],
      ['1.2.3~abc123-r1', '1.2.3-r1'],
    ]);
    for (const bad of ['', 'r1', '1.0-1', '1..0', '1.0_foo', 'v1.0'])
      assert.equal(apkScheme.valid(bad), false, bad);
  });
  test('a total order on generated versions (fast-check)', () => assertTotalOrder(apkScheme, apkVersion));
});
