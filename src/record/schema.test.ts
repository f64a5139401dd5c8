import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { INTOTO_VECTORS, readIntotoVectors } from '../../test/helpers/intoto-vectors.ts';
import { WaybillError } from '../errors.ts';
import { buildRecord, serializeRecord } from './build.ts';
import { checkStatement } from './intoto.ts';
import { sampleRecordInput } from './sample-input.ts';
import { parseRecord, RECORD_SCHEMA, RECORD_SCHEMA_V1 } from './schema.ts';

function validJson(): Record<string, unknown> {
  return JSON.parse(serializeRecord(buildRecord(sampleRecordInput())));
}

/** Sets the value at a JSON Pointer (creating nothing; the parent must exist), or deletes it. */
function mutate(pointer: string, value: unknown, remove = false): string {
  const doc = validJson();
  const parts = pointer.split('/').slice(1);
  const last = parts.pop()!;
  let node = doc as Record<string, unknown>;
  for (const p of parts) node = node[p] as Record<string, unknown>;
  if (remove) delete node[last];
  else node[last] = value;
  return JSON.stringify(doc);
}

function rejects(json: string, expected: string): void {
  assert.throws(
    () => parseRecord(json, 'record.json'),
    (e: unknown) => {
      assert.ok(e instanceof WaybillError, String(e));
      assert.equal(e.code, 'MALFORMED');
      assert.equal(e.message, `record.json: ${expected}`);
      return true;
    },
  );
}

test('a valid record parses', () => {
  const r = parseRecord(JSON.stringify(validJson()), 'record.json');
  assert.equal(r.predicate.identity.name, 'hello');
});

test('the schema rejects each broken field with its path', () => {
  const cases: [string, unknown, string][] = [
    ['/predicate/dates/built', '2024-05-01', '/predicate/dates/built: must match format date-time'],
    [
      '/predicate/dates/built',
      '2024-05-01T12:00:00+02:00',
      '/predicate/dates/built: must be in UTC (end in Z)',
    ],
    ['/predicate/dates/published', 17, '/predicate/dates/published: must be string or null'],
    [
      '/_type',
      'https://in-toto.io/Statement/v0.1',
      '/_type: must be https://in-toto.io/Statement/v1, got "https://in-toto.io/Statement/v0.1"',
    ],
    ['/subject', [], '/subject: must be a non-empty array'],
    [
      '/subject/0/digest/sha256',
      'abc',
      '/subject/0/digest/sha256: must be 64 hex characters for sha256, got 3',
    ],
    ['/subject/0/digest/sha512', 'Z'.repeat(128), '/subject/0/digest/sha512: must be lowercase hex (sha512)'],
    [
      '/subject/0/digest',
      { gitCommit: 'a'.repeat(40) },
      '/subject/0/digest/sha256: is required (use null when not known)',
    ],
    [
      '/predicateType',
      'https://slsa.dev/provenance/v1',
      '/predicateType: must be "https://waybill.dev/release-record/v2" or "https://waybill.dev/release-record/v1" (a waybill release record)',
    ],
    [
      '/predicate/source/tree',
      'abc',
      '/predicate/source/tree: must be a full object id (40 or 64 lowercase hex characters)',
    ],
    [
      '/predicate/source/evidence/rawTag',
      'not base64!',
      '/predicate/source/evidence/rawTag: must be base64 (RFC 4648, padded)',
    ],
    [
      '/predicate/source/evidence/forged',
      'x',
      '/predicate/source/evidence/forged: is not a field of this record',
    ],
    ['/predicate/identity/name', '', '/predicate/identity/name: must NOT have fewer than 1 characters'],
    [
      '/predicate/identity/architectures',
      ['amd64', 'amd64'],
      '/predicate/identity/architectures: must NOT have duplicate items (items ## 1 and 0 are identical)',
    ],
    [
      '/predicate/identity/platforms',
      ['linux'],
      '/predicate/identity/platforms/0: must be os/arch or os/arch/variant',
    ],
    [
      '/predicate/manifest/format',
      'cyclonedx-xml',
      '/predicate/manifest/format: must be one of "cyclonedx-json", "spdx-json"',
    ],
    [
      '/predicate/manifest/digest/sha256',
      'g'.repeat(64),
      '/predicate/manifest/digest/sha256: must be 64 lowercase hex characters',
    ],
    [
      '/predicate/source/commit',
      'abc',
      '/predicate/source/commit: must be a full object id (40 or 64 lowercase hex characters)',
    ],
    ['/predicate/source/signature/verified', 'yes', '/predicate/source/signature/verified: must be boolean'],
    [
      '/predicate/source/signature/format',
      'pgp',
      '/predicate/source/signature/format: must be one of "openpgp", "ssh", "x509", null',
    ],
    ['/predicate/team/naem', 'x', '/predicate/team/naem: is not a field of this record'],
    ['/predicate/help/docs', '', '/predicate/help/docs: must NOT have fewer than 1 characters'],
    ['/predicate/support', null, '/predicate/support: must be object'],
    ['/predicate/generator/name', 'syft', '/predicate/generator/name: must be "waybill"'],
  ];
  for (const [pointer, value, expected] of cases) rejects(mutate(pointer, value), expected);
});

test('a v1 record (no tree, no evidence) is still read; v1 does not accept the v2 fields', () => {
  const v1 = validJson();
  v1.predicateType = 'https://waybill.dev/release-record/v1';
  const source = (v1.predicate as { source: Record<string, unknown> }).source;
  delete source.tree;
  delete source.evidence;
  const parsed = parseRecord(JSON.stringify(v1), 'old.json');
  assert.equal(parsed.predicateType, 'https://waybill.dev/release-record/v1');
  assert.equal(parsed.predicate.source?.evidence, undefined);
  source.tree = null;
  rejects(JSON.stringify(v1), '/predicate/source/tree: is not a field of this record');
});

