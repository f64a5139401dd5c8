/**
 * Signing keys: generation (`waybill keygen`), loading a private key for signing and public keys for
 * verifying, and the key hint a bundle carries. Everything goes through node:crypto (OpenSSL); the
 * only format knowledge here is which PEM labels mean what.
 *
 * - private key: PKCS#8 PEM, `ENCRYPTED PRIVATE KEY` (PBES2, AES-256-CBC) when a password is given;
 * - public key: SubjectPublicKeyInfo PEM (`PUBLIC KEY`), the form cosign and sigstore tools read.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { WaybillError } from '../errors.ts';

export const KEY_ALGORITHMS = ['ecdsa-p256', 'ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Environment variables a user sets to sign without flags. */
export const KEY_ENV = 'WAYBILL_KEY';
export const KEY_PASSWORD_ENV = 'WAYBILL_KEY_PASSWORD';

export interface KeyPairPem {
  algorithm: KeyAlgorithm;
  privateKeyPem: string;
  publicKeyPem: string;
  /** True when the private key PEM is encrypted with the password. */
  encrypted: boolean;
}

export function parseKeyAlgorithm(value: string, input = '--algorithm'): KeyAlgorithm {
  if ((KEY_ALGORITHMS as readonly string[]).includes(value)) return value as KeyAlgorithm;
  throw new WaybillError('USAGE', input, `expected one of ${KEY_ALGORITHMS.join(', ')}, got '${value}'`);
}

/**
 * A fresh key pair. With a non-empty password the PKCS#8 private key is encrypted (PBES2 with
 * AES-256-CBC, OpenSSL's default PBKDF2 parameters), so a leaked file alone does not sign.
 */
export function generateKeyPair(algorithm: KeyAlgorithm, password?: string): KeyPairPem {
  const encrypt = password !== undefined && password !== '';
  const privateKeyEncoding = encrypt
    ? { type: 'pkcs8' as const, format: 'pem' as const, cipher: 'aes-256-cbc', passphrase: password }
    : { type: 'pkcs8' as const, format: 'pem' as const };
  const publicKeyEncoding = { type: 'spki' as const, format: 'pem' as const };
  const pair =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519', { privateKeyEncoding, publicKeyEncoding })
      : generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding, publicKeyEncoding });
  return { algorithm, privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey, encrypted: encrypt };
}

/** The algorithm of a key waybill can sign with, or undefined (RSA, other curves). */
export function signingAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ecdsa-p256';
  }
  return undefined;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----/;

function pemLabel(text: string): string | undefined {
  return PEM_BLOCK.exec(text)?.[1];
}

/** OpenSSL's reason without the `error:1E08010C:DECODER routines::` prefix. */
function opensslReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return (message.split('\n')[0] ?? message).replace(/^error:[0-9A-F]+:[^:]*::/, '');
}

/**
 * Loads a PKCS#8 (or SEC1/PKCS#1, which OpenSSL also reads) private key for signing. `source` names
 * the key in errors (a path, or `WAYBILL_KEY`). Only ECDSA P-256 and Ed25519 keys are accepted.
 */
export function loadPrivateKey(pem: string, source: string, password?: string): KeyObject {
  const label = pemLabel(pem);
  if (label === undefined || !label.endsWith('PRIVATE KEY')) {
    throw new WaybillError(
      'MALFORMED',
      source,
      'is not a PEM private key (expected -----BEGIN PRIVATE KEY-----)',
    );
  }
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || pem.includes('Proc-Type: 4,ENCRYPTED');
  if (encrypted && (password === undefined || password === '')) {
    throw new WaybillError('USAGE', source, `the private key is encrypted: set ${KEY_PASSWORD_ENV}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase: password } : pem);
  } catch (e) {
    if (encrypted) {
      throw new WaybillError(
        'SIGNATURE',
        source,
        `cannot decrypt the private key: wrong ${KEY_PASSWORD_ENV}?`,
      );
    }
    throw new WaybillError('MALFORMED', source, `cannot read the private key: ${opensslReason(e)}`);
  }
  if (signingAlgorithmOf(key) === undefined) {
    const details = key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : '';
    throw new WaybillError(
      'UNSUPPORTED',
      source,
      `a ${key.asymmetricKeyType}${details} key cannot sign: use ${KEY_ALGORITHMS.join(' or ')} (waybill keygen)`,
    );
  }
  return key;
}

/**
 * Loads a public key (SPKI PEM `PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`) for verification.
 * A key OpenSSL cannot decode — truncated, a point not on the curve — is MALFORMED.
 */
export function loadPublicKey(pem: string, source: string): KeyObject {
  const label = pemLabel(pem);
  if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') {
    throw new WaybillError(
      'MALFORMED',
      source,
      'is not a PEM public key (expected -----BEGIN PUBLIC KEY-----)',
    );
  }
  try {
    return createPublicKey(pem);
  } catch (e) {
    throw new WaybillError('MALFORMED', source, `cannot read the public key: ${opensslReason(e)}`);
  }
}

export function publicKeyPem(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * The key hint written into bundles (`verificationMaterial.publicKey.hint`) and DSSE `keyid`:
 * base64 of the SHA-256 of the DER SubjectPublicKeyInfo, the fingerprint sigstore-go and cosign use
 * for managed keys. It only helps a verifier holding several keys pick one; trust always comes from
 * the key the verifier is given.
 */
export function keyHint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}
