/** Subject matching against digests waybill computed itself. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { matchSubjects } from './subject-match.ts';

const FILE = { label: 'file', digests: { sha256: 'a'.repeat(64), sha512: 'b'.repeat(128) } };

test('a subject matches on every algorithm both sides have', () => {
  assert.equal(matchSubjects([{ digest: { sha256: 'a'.repeat(64) } }], [FILE]).passed, true);
  assert.equal(matchSubjects([{ name: 'pkg', digest: { sha512: 'b'.repeat(128) } }], [FILE]).passed, true);
  // A right sha256 cannot hide a wrong sha512.
  const mixed = matchSubjects([{ digest: { sha256: 'a'.repeat(64), sha512: 'c'.repeat(128) } }], [FILE]);
  assert.equal(mixed.passed, false);
  assert.match(mixed.detail, /does not match/);
});

test('any of the artifact identities may match; nothing comparable is a failure', () => {
  const image = { label: 'image manifest', digests: { sha256: 'd'.repeat(64) } };
  assert.match(
    matchSubjects([{ digest: { sha256: 'd'.repeat(64) } }], [image, FILE]).detail,
    /is the image manifest/,
  );
  assert.match(
    matchSubjects([{ digest: { md5: 'e'.repeat(32) } }], [FILE]).detail,
    /no subject has a sha256 or sha512 digest/,
  );
});

test('property: a subject carrying the artifact digest always matches, one changed digit never does', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), fc.nat(63), (hex, at) => {
      const candidate = { label: 'file', digests: { sha256: hex } };
      assert.equal(matchSubjects([{ digest: { sha256: hex } }], [candidate]).passed, true);
      const flipped = hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
      assert.equal(matchSubjects([{ digest: { sha256: flipped } }], [candidate]).passed, false);
    }),
  );
});
