import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseEvr, rpmScheme } from './rpm.ts';
import {
  assertAgreesWith,
  assertAscending,
  assertEqualPairs,
  assertTotalOrder,
  hasCommand,
  samplePairs,
} from './test-support.ts';

const part = fc
  .string({ unit: fc.constantFrom(...'0123456789abZ._+~^'.split('')), minLength: 1, maxLength: 7 })
  .filter((s) => /[A-Za-z0-9]/.test(s));
export const rpmVersion = fc
  .tuple(
    fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    part,
    fc.option(part, { nil: undefined }),
  )
  .map(([e, v, r]) => `${e !== undefined ? `${e}:` : ''}${v}${r !== undefined ? `-${r}` : ''}`);

describe('rpm versions (rpmvercmp, EVR)', () => {
  test('hand-checked orderings: epochs, tilde pre-releases, caret snapshots, numeric beats alpha', () => {
    assertAscending(rpmScheme, [
      ['1.0~rc1', '1.0', '1.0^git1', '1.0.1'],
      ['1.0-1.el9', '1.0-2.el9', '1.0-10.el9'],
      ['2.0', '1:1.0', '2:0.1'],
      ['1.0a', '1.0.1'],
      ['1.9', '1.10'],
    ]);
    assertEqualPairs(rpmScheme, [
      ['1.0', '0:1.0'],
      ['1.01', '1.1'],
      ['1_0', '1.0'],
    ]);
  });
  test('parse: epoch, version, release', () => {
    assert.deepEqual(parseEvr('1:2.3-4.el9'), { epoch: '1', version: '2.3', release: '4.el9' });
    for (const bad of ['', ':1', 'x:1', '1-', '...']) assert.equal(rpmScheme.valid(bad), false, bad);
  });
  test('a total order on generated versions (fast-check)', () => assertTotalOrder(rpmScheme, rpmVersion));
  test("agrees with rpm's own rpm.vercmp on generated pairs", (t) => {
    if (!hasCommand('rpm', ['--version'])) return t.skip('rpm not installed');
    const pairs = samplePairs(rpmVersion, 200);
    // rpm's Lua print() writes into the macro expansion without separators: add one.
    const lua = pairs
      .map(([a, b]) => `print(rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}) .. ' ')`)
      .join(';');
    assertAgreesWith(rpmScheme, pairs, () =>
      execFileSync('rpm', ['--eval', `%{lua: ${lua}}`], { encoding: 'utf8' })
        .trim()
        .split(/\s+/)
        .map(Number),
    );
  });
});
