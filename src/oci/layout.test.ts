import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { indexTarFile } from '../archive/tar-reader.ts';
import { tarBuffer } from '../archive/tar-writer.ts';
import { isWaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { blobPath, OciLayout, resolveRefInIndex, WAYBILL_REFERRER_ANNOTATION } from './layout.ts';
import {
  parseImageConfig as parseConfig,
  parseImageIndex as parseIndex,
  parseImageManifest as parseManifest,
} from './parse.ts';
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
