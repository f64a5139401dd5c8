/** Reading signed-statement files: every shape other tools write, and hostile text never crashes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { parseSignedText } from './signed-input.ts';

const ENVELOPE = {
  payloadType: 'application/vnd.in-toto+json',
  payload: Buffer.from('{}').toString('base64'),
  signatures: [{ keyid: '', sig: 'AAAA' }],
};

test('one envelope, JSON Lines of envelopes, and an npm attestations document', () => {
  assert.equal(parseSignedText(JSON.stringify(ENVELOPE), 'a.json')[0]?.kind, 'envelope');
  const lines = parseSignedText(
    `${JSON.stringify(ENVELOPE)}\n\n${JSON.stringify(ENVELOPE)}\n`,
    'a.intoto.jsonl',
  );
  assert.deepEqual(
    lines.map((i) => i.source),
    ['a.intoto.jsonl:1', 'a.intoto.jsonl:3'],
  );
  const npm = parseSignedText(
    JSON.stringify({
      attestations: [
        { predicateType: 'x', bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' } },
      ],
    }),
    'npm.json',
  );
  // A bundle that is structurally invalid is evidence that fails, not unreadable input.
  assert.equal(npm[0]?.kind, 'invalid');
  assert.equal(npm[0]?.source, 'npm.json#attestations[0]');
});

test('a signature carrying a PEM certificate keeps it', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
  const [item] = parseSignedText(
    JSON.stringify({ ...ENVELOPE, signatures: [{ keyid: '', sig: 'AAAA', cert: pem }] }),
    'p',
  );
  assert.equal(item?.kind === 'envelope' && item.envelope.signatures[0]?.certificatePem, pem);
});

test('unreadable input is one MALFORMED error naming the file (and line)', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"payloadType": "x", "payload": "AAAA"', /^f: not valid JSON/],
    ['[1,2]', /^f: expected a Sigstore bundle or a DSSE envelope/],
    ['{"hello": 1}', /^f: neither a Sigstore bundle/],
    [`${JSON.stringify(ENVELOPE)}\nnot json\n`, /^f:2: not valid JSON/],
    [JSON.stringify({ ...ENVELOPE, payload: 'not base64!' }), /payload is not base64/],
    [JSON.stringify({ ...ENVELOPE, signatures: 'x' }), /signatures must be a list/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseSignedText(text, 'f'),
      (e) => e instanceof WaybillError && e.code === 'MALFORMED' && message.test(e.message),
    );
  }
});

test('property: any text gives items or a WaybillError, never another exception', () => {
  const jsonish = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record({ payloadType: fc.jsonValue(), payload: fc.jsonValue(), signatures: fc.jsonValue() })
      .map((v) => JSON.stringify(v)),
    fc
      .record({
        mediaType: fc.constant('application/vnd.dev.sigstore.bundle.v0.3+json'),
        verificationMaterial: fc.jsonValue(),
        dsseEnvelope: fc.jsonValue(),
      })
      .map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(fc.array(jsonish, { minLength: 1, maxLength: 3 }), (parts) => {
      try {
        parseSignedText(parts.join('\n'), 'f');
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    }),
  );
});
