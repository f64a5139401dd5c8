import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OsvAffected, OsvEvent } from './osv-record.ts';
import { evaluateAffected } from './ranges.ts';
import { dpkgScheme } from './versions/dpkg.ts';
import { pep440Scheme } from './versions/pep440.ts';
import { semverScheme } from './versions/semver.ts';

function affected(
  type: 'SEMVER' | 'ECOSYSTEM' | 'GIT',
  events: OsvEvent[],
  versions: string[] = [],
): OsvAffected {
  return {
    severity: [],
    versions,
    ranges: [{ type, events, ...(type === 'GIT' ? { repo: 'https://x' } : {}) }],
  };
}

function check(a: OsvAffected, scheme = semverScheme, cases: Record<string, boolean | string>): void {
  for (const [version, expected] of Object.entries(cases)) {
    const v = evaluateAffected(a, version, scheme);
    assert.equal(v.affected, expected !== false, `${version}`);
    if (typeof expected === 'string') assert.deepEqual(v.fixed, [expected], `${version} fixed`);
  }
}

describe('OSV range evaluation (schema "Evaluation")', () => {
  test('introduced 0 / fixed: everything before the fix', () => {
    check(affected('SEMVER', [{ introduced: '0' }, { fixed: '1.0.2' }]), semverScheme, {
      '0.0.1': '1.0.2',
      '1.0.1': '1.0.2',
      '1.0.2-rc.1': '1.0.2',
      '1.0.2': false,
      '2.0.0': false,
    });
  });
  test('several intervals in one range; the fix reported is the one closing the interval', () => {
    const a = affected('SEMVER', [
      { introduced: '1.0.0' },
      { fixed: '1.0.2' },
      { introduced: '3.0.0' },
      { fixed: '3.2.5' },
    ]);
    check(a, semverScheme, {
      '0.9.0': false,
      '1.0.0': '1.0.2',
      '1.0.2': false,
      '2.5.0': false,
      '3.0.0': '3.2.5',
      '3.2.5': false,
    });
  });
  test('adjacent intervals (fixed X, introduced X) keep X affected; events out of order are sorted', () => {
    const a = affected('SEMVER', [
      { fixed: '2.0.0' },
      { introduced: '1.0.0' },
      { introduced: '2.0.0' },
      { fixed: '2.1.0' },
    ]);
    check(a, semverScheme, { '1.5.0': '2.0.0', '2.0.0': '2.1.0', '2.1.0': false });
  });
  test('last_affected includes its version; no fixed version is reported', () => {
    const a = affected('ECOSYSTEM', [{ introduced: '0' }, { last_affected: '2.1.214' }]);
    const v = evaluateAffected(a, '2.1.214', pep440Scheme);
    assert.equal(v.affected, true);
    assert.deepEqual(v.fixed, []);
    assert.equal(evaluateAffected(a, '2.1.215', pep440Scheme).affected, false);
  });
  test('limit: only versions below a limit are in the range; "*" is infinity', () => {
    const a = affected('SEMVER', [{ introduced: '1.0.0' }, { limit: '1.5.0' }]);
    check(a, semverScheme, { '1.0.0': true, '1.4.9': true, '1.5.0': false, '2.0.0': false });
    check(affected('SEMVER', [{ introduced: '1.0.0' }, { limit: '*' }]), semverScheme, { '9.0.0': true });
  });
  test('explicit versions lists, compared by the ecosystem (PEP 440: 1.0 == 1.0.0)', () => {
    const a = affected('ECOSYSTEM', [{ introduced: '5.0' }], ['1.0', '1.1']);
    check(a, pep440Scheme, { '1.0.0': true, '1.1': true, '1.2': false, '5.1': true });
  });
  test('ECOSYSTEM ranges use the ecosystem order (dpkg: ~ before the release, epochs)', () => {
    const a = affected('ECOSYSTEM', [{ introduced: '0' }, { fixed: '1.2.1-2.2+wheezy3' }]);
    check(a, dpkgScheme, {
      '1.2.1-2.2+wheezy2': '1.2.1-2.2+wheezy3',
      '1.2.1-2.2+wheezy3': false,
      '1:1.0': false,
      '1.2.1-2.2~bpo1': true,
    });
  });
  test('GIT ranges are skipped and counted; unparseable bounds are reported, not guessed', () => {
    const git = evaluateAffected(
      affected('GIT', [{ introduced: '0' }, { fixed: 'a'.repeat(40) }]),
      '1.0.0',
      semverScheme,
    );
    assert.equal(git.affected, false);
    assert.equal(git.gitRanges, 1);
    const bad = evaluateAffected(
      affected('ECOSYSTEM', [{ introduced: '0' }, { fixed: 'not a version!' }]),
      '1.0',
      pep440Scheme,
    );
    assert.equal(
      bad.affected,
      true,
      'the unparseable fixed event is dropped, the introduced one still holds',
    );
    assert.match(bad.problems[0] ?? '', /not a pep440 version/);
    const badVersion = evaluateAffected(affected('SEMVER', [{ introduced: '0' }]), 'banana', semverScheme);
    assert.equal(badVersion.affected, false);
    assert.match(badVersion.problems[0] ?? '', /"banana" is not a semver version/);
  });
});
