/** keygen writes usable key pairs, encrypts with a password, keeps the private key 0600, never overwrites. */
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WaybillError } from '../errors.ts';
import { writeKeyPair } from './keygen.ts';
import { keyHint, loadPrivateKey, loadPublicKey, parseKeyAlgorithm } from './keys.ts';
import { keyFileSignerFrom } from './signer.ts';

const dir = mkdtempSync(join(tmpdir(), 'waybill-keygen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const algorithm of ['ecdsa-p256', 'ed25519'] as const) {
  test(`keygen ${algorithm} without a password: PKCS#8 + SPKI PEM, private key mode 0600`, async () => {
    const result = await writeKeyPair({ prefix: join(dir, `plain-${algorithm}`), algorithm });
    assert.equal(result.encrypted, false);
    assert.equal(lstatSync(result.privateKeyPath).mode & 0o777, 0o600);
    const privatePem = readFileSync(result.privateKeyPath, 'utf8');
    assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n/);
    const publicKey = loadPublicKey(readFileSync(result.publicKeyPath, 'utf8'), result.publicKeyPath);
    const privateKey = loadPrivateKey(privatePem, result.privateKeyPath);
    assert.equal(keyHint(privateKey), keyHint(publicKey));
    assert.equal(result.keyHint, keyHint(publicKey));
  });

  test(`keygen ${algorithm} with a password: encrypted PKCS#8 that only the password opens`, async () => {
    const result = await writeKeyPair({
      prefix: join(dir, `enc-${algorithm}`),
      algorithm,
      password: 'correct horse',
    });
    assert.equal(result.encrypted, true);
    const pem = readFileSync(result.privateKeyPath, 'utf8');
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    assert.ok(loadPrivateKey(pem, 'k', 'correct horse'));
    assert.throws(
      () => loadPrivateKey(pem, 'k', 'wrong'),
      /cannot decrypt the private key: wrong WAYBILL_KEY_PASSWORD/,
    );
    assert.throws(() => loadPrivateKey(pem, 'k'), /encrypted: set WAYBILL_KEY_PASSWORD/);
    // The environment route signs with it.
    const signer = await keyFileSignerFrom(undefined, {
      WAYBILL_KEY: result.privateKeyPath,
      WAYBILL_KEY_PASSWORD: 'correct horse',
    });
    assert.equal(signer?.algorithm, algorithm);
    const fromPem = await keyFileSignerFrom(undefined, {
      WAYBILL_KEY: pem,
      WAYBILL_KEY_PASSWORD: 'correct horse',
    });
    assert.equal(fromPem?.keyHint, signer?.keyHint);
  });
}

test('keygen refuses to overwrite a file, a directory or a symlink at either path', async () => {
  const prefix = join(dir, 'taken');
  writeFileSync(`${prefix}.pub`, 'someone else\n');
  await assert.rejects(
    writeKeyPair({ prefix, algorithm: 'ed25519' }),
    (e) => e instanceof WaybillError && /already exists/.test(e.message),
  );
  assert.equal(readFileSync(`${prefix}.pub`, 'utf8'), 'someone else\n');
  assert.throws(() => lstatSync(`${prefix}.key`), /ENOENT/);
  const linked = join(dir, 'linked');
  symlinkSync(join(dir, 'nowhere'), `${linked}.key`);
  await assert.rejects(writeKeyPair({ prefix: linked, algorithm: 'ed25519' }), /already exists/);
  assert.throws(() => lstatSync(join(dir, 'nowhere')), /ENOENT/);
  const first = await writeKeyPair({ prefix: join(dir, 'once'), algorithm: 'ecdsa-p256' });
  await assert.rejects(
    writeKeyPair({ prefix: join(dir, 'once'), algorithm: 'ecdsa-p256' }),
    /already exists/,
  );
  assert.ok(loadPrivateKey(readFileSync(first.privateKeyPath, 'utf8'), 'once'));
});

test('keys: bad algorithm, non-key PEM, unsupported key types are named errors', async () => {
  assert.throws(() => parseKeyAlgorithm('rsa'), /expected one of ecdsa-p256, ed25519/);
  assert.throws(() => loadPrivateKey('hello', 'x.key'), /x.key: is not a PEM private key/);
  assert.throws(
    () => loadPublicKey('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n', 'x.pub'),
    /is not a PEM public key/,
  );
  const { generateKeyPairSync } = await import('node:crypto');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  assert.throws(() => loadPrivateKey(rsa, 'rsa.key'), /a rsa key cannot sign/);
  assert.equal(await keyFileSignerFrom(undefined, {}), undefined);
  await assert.rejects(keyFileSignerFrom(join(dir, 'missing.key'), {}), /no such key file/);
});
