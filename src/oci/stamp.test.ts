import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isWaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { blobPath, jsonBytes, OciLayout } from './layout.ts';
import { type StampFacts, stampAnnotations, stampImage } from './stamp.ts';
import { haveTools, run, skopeoInspect, skopeoRaw, tempDir, umociImage } from './testing.ts';
import { type ImageIndex, MEDIA_TYPE, OCI_ANNOTATION } from './types.ts';

const missing = haveTools('umoci', 'skopeo');

export const FACTS: StampFacts = {
  name: 'hello-server',
  version: '1.4.2',
  created: '2025-03-01T12:00:00Z',
  team: 'Example Platform Team',
  authors: 'Ada <ada@example.com>',
  url: 'https://github.com/example/hello/issues',
  documentation: 'https://example.com/docs',
  source: 'https://github.com/example/hello',
  revision: '0123456789abcdef0123456789abcdef01234567',
  licenses: 'Apache-2.0',
  description: null,
};

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

test('stampAnnotations maps facts to the pre-defined keys and skips nulls', () => {
  const kv = stampAnnotations(FACTS);
  assert.equal(kv[OCI_ANNOTATION.vendor], 'Example Platform Team');
  assert.equal(kv[OCI_ANNOTATION.title], 'hello-server');
  assert.equal(kv[OCI_ANNOTATION.url], 'https://github.com/example/hello/issues');
  assert.equal(OCI_ANNOTATION.description in kv, false);
  assert.deepEqual(Object.keys(kv), Object.keys(kv).sort());
  assert.equal(stampAnnotations({ name: 'a', title: 'Nice Title' })[OCI_ANNOTATION.title], 'Nice Title');
  assert.throws(
    () => stampAnnotations({ created: 'yesterday' }),
    (e) => isWaybillError(e) && e.code === 'USAGE',
  );
  assert.throws(
    () => stampAnnotations({ created: '2025-13-45T99:00:00Z' }),
    (e) => isWaybillError(e) && e.code === 'USAGE',
  );
});

test('stamps a umoci image: skopeo sees labels and annotations, umoci still reads it', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const layout = join(tmp.dir, 'img');
  await umociImage(layout, '1.4.2', {
    labels: { 'com.example.keep': 'yes' },
    files: { 'etc/hello.txt': 'hi\n' },
  });
  const other = join(tmp.dir, 'img');
  await umociImage(other, 'other');
  const before = readJson(join(layout, 'index.json')) as ImageIndex;

  const result = await stampImage(layout, '1.4.2', FACTS);
  assert.notEqual(result.newDigest, result.oldDigest);
  assert.equal(result.manifests.length, 1);
  assert.equal(result.manifests[0]!.platform, 'linux/amd64');

  const inspect = skopeoInspect(`oci:${layout}:1.4.2`);
  assert.equal(inspect.Digest, result.newDigest);
  assert.equal(inspect.Labels?.['org.opencontainers.image.version'], '1.4.2');
  assert.equal(inspect.Labels?.['org.opencontainers.image.vendor'], 'Example Platform Team');
  assert.equal(inspect.Labels?.['org.opencontainers.image.title'], 'hello-server');
  assert.equal(inspect.Labels?.['com.example.keep'], 'yes', 'existing labels are kept');
  assert.equal(inspect.Layers.length, 1, 'layers are kept');
  const raw = skopeoRaw(`oci:${layout}:1.4.2`) as { annotations: Record<string, string> };
  assert.equal(raw.annotations['org.opencontainers.image.revision'], FACTS.revision);
  assert.equal(raw.annotations['org.opencontainers.image.licenses'], 'Apache-2.0');
  assert.equal(raw.annotations['org.opencontainers.image.created'], '2025-03-01T12:00:00Z');

  // The tag moved; the other tag and its entry are untouched; ref.name is kept.
  const after = readJson(join(layout, 'index.json')) as ImageIndex;
  assert.equal(after.manifests.length, before.manifests.length);
  const tagged = after.manifests.find((d) => d.annotations?.[OCI_ANNOTATION.refName] === '1.4.2')!;
  assert.equal(tagged.digest, result.newDigest);
  assert.deepEqual(
    after.manifests.find((d) => d.annotations?.[OCI_ANNOTATION.refName] === 'other'),
    before.manifests.find((d) => d.annotations?.[OCI_ANNOTATION.refName] === 'other'),
  );

  // Unknown fields survive: umoci's history and rootfs are byte-identical values.
  const oldConfig = readJson(join(layout, blobPath(result.manifests[0]!.oldConfigDigest))) as Record<
    string,
    unknown
  >;
  const newConfig = readJson(join(layout, blobPath(result.manifests[0]!.newConfigDigest))) as Record<
    string,
    unknown
  >;
  assert.deepEqual(newConfig.history, oldConfig.history);
  assert.deepEqual(newConfig.rootfs, oldConfig.rootfs);
  assert.equal(newConfig.created, oldConfig.created, 'the image build time is not the release time');

  const stat = run('umoci', ['stat', '--image', `${layout}:1.4.2`]);
  assert.match(stat, /LAYER/);
  run('umoci', ['unpack', '--rootless', '--image', `${layout}:1.4.2`, join(tmp.dir, 'bundle')]);
  assert.equal(readFileSync(join(tmp.dir, 'bundle/rootfs/etc/hello.txt'), 'utf8'), 'hi\n');
  const bundleConfig = readJson(join(tmp.dir, 'bundle/config.json')) as {
    annotations: Record<string, string>;
  };
  assert.equal(bundleConfig.annotations['org.opencontainers.image.version'], '1.4.2');
});