test('a v2 record without its evidence is refused: the evidence is a fact like the others', () => {
  rejects(
    mutate('/predicate/source/evidence', undefined, true),
    '/predicate/source/evidence: is required (use null when not known)',
  );
  rejects(
    mutate('/predicate/source/tree', undefined, true),
    '/predicate/source/tree: is required (use null when not known)',
  );
});

test('the schema rejects a missing fact instead of treating it as null', () => {
  rejects(
    mutate('/predicate/manifest', undefined, true),
    '/predicate/manifest: is required (use null when not known)',
  );
  rejects(
    mutate('/predicate/team/contact', undefined, true),
    '/predicate/team/contact: is required (use null when not known)',
  );
});

test('bad JSON and non-objects are MALFORMED', () => {
  rejects('{"_type": ', 'not valid JSON: Unexpected end of JSON input');
  rejects('[]', '/: must be a JSON object (in-toto Statement)');
  rejects('null', '/: must be a JSON object (in-toto Statement)');
});

test('every schema property has a description (v2 and v1)', () => {
  const missing: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Record<string, unknown>;
    if (obj.properties && typeof obj.properties === 'object') {
      for (const [k, v] of Object.entries(obj.properties as Record<string, Record<string, unknown>>)) {
        if (typeof v.description !== 'string') missing.push(`${path}/${k}`);
      }
    }
    for (const [k, v] of Object.entries(obj)) walk(v, `${path}/${k}`);
  };
  walk(RECORD_SCHEMA, '');
  walk(RECORD_SCHEMA_V1, 'v1');
  assert.deepEqual(missing, []);
});

test('in-toto upstream vectors: good statements pass, bad* fail', (t) => {
  const rows = readIntotoVectors();
  if (!rows) {
    t.skip(`in-toto vectors not found at ${INTOTO_VECTORS}`);
    return;
  }
  let checked = 0;
  for (const row of rows) {
    const bad = row.var.startsWith('bad');
    if (row.source.endsWith('statement_test.go')) {
      if (row.var === 'stStringTemplate') {
        // Only the v1 type URI is valid for a v1 Statement.
        const at = (v: string) => JSON.parse(JSON.stringify(row.value).replace('v%s', `v${v}`));
        assert.equal(checkStatement(at('1')), undefined);
        for (const v of ['0.1', '2', '1.0', ''])
          assert.ok(checkStatement(at(v)), `Statement/v${v} must fail`);
        checked++;
        continue;
      }
      assert.equal(
        checkStatement(row.value) === undefined,
        !bad,
        `${row.var}: ${JSON.stringify(checkStatement(row.value))}`,
      );
      checked++;
    } else if (row.source.endsWith('resource_descriptor_test.go')) {
      // A ResourceDescriptor vector, checked as the sole subject of an otherwise valid Statement.
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [row.value],
        predicateType: 'x',
        predicate: {},
      };
      const issue = checkStatement(statement);
      assert.equal(issue === undefined, !bad, `${row.var}: ${JSON.stringify(issue)}`);
      // The full record check must agree with the Statement-level check on bad digests.
      if (bad) {
        const record = validJson();
        record.subject = [row.value];
        assert.throws(() => parseRecord(JSON.stringify(record), row.var), WaybillError);
      }
      checked++;
    }
  }
  assert.equal(checked, 11, 'expected 3 statement and 8 resource-descriptor vectors');
});

test('fast-check: parseRecord on random text throws only WaybillError', () => {
  const valid = serializeRecord(buildRecord(sampleRecordInput()));
  const arbitraryText = fc.oneof(
    fc.string(),
    fc.json(),
    // Mutations of a real record: truncations and single-character edits reach the schema paths.
    fc
      .tuple(fc.nat(valid.length), fc.string({ maxLength: 3 }))
      .map(([i, s]) => valid.slice(0, i) + s + valid.slice(i + 1)),
    fc.nat(valid.length).map((i) => valid.slice(0, i)),
  );
  fc.assert(
    fc.property(arbitraryText, (text) => {
      try {
        parseRecord(text, 'fuzz.json');
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
        assert.equal(e.code, 'MALFORMED');
        assert.ok(!e.message.includes('\n'), 'one-line message');
      }
    }),
    { numRuns: 2000 },
  );
});

test('the example in docs/record.md is a valid record and every field is documented', (t) => {
  const docs = join(dirname(fileURLToPath(import.meta.url)), '../../docs/record.md');
  if (!existsSync(docs)) {
    t.skip('docs/record.md not found');
    return;
  }
  const text = readFileSync(docs, 'utf8');
  const example = /```json\n([\s\S]*?)\n```/.exec(text)?.[1];
  assert.ok(example, 'docs/record.md has a json example');
  parseRecord(example, 'docs/record.md');
  const fields: string[] = [];
  const walk = (node: Record<string, unknown>, path: string): void => {
    const props = node.properties as Record<string, Record<string, unknown>> | undefined;
    for (const [k, v] of Object.entries(props ?? {})) {
      fields.push(path ? `${path}.${k}` : k);
      const ref = typeof v.$ref === 'string' ? v.$ref.replace('#/$defs/', '') : undefined;
      const target = ref ? ((RECORD_SCHEMA.$defs as Record<string, Record<string, unknown>>)[ref] ?? v) : v;
      if (k !== 'subject') walk(target, path ? `${path}.${k}` : k);
    }
  };
  walk(RECORD_SCHEMA, '');
  const undocumented = fields
    .map((f) => f.replace(/^predicate\./, ''))
    .filter((f) => !['predicate', 'digest.sha256'].includes(f) && !text.includes(`\`${f}`));
  assert.deepEqual(undocumented, []);
});
