import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { indexTarFile } from '../archive/tar-reader.ts';
import { tarBuffer } from '../archive/tar-writer.ts';
import { isWaybillError } from '../errors.ts';
import { stampDockerArchive, stampOciArchive } from './archive-stamp.ts';
import type { StampFacts } from './stamp.ts';
import { TarFileEditor } from './tar-edit.ts';
import { haveTools, run, skopeoInspect, skopeoRaw, tempDir, umociImage } from './testing.ts';

const missing = haveTools('umoci', 'skopeo');

const FACTS: StampFacts = {
  name: 'hello-server',
  version: '2.0.0',
  created: '2025-03-01T12:00:00Z',
  team: 'Example Platform Team',
  url: 'https://github.com/example/hello/issues',
  source: 'https://github.com/example/hello',
  revision: 'abcdef0123456789abcdef0123456789abcdef01',
  licenses: 'MIT',
};

async function ociArchive(dir: string, tag = '2.0.0'): Promise<string> {
  const layout = join(dir, 'img');
  await umociImage(layout, tag, { files: { 'etc/hello.txt': 'hello\n', 'usr/bin/hello': 'ELF?' } });
  const archive = join(dir, 'img.oci.tar');
  run('skopeo', ['copy', '-q', `oci:${layout}:${tag}`, `oci-archive:${archive}:${tag}`]);
  return archive;
}

