import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isRfc3339Instant, parseLooseDate, parseRfc3339 } from './rfc3339.ts';

test('valid RFC 3339 date-times', () => {
  const cases: [string, string][] = [
    ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01t10:00:00z', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T12:00:00+02:00', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:00:00.5-00:30', '2024-05-01T10:30:00.500Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2016-12-31T23:59:60Z', '2016-12-31T23:59:59.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ];
  for (const [text, iso] of cases) assert.equal(parseRfc3339(text)?.toISOString(), iso, text);
});

test('invalid ones', () => {
  for (const bad of [
    '2024-05-01',
    '2024-05-01 10:00:00Z',
    '2024-05-01T10:00:00',
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T10:60:00Z',
    '2024-05-01T10:00:00+24:00',
    '2024-05-01T10:00:00+0200',
    '24-05-01T10:00:00Z',
    ' 2024-05-01T10:00:00Z',
    '1714557600',
  ]) {
    assert.equal(parseRfc3339(bad), undefined, bad);
  }
});

test('loose native dates: epoch seconds and RFC 2822', () => {
  assert.equal(parseLooseDate('1714557600')?.toISOString(), '2024-05-01T10:00:00.000Z');
  assert.equal(parseLooseDate('Wed, 01 May 2024 10:00:00 +0000')?.toISOString(), '2024-05-01T10:00:00.000Z');
  assert.equal(parseLooseDate('soon'), undefined);
});

test('round trip and never throws', () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date('1000-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      (d) => {
        assert.equal(parseRfc3339(d.toISOString())?.getTime(), d.getTime());
      },
    ),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      parseRfc3339(s);
      parseLooseDate(s);
    }),
  );
});

test('instants RFC 3339 can write: years 0000 to 9999', () => {
  assert.equal(isRfc3339Instant(new Date('9999-12-31T23:59:59Z')), true);
  assert.equal(isRfc3339Instant(new Date('0000-01-01T00:00:00Z')), true);
  assert.equal(isRfc3339Instant(new Date(999999999999 * 1000)), false, 'an ar member dated 999999999999');
  assert.equal(isRfc3339Instant(new Date('-000001-01-01T00:00:00Z')), false);
  assert.equal(isRfc3339Instant(new Date(Number.NaN)), false);
});
