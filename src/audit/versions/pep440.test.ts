import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { pep440Scheme } from './pep440.ts';
import {
  assertAgreesWith,
  assertAscending,
  assertEqualPairs,
  assertTotalOrder,
  hasCommand,
  samplePairs,
} from './test-support.ts';

const n = fc.integer({ min: 0, max: 12 });
export const pep440Version = fc
  .record({
    epoch: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    release: fc.array(n, { minLength: 1, maxLength: 4 }),
    pre: fc.option(fc.tuple(fc.constantFrom('a', 'b', 'rc'), n), { nil: undefined }),
    post: fc.option(n, { nil: undefined }),
    dev: fc.option(n, { nil: undefined }),
    local: fc.option(
      fc.array(fc.oneof(n.map(String), fc.constantFrom('ubuntu', 'abc', 'deb12')), {
        minLength: 1,
        maxLength: 2,
      }),
      { nil: undefined },
    ),
  })
  .map(
    (v) =>
      `${v.epoch !== undefined ? `${v.epoch}!` : ''}${v.release.join('.')}${v.pre ? `${v.pre[0]}${v.pre[1]}` : ''}${v.post !== undefined ? `.post${v.post}` : ''}${v.dev !== undefined ? `.dev${v.dev}` : ''}${v.local ? `+${v.local.join('.')}` : ''}`,
  );

describe('PEP 440 versions (PyPI)', () => {
  test('hand-checked: dev < pre < release < local < post; epochs; normalisation', () => {
    assertAscending(pep440Scheme, [
      [
        '1.0.dev0',
        '1.0a1.dev0',
        '1.0a1',
        '1.0a1.post1',
        '1.0b1',
        '1.0rc1',
        '1.0',
        '1.0+local',
        '1.0.post1.dev0',
        '1.0.post1',
        '1.1',
      ],
      ['2.0', '1!0.1'],
      ['0.2.0-n653'.replace('-n653', ''), '0.2.1'],
    ]);
    assertEqualPairs(pep440Scheme, [
      ['1.0', '1.0.0'],
      ['1.0RC1', '1.0rc1'],
      ['1.0-post1', '1.0.post1'],
      ['v1.0', '1.0'],
    ]);
    for (const bad of ['', 'x', '1.0-n653x', '1.0++']) assert.equal(pep440Scheme.valid(bad), false, bad);
  });
  test('a total order on generated versions (fast-check)', () =>
    assertTotalOrder(pep440Scheme, pep440Version));
  test('agrees with Python packaging.version on generated pairs', (t) => {
    if (!hasCommand('python3', ['-c', 'import packaging.version']))
      return t.skip('python3 packaging not installed');
    const pairs = samplePairs(pep440Version, 300);
    const script =
      'import sys,json\nfrom packaging.version import Version as V\nfor a,b in json.load(sys.stdin):\n  x,y=V(a),V(b)\n  print(-1 if x<y else 1 if x>y else 0)';
    assertAgreesWith(pep440Scheme, pairs, () =>
      execFileSync('python3', ['-c', script], { input: JSON.stringify(pairs), encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number),
    );
  });
});