test('deterministic and idempotent: same copy + facts → same digest; restamp is a no-op', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const a = join(tmp.dir, 'a');
  await umociImage(a, 't', { files: { x: 'x' } });
  const b = join(tmp.dir, 'b');
  cpSync(a, b, { recursive: true });
  const ra = await stampImage(a, 't', FACTS);
  const rb = await stampImage(b, 't', FACTS);
  assert.equal(ra.newDigest, rb.newDigest);
  assert.deepEqual(readFileSync(join(a, 'index.json')), readFileSync(join(b, 'index.json')));
  const again = await stampImage(a, 't', FACTS);
  assert.equal(again.oldDigest, ra.newDigest);
  assert.equal(again.newDigest, ra.newDigest);
  const changed = await stampImage(b, 't', { ...FACTS, version: '1.4.3' });
  assert.notEqual(changed.newDigest, rb.newDigest);
});

test('multi-platform index: every platform stamped, index annotated, tag moved to the new index', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const layout = join(tmp.dir, 'img');
  await umociImage(layout, 'amd', { architecture: 'amd64', files: { a: 'amd' } });
  await umociImage(layout, 'arm', { architecture: 'arm64', files: { a: 'arm' } });
  const store = await OciLayout.open(layout);
  const index = await store.readIndex();
  const platforms = {
    amd: { architecture: 'amd64', os: 'linux' },
    arm: { architecture: 'arm64', os: 'linux', variant: 'v8' },
  };
  const children = index.manifests.map((d) => {
    const tag = d.annotations![OCI_ANNOTATION.refName] as 'amd' | 'arm';
    return { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: platforms[tag] };
  });
  // An attestation-like child (not an image config) that must be left alone.
  const attestationConfig = await store.writeBlob(Buffer.from('{}'), MEDIA_TYPE.ociEmpty);
  const attestation = await store.writeBlob(
    jsonBytes({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: attestationConfig, layers: [] }),
    MEDIA_TYPE.ociManifest,
  );
  const attestationEntry = {
    ...attestation,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: {
      'vnd.docker.reference.type': 'attestation-manifest',
      'vnd.docker.reference.digest': children[0]!.digest,
    },
  };
  const multi = await store.writeBlob(
    jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociIndex,
      manifests: [...children, attestationEntry],
      'x-unknown': 1,
    }),
    MEDIA_TYPE.ociIndex,
  );
  await store.writeIndex({
    ...index,
    manifests: [...index.manifests, { ...multi, annotations: { [OCI_ANNOTATION.refName]: 'multi' } }],
  });

  const result = await stampImage(layout, 'multi', FACTS);
  assert.equal(result.mediaType, MEDIA_TYPE.ociIndex);
  assert.deepEqual(
    result.manifests.map((m) => m.platform),
    ['linux/amd64', 'linux/arm64/v8'],
  );
  const raw = skopeoRaw(`oci:${layout}:multi`) as {
    annotations: Record<string, string>;
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
    'x-unknown': number;
  };
  assert.equal(raw.annotations['org.opencontainers.image.version'], '1.4.2');
  assert.equal(raw['x-unknown'], 1);
  assert.equal(raw.manifests[2]!.digest, attestation.digest, 'attestation manifest unchanged');
  assert.equal(raw.manifests[2]!.annotations!['vnd.docker.reference.digest'], result.manifests[0]!.newDigest);
  for (const arch of ['amd64', 'arm64']) {
    const inspect = skopeoInspect(`oci:${layout}:multi`, '--override-arch', arch);
    assert.equal(inspect.Architecture, arch);
    assert.equal(inspect.Labels?.['org.opencontainers.image.source'], FACTS.source);
  }
  // The per-platform tags still name the unstamped manifests.
  assert.equal(skopeoInspect(`oci:${layout}:amd`).Labels?.['org.opencontainers.image.version'], undefined);
});

test('atomic: a failing stamp leaves index.json untouched', { skip: missing }, async () => {
  using tmp = tempDir();
  const layout = join(tmp.dir, 'img');
  await umociImage(layout, 't');
  const indexBefore = readFileSync(join(layout, 'index.json'));
  await assert.rejects(
    stampImage(layout, 't', { ...FACTS, created: 'not a date' }),
    (e) => isWaybillError(e) && e.code === 'USAGE',
  );
  await assert.rejects(stampImage(layout, 'nope', FACTS), (e) => isWaybillError(e) && e.code === 'NOT_FOUND');
  // Corrupt the config blob: the digest check fails before anything is written.
  const manifestDigest = (JSON.parse(indexBefore.toString()) as ImageIndex).manifests[0]!.digest;
  const manifest = readJson(join(layout, blobPath(manifestDigest))) as { config: { digest: string } };
  const configFile = join(layout, blobPath(manifest.config.digest));
  const config = readFileSync(configFile);
  run('chmod', ['u+w', configFile]);
  writeFileSync(configFile, Buffer.from(config.toString().replace('amd64', 'arm64')));
  await assert.rejects(
    stampImage(layout, 't', FACTS),
    (e) => isWaybillError(e) && e.code === 'DIGEST_MISMATCH',
  );
  assert.deepEqual(readFileSync(join(layout, 'index.json')), indexBefore);
  assert.notEqual(sha256Digest(readFileSync(configFile)), manifest.config.digest);
});
