import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WaybillError } from '../errors.ts';
import { toolVersion } from '../version.ts';
import { buildRecord, serializeRecord, utcTimestamp } from './build.ts';
import { defaultDisclaimer, defaultSupportStatement } from './disclaimer.ts';
import { DIGEST_A, sampleRecordInput } from './sample-input.ts';
import { parseRecord } from './schema.ts';

test('buildRecord fills every fact, normalises order and dates', () => {
  const r = buildRecord(sampleRecordInput());
  assert.equal(r._type, 'https://in-toto.io/Statement/v1');
  assert.equal(r.predicateType, 'https://waybill.dev/release-record/v2');
  assert.equal(r.predicate.source?.tree, 'e'.repeat(40));
  assert.match(r.predicate.source?.evidence?.rawTag ?? '', /^b2JqZWN0I/);
  assert.deepEqual(
    r.subject.map((s) => s.name),
    ['hello_1.2.3_amd64.deb', 'hello_1.2.3_arm64.deb'],
  );
  assert.deepEqual(r.predicate.identity.architectures, ['amd64', 'arm64']);
  assert.equal(r.predicate.dates.built, '2024-05-01T12:00:00Z');
  assert.equal(r.predicate.dates.published, '2024-05-02T09:30:00Z');
  assert.deepEqual(r.predicate.generator, { name: 'waybill', version: toolVersion() });
  assert.match(toolVersion(), /^\d+\.\d+\.\d+/);
});

test('buildRecord: missing facts are null, never omitted', () => {
  const r = buildRecord({
    subject: [{ name: 'x.tar.gz', digest: { sha256: DIGEST_A } }],
    team: { name: '  ' },
  });
  const p = r.predicate;
  assert.deepEqual(p.identity, { name: null, version: null, architectures: [] });
  assert.equal(p.manifest, null);
  assert.deepEqual(p.dates, { built: null, published: null });
  assert.equal(p.source, null);
  assert.deepEqual(p.team, { name: null, contact: null });
  assert.deepEqual(p.help, { bugTracker: null, docs: null });
  assert.deepEqual(p.support, { license: null, disclaimer: null, statement: null });
  const json = serializeRecord(r);
  for (const key of [
    'manifest',
    'source',
    'built',
    'published',
    'contact',
    'bugTracker',
    'docs',
    'disclaimer',
  ]) {
    assert.match(json, new RegExp(`"${key}": null`), key);
  }
});

test('buildRecord: a source without evidence says so with nulls (never a missing key)', () => {
  const input = sampleRecordInput();
  const { tree: _t, evidence: _e, ...bare } = input.source!;
  const r = buildRecord({ ...input, source: bare });
  assert.equal(r.predicate.source?.tree, null);
  assert.deepEqual(r.predicate.source?.evidence, { rawTag: null, rawCommit: null });
  const json = serializeRecord(r);
  assert.ok(json.indexOf('"tree"') < json.indexOf('"tagObject"'), 'tree follows commit');
  assert.ok(json.indexOf('"reason"') < json.indexOf('"evidence"'), 'evidence follows the signature');
});

test('round trip: build → serialize → parse → serialize is byte-identical', () => {
  const first = serializeRecord(buildRecord(sampleRecordInput()));
  const second = serializeRecord(parseRecord(first, 'record.json'));
  assert.equal(second, first);
  // Same input, same bytes, whatever order the facts came in.
  const shuffled = sampleRecordInput();
  shuffled.subject.reverse();
  assert.equal(serializeRecord(buildRecord(shuffled)), first);
});

test('serializeRecord: documented key order, 2-space indent, trailing newline', () => {
  const json = serializeRecord(buildRecord(sampleRecordInput()));
  assert.ok(json.endsWith('}\n') && !json.endsWith('\n\n'));
  assert.ok(json.startsWith('{\n  "_type": "https://in-toto.io/Statement/v1",\n  "subject": ['));
  const order = [
    '"predicateType"',
    '"predicate"',
    '"identity"',
    '"manifest"',
    '"dates"',
    '"source"',
    '"team"',
    '"help"',
    '"support"',
    '"generator"',
  ];
  const positions = order.map((k) => json.indexOf(`${k}:`));
  assert.deepEqual(
    [...positions].sort((a, b) => a - b),
    positions,
  );
  // A record built with keys in another order serialises identically.
  const r = buildRecord(sampleRecordInput());
  const reordered = {
    predicate: r.predicate,
    subject: r.subject,
    predicateType: r.predicateType,
    _type: r._type,
  };
  assert.equal(serializeRecord(reordered), json);
});

test('buildRecord refuses values its own schema would reject', () => {
  const bad = sampleRecordInput();
  bad.dates = { built: 'yesterday' };
  assert.throws(
    () => buildRecord(bad),
    (e: unknown) => {
      assert.ok(e instanceof WaybillError);
      assert.equal(e.code, 'USAGE');
      return true;
    },
  );
  // A relative bug tracker URL is recorded as given: the help rule of check reports it, stamp does not refuse.
  const relative = sampleRecordInput();
  relative.help = { bugTracker: 'bugs.example.org' };
  assert.equal(buildRecord(relative).predicate.help.bugTracker, 'bugs.example.org');
  assert.throws(() => buildRecord({ subject: [] }), /\/subject: must be a non-empty array/);
  assert.throws(
    () => buildRecord({ subject: [{ name: 'x', digest: { sha256: 'ABC' } }] }),
    /\/subject\/0\/digest\/sha256: must be lowercase hex/,
  );
});

test('utcTimestamp keeps sub-second precision and rejects nothing silently', () => {
  assert.equal(utcTimestamp('2024-01-01T00:00:00.250Z'), '2024-01-01T00:00:00.250Z');
  assert.equal(utcTimestamp(new Date(0)), '1970-01-01T00:00:00Z');
  assert.equal(utcTimestamp('yesterday'), 'yesterday');
  assert.equal(utcTimestamp(''), null);
});

test('default disclaimer and support statement', () => {
  const apache = defaultDisclaimer('Apache-2.0');
  assert.ok(apache?.includes('"AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND'));
  assert.match(apache ?? '', /section 7/);
  assert.match(apache ?? '', /section 8/);
  assert.equal(defaultDisclaimer('Apache-2.0 WITH LLVM-exception'), apache);
  const mit = defaultDisclaimer('MIT OR GPL-2.0-only');
  assert.match(mit ?? '', /under the terms of MIT OR GPL-2\.0-only/);
  assert.doesNotMatch(mit ?? '', /Apache/);
  assert.equal(defaultDisclaimer(null), null);
  assert.equal(
    defaultSupportStatement('Example Release Team', 'https://bugs.example.org'),
    'Support, if any, is offered by Example Release Team only, through https://bugs.example.org; no other ' +
      'person or organisation offers or implies support for this artifact.',
  );
  assert.match(
    defaultSupportStatement('T', null) ?? '',
    /^Support, if any, is offered by T only; no other person/,
  );
  assert.equal(defaultSupportStatement(null, 'https://x'), null);
});
