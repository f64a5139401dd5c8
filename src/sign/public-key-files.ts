/**
 * The public keys a consumer trusts for key-signed statements (`--key PUB`, repeatable): PEM files,
 * read as regular files only, each parsed by keys.ts. A missing or unreadable key file is the
 * consumer's own input: an error (exit 2), never a failed verification.
 */
import { readRegularFile } from '../util/regular-file.ts';
import { loadPublicKey } from './keys.ts';
import type { TrustedKey } from './verify-signature.ts';

/** A PEM public key is a few hundred bytes; a certificate chain a few kilobytes. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;

export async function loadPublicKeyFiles(paths: readonly string[]): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const path of paths) {
    const pem = (await readRegularFile(path, { maxBytes: MAX_KEY_FILE_BYTES })).toString('utf8');
    keys.push({ source: path, key: loadPublicKey(pem, path) });
  }
  return keys;
}
