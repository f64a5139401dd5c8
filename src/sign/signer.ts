/**
 * Who signs: one interface for every kind of signer, so callers (`stamp`, `build`, `rebuild`) never
 * know whether the signature comes from a key file, from Fulcio (keyless) or from a KMS.
 *
 * A Signer signs bytes (the DSSE pre-authentication encoding) and says what key material a verifier
 * needs: a public-key hint (the verifier brings the key) or a certificate chain (the verifier checks it
 * against a trusted root). Witnesses add transparency-log entries and RFC 3161 timestamps to the
 * bundle; a key file has none. Later signers plug in here:
 * - keyless: wrap `FulcioSigner` from @sigstore/sign (certificate material) and return `RekorWitness`
 *   (and `TSAWitness`) from `witnesses()`;
 * - KMS: sign through the provider's API and return public-key material like KeyFileSigner.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Witness } from '@sigstore/sign';
import { WaybillError } from '../errors.ts';
import {
  KEY_ENV,
  KEY_PASSWORD_ENV,
  type KeyAlgorithm,
  keyHint,
  loadPrivateKey,
  publicKeyPem,
  signingAlgorithmOf,
} from './keys.ts';

export type SignerKeyMaterial =
  /** The verifier is given the public key out of band (`--key`); the bundle carries only a hint. */
  | { kind: 'public-key'; hint: string; publicKeyPem: string }
  /** Keyless: the leaf certificate (PEM) a Fulcio-style CA issued for this signature. */
  | { kind: 'certificate'; certificatePem: string };

export interface SignatureResult {
  signature: Buffer;
  key: SignerKeyMaterial;
}

export interface Signer {
  /** One line for messages and reports: `key file release.key (ecdsa-p256)`. */
  readonly description: string;
  /** Signs `data` (for DSSE, the PAE bytes) and names the key material a verifier needs. */
  sign(data: Buffer): Promise<SignatureResult>;
  /** Transparency log / timestamp witnesses whose evidence goes into the bundle (none for a key). */
  witnesses(): Witness[];
  /**
   * The public key (SPKI PEM) verifiers are given, for signers that sign with a key (key file, KMS);
   * undefined for keyless signers, whose bundles carry a certificate instead.
   */
  readonly publicKeyPem?: string;
}

/** Signs with a private key read from a file or from the environment. */
export class KeyFileSigner implements Signer {
  readonly description: string;
  readonly algorithm: KeyAlgorithm;
  /** The hint bundles carry (see keyHint in keys.ts). */
  readonly keyHint: string;
  readonly publicKeyPem: string;
  readonly #key: KeyObject;
  readonly #material: SignerKeyMaterial;

  constructor(privateKey: KeyObject, source: string) {
    const algorithm = signingAlgorithmOf(privateKey);
    if (privateKey.type !== 'private' || algorithm === undefined) {
      throw new WaybillError('UNSUPPORTED', source, 'expected an ECDSA P-256 or Ed25519 private key');
    }
    this.#key = privateKey;
    this.algorithm = algorithm;
    this.description = `key file ${source} (${algorithm})`;
    this.keyHint = keyHint(privateKey);
    this.publicKeyPem = publicKeyPem(privateKey);
    this.#material = { kind: 'public-key', hint: this.keyHint, publicKeyPem: this.publicKeyPem };
  }

  /** From PEM text; `source` names it in errors. */
  static fromPem(pem: string, source: string, password?: string): KeyFileSigner {
    return new KeyFileSigner(loadPrivateKey(pem, source, password), source);
  }

  static async fromFile(path: string, password?: string): Promise<KeyFileSigner> {
    const pem = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new WaybillError(
        'NOT_FOUND',
        path,
        e.code === 'ENOENT' ? 'no such key file' : `cannot read the key file (${e.code})`,
      );
    });
    return KeyFileSigner.fromPem(pem, path, password);
  }

  async sign(data: Buffer): Promise<SignatureResult> {
    // ECDSA: SHA-256 and a DER-encoded signature, what Sigstore verifiers expect for P-256
    // (ecdsa-sha2-nistp256). Ed25519 signs the message itself (PureEdDSA, RFC 8032), no digest.
    const signature = cryptoSign(this.algorithm === 'ed25519' ? null : 'sha256', data, this.#key);
    return { signature, key: this.#material };
  }

  witnesses(): Witness[] {
    return [];
  }
}

/**
 * The key-file signer the user asked for: `--key FILE`, else `WAYBILL_KEY` (a path, or the PEM text
 * itself as CI secrets often hold it), with `WAYBILL_KEY_PASSWORD` for an encrypted key.
 * Undefined when neither is set: the caller decides whether unsigned output is acceptable.
 */
export async function keyFileSignerFrom(
  keyFlag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeyFileSigner | undefined> {
  const password = env[KEY_PASSWORD_ENV];
  if (keyFlag !== undefined && keyFlag !== '') return KeyFileSigner.fromFile(keyFlag, password);
  const fromEnv = env[KEY_ENV];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  if (fromEnv.trimStart().startsWith('-----BEGIN')) return KeyFileSigner.fromPem(fromEnv, KEY_ENV, password);
  return KeyFileSigner.fromFile(fromEnv, password);
}
