import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isTrustedGpgKey, normalizeKeyId, parseGpgStatus } from './gpg-status.ts';

const FPR = 'BEF9E3B1573976D69CD36A4232ECF0C9C7DA0DD9';
const SUBKEY = '0123456789ABCDEF0123456789ABCDEF01234567';

// Captured from `git verify-tag --raw` with gpg 2.2.40.
const GOOD = `gpg: checking the trustdb
[GNUPG:] NEWSIG
[GNUPG:] KEY_CONSIDERED ${FPR} 0
[GNUPG:] SIG_ID d7RcXnIou5xmDwZcKTfmuTO7Ui8 2026-11-25 1795575686
[GNUPG:] GOODSIG 32ECF0C9C7DA0DD9 Rel Ease <rel@example.com>
[GNUPG:] VALIDSIG ${FPR} 2026-11-25 1795575686 0 4 0 22 8 00 ${FPR}
[GNUPG:] TRUST_ULTIMATE 0 pgp
`;
const BAD = `[GNUPG:] NEWSIG
[GNUPG:] KEY_CONSIDERED ${FPR} 0
[GNUPG:] BADSIG 32ECF0C9C7DA0DD9 Rel <rel@example.com>
`;
const NO_KEY = `[GNUPG:] NEWSIG
[GNUPG:] ERROR keydb_search 33554445
[GNUPG:] ERRSIG 32ECF0C9C7DA0DD9 22 8 00 1795575686 9 ${FPR}
[GNUPG:] NO_PUBKEY 32ECF0C9C7DA0DD9
`;

test('good signature: fingerprints from VALIDSIG, user id from GOODSIG', () => {
  assert.deepEqual(parseGpgStatus(GOOD), {
    kind: 'good',
    fingerprint: FPR,
    primaryFingerprint: FPR,
    userId: 'Rel Ease <rel@example.com>',
  });
});

test('subkey signature: the primary fingerprint is field 10 of VALIDSIG', () => {
  const sub = GOOD.replace(`VALIDSIG ${FPR}`, `VALIDSIG ${SUBKEY}`);
  const out = parseGpgStatus(sub);
  assert.equal(out.kind, 'good');
  if (out.kind === 'good') {
    assert.equal(out.fingerprint, SUBKEY);
    assert.equal(out.primaryFingerprint, FPR);
  }
  // Without field 10 the signing key is the primary.
  const noPrimary = GOOD.replace(` 00 ${FPR}\n`, ' 00\n');
  assert.equal((parseGpgStatus(noPrimary) as { primaryFingerprint: string }).primaryFingerprint, FPR);
});

test('bad, missing key, expired, revoked, none, multiple', () => {
  assert.deepEqual(parseGpgStatus(BAD), {
    kind: 'bad',
    keyId: '32ECF0C9C7DA0DD9',
    userId: 'Rel <rel@example.com>',
  });
  assert.deepEqual(parseGpgStatus(NO_KEY), { kind: 'missing-key', keyId: FPR });
  assert.equal(parseGpgStatus(GOOD.replace('GOODSIG', 'EXPKEYSIG')).kind, 'expired-key');
  assert.equal(parseGpgStatus(GOOD.replace('GOODSIG', 'EXPSIG')).kind, 'expired-signature');
  assert.equal(parseGpgStatus(GOOD.replace('GOODSIG', 'REVKEYSIG')).kind, 'revoked-key');
  assert.deepEqual(parseGpgStatus('error: cannot run gpg: No such file or directory\n'), { kind: 'none' });
  assert.deepEqual(parseGpgStatus(GOOD + BAD), { kind: 'multiple', count: 2 });
  assert.equal(parseGpgStatus(GOOD.replace(/.*VALIDSIG.*\n/, '')).kind, 'error');
  assert.equal(parseGpgStatus(NO_KEY.replace(' 9 ', ' 4 ')).kind, 'error');
});

test('a status keyword inside ordinary stderr text is not a status line', () => {
  assert.deepEqual(parseGpgStatus(`gpg: [GNUPG:] GOODSIG 1 x\nVALIDSIG ${FPR}\n`), { kind: 'none' });
});

test('trusted keys: full fingerprints, long ids as suffix, never short ids', () => {
  const signer = { fingerprint: SUBKEY, primaryFingerprint: FPR };
  assert.equal(isTrustedGpgKey([FPR.toLowerCase()], signer), FPR);
  assert.equal(isTrustedGpgKey([SUBKEY], signer), SUBKEY);
  assert.equal(isTrustedGpgKey([`0x${FPR.slice(-16)}`], signer), FPR);
  assert.equal(isTrustedGpgKey([FPR.slice(-8)], signer), null);
  assert.equal(isTrustedGpgKey([FPR.slice(0, 20)], signer), null); // a prefix is not a key id
  assert.equal(isTrustedGpgKey(['not hex at all!!!!!!'], signer), null);
  assert.equal(isTrustedGpgKey([], signer), null);
  assert.equal(normalizeKeyId(' 0xbef9 e3b1:5739 '), 'BEF9E3B15739');
});

test('property: any text parses without throwing', () => {
  const statusish = fc.array(
    fc.oneof(
      fc.string(),
      fc
        .tuple(
          fc.constantFrom('GOODSIG', 'VALIDSIG', 'BADSIG', 'ERRSIG', 'NEWSIG', 'EXPKEYSIG', 'ERROR'),
          fc.string(),
        )
        .map(([k, rest]) => `[GNUPG:] ${k} ${rest}`),
    ),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(statusish, (lines) => {
      const out = parseGpgStatus(lines.join('\n'));
      if (out.kind === 'good') assert.match(out.primaryFingerprint, /^[0-9A-F]{32,64}$/);
    }),
    { numRuns: 2000 },
  );
});

test('property: only a lone GOODSIG with VALIDSIG is good', () => {
  const hex = fc.stringMatching(/^[0-9A-F]{40}$/);
  fc.assert(
    fc.property(hex, fc.constantFrom('GOODSIG', 'BADSIG', 'EXPSIG', 'EXPKEYSIG', 'REVKEYSIG'), (fpr, kw) => {
      const text = `[GNUPG:] NEWSIG\n[GNUPG:] ${kw} ${fpr.slice(-16)} U <u@x>\n[GNUPG:] VALIDSIG ${fpr} d 1 0 4 0 22 8 00 ${fpr}\n`;
      assert.equal(parseGpgStatus(text).kind === 'good', kw === 'GOODSIG');
    }),
  );
});