test('oci-archive: stamped in place, skopeo reads labels, annotations and the same layers', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const archive = await ociArchive(tmp.dir);
  const before = skopeoInspect(`oci-archive:${archive}:2.0.0`);
  const result = await stampOciArchive(archive, '2.0.0', FACTS);
  assert.equal(result.oldDigest, before.Digest);
  const after = skopeoInspect(`oci-archive:${archive}:2.0.0`);
  assert.equal(after.Digest, result.newDigest);
  assert.equal(after.Labels?.['org.opencontainers.image.version'], '2.0.0');
  assert.equal(after.Labels?.['org.opencontainers.image.licenses'], 'MIT');
  assert.deepEqual(after.Layers, before.Layers);
  const raw = skopeoRaw(`oci-archive:${archive}:2.0.0`) as { annotations: Record<string, string> };
  assert.equal(raw.annotations['org.opencontainers.image.vendor'], 'Example Platform Team');
  // The layer still unpacks: copy back out and let umoci read it.
  run('skopeo', ['copy', '-q', `oci-archive:${archive}:2.0.0`, `oci:${join(tmp.dir, 'out')}:x`]);
  run('umoci', ['unpack', '--rootless', '--image', `${join(tmp.dir, 'out')}:x`, join(tmp.dir, 'bundle')]);
  assert.equal(readFileSync(join(tmp.dir, 'bundle/rootfs/etc/hello.txt'), 'utf8'), 'hello\n');
  // No temp files left beside the archive.
  assert.deepEqual(
    readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('oci-archive: deterministic bytes from the same copy; a failing stamp leaves it untouched', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const a = await ociArchive(tmp.dir);
  const b = join(tmp.dir, 'copy.tar');
  copyFileSync(a, b);
  const original = readFileSync(a);
  const ra = await stampOciArchive(a, undefined, FACTS);
  const rb = await stampOciArchive(b, undefined, FACTS);
  assert.equal(ra.newDigest, rb.newDigest);
  assert.deepEqual(readFileSync(a), readFileSync(b), 'archive bytes are reproducible');

  const c = join(tmp.dir, 'c.tar');
  writeFileSync(c, original);
  await assert.rejects(
    stampOciArchive(c, 'missing-tag', FACTS),
    (e) => isWaybillError(e) && e.code === 'NOT_FOUND',
  );
  await assert.rejects(
    stampOciArchive(c, undefined, { created: 'bad' }),
    (e) => isWaybillError(e) && e.code === 'USAGE',
  );
  assert.deepEqual(readFileSync(c), original);
  assert.deepEqual(
    readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('docker-archive: labels stamped, config renamed to its digest, RepoTags and layers kept', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const layout = join(tmp.dir, 'img');
  await umociImage(layout, 't', { labels: { keep: 'me' }, files: { a: 'a' } });
  const archive = join(tmp.dir, 'docker.tar');
  run('skopeo', ['copy', '-q', `oci:${layout}:t`, `docker-archive:${archive}:example.com/hello:2.0.0`]);
  const before = skopeoInspect(`docker-archive:${archive}`);
  const copy = join(tmp.dir, 'docker-copy.tar');
  copyFileSync(archive, copy);

  const result = await stampDockerArchive(archive, undefined, FACTS);
  assert.deepEqual(result.repoTags, ['example.com/hello:2.0.0']);
  assert.notEqual(result.newDigest, result.oldDigest);
  const after = skopeoInspect(`docker-archive:${archive}`);
  assert.equal(after.Labels?.['org.opencontainers.image.version'], '2.0.0');
  assert.equal(after.Labels?.['org.opencontainers.image.url'], FACTS.url);
  assert.equal(after.Labels?.keep, 'me');
  // skopeo does not report docker-archive RepoTags; GNU tar shows manifest.json as written.
  const manifest = JSON.parse(run('tar', ['-xOf', archive, 'manifest.json'])) as Array<
    Record<string, unknown>
  >;
  assert.deepEqual(manifest[0]!.RepoTags, ['example.com/hello:2.0.0']);
  assert.equal(manifest[0]!.Config, `${result.newDigest.slice(7)}.json`);
  assert.equal(after.Layers.length, before.Layers.length);
  // skopeo computes the config digest from the file it reads: it must match ours.
  const config = skopeoInspect(`docker-archive:${archive}`, '--config') as unknown as {
    config: { Labels: Record<string, string> };
  };
  assert.equal(config.config.Labels['org.opencontainers.image.revision'], FACTS.revision);
  const names = [...(await indexTarFile(archive)).keys()];
  assert.ok(names.includes(`${result.newDigest.slice(7)}.json`));
  assert.ok(!names.includes(`${result.oldDigest.slice(7)}.json`), 'old config dropped');

  // By RepoTag and @N on the copy: the same result.
  assert.equal(
    (await stampDockerArchive(copy, 'example.com/hello:2.0.0', FACTS)).newDigest,
    result.newDigest,
  );
  assert.deepEqual(readFileSync(copy), readFileSync(archive));
  await assert.rejects(
    stampDockerArchive(copy, '@3', FACTS),
    (e) => isWaybillError(e) && e.code === 'NOT_FOUND',
  );
});

test('docker-archive in the Docker 25+ layout: manifest.json and the OCI view are stamped alike', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const archive = await ociArchive(tmp.dir, 'v1');
  // Make it what `docker save` writes since Docker 25: an OCI layout plus manifest.json over its blobs.
  const raw = skopeoRaw(`oci-archive:${archive}:v1`) as {
    config: { digest: string };
    layers: Array<{ digest: string }>;
  };
  const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
  const editor = await TarFileEditor.open(archive);
  const dockerManifest = [
    {
      Config: blob(raw.config.digest),
      RepoTags: ['example.com/h:v1'],
      Layers: raw.layers.map((l) => blob(l.digest)),
    },
  ];
  editor.put('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
  await editor.commit();

  const result = await stampDockerArchive(archive, 'example.com/h:v1', FACTS);
  assert.equal(result.oldDigest, raw.config.digest);
  assert.equal(
    result.oci?.manifests[0]?.newConfigDigest,
    result.newDigest,
    'both views name the same config',
  );
  const manifest = JSON.parse(run('tar', ['-xOf', archive, 'manifest.json'])) as Array<{ Config: string }>;
  assert.equal(manifest[0]!.Config, blob(result.newDigest));
  assert.equal(
    skopeoInspect(`docker-archive:${archive}`).Labels?.['org.opencontainers.image.version'],
    '2.0.0',
  );
  const oci = skopeoInspect(`oci-archive:${archive}:v1`);
  assert.equal(oci.Labels?.['org.opencontainers.image.version'], '2.0.0');
  assert.equal(oci.Digest, result.oci?.newDigest);
});

test('docker-archive: tampered config name is a DIGEST_MISMATCH and leaves the file alone', async () => {
  using tmp = tempDir();
  const hex = 'a'.repeat(64);
  const bad = await tarBuffer([
    {
      path: 'manifest.json',
      data: JSON.stringify([{ Config: `${hex}.json`, RepoTags: ['x:1'], Layers: [] }]),
    },
    {
      path: `${hex}.json`,
      data: '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    },
  ]);
  const file = join(tmp.dir, 'bad.tar');
  writeFileSync(file, bad);
  await assert.rejects(
    stampDockerArchive(file, undefined, FACTS),
    (e) => isWaybillError(e) && e.code === 'DIGEST_MISMATCH',
  );
  assert.deepEqual(readFileSync(file), bad);
});

test('property: random bytes as an archive never throw anything but WaybillError', async () => {
  using tmp = tempDir();
  const file = join(tmp.dir, 'random.tar');
  const valid = await tarBuffer([
    { path: 'manifest.json', data: '[{"Config":"c.json","Layers":[]}]' },
    { path: 'c.json', data: '{"architecture":"amd64","os":"linux"}' },
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'index.json', data: '{"schemaVersion":2,"manifests":[]}' },
  ]);
  const mutated = fc
    .tuple(fc.nat(valid.length - 1), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat(valid.length))
    .map(([at, bytes, cut]) => {
      const copy = Buffer.from(valid);
      copy.set(bytes.subarray(0, copy.length - at), at);
      return copy.subarray(0, Math.max(cut, 1));
    });
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated), async (bytes) => {
      writeFileSync(file, bytes);
      for (const stamp of [stampDockerArchive, stampOciArchive]) {
        try {
          await stamp(file, undefined, FACTS);
        } catch (e) {
          if (!isWaybillError(e)) throw e;
        }
        writeFileSync(file, bytes);
      }
    }),
    { numRuns: 200 },
  );
});
