/**
 * SHA-256 and SHA-512 of a file in one read: in-toto subjects name files by either (npm's
 * attestations use sha512, most others sha256).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function fileDigests(path: string): Promise<Record<'sha256' | 'sha512', string>> {
  const sha256 = createHash('sha256');
  const sha512 = createHash('sha512');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    sha256.update(chunk as Buffer);
    sha512.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), sha512: sha512.digest('hex') };
}
