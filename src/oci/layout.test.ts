import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { tarBuffer } from '../archive/tar-writer.ts';
import { isWaybillError } from '../errors.ts';
import {
  blobPath,
  OciLayout,
  parseConfig,
  parseIndex,
  parseManifest,
  resolveRefInIndex,
  sha256Digest,
  WAYBILL_REFERRER_ANNOTATION,
} from './layout.ts';
import { indexTarFile } from './tar-index.ts';
import { haveTools, run, tempDir, umociImage } from './testing.ts';
import { type ImageIndex, MEDIA_TYPE } from './types.ts';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

test('writeBlob is content-addressed and idempotent; readBlob verifies the digest', async () => {
  using tmp = tempDir();
  const layout = await OciLayout.init(join(tmp.dir, 'l'));
  const a = await layout.writeBlob(Buffer.from('hello'), 'text/plain');
  assert.equal(a.digest, sha256Digest(Buffer.from('hello')));
  assert.deepEqual(a, { mediaType: 'text/plain', digest: a.digest, size: 5 });
  const mtime = statSync(join(tmp.dir, 'l', blobPath(a.digest))).mtimeMs;
  await layout.writeBlob(Buffer.from('hello'), 'text/plain');
  assert.equal(
    statSync(join(tmp.dir, 'l', blobPath(a.digest))).mtimeMs,
    mtime,
    'existing blob not rewritten',
  );
  assert.deepEqual(await layout.readBlob(a.digest), Buffer.from('hello'));
  const path = join(tmp.dir, 'l', blobPath(a.digest));
  run('chmod', ['u+w', path]);
  writeFileSync(path, 'jello');
  await assert.rejects(layout.readBlob(a.digest), (e) => isWaybillError(e) && e.code === 'DIGEST_MISMATCH');
  await assert.rejects(layout.readBlob(d(7)), (e) => isWaybillError(e) && e.code === 'NOT_FOUND');
  await assert.rejects(
    layout.readBlob('sha256:../../etc/passwd'),
    (e) => isWaybillError(e) && e.code === 'MALFORMED',
  );
  await assert.rejects(
    OciLayout.open(join(tmp.dir, 'nope')),
    (e) => isWaybillError(e) && e.code === 'NOT_FOUND',
  );
  // No temp files left behind.
  assert.deepEqual(
    readdirSync(join(tmp.dir, 'l', 'blobs', 'sha256')).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('writeIndex keeps unknown fields; readIndex validates', async () => {
  using tmp = tempDir();
  const layout = await OciLayout.init(join(tmp.dir, 'l'));
  const index = { schemaVersion: 2, manifests: [], 'x-extra': { a: 1 } } as unknown as ImageIndex;
  await layout.writeIndex(index);
  assert.deepEqual(await layout.readIndex(), index);
  writeFileSync(join(tmp.dir, 'l', 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"x"}]}');
  await assert.rejects(layout.readIndex(), (e) => isWaybillError(e) && e.code === 'MALFORMED');
});

test('resolveRefInIndex: tag, digest, the only image (attachments ignored), errors', () => {
  const image = {
    mediaType: MEDIA_TYPE.ociManifest,
    digest: d(1),
    size: 1,
    annotations: { 'org.opencontainers.image.ref.name': 'v1' },
  };
  const attachment = {
    mediaType: MEDIA_TYPE.ociManifest,
    digest: d(2),
    size: 1,
    annotations: { [WAYBILL_REFERRER_ANNOTATION]: d(1) },
  };
  const index: ImageIndex = { schemaVersion: 2, manifests: [image, attachment] };
  assert.equal(resolveRefInIndex(index, 'v1', 'x').position, 0);
  assert.equal(resolveRefInIndex(index, d(2), 'x').position, 1);
  assert.equal(resolveRefInIndex(index, undefined, 'x').descriptor.digest, d(1));
  assert.throws(
    () => resolveRefInIndex(index, 'v2', 'x'),
    (e) => isWaybillError(e) && e.code === 'NOT_FOUND',
  );
  const two: ImageIndex = { schemaVersion: 2, manifests: [image, { ...image, digest: d(3) }] };
  assert.throws(
    () => resolveRefInIndex(two, undefined, 'x'),
    (e) => isWaybillError(e) && e.code === 'USAGE',
  );
});

test('reads a real umoci layout', { skip: haveTools('umoci') }, async () => {
  using tmp = tempDir();
  await umociImage(join(tmp.dir, 'img'), 'x', { files: { f: 'f' } });
  const layout = await OciLayout.open(join(tmp.dir, 'img'));
  const index = await layout.readIndex();
  const manifest = parseManifest(await layout.readBlob(index.manifests[0]!.digest), 'm');
  assert.equal(manifest.layers.length, 1);
  const config = parseConfig(await layout.readBlob(manifest.config.digest), 'c');
  assert.equal(config.architecture, 'amd64');
});

test('indexTarFile agrees with GNU tar on a GNU-written archive (long names, pax, dirs, links)', async () => {
  using tmp = tempDir();
  const src = join(tmp.dir, 'src');
  const long = `${'a'.repeat(90)}/${'b'.repeat(90)}/${'c'.repeat(90)}`;
  run('mkdir', ['-p', join(src, long)]);
  writeFileSync(join(src, long, 'file.txt'), 'deep');
  writeFileSync(join(src, 'small'), 'x'.repeat(700));
  run('ln', ['-s', 'small', join(src, 'link')]);
  let checked = 0;
  for (const format of ['gnu', 'posix', 'ustar']) {
    const tarFile = join(tmp.dir, `${format}.tar`);
    const r = (() => {
      try {
        run('tar', [`--format=${format}`, '-cf', tarFile, '-C', src, '.']);
        return true;
      } catch {
        return false; // ustar cannot hold a 273-byte path
      }
    })();
    if (!r) continue;
    const entries = await indexTarFile(tarFile);
    const bytes = readFileSync(tarFile);
    const file = entries.find((e) => e.path === `${long}/file.txt`)!;
    assert.ok(file, `${format}: long path found`);
    assert.equal(bytes.subarray(file.offset, file.offset + file.size).toString(), 'deep');
    const small = entries.find((e) => e.path === 'small')!;
    assert.equal(bytes.subarray(small.offset, small.offset + small.size).toString(), 'x'.repeat(700));
    assert.deepEqual(
      entries.find((e) => e.path === 'link'),
      {
        path: 'link',
        type: 'symlink',
        size: 0,
        offset: entries.find((e) => e.path === 'link')!.offset,
        linkTarget: 'small',
      },
    );
    assert.ok(entries.some((e) => e.path === long.split('/')[0] && e.type === 'dir'));
    checked++;
  }
  assert.ok(checked >= 2, 'gnu and posix formats were checked');
});

test('indexTarFile: unsafe paths, gzip, truncation are WaybillErrors', async () => {
  using tmp = tempDir();
  const file = join(tmp.dir, 't.tar');
  const good = await tarBuffer([{ path: 'a', data: 'abc' }]);
  const evil = Buffer.from(good);
  evil.write('../a\0', 0, 'latin1');
  // Fix the checksum so only the path is wrong.
  evil.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += evil[i]!;
  evil.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  for (const [bytes, code] of [
    [evil, 'UNSAFE_PATH'],
    [Buffer.from([0x1f, 0x8b, 8, 0]), 'UNSUPPORTED'],
    [good.subarray(0, 600), 'MALFORMED'],
    [Buffer.concat([good.subarray(0, 100), Buffer.from('x'), good.subarray(101)]), 'MALFORMED'],
  ] as const) {
    writeFileSync(file, bytes);
    await assert.rejects(indexTarFile(file), (e) => isWaybillError(e) && e.code === code, code);
  }
});

test('property: random bytes never throw anything but WaybillError (JSON parsers, tar index)', async () => {
  using tmp = tempDir();
  const file = join(tmp.dir, 'r');
  const good = await tarBuffer([
    { path: 'x'.repeat(150), data: 'abc' },
    { path: 'dir', type: 'dir' },
  ]);
  const mutated = fc
    .tuple(fc.nat(good.length - 1), fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat(good.length))
    .map(([at, bytes, cut]) => {
      const copy = Buffer.from(good);
      copy.set(bytes.subarray(0, copy.length - at), at);
      return copy.subarray(0, cut);
    });
  const jsonish = fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? ''));
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 1500 }), mutated, jsonish), async (bytes) => {
      for (const parse of [parseIndex, parseManifest, parseConfig]) {
        try {
          parse(bytes, 'x');
        } catch (e) {
          if (!isWaybillError(e)) throw e;
        }
      }
      writeFileSync(file, bytes);
      try {
        await indexTarFile(file);
      } catch (e) {
        if (!isWaybillError(e)) throw e;
      }
    }),
    { numRuns: 400 },
  );
});
