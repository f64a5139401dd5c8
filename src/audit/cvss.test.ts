import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import cvssLibrary from 'ae-cvss-calculator';
import fc from 'fast-check';
import { cvss3BaseScore, ratingOf, scoreCvss } from './cvss.ts';

describe('CVSS', () => {
  test('v3.x base scores of the FIRST specification examples', () => {
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'), 10);
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N'), 6.8);
    assert.equal(cvss3BaseScore('CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N'), 5.5);
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N'), 1.6);
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N'), 0);
    assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L'), undefined);
  });
  test('v4.0 scores (FIRST calculator values) and v2', () => {
    assert.equal(scoreCvss('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')?.score, 9.3);
    assert.equal(scoreCvss('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N')?.score, 6.9);
    assert.equal(scoreCvss('CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N')?.score, 5.3);
    assert.equal(
      scoreCvss('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H')?.rating,
      'critical',
    );
    assert.deepEqual(scoreCvss('AV:N/AC:L/Au:N/C:P/I:P/A:P'), {
      version: '2.0',
      vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P',
      score: 7.5,
      rating: 'high',
    });
    assert.equal(scoreCvss('CVSS:4.0/garbage'), undefined);
  });
  test('ratings on the v3 scale', () => {
    assert.deepEqual(
      [0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map((s) => ratingOf(s)),
      ['none', 'low', 'low', 'medium', 'medium', 'high', 'high', 'critical', 'critical'],
    );
  });
  test('the v3 formula here agrees with an independent implementation on every generated vector', () => {
    const metric = (name: string, values: string) =>
      fc.constantFrom(...values.split('').map((v) => `${name}:${v}`));
    const vector = fc
      .tuple(
        fc.constantFrom('3.0', '3.1'),
        metric('AV', 'NALP'),
        metric('AC', 'LH'),
        metric('PR', 'NLH'),
        metric('UI', 'NR'),
        metric('S', 'UC'),
        metric('C', 'NLH'),
        metric('I', 'NLH'),
        metric('A', 'NLH'),
      )
      .map(([v, ...m]) => `CVSS:${v}/${m.join('/')}`);
    fc.assert(
      fc.property(vector, (v) => {
        const other = v.startsWith('CVSS:3.1') ? new cvssLibrary.Cvss3P1(v) : new cvssLibrary.Cvss3P0(v);
        assert.equal(cvss3BaseScore(v), other.calculateScores().base, v);
      }),
      { numRuns: 500 },
    );
  });
});
