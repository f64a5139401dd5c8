import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { displayBytes, parseTagObject } from './tag-object.ts';

const COMMIT = 'fbf0f2efee4361f4c1fa3227569aeb1cadeeda41';
const SSH_SIG = '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n';
const PGP_SIG = '-----BEGIN PGP SIGNATURE-----\n\niHUEABYKAB0WIQ\n-----END PGP SIGNATURE-----\n';

function tagText(name: string, message: string, signature = ''): string {
  return `object ${COMMIT}\ntype commit\ntag ${name}\ntagger T <t@e> 1795575686 +0000\n\n${message}${signature}`;
}

test('parses a signed SSH tag: headers, payload and signature block', () => {
  const text = tagText('v1.0', 'rel\n', SSH_SIG);
  const tag = parseTagObject(text, 'x');
  assert.equal(tag.object, COMMIT);
  assert.equal(tag.type, 'commit');
  assert.equal(tag.tag, 'v1.0');
  assert.equal(tag.tagger, 'T <t@e> 1795575686 +0000');
  assert.deepEqual(tag.signature, { format: 'ssh', armor: SSH_SIG });
  assert.equal(tag.payload + SSH_SIG, text);
});

test('detects OpenPGP, x509 and unsigned tags', () => {
  assert.equal(parseTagObject(tagText('a', 'm\n', PGP_SIG), 'x').signature?.format, 'openpgp');
  const x509 = '-----BEGIN SIGNED MESSAGE-----\nMIAG\n-----END SIGNED MESSAGE-----\n';
  assert.equal(parseTagObject(tagText('a', 'm\n', x509), 'x').signature?.format, 'x509');
  const unsigned = parseTagObject(tagText('a', 'just a message\n'), 'x');
  assert.equal(unsigned.signature, null);
  assert.equal(unsigned.payload, tagText('a', 'just a message\n'));
});

test('the signature starts at the LAST armor line, as in git', () => {
  // A message quoting an armor line must not be taken for the signature start.
  const message = 'see:\n-----BEGIN PGP SIGNATURE-----\nquoted\n';
  const tag = parseTagObject(tagText('a', message, SSH_SIG), 'x');
  assert.equal(tag.signature?.format, 'ssh');
  assert.equal(tag.signature?.armor, SSH_SIG);
  // An armor string inside a line (not at its start) is not a signature.
  assert.equal(parseTagObject(tagText('a', 'x -----BEGIN PGP SIGNATURE-----\n'), 'x').signature, null);
});

test('keeps tag names as bytes: different invalid UTF-8 names stay different', () => {
  const a = parseTagObject(tagText('v1\xff', 'm\n'), 'x').tag;
  const b = parseTagObject(tagText('v1\xfe', 'm\n'), 'x').tag;
  assert.notEqual(a, b);
  assert.equal(displayBytes(Buffer.from('vé', 'utf8').toString('latin1')), 'vé');
});

test('accepts SHA-256 object ids, multi-line extra headers and old tags without tagger', () => {
  const sha256 = 'a'.repeat(64);
  const text = `object ${sha256}\ntype commit\ntag v2\ngpgsig -----BEGIN X-----\n line\n -----END X-----\n\nmsg\n`;
  const tag = parseTagObject(text, 'x');
  assert.equal(tag.object, sha256);
  assert.equal(tag.tagger, null);
  assert.equal(tag.signature, null);
});

test('rejects malformed tag objects with WaybillError MALFORMED', () => {
  const bad = [
    '',
    'tree abc\n\n',
    `object ${COMMIT}\ntag v1\ntype commit\n\n`,
    `object ${COMMIT.slice(1)}\ntype commit\ntag v1\n\n`,
    `object ${COMMIT}\ntype banana\ntag v1\n\n`,
    `object ${COMMIT}\ntype commit\ntag \n\n`,
    ` object ${COMMIT}\n`,
    `object ${COMMIT}\ntype commit\nnovalue\n\n`,
  ];
  for (const text of bad) {
    assert.throws(
      () => parseTagObject(text, 'obj'),
      (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED' && e.input === 'obj',
      JSON.stringify(text),
    );
  }
});

test('property: random bytes never throw anything but WaybillError', () => {
  const header = fc.constantFrom(
    '',
    `object ${COMMIT}\n`,
    `object ${COMMIT}\ntype commit\n`,
    `object ${COMMIT}\ntype commit\ntag v\n`,
  );
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 300 }), (prefix, bytes) => {
      const text = prefix + Buffer.from(bytes).toString('latin1');
      try {
        parseTagObject(text, 'fuzz');
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: payload + signature armor is always the whole object', () => {
  const line = fc.string({ maxLength: 30 }).map((s) => s.replace(/\n/g, ' '));
  fc.assert(
    fc.property(fc.array(line, { maxLength: 6 }), fc.constantFrom('', SSH_SIG, PGP_SIG), (lines, sig) => {
      const text = tagText('v1', lines.map((l) => `${l}\n`).join(''), sig);
      const tag = parseTagObject(text, 'p');
      assert.equal(tag.payload + (tag.signature?.armor ?? ''), text);
      if (sig !== '') assert.equal(tag.signature?.armor.endsWith(sig), true);
    }),
  );
});
