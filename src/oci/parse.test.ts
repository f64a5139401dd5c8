import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { choosePlatform } from '../sources/platform.ts';
import { sha256Digest } from '../util/digest.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest, parseOciLayoutFile } from './parse.ts';
import { MEDIA_TYPE } from './types.ts';

const descriptor = { mediaType: MEDIA_TYPE.ociLayerGzip, digest: sha256Digest('x'), size: 1 };
const manifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.ociManifest,
  config: { ...descriptor, mediaType: MEDIA_TYPE.ociConfig },
  layers: [descriptor],
};
const index = {
  schemaVersion: 2,
  manifests: [
    { ...descriptor, mediaType: MEDIA_TYPE.ociManifest, platform: { os: 'linux', architecture: 'amd64' } },
  ],
};
const config = {
  os: 'linux',
  architecture: 'amd64',
  rootfs: { type: 'layers', diff_ids: [sha256Digest('y')] },
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('valid documents parse; unknown fields are kept', () => {
  assert.equal(parseImageManifest(json({ ...manifest, extra: 1 }), 'm').layers.length, 1);
  assert.equal(
    (parseImageManifest(json({ ...manifest, extra: 1 }), 'm') as unknown as { extra: number }).extra,
    1,
  );
  assert.equal(parseImageIndex(json(index), 'i').manifests[0]?.platform?.architecture, 'amd64');
  assert.deepEqual(parseImageConfig(json(config), 'c').rootfs.diff_ids, [sha256Digest('y')]);
  assert.equal(parseOciLayoutFile(json({ imageLayoutVersion: '1.0.0' }), 'l').imageLayoutVersion, '1.0.0');
});

test('invalid documents: codes and messages', () => {
  assert.throws(() => parseImageManifest(json({ ...manifest, schemaVersion: 1 }), 'm'), {
    code: 'UNSUPPORTED',
    message: 'm: schemaVersion 1: only 2 is supported',
  });
  const { schemaVersion: _dropped, ...unversioned } = manifest;
  assert.throws(() => parseImageIndex(json({ manifests: [] }), 'i'), {
    code: 'MALFORMED',
    message: 'i: schemaVersion is missing',
  });
  assert.throws(() => parseImageManifest(json(unversioned), 'm'), { message: 'm: schemaVersion is missing' });
  // A value of another type is named by its type, never quoted (it could be any size).
  assert.throws(() => parseImageManifest(json({ ...manifest, schemaVersion: ['2'.repeat(1000)] }), 'm'), {
    code: 'MALFORMED',
    message: 'm: schemaVersion is not a number: an array',
  });
  assert.throws(
    () => parseImageManifest(json({ ...manifest, layers: [{ ...descriptor, size: -1 }] }), 'm'),
    /layers\[0\].size/,
  );
  assert.throws(
    () =>
      parseImageManifest(
        json({ ...manifest, layers: [{ ...descriptor, digest: `sha512:${'a'.repeat(128)}` }] }),
        'm',
      ),
    { code: 'UNSUPPORTED' },
  );
  assert.throws(() => parseImageManifest(Buffer.from('{"schemaVersion":'), 'blobs/sha256/abc'), {
    code: 'MALFORMED',
    input: 'blobs/sha256/abc',
  });
  assert.throws(() => parseImageManifest(Buffer.alloc(5 * 1024 * 1024, 0x20), 'm'), { code: 'LIMIT' });
  assert.throws(
    () => parseImageConfig(json({ ...config, rootfs: { type: 'layers', diff_ids: ['nope'] } }), 'c'),
    { code: 'MALFORMED' },
  );
  assert.throws(
    () => parseImageIndex(json({ schemaVersion: 2, manifests: {} }), 'i'),
    /manifests is not an array/,
  );
});

test('platform choice: variant normalization and ambiguity', () => {
  const items = [
    { os: 'linux', architecture: 'arm', variant: 'v6' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
    { os: 'linux', architecture: 'arm64' },
  ];
  assert.equal(
    choosePlatform(items, (p) => p, 'linux/arm64/v8', 'x'),
    items[2],
  );
  assert.equal(
    choosePlatform(items, (p) => p, 'linux/arm/v7', 'x'),
    items[1],
  );
  assert.throws(() => choosePlatform(items, (p) => p, 'linux/arm', 'x'), /ambiguous/);
  assert.throws(() => choosePlatform(items, (p) => p, 'linux', 'x'), { code: 'USAGE' });
});

test('property: random and mutated JSON never throws anything but WaybillError', () => {
  const parsers = [parseImageManifest, parseImageIndex, parseImageConfig, parseOciLayoutFile];
  const valid = [manifest, index, config].map((v) => JSON.stringify(v));
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.json().map((s) => Buffer.from(s)),
    fc.jsonValue().map((v) => json({ ...manifest, layers: [v], config: v })),
    fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.string({ maxLength: 5 })).map(([s, at, ins]) => {
      const i = at % (s.length + 1);
      return Buffer.from(s.slice(0, i) + ins + s.slice(i + 1));
    }),
  );
  fc.assert(
    fc.property(inputs, (bytes) => {
      for (const parse of parsers) {
        try {
          parse(bytes, 'fuzz');
        } catch (e) {
          if (!(e instanceof WaybillError)) throw e;
        }
      }
    }),
    { numRuns: 1000 },
  );
});
