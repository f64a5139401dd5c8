/**
 * verifySignedItem on real signed data from other tools: the DSSE reference vector, cosign
 * attestations from grype's tests (right, wrong and broken keys; tampered twins), trivy's SBOM
 * attestations, sigstore-js's public-good bundles against its trusted root, and a keyless DSSE
 * envelope that carries its certificate but no log entry (slsa-github-generator v1 style).
 */
import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dsse } from '@sigstore/core';
import { WaybillError } from '../errors.ts';
import { loadPublicKey } from './keys.ts';
import { parseSignedText, readSignedFile } from './signed-input.ts';
import { parseStatement } from './statement.ts';
import {
  CONFORMANCE,
  CONFORMANCE_IDENTITY,
  CONFORMANCE_ISSUER,
  DSSE_VECTOR,
  GRYPE,
  needsFixtures,
  SIGSTORE_JS,
  TRIVY,
} from './test-support.ts';
import { loadEmbeddedTrustedRoot, loadTrustedRootFile } from './trusted-root.ts';
import { OFFLINE_REASON, type SignatureTrust, verifySignedItem } from './verify-signature.ts';

async function trustWith(keys: string[], extra: Partial<SignatureTrust> = {}): Promise<SignatureTrust> {
  return {
    keys: keys.map((path) => ({ source: path, key: loadPublicKey(readFileSync(path, 'utf8'), path) })),
    trustedRoot: await loadEmbeddedTrustedRoot(),
    identity: {},
    ...extra,
  };
}

async function only(path: string) {
  const items = await readSignedFile(path);
  assert.equal(items.length, 1);
  return items[0] as NonNullable<(typeof items)[0]>;
}

test('DSSE reference vector: PAE bytes and the signature verify (raw r||s ECDSA)', {
  skip: needsFixtures(DSSE_VECTOR),
}, async () => {
  const vector = JSON.parse(readFileSync(DSSE_VECTOR, 'utf8'));
  const pae = dsse.preAuthEncoding(vector.payloadType, Buffer.from(vector.payload_utf8, 'utf8'));
  assert.equal(pae.toString('utf8'), vector.expected_PAE_utf8);
  const key = createPublicKey({ key: vector.key.jwk_public as JsonWebKey, format: 'jwk' });
  const trust = { ...(await trustWith([])), keys: [{ source: 'vector key', key }] };
  const item = parseSignedText(JSON.stringify(vector.expected_envelope), 'vector');
  const check = await verifySignedItem(item[0] as NonNullable<(typeof item)[0]>, trust);
  assert.equal(check.passed, true, check.reason);
  assert.equal(check.keyHint, '66301bbf');
  // The same signature over another payload does not verify.
  const other = { ...vector.expected_envelope, payload: Buffer.from('hello worle').toString('base64') };
  const tampered = await verifySignedItem(parseSignedText(JSON.stringify(other), 'v')[0] as never, trust);
  assert.equal(tampered.passed, false);
  // Node's ECDSA uses a random nonce (no RFC 6979 switch), so the vector's deterministic signature
  // is checked by verification, not by re-signing.
});

test('grype cosign attestations: right key verifies, wrong key and tampered twins fail, broken key is unreadable', {
  skip: needsFixtures(GRYPE),
}, async () => {
  const right = await trustWith([join(GRYPE, 'cosign.pub')]);
  const wrong = await trustWith([join(GRYPE, 'another_cosign.pub')]);
  for (const name of ['alpine.att.json', 'alpine.cdx.att.json']) {
    const item = await only(join(GRYPE, name));
    const good = await verifySignedItem(item, right);
    assert.equal(good.passed, true, `${name}: ${good.reason}`);
    assert.equal(good.key, join(GRYPE, 'cosign.pub'));
    assert.equal(good.content.kind, 'dsse');
    const bad = await verifySignedItem(item, wrong);
    assert.equal(bad.passed, false);
    assert.match(bad.reason ?? '', /does not verify with the key given/);
    const tampered = await verifySignedItem(
      await only(join(GRYPE, name.replace('alpine', 'alpine-tampered'))),
      right,
    );
    assert.equal(tampered.passed, false, `${name} tampered twin must fail`);
  }
  assert.throws(
    () => loadPublicKey(readFileSync(join(GRYPE, 'cosign_broken.pub'), 'utf8'), 'cosign_broken.pub'),
    (e) => e instanceof WaybillError && e.code === 'MALFORMED' && /cosign_broken.pub/.test(e.message),
  );
  const cdx = await only(join(GRYPE, 'alpine.cdx.att.json'));
  assert.equal(cdx.kind, 'envelope');
  const statement =
    cdx.kind === 'envelope' ? parseStatement(cdx.envelope.payloadType, cdx.envelope.payload) : '';
  assert.ok(typeof statement !== 'string');
  assert.equal(statement.kind, 'sbom');
  assert.equal(statement.type, 'https://in-toto.io/Statement/v0.1');
});

