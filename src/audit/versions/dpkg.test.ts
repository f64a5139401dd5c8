import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { dpkgScheme, parseDpkgVersion } from './dpkg.ts';
import {
  assertAgreesWith,
  assertAscending,
  assertEqualPairs,
  assertTotalOrder,
  hasCommand,
  samplePairs,
} from './test-support.ts';

const alnum = fc.constantFrom(...'0123456789abcz.+~'.split(''));
const upstream = fc
  .tuple(fc.integer({ min: 0, max: 20 }), fc.string({ unit: alnum, maxLength: 6 }))
  .map(([n, s]) => `${n}${s}`);
const revision = fc.string({
  unit: fc.constantFrom(...'0123456789ab.+~'.split('')),
  minLength: 1,
  maxLength: 5,
});
export const dpkgVersion = fc
  .tuple(
    fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    upstream,
    fc.option(revision, { nil: undefined }),
  )
  .map(([e, u, r]) => `${e !== undefined ? `${e}:` : ''}${u}${r !== undefined ? `-${r}` : ''}`);

describe('dpkg versions (Debian Policy §5.6.12)', () => {
  test('hand-checked orderings: ~ before everything, epochs, revisions, letters before other symbols', () => {
    assertAscending(dpkgScheme, [
      ['1.0~rc1', '1.0', '1.0a', '1.0+b1', '1.0.1'],
      ['1.0~~', '1.0~~a', '1.0~', '1.0'],
      ['2.36-9', '2.36-9+deb12u3', '2.36-9+deb12u10', '2.36-10'],
      ['9.9', '1:0.1', '2:0'],
      ['1.2.1-2.2+wheezy2', '1.2.1-2.2+wheezy3', '1.6.2-1'],
      ['1.21.1ubuntu2.2', '1.21.1ubuntu2.3'],
    ]);
    assertEqualPairs(dpkgScheme, [
      ['1.0', '0:1.0'],
      ['1.0', '1.0-0'],
      ['1.00', '1.0'],
    ]);
  });
  test('parse: epoch, upstream, revision; malformed strings refused', () => {
    assert.deepEqual(parseDpkgVersion('1:2.37.2-4ubuntu3.4'), {
      epoch: '1',
      upstream: '2.37.2',
      revision: '4ubuntu3.4',
    });
    assert.deepEqual(parseDpkgVersion('1.2-3-4'), { epoch: '0', upstream: '1.2-3', revision: '4' });
    for (const bad of ['', 'a1.0', 'x:1.0', '1.0-', '1 0', '1.0:3'])
      assert.equal(dpkgScheme.valid(bad), false, bad);
  });
  test('a total order on generated versions (fast-check)', () => assertTotalOrder(dpkgScheme, dpkgVersion));
  test('agrees with dpkg --compare-versions on generated pairs', (t) => {
    if (!hasCommand('dpkg', ['--version'])) return t.skip('dpkg not installed');
    const pairs = samplePairs(dpkgVersion, 150);
    const script = pairs
      .map(
        ([a, b]) =>
          `if dpkg --compare-versions '${a}' lt '${b}'; then echo -1; elif dpkg --compare-versions '${a}' eq '${b}'; then echo 0; else echo 1; fi`,
      )
      .join('\n');
    assertAgreesWith(dpkgScheme, pairs, () =>
      execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim().split('\n').map(Number),
    );
  });
});
