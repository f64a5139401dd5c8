import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { goScheme, goToOsvVersion, semverScheme } from './semver.ts';
import { assertAscending, assertEqualPairs, assertTotalOrder } from './test-support.ts';

const num = fc.integer({ min: 0, max: 20 }).map(String);
const ident = fc.oneof(num, fc.constantFrom('alpha', 'beta', 'rc', 'a', '0a', 'x-y'));
export const semverVersion = fc
  .tuple(
    num,
    num,
    num,
    fc.array(ident, { maxLength: 3 }),
    fc.option(fc.constantFrom('build.1', 'incompatible', 'x'), { nil: undefined }),
  )
  .map(
    ([a, b, c, pre, build]) =>
      `${a}.${b}.${c}${pre.length > 0 ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`,
  );
const pseudo = fc
  .tuple(
    num,
    num,
    num,
    fc.integer({ min: 20180101000000, max: 20261231235959 }),
    fc.constantFrom('abcdef123456', '0123456789ab'),
  )
  .map(([a, b, c, t, h]) => `v${a}.${b}.${c}-0.${t}-${h}`);

describe('SemVer 2.0.0 (OSV SEMVER ranges, npm, crates.io) and Go versions', () => {
  test('hand-checked: SemVer §11 precedence, build metadata ignored', () => {
    assertAscending(semverScheme, [
      [
        '1.0.0-alpha',
        '1.0.0-alpha.1',
        '1.0.0-alpha.beta',
        '1.0.0-beta',
        '1.0.0-beta.2',
        '1.0.0-beta.11',
        '1.0.0-rc.1',
        '1.0.0',
      ],
      ['1.9.0', '1.10.0', '1.11.0'],
    ]);
    assertEqualPairs(semverScheme, [['1.0.0+build.1', '1.0.0+other']]);
    for (const bad of ['1.0', '01.0.0', '1.0.0-', 'x']) assert.equal(semverScheme.valid(bad), false, bad);
  });
  test('Go: v prefix, pseudo-versions before their release, +incompatible, toolchain spellings', () => {
    assertAscending(goScheme, [
      [
        'v0.0.0-20210101000000-abcdef123456',
        'v0.1.0',
        'v1.2.3',
        'v1.2.4-0.20230101120000-abcdef123456',
        'v1.2.4',
        'v2.0.0+incompatible',
      ],
      ['go1.21rc2', 'go1.21', 'go1.21.5', 'go1.22.0'],
      ['go1.9beta1', 'go1.9', '1.9.1'],
    ]);
    assert.equal(goToOsvVersion('go1.21'), '1.21.0');
    assert.equal(goToOsvVersion('go1.21rc2'), '1.21.0-rc.2');
    assert.equal(goToOsvVersion('go1.22.1'), '1.22.1');
    assert.equal(goToOsvVersion('v1.2.3'), '1.2.3');
    assert.equal(goToOsvVersion('(devel)'), undefined);
    assertEqualPairs(goScheme, [['v2.0.0+incompatible', '2.0.0']]);
  });
  test('total orders on generated versions (fast-check)', () => {
    assertTotalOrder(semverScheme, semverVersion);
    assertTotalOrder(
      goScheme,
      fc.oneof(
        semverVersion.map((v) => `v${v}`),
        pseudo,
      ),
    );
  });
});
