import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { isWaybillError } from '../errors.ts';
import { MEDIA_TYPE } from '../oci/types.ts';
import { createDigestVerifier, sha256Digest } from '../util/digest.ts';
import { BlobCache, defaultCacheDir } from './blob-cache.ts';
import { NetworkFailure } from './http.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-cache-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

const bytes = Buffer.from('a cached layer');
const descriptor = { mediaType: MEDIA_TYPE.ociLayer, digest: sha256Digest(bytes), size: bytes.length };

/** What Repository.openBlob gives: the bytes through a digest verifier. */
function verified(data: Buffer): Readable {
  return Readable.from([data]).pipe(
    createDigestVerifier(descriptor.digest, { input: 'test', size: descriptor.size }),
  );
}

test('cache location: $XDG_CACHE_HOME when absolute, else ~/.cache', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }, '/home/u'), '/x/cache/waybill');
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: 'relative' }, '/home/u'), '/home/u/.cache/waybill');
  assert.equal(defaultCacheDir({}, '/home/u'), '/home/u/.cache/waybill');
});

test('fetch: verified bytes land once; concurrent callers share the download', async () => {
  const cache = new BlobCache(join(dir, 'a'));
  let opened = 0;
  const open = async () => {
    opened++;
    return verified(bytes);
  };
  const [one, two] = await Promise.all([cache.fetch(descriptor, open), cache.fetch(descriptor, open)]);
  assert.equal(one, two);
  assert.equal(opened, 1);
  assert.deepEqual(await readFile(one), bytes);
  assert.equal((await lstat(one)).mode & 0o777, 0o600);
  await cache.fetch(descriptor, open);
  assert.equal(opened, 1, 'served from the cache');
});

test('fetch: a mismatch leaves nothing; a connection reset mid-blob is retried from the start', async () => {
  const cache = new BlobCache(join(dir, 'b'));
  await assert.rejects(
    cache.fetch(descriptor, async () => verified(Buffer.from('tampered layer'))),
    (e: unknown) => isWaybillError(e) && e.code === 'DIGEST_MISMATCH',
  );
  assert.deepEqual(await readdir(join(dir, 'b', 'blobs', 'sha256')), []);

  let attempts = 0;
  const counted: number[] = [];
  const path = await cache.fetch(
    descriptor,
    async () => {
      attempts++;
      if (attempts === 1) {
        return Readable.from(
          (async function* () {
            yield bytes.subarray(0, 4);
            throw new NetworkFailure('ECONNRESET', 'reset');
          })(),
        );
      }
      return verified(bytes);
    },
    (n) => counted.push(n),
  );
  assert.equal(attempts, 2);
  assert.deepEqual(await readFile(path), bytes);
  // Progress went back by what the broken attempt had counted.
  assert.equal(
    counted.reduce((a, b) => a + b, 0),
    bytes.length,
  );
});

test('store and lookup: verified, links and wrong sizes are not cache hits and are never written through', async () => {
  const cache = new BlobCache(join(dir, 'c'));
  await assert.rejects(cache.store(descriptor, Buffer.from('nope')), /size mismatch|digest is/);
  const blobDir = join(dir, 'c', 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const victim = join(dir, 'victim');
  await writeFile(victim, 'x'.repeat(bytes.length));
  await symlink(victim, cache.path(descriptor.digest));
  assert.equal(await cache.lookup(descriptor), undefined);
  const path = await cache.fetch(descriptor, async () => verified(bytes));
  assert.ok((await lstat(path)).isFile());
  assert.equal(await readFile(victim, 'utf8'), 'x'.repeat(bytes.length), 'the link target is untouched');
  await writeFile(path, 'short');
  assert.equal(await cache.lookup(descriptor), undefined);
});

test('stale temp files of interrupted downloads are removed, fresh ones kept', async () => {
  const root = join(dir, 'd');
  const blobDir = join(root, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const stale = join(blobDir, '.abc.123.def.tmp');
  const fresh = join(blobDir, '.abc.456.fed.tmp');
  await writeFile(stale, 'partial');
  await writeFile(fresh, 'partial');
  const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
  await utimes(stale, old, old);
  await new BlobCache(root).store(descriptor, bytes);
  const names = await readdir(blobDir);
  assert.ok(!names.includes('.abc.123.def.tmp'));
  assert.ok(names.includes('.abc.456.fed.tmp'));
});
