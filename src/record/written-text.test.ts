import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildRecord } from './build.ts';
import { assertRecordTexts, assertWritableText } from './written-text.ts';

const SUBJECT = [{ name: 'hello', digest: { sha256: 'a'.repeat(64) } }];

test('one-line fields refuse every control and invisible formatting character', () => {
  for (const bad of [
    'a\nb',
    'a\u001b[2J',
    'a\tb',
    'x\u0085',
    'x\u009b',
    'abc\u202e',
    'a\u2066b',
    'a\u200bb',
    'a\ufeff',
    'a\u2028',
  ]) {
    assert.throws(
      () => assertWritableText('help.bugTracker', `https://bugs.example.org/${bad}`),
      (e: Error & { code?: string }) =>
        e.code === 'USAGE' && /^help\.bugTracker: contains the control character \\/.test(e.message),
    );
  }
  assertWritableText('team.name', 'Zoë Ångström — Kolla team');
  assertWritableText('identity.version', '1.2.3~rc1+dfsg-1');
});

test('multi-line text allows newlines and tabs only', () => {
  assertWritableText('support.disclaimer', 'Provided AS IS,\n\tWITHOUT WARRANTY.\n', { multiline: true });
  // A carriage return rewrites the line it is on: not a newline.
  assert.throws(
    () => assertWritableText('support.disclaimer', 'NO WARRANTY\rFULL WARRANTY', { multiline: true }),
    /\\r/,
  );
  assert.throws(
    () => assertWritableText('support.disclaimer', 'AS IS\u001b[8m hidden', { multiline: true }),
    /\\x1b/,
  );
  assert.throws(
    () => assertWritableText('support.statement', 'by us \u202e', { multiline: true }),
    /\\u202e/,
  );
});

test('buildRecord refuses a record that would carry a control character', () => {
  assert.throws(
    () =>
      buildRecord({ subject: SUBJECT, help: { bugTracker: 'https://x.example/\n  signature    verified' } }),
    /help\.bugTracker: contains the control character \\n/,
  );
  assert.throws(
    () => buildRecord({ subject: SUBJECT, identity: { name: 'he\u001b]0;pwned\u0007llo' } }),
    /identity\.name/,
  );
  assert.ok(buildRecord({ subject: SUBJECT, support: { disclaimer: 'line one\nline two' } }));
});

test('property: a string passes the one-line rule exactly when it has no control or Cf character', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      const bad = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.test(s);
      let threw = false;
      try {
        assertRecordTexts({ subject: [], team: { name: s } });
      } catch {
        threw = true;
      }
      assert.equal(threw, bad);
    }),
  );
});
