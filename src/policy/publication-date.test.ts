/**
 * Guideline 3 with a publication statement: the record has no publish date (stamp writes it before
 * publishing), the statement gives it; the dates rule judges it like a recorded one and says where it
 * came from. A record's own date wins.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck } from './check.ts';
import { goodInput } from './test-support.ts';
import type { CheckInput } from './types.ts';

const PUBLICATION = {
  published: '2024-05-03T08:00:00Z',
  target: 'docker://registry.example.org/kolla/keystone:1.2.3',
  location: 'referrer sha256:… in docker://registry.example.org/kolla/keystone',
};

function dates(change: (input: CheckInput) => void) {
  const input = goodInput();
  change(input);
  return runCheck(input).rules.find((r) => r.id === 'dates')!;
}

test('the publish date from a publication statement passes, and the finding names the statement', () => {
  const rule = dates((i) => {
    i.record!.predicate.dates.published = null;
    i.publication = PUBLICATION;
  });
  assert.equal(rule.status, 'pass');
  const shown = rule.findings.find((f) => f.message.startsWith('published'));
  assert.equal(
    shown?.message,
    `published ${PUBLICATION.published} (publication statement, ${PUBLICATION.target})`,
  );
  assert.equal(shown?.path, `publication:${PUBLICATION.location}#/predicate/published`);
});

test('without either date, a published artifact fails; the record is not changed by the check', () => {
  const input = goodInput();
  input.record!.predicate.dates.published = null;
  assert.equal(runCheck(input).rules.find((r) => r.id === 'dates')?.status, 'fail');
  input.publication = PUBLICATION;
  runCheck(input);
  assert.equal(input.record!.predicate.dates.published, null);
});

test('a statement dated before the build, or in the future, fails like a recorded date', () => {
  for (const published of ['2024-04-01T00:00:00Z', '2030-01-01T00:00:00Z']) {
    const rule = dates((i) => {
      i.record!.predicate.dates.published = null;
      i.publication = { ...PUBLICATION, published };
    });
    assert.equal(rule.status, 'fail', published);
  }
});

test("the record's own publish date wins over a statement's", () => {
  const rule = dates((i) => {
    i.publication = PUBLICATION;
  });
  assert.match(rule.findings.find((f) => f.message.startsWith('published'))?.message ?? '', /\(record\)$/);
});
