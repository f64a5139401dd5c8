/**
 * The publication statement: what `publish` writes is a valid in-toto Statement v1 and valid against
 * schemas/publication-v1.schema.json; the same input gives the same bytes; hostile or damaged bytes
 * are refused as MALFORMED (never another error), and every field the schema pins is enforced.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError } from '../errors.ts';
import { checkStatement } from '../record/intoto.ts';
import {
  buildPublication,
  PUBLICATION_PREDICATE_TYPE,
  parsePublication,
  publicationIsAbout,
  publicationProblem,
  serializePublication,
  utcSeconds,
} from './publication.ts';

// biome-ignore lint/suspicious/noExplicitAny: the mutations reach into arbitrary JSON fields
type Json = any;

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const input = {
  name: 'hello',
  digest: DIGEST,
  published: new Date('2025-03-04T05:06:07.890Z'),
  target: 'docker://registry.example.org/team/hello:1.2.3',
  reference: `docker://registry.example.org/team/hello@${DIGEST}`,
  recordDigest: `sha256:${'cd'.repeat(32)}`,
  forced: [{ rule: 'dates' as const, message: 'no build date in the record' }],
};

test('a publication statement: in-toto v1, schema-valid, dated in whole UTC seconds, deterministic', () => {
  const statement = buildPublication(input);
  assert.equal(checkStatement(statement), undefined);
  assert.equal(publicationProblem(statement), undefined);
  assert.equal(statement.predicateType, PUBLICATION_PREDICATE_TYPE);
  assert.equal(statement.predicate.published, '2025-03-04T05:06:07Z');
  assert.deepEqual(statement.subject, [{ name: 'hello', digest: { sha256: 'ab'.repeat(32) } }]);
  assert.deepEqual(statement.predicate.record, { digest: { sha256: 'cd'.repeat(32) } });
  assert.deepEqual(serializePublication(buildPublication(input)), serializePublication(statement));
  const parsed = parsePublication(serializePublication(statement), 'x');
  assert.deepEqual(parsed, statement);
  assert.equal(publicationIsAbout(parsed, DIGEST), true);
  assert.equal(publicationIsAbout(parsed, `sha256:${'00'.repeat(32)}`), false);
  assert.equal(utcSeconds(new Date(0)), '1970-01-01T00:00:00Z');
});

test('the schema pins every field: a changed statement is refused with a pointer', () => {
  const good = buildPublication(input);
  const cases: Array<[string, (s: Json) => void, RegExp]> = [
    ['local time', (s) => (s.predicate.published = '2025-03-04T05:06:07+01:00'), /published/],
    ['not a date', (s) => (s.predicate.published = 'yesterday'), /published/],
    ['unknown rule', (s) => (s.predicate.forced = [{ rule: 'vibes', message: 'x' }]), /forced/],
    ['extra field', (s) => (s.predicate.signedOffBy = 'me'), /signedOffBy/],
    ['other predicate', (s) => (s.predicateType = 'https://example.org/x'), /predicateType/],
    ['no subject digest', (s) => (s.subject = [{ name: 'x', digest: {} }]), /subject/],
    ['bad record digest', (s) => (s.predicate.record = { digest: { sha256: 'XYZ' } }), /record/],
    ['empty target', (s) => (s.predicate.target = ''), /target/],
  ];
  for (const [what, change, pointer] of cases) {
    const copy = structuredClone(good) as Json;
    change(copy);
    const problem = publicationProblem(copy);
    assert.ok(problem, what);
    assert.match(problem, pointer, what);
    assert.throws(
      () => parsePublication(Buffer.from(JSON.stringify(copy)), 'stmt.json'),
      (e: unknown) => isWaybillError(e) && e.code === 'MALFORMED' && e.input === 'stmt.json',
      what,
    );
  }
  assert.throws(() => buildPublication({ ...input, target: '' }), /refusing to write an invalid publication/);
});

test('property: any bytes are a statement or one MALFORMED/LIMIT error, never a crash', () => {
  const good = JSON.stringify(buildPublication(input));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.json().map((j) => Buffer.from(j)),
        // A valid statement cut or with one byte replaced.
        fc.nat({ max: good.length - 1 }).map((n) => Buffer.from(good.slice(0, n))),
        fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
          const bytes = Buffer.from(good);
          bytes[i] = b;
          return bytes;
        }),
      ),
      (bytes) => {
        try {
          const parsed = parsePublication(bytes, 'fuzz');
          assert.equal(publicationProblem(parsed), undefined);
        } catch (e) {
          assert.ok(isWaybillError(e), String(e));
          assert.ok(['MALFORMED', 'LIMIT'].includes(e.code));
        }
      },
    ),
    { numRuns: 400 },
  );
});
