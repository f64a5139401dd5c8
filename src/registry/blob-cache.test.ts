import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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

test('temp files of interrupted downloads: only waybill temp names of dead writers are removed', async () => {
  const root = join(dir, 'd');
  const blobDir = join(root, 'blobs', 'sha256');
  const releaseDir = join(root, 'releases', 'sha256', 'ab'.repeat(32));
  const fileDir = join(root, 'files', 'sha256', 'cd'.repeat(32));
  for (const d of [blobDir, releaseDir, fileDir]) await mkdir(d, { recursive: true });
  const dead = await deadPid();
  const live = process.ppid;
  const hex = 'ef'.repeat(32);
  const names = {
    deadBlob: join(blobDir, `.${hex}.waybill-${dead}-0123456789abcdef.tmp`),
    deadRelease: join(releaseDir, `.hello.txt.waybill-${dead}-0123456789abcdef.tmp`),
    deadFile: join(fileDir, `.app.whl.waybill-${dead}-0123456789abcdef.tmp`),
    // A download running in another process, however old its start.
    liveBlob: join(blobDir, `.${hex}.waybill-${live}-0123456789abcdef.tmp`),
    // Not a waybill temp name, even if old: never ours to remove.
    foreign: join(blobDir, '.abc.tmp'),
    foreignOld: join(releaseDir, '.hello.txt.partial.tmp'),
  };
  for (const path of Object.values(names)) await writeFile(path, 'partial');
  const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
  await utimes(names.foreignOld, old, old);
  await utimes(names.liveBlob, old, old);
  // A link in place of a directory of the cache is not followed.
  const elsewhere = join(dir, 'elsewhere');
  await mkdir(elsewhere, { recursive: true });
  const outside = join(elsewhere, `.x.waybill-${dead}-0123456789abcdef.tmp`);
  await writeFile(outside, 'not in the cache');
  await symlink(elsewhere, join(root, 'releases', 'sha256', '12'.repeat(32)));

  await new BlobCache(root).store(descriptor, bytes);
  const exists = async (p: string) => (await lstat(p).catch(() => undefined)) !== undefined;
  assert.deepEqual(
    [await exists(names.deadBlob), await exists(names.deadRelease), await exists(names.deadFile)],
    [false, false, false],
  );
  assert.ok(await exists(names.liveBlob));
  assert.ok(await exists(names.foreign));
  assert.ok(await exists(names.foreignOld));
  assert.ok(await exists(outside));
});

/** The pid of a process that has exited (a pid is not reused at once: Linux hands them out in turn). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid as number));
  });
}
