/**
 * Every sigstore-conformance bundle-verify case through verifyArtifact, as a consumer would run it:
 * the case's artifact (or a.txt), its bundle, its key or trusted root (else the embedded public-good
 * root), its identity and issuer (else the suite's defaults). A case named `*_fail` must not verify;
 * every other case must. Cases whose input is unreadable (exit 2) are listed, the rest fail as
 * verdicts (exit 1).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyArtifact } from '../app/verify.ts';
import { WaybillError } from '../errors.ts';
import { CONFORMANCE, CONFORMANCE_IDENTITY, CONFORMANCE_ISSUER, needsFixtures } from './test-support.ts';

const skip = needsFixtures(CONFORMANCE);

/** Unreadable consumer input, not bad evidence: a truncated bundle, a corrupt key, a malformed root. */
const UNREADABLE = new Set([
  'bundle-malformed-json_fail',
  'managed-key-wrong-key_fail',
  'trust-root-tlog-missing-validity-start_fail',
]);

function caseFile(dir: string, name: string): string | undefined {
  const path = join(dir, name);
  return existsSync(path) ? path : undefined;
}

test('sigstore-conformance: every bundle-verify case gives the expected answer', { skip }, async () => {
  const cases = readdirSync(CONFORMANCE, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  assert.ok(cases.length >= 70, `expected the 70 cases, found ${cases.length}`);
  const wrong: string[] = [];
  for (const name of cases) {
    const dir = join(CONFORMANCE, name);
    const identity = caseFile(dir, 'identity');
    const issuer = caseFile(dir, 'issuer');
    const key = caseFile(dir, 'key.pub');
    let outcome: 'verified' | 'failed' | 'unreadable';
    let reason = '';
    try {
      const report = await verifyArtifact(caseFile(dir, 'artifact') ?? join(CONFORMANCE, '..', 'a.txt'), {
        bundles: [join(dir, 'bundle.sigstore.json')],
        keys: key ? [key] : [],
        trustedRoot: caseFile(dir, 'trusted_root.json'),
        certificateIdentity: identity ? readFileSync(identity, 'utf8').trim() : CONFORMANCE_IDENTITY,
        certificateOidcIssuer: issuer ? readFileSync(issuer, 'utf8').trim() : CONFORMANCE_ISSUER,
      });
      outcome = report.passed ? 'verified' : 'failed';
      reason = report.statements.map((s) => s.reason ?? '').join('; ');
      assert.equal(report.statements.length, 1, `${name}: one statement`);
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
      outcome = 'unreadable';
      reason = e.message;
    }
    const expected = name.endsWith('_fail') ? (UNREADABLE.has(name) ? 'unreadable' : 'failed') : 'verified';
    if (outcome !== expected) wrong.push(`${name}: expected ${expected}, got ${outcome} (${reason})`);
  }
  assert.deepEqual(wrong, []);
});

test('sigstore-conformance: failures name the reason a consumer can act on', { skip }, async () => {
  const reasonOf = async (name: string, artifact?: string) => {
    const dir = join(CONFORMANCE, name);
    const report = await verifyArtifact(
      artifact ?? caseFile(dir, 'artifact') ?? join(CONFORMANCE, '..', 'a.txt'),
      {
        bundles: [join(dir, 'bundle.sigstore.json')],
        trustedRoot: caseFile(dir, 'trusted_root.json'),
        certificateIdentity: CONFORMANCE_IDENTITY,
        certificateOidcIssuer: CONFORMANCE_ISSUER,
      },
    );
    assert.equal(report.passed, false);
    return report.statements[0]?.reason ?? '';
  };
  assert.match(await reasonOf('intoto-expired-certificate_fail'), /certificate does not verify/);
  assert.match(await reasonOf('inclusion-proof-corrupted-hash_fail'), /inclusion proof does not verify/);
  assert.match(
    await reasonOf('bundle-with-root-cert_fail'),
    /includes a root certificate the trusted root does not have/,
  );
  assert.match(await reasonOf('wrong-material_fail'), /signature does not verify/);
  assert.match(await reasonOf('rekor2-no-timestamp_fail'), /cannot be verified offline/);
  // The right bundle against another file: the subject check, not the signature, fails.
  const other = join(CONFORMANCE, 'intoto-with-custom-trust-root', 'artifact');
  assert.match(await reasonOf('happy-path-intoto-in-dsse-v3', other), /subject digest does not match/);
});
