/**
 * `docker://` sources: images in a real registry (docker-registry, pushed by skopeo) opened and
 * walked like layouts, multi-platform selection, the blob cache (only what a walk needs, nothing
 * twice), and a lying registry (TEST ONLY in-process server) whose layer bytes differ from the
 * manifest's digest.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hasSkopeo, skopeo, startRegistry, type TestRegistry } from '../../test/helpers/registry.ts';
import { isWaybillError } from '../errors.ts';
import { MEDIA_TYPE } from '../oci/types.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import { reply, startTestServer } from '../registry/test-server.ts';
import { openArtifact } from './open.ts';
import { type BuiltImage, buildMultiPlatformLayout, buildOciLayout } from './testing.ts';
import type { FileFilter, OpenOptions } from './types.ts';

let registry: TestRegistry | undefined;
let skip: string | undefined;
let work: string;
let single: BuiltImage;
const filesOnly: FileFilter = { want: (e) => e.type === 'file' };

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-docker-source-'));
  const started = await startRegistry();
  if ('skip' in started) skip = started.skip;
  else registry = started;
  if (!hasSkopeo()) skip ??= 'skopeo is not installed';
  single = await buildOciLayout(
    join(work, 'single'),
    [
      { 'etc/os-release': 'ID=test\n', 'usr/bin/tool': 'v1' },
      { 'usr/bin/tool': 'v2', 'opt/x.txt': 'x' },
    ],
    { tag: '1.0' },
  );
  const multi = join(work, 'multi');
  await buildMultiPlatformLayout(multi, 'multi');
  if (registry && !skip) {
    skopeo([
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `oci:${single.layoutDir}:1.0`,
      `${registry.ref('src/single:1.0')}`,
    ]);
    skopeo([
      'copy',
      '-q',
      '--all',
      '--dest-tls-verify=false',
      `oci:${multi}:multi`,
      `${registry.ref('src/multi:2')}`,
    ]);
  }
});

after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

function options(cacheName: string, extra: OpenOptions = {}): OpenOptions {
  return { registry: { insecure: true }, blobCache: new BlobCache(join(work, cacheName)), ...extra };
}

async function cached(cacheName: string): Promise<string[]> {
  return (await readdir(join(work, cacheName, 'blobs', 'sha256')).catch(() => [])).sort();
}

test('docker://: opened and walked like the layout it was pushed from', async (t) => {
  if (skip) return t.skip(skip);
  const ref = (registry as TestRegistry).ref('src/single:1.0');
  const fromRegistry = await openArtifact(ref, options('c1'));
  const fromLayout = await openArtifact(`oci:${single.layoutDir}:1.0`);
  assert.equal(fromRegistry.kind, 'registry');
  assert.equal(fromRegistry.digest, fromLayout.digest);
  assert.equal(fromRegistry.image?.refName, '1.0');
  assert.equal(fromRegistry.path, `${(registry as TestRegistry).host}/src/single:1.0`);
  assert.deepEqual(fromRegistry.image?.selected?.config, fromLayout.image?.selected?.config);
  // Opening fetched the manifest and config only: no layer yet.
  assert.deepEqual(
    await cached('c1'),
    [single.config.digest.slice(7), single.manifest.digest.slice(7)].sort(),
  );

  const progress: Array<[number, number]> = [];
  const walked = await fromRegistry.walk(filesOnly, {
    onProgress: (done, total) => progress.push([done, total]),
  });
  const expected = await fromLayout.walk(filesOnly);
  assert.deepEqual(
    walked.files.map((f) => [f.entry.path, f.data.toString(), f.entry.layer]),
    expected.files.map((f) => [f.entry.path, f.data.toString(), f.entry.layer]),
  );
  const layerBytes = single.layers.reduce((sum, l) => sum + l.size, 0);
  assert.deepEqual(progress.at(-1), [2 * layerBytes, 2 * layerBytes]);
  assert.equal((await cached('c1')).length, 4);
  for (const layer of single.layers)
    assert.deepEqual(
      await readFile(join(work, 'c1', 'blobs', 'sha256', layer.digest.slice(7))),
      await readFile(join(single.layoutDir, 'blobs', 'sha256', layer.digest.slice(7))),
    );

  // By digest, from the cache: the same image.
  const byDigest = await openArtifact(
    `${(registry as TestRegistry).ref('src/single')}@${fromLayout.digest}`,
    options('c1'),
  );
  assert.equal(byDigest.digest, fromLayout.digest);
  assert.equal(byDigest.image?.refName, undefined);
});

test('docker://: a multi-platform index, one platform chosen, only its layers fetched', async (t) => {
  if (skip) return t.skip(skip);
  const ref = (registry as TestRegistry).ref('src/multi:2');
  const any = await openArtifact(ref, options('c2'));
  assert.equal(any.image?.platforms.length, 2);
  assert.equal(any.digest, any.image?.index?.digest);
  await assert.rejects(
    any.walk(filesOnly),
    /several platforms: linux\/amd64, linux\/arm64\/v8; choose one with --platform/,
  );
  const arm = await openArtifact(ref, options('c2', { platform: 'linux/arm64' }));
  assert.equal(arm.image?.selected?.platform.architecture, 'arm64');
  assert.notEqual(arm.digest, any.digest);
  const before = await cached('c2');
  const walked = await arm.walk(filesOnly);
  assert.deepEqual(
    walked.files.map((f) => f.data.toString()),
    ['arm64'],
  );
  const added = (await cached('c2')).filter((d) => !before.includes(d));
  assert.deepEqual(added, [arm.image?.selected?.manifest.layers[0]?.digest.slice(7)]);
  // Reopening keeps the registry options (the SBOM of every platform reopens each one).
  assert.equal(arm.options?.registry?.insecure, true);
});

test('docker://: a second walk reads the cache; a lying registry leaves nothing in it', async () => {
  const layout = single.layoutDir;
  const blobs = (digest: string) => readFile(join(layout, 'blobs', 'sha256', digest.slice(7)));
  const manifestBytes = await blobs(single.manifest.digest);
  let lie = false;
  const server = await startTestServer(async (req, res) => {
    const m = /\/(manifests|blobs)\/(.+)$/.exec(req.url);
    if (m?.[1] === 'manifests')
      return reply(res, 200, manifestBytes, { 'content-type': MEDIA_TYPE.ociManifest });
    if (m?.[1] === 'blobs') {
      const bytes = await blobs(m[2] as string);
      // Flip one bit of the last byte (gzip trailer): same size, different digest.
      if (lie && m[2] !== single.config.digest) bytes.writeUInt8((bytes.at(-1) ?? 0) ^ 1, bytes.length - 1);
      return reply(res, 200, bytes);
    }
    reply(res, 404);
  });
  try {
    const ref = `docker://${server.host}/fake/app:1.0`;
    const first = await openArtifact(
      ref,
      options('c3', { registry: { insecure: true, credentials: { lookup: async () => undefined } } }),
    );
    await first.walk(filesOnly);
    const layerGets = () =>
      server.requests.filter((r) => single.layers.some((l) => r.url.endsWith(l.digest))).length;
    assert.equal(layerGets(), 2);
    const second = await openArtifact(
      ref,
      options('c3', { registry: { insecure: true, credentials: { lookup: async () => undefined } } }),
    );
    await second.walk(filesOnly);
    assert.equal(layerGets(), 2, 'nothing fetched twice');

    lie = true;
    const lying = await openArtifact(
      ref,
      options('c4', { registry: { insecure: true, credentials: { lookup: async () => undefined } } }),
    );
    await assert.rejects(lying.walk(filesOnly), (e: unknown) => {
      assert.ok(isWaybillError(e) && e.code === 'DIGEST_MISMATCH', String(e));
      assert.match(e.message, /blob sha256:[0-9a-f]{64}: digest is sha256:[0-9a-f]{64}, expected sha256:/);
      return true;
    });
    // The config and manifest were honest; no layer made it into the cache.
    assert.deepEqual(
      await cached('c4'),
      [single.config.digest.slice(7), single.manifest.digest.slice(7)].sort(),
    );
  } finally {
    await server.close();
  }
});

test('docker://: bad references are one USAGE line before any connection', async () => {
  for (const [ref, pattern] of [
    ['docker://127.0.0.1:1/Bad/Name', /"B" at position 1 is not allowed/],
    ['docker://127.0.0.1:1', /names a registry but no repository/],
    ['docker://u:pw@127.0.0.1:1/x', /cannot carry credentials/],
  ] as const) {
    await assert.rejects(
      openArtifact(ref, options('c5')),
      (e: unknown) =>
        isWaybillError(e) && e.code === 'USAGE' && pattern.test(e.message) && !e.message.includes('pw@'),
    );
  }
  await assert.rejects(openArtifact('docker:x/y'), /unknown transport "docker:"; use one of .*docker:\/\//);
});
