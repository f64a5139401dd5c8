/**
 * `waybill keygen`: a new key pair written as PREFIX.key (PKCS#8 PEM, mode 0600, encrypted when a
 * password is given) and PREFIX.pub (SPKI PEM). Existing files are never replaced: a key that signed
 * releases must not be lost to a mistyped command.
 */
import { lstat, rm } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';
import { writeNewFileAtomic } from '../util/atomic-write.ts';
import { generateKeyPair, type KeyAlgorithm, keyHint, loadPublicKey } from './keys.ts';

export const DEFAULT_KEY_PREFIX = 'waybill';

export interface KeygenOptions {
  /** Files are `${prefix}.key` and `${prefix}.pub`. */
  prefix: string;
  algorithm: KeyAlgorithm;
  /** Encrypts the private key when non-empty. */
  password?: string;
}

export interface KeygenResult {
  privateKeyPath: string;
  publicKeyPath: string;
  algorithm: KeyAlgorithm;
  encrypted: boolean;
  /** The hint bundles signed with this key carry (see keyHint). */
  keyHint: string;
}

async function refuseExisting(path: string): Promise<void> {
  // lstat: a dangling symlink also counts as "something is there".
  const existing = await lstat(path).catch(() => undefined);
  if (existing) throw new WaybillError('USAGE', path, 'already exists: refusing to overwrite a key file');
}

function writeError(path: string, e: unknown): WaybillError {
  if (e instanceof WaybillError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EEXIST')
    return new WaybillError('USAGE', path, 'already exists: refusing to overwrite a key file');
  return new WaybillError('NOT_FOUND', path, `cannot write${code ? ` (${code})` : ''}`, { cause: e });
}

export async function writeKeyPair(options: KeygenOptions): Promise<KeygenResult> {
  if (options.prefix === '' || options.prefix.endsWith('/')) {
    throw new WaybillError('USAGE', '--out', `expected a file name prefix, got '${options.prefix}'`);
  }
  const privateKeyPath = `${options.prefix}.key`;
  const publicKeyPath = `${options.prefix}.pub`;
  await refuseExisting(privateKeyPath);
  await refuseExisting(publicKeyPath);
  const pair = generateKeyPair(options.algorithm, options.password);
  try {
    await writeNewFileAtomic(privateKeyPath, pair.privateKeyPem, 0o600);
  } catch (e) {
    throw writeError(privateKeyPath, e);
  }
  try {
    await writeNewFileAtomic(publicKeyPath, pair.publicKeyPem, 0o644);
  } catch (e) {
    // Only our own, just-written private key is removed: half a pair is of no use.
    await rm(privateKeyPath, { force: true });
    throw writeError(publicKeyPath, e);
  }
  return {
    privateKeyPath,
    publicKeyPath,
    algorithm: pair.algorithm,
    encrypted: pair.encrypted,
    keyHint: keyHint(loadPublicKey(pair.publicKeyPem, publicKeyPath)),
  };
}