test('trivy SBOM attestations are read: a pretty-printed envelope and a one-line one', {
  skip: needsFixtures(TRIVY),
}, async () => {
  for (const name of readdirSync(TRIVY).filter((n) => n.endsWith('.intoto.jsonl'))) {
    const item = await only(join(TRIVY, name));
    assert.equal(item.kind, 'envelope');
    if (item.kind !== 'envelope') continue;
    const statement = parseStatement(item.envelope.payloadType, item.envelope.payload);
    assert.ok(typeof statement !== 'string', String(statement));
    assert.equal(statement.predicateType, 'https://cyclonedx.org/bom');
    assert.equal(statement.kind, 'sbom');
    assert.match(statement.subjects[0]?.digest.sha256 ?? '', /^[0-9a-f]{64}$/);
    // Without the signer's key nothing is trusted.
    const check = await verifySignedItem(item, await trustWith([]));
    assert.equal(check.passed, false);
    assert.match(check.reason ?? '', /give its public key with --key/);
  }
});

test('sigstore-js: all 9 public-good bundles verify against its trusted root', {
  skip: needsFixtures(SIGSTORE_JS),
}, async () => {
  const root = await loadTrustedRootFile(join(SIGSTORE_JS, 'tuf-seeds', 'trusted_root.json'));
  const names = readdirSync(join(SIGSTORE_JS, 'bundles')).filter((n) => n.endsWith('.sigstore'));
  assert.equal(names.length, 9);
  for (const name of names) {
    const item = await only(join(SIGSTORE_JS, 'bundles', name));
    // Learn the signer from an untrusting run, then trust exactly that identity and issuer.
    const seen = await verifySignedItem(item, { keys: [], trustedRoot: root, identity: {} });
    assert.equal(seen.passed, false);
    const cert = seen.certificate;
    assert.ok(cert?.subjectAlternativeName && cert.issuer, name);
    const check = await verifySignedItem(item, {
      keys: [],
      trustedRoot: root,
      identity: { identity: cert.subjectAlternativeName, issuer: cert.issuer },
    });
    assert.equal(check.passed, true, `${name}: ${check.reason}`);
    assert.ok((check.tlogEntries ?? []).length >= 1);
    // Another identity is refused.
    const other = await verifySignedItem(item, {
      keys: [],
      trustedRoot: root,
      identity: { identity: 'someone@example.com', issuer: cert.issuer },
    });
    assert.match(other.reason ?? '', /certificate identity .* is not someone@example.com/);
  }
});

test('a DSSE envelope carrying its certificate but no log entry cannot be verified offline', {
  skip: needsFixtures(CONFORMANCE),
}, async () => {
  // A real keyless signature: the conformance bundle's envelope with its Fulcio certificate inlined
  // as slsa-github-generator v1 writes .intoto.jsonl, and its Rekor evidence left out.
  const bundle = JSON.parse(
    readFileSync(join(CONFORMANCE, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json'), 'utf8'),
  );
  const der = bundle.verificationMaterial.certificate.rawBytes as string;
  const pem = `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
  const envelope = {
    ...bundle.dsseEnvelope,
    signatures: bundle.dsseEnvelope.signatures.map((s: object) => ({ ...s, cert: pem })),
  };
  const [item] = parseSignedText(`${JSON.stringify(envelope)}\n`, 'provenance.intoto.jsonl');
  const check = await verifySignedItem(
    item as never,
    await trustWith([], { identity: { identity: CONFORMANCE_IDENTITY, issuer: CONFORMANCE_ISSUER } }),
  );
  assert.equal(check.passed, false);
  assert.equal(check.reason, OFFLINE_REASON);
  assert.equal(check.certificate?.subjectAlternativeName, CONFORMANCE_IDENTITY);
});
