import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseSshVerifyOutput } from './ssh-verify-output.ts';

const FP = 'SHA256:7kmrF0k7IGBHyOScNsooclqc6S0E+/91oK0dGJca83w';

test('good signature for an allowed principal', () => {
  assert.deepEqual(
    parseSshVerifyOutput(`Good "git" signature for rel@example.com with ED25519 key ${FP}\n`, 0),
    {
      kind: 'good',
      principal: 'rel@example.com',
      keyType: 'ED25519',
      fingerprint: FP,
    },
  );
});

test('a principal containing " with " keeps the real key suffix', () => {
  const out = parseSshVerifyOutput(`Good "git" signature for a with b with RSA key ${FP}`, 0);
  assert.deepEqual(out, { kind: 'good', principal: 'a with b', keyType: 'RSA', fingerprint: FP });
});

test('valid signature by a key no principal matches (check-novalidate output)', () => {
  const text = `Good "git" signature with ED25519 key ${FP}\nNo principal matched.\n`;
  assert.deepEqual(parseSshVerifyOutput(text, 1), {
    kind: 'unknown-key',
    keyType: 'ED25519',
    fingerprint: FP,
  });
});

test("bad signature reports ssh-keygen's reason", () => {
  const text = 'Could not verify signature.\nSignature verification failed: incorrect signature\n';
  assert.deepEqual(parseSshVerifyOutput(text, 1), {
    kind: 'bad',
    detail: 'Signature verification failed: incorrect signature',
  });
  assert.deepEqual(parseSshVerifyOutput('', 255), { kind: 'bad', detail: 'ssh-keygen exit status 255' });
});

test('a "Good … for" line with a failing exit status is never good', () => {
  assert.equal(parseSshVerifyOutput(`Good "git" signature for x with ED25519 key ${FP}`, 1).kind, 'bad');
});

test('property: any output parses; good requires exit status 0', () => {
  const line = fc.oneof(
    fc.string(),
    fc.string().map((p) => `Good "git" signature for ${p} with ED25519 key ${FP}`),
    fc.constant(`Good "git" signature with ED25519 key ${FP}`),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 5 }), fc.integer({ min: 0, max: 255 }), (lines, code) => {
      const out = parseSshVerifyOutput(lines.join('\n'), code);
      if (out.kind === 'good') assert.equal(code, 0);
    }),
    { numRuns: 2000 },
  );
});
