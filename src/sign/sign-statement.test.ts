/**
 * signStatement writes Sigstore bundle v0.3 JSON that the official JSON Schema accepts and that
 * @sigstore/verify, used here on its own (not through waybill's verifier), verifies with the public key;
 * one changed byte in the payload or the signature makes that independent verification fail.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SerializedBundle } from '@sigstore/bundle';
import { generateKeyPair, type KeyAlgorithm } from './keys.ts';
import { serializeBundle, signStatement, statementPayload } from './sign-statement.ts';
import { KeyFileSigner } from './signer.ts';
import { BUNDLE_SCHEMAS, bundleValidator, independentVerify, needsFixtures } from './test-support.ts';

const STATEMENT = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'hello-1.0.tar.gz', digest: { sha256: 'ab'.repeat(32) } }],
  predicateType: 'https://waybill.dev/release-record/v1',
  predicate: { note: 'x' },
};

/** Flips one base64 character to another valid one, so the JSON still parses but a byte differs. */
function flipBase64(value: string, at: number): string {
  const c = value[at] === 'A' ? 'B' : 'A';
  return value.slice(0, at) + c + value.slice(at + 1);
}

for (const algorithm of ['ecdsa-p256', 'ed25519'] as KeyAlgorithm[]) {
  test(`signStatement (${algorithm}): schema-valid v0.3 bundle that @sigstore/verify accepts`, async () => {
    const pair = generateKeyPair(algorithm);
    const signer = KeyFileSigner.fromPem(pair.privateKeyPem, 'test.key');
    const bundle = await signStatement(STATEMENT, signer);
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(bundle.dsseEnvelope);
    assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
    assert.deepEqual(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()), STATEMENT);
    assert.equal(bundle.verificationMaterial.publicKey?.hint, signer.keyHint);
    assert.equal(bundle.dsseEnvelope.signatures[0]?.keyid, signer.keyHint);
    independentVerify(JSON.parse(serializeBundle(bundle)), pair.publicKeyPem);
    // Someone else's key does not verify it.
    assert.throws(() => independentVerify(bundle, generateKeyPair(algorithm).publicKeyPem), /signature/);
  });

  test(`signStatement (${algorithm}): one changed byte of payload or signature fails independent verification`, async () => {
    const pair = generateKeyPair(algorithm);
    const bundle = await signStatement(STATEMENT, KeyFileSigner.fromPem(pair.privateKeyPem, 'k'));
    const envelope = bundle.dsseEnvelope as NonNullable<SerializedBundle['dsseEnvelope']>;
    const payloadTampered = structuredClone(bundle);
    (payloadTampered.dsseEnvelope as typeof envelope).payload = flipBase64(envelope.payload, 20);
    assert.throws(() => independentVerify(payloadTampered, pair.publicKeyPem), /signature/);
    const sigTampered = structuredClone(bundle);
    const sig = (sigTampered.dsseEnvelope as typeof envelope).signatures[0] as { sig: string };
    sig.sig = flipBase64(sig.sig, 10);
    assert.throws(() => independentVerify(sigTampered, pair.publicKeyPem), /signature/);
  });
}

test('signStatement: bundles validate against the official Bundle JSON Schema', {
  skip: needsFixtures(BUNDLE_SCHEMAS),
}, async () => {
  const validate = bundleValidator();
  for (const algorithm of ['ecdsa-p256', 'ed25519'] as KeyAlgorithm[]) {
    const bundle = await signStatement(
      STATEMENT,
      KeyFileSigner.fromPem(generateKeyPair(algorithm).privateKeyPem, 'k'),
    );
    assert.ok(validate(JSON.parse(serializeBundle(bundle))), JSON.stringify(validate.errors));
  }
  // Real public bundles pass the same validator, so it checks the format as others write it.
  for (const path of [
    join(
      BUNDLE_SCHEMAS,
      '../../../vectors/sigstore-conformance/assets/bundle-verify/happy-path-v0.3/bundle.sigstore.json',
    ),
    join(
      BUNDLE_SCHEMAS,
      '../../../vectors/sigstore-conformance/assets/bundle-verify/managed-key-happy-path/bundle.sigstore.json',
    ),
    join(BUNDLE_SCHEMAS, '../../../vectors/sigstore-js/bundles/bundleV03-dsse.sigstore'),
  ]) {
    assert.ok(
      validate(JSON.parse(readFileSync(path, 'utf8'))),
      `${path}: ${JSON.stringify(validate.errors)}`,
    );
  }
  // The validator is not vacuous: a bundle without its envelope is rejected.
  const broken = JSON.parse(
    serializeBundle(
      await signStatement(STATEMENT, KeyFileSigner.fromPem(generateKeyPair('ed25519').privateKeyPem, 'k')),
    ),
  );
  delete broken.dsseEnvelope;
  assert.equal(validate(broken), false);
});

test('signStatement: Ed25519 bundles are byte-identical run after run; ECDSA differs only in the signature', async () => {
  const ed = KeyFileSigner.fromPem(generateKeyPair('ed25519').privateKeyPem, 'k');
  assert.equal(
    serializeBundle(await signStatement(STATEMENT, ed)),
    serializeBundle(await signStatement(STATEMENT, ed)),
  );
  const ec = KeyFileSigner.fromPem(generateKeyPair('ecdsa-p256').privateKeyPem, 'k');
  const a = await signStatement(STATEMENT, ec);
  const b = await signStatement(STATEMENT, ec);
  assert.equal(a.dsseEnvelope?.payload, b.dsseEnvelope?.payload);
  assert.notEqual(a.dsseEnvelope?.signatures[0]?.sig, b.dsseEnvelope?.signatures[0]?.sig);
});

test('signStatement refuses what is not an in-toto Statement v1', async () => {
  const signer = KeyFileSigner.fromPem(generateKeyPair('ed25519').privateKeyPem, 'k');
  await assert.rejects(
    signStatement({ ...STATEMENT, subject: [] }, signer),
    /refusing to sign an invalid in-toto Statement/,
  );
  assert.throws(
    () => statementPayload({ ...STATEMENT, _type: 'https://in-toto.io/Statement/v0.1' }),
    /_type/,
  );
});
