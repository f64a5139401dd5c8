/**
 * The client against a real registry (Debian's docker-registry 2.8, which has no referrers API) and
 * an independent client (skopeo): what waybill pushes skopeo reads, what skopeo pushes waybill
 * reads, and the referrers tag schema is written and read for real.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasSkopeo, skopeo, startRegistry, type TestRegistry } from '../../test/helpers/registry.ts';
import { isWaybillError } from '../errors.ts';
import { parseImageIndex, parseImageManifest } from '../oci/parse.ts';
import {
  ARTIFACT_TYPE,
  type Descriptor,
  type ImageManifest,
  MEDIA_TYPE,
  OCI_ANNOTATION,
} from '../oci/types.ts';
import { type BuiltImage, buildOciLayout } from '../sources/testing.ts';
import { sha256Digest } from '../util/digest.ts';
import { bufferSource, fileSource } from './blobs.ts';
import { defaultCredentials, explicitCredentials } from './credentials.ts';
import { referrersTag } from './referrers.ts';
import { openRepository, type Repository } from './repository.ts';

let registry: TestRegistry | undefined;
let skip: string | undefined;
let tmp: string;
let image: BuiltImage;

before(async () => {
  const started = await startRegistry();
  if ('skip' in started) skip = started.skip;
  else registry = started;
  if (!hasSkopeo()) skip ??= 'skopeo is not installed';
  tmp = await mkdtemp(join(tmpdir(), 'waybill-registry-test-'));
  image = await buildOciLayout(
    join(tmp, 'layout'),
    [
      { 'etc/os-release': 'ID=debian\nVERSION_ID=12\n' },
      { 'usr/share/hello/data.bin': incompressible(30_000) },
    ],
    { tag: '1.0', annotations: { [OCI_ANNOTATION.version]: '1.0' }, labels: { 'org.example.team': 'hello' } },
  );
});

after(async () => {
  await registry?.stop();
  await rm(tmp, { recursive: true, force: true });
});

/** Bytes gzip cannot shrink (a SHA-256 chain), so a layer is as big as its content. */
function incompressible(size: number): Buffer {
  const out: Buffer[] = [];
  let block = Buffer.from('seed');
  for (let n = 0; n < size; n += 32) {
    block = Buffer.from(sha256Digest(block).slice(7), 'hex');
    out.push(block);
  }
  return Buffer.concat(out).subarray(0, size);
}

function repo(name: string): Repository {
  return openRepository((registry as TestRegistry).ref(name), { insecure: true });
}

function layoutBlob(d: Descriptor): string {
  return join(image.layoutDir, 'blobs', 'sha256', d.digest.slice(7));
}

/** Pushes the test image with waybill's client: blobs, then the manifest under `tag`. */
async function pushImage(
  target: Repository,
  tag: string,
  options: Parameters<Repository['pushBlob']>[1] = {},
) {
  const results: string[] = [];
  for (const d of [image.config, ...image.layers])
    results.push(await target.pushBlob(fileSource(layoutBlob(d), d.digest, d.size), options));
  const bytes = await readFile(layoutBlob(image.manifest));
  const pushed = await target.putManifest(tag, bytes, MEDIA_TYPE.ociManifest);
  return { results, digest: pushed.descriptor.digest };
}

function artifactManifest(
  subject: Descriptor,
  artifactType: string,
  payload: Descriptor,
  created: string,
): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    artifactType,
    config: { mediaType: MEDIA_TYPE.ociEmpty, digest: sha256Digest('{}'), size: 2 },
    layers: [payload],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { [OCI_ANNOTATION.created]: created },
  };
  return Buffer.from(JSON.stringify(manifest));
}

describe('docker-registry 2.8 and skopeo', () => {
  test('push: monolithic and chunked uploads, skip when present, mount across repositories; skopeo reads it', async (t) => {
    if (skip) return t.skip(skip);
    const target = repo('push/mono');
    const first = await pushImage(target, '1.0');
    assert.deepEqual(first.results, ['uploaded', 'uploaded', 'uploaded']);
    assert.equal(first.digest, image.manifest.digest);
    assert.deepEqual((await pushImage(target, '1.0')).results, ['exists', 'exists', 'exists']);

    // Chunked: every blob over 1 KiB in 4 KiB PATCH chunks (the second layer is ~30 KiB).
    const chunked = repo('push/chunked');
    const progress: number[] = [];
    assert.deepEqual(
      (
        await pushImage(chunked, '1.0', {
          chunkedAbove: 1024,
          chunkSize: 4096,
          onProgress: (n) => progress.push(n),
        })
      ).results,
      ['uploaded', 'uploaded', 'uploaded'],
    );
    assert.ok(progress.length > 3, 'chunks reported');

    const mounted = repo('push/mounted');
    assert.deepEqual((await pushImage(mounted, '1.0', { mountFrom: ['push/mono'] })).results, [
      'mounted',
      'mounted',
      'mounted',
    ]);

    // A mount the registry cannot do (the source lacks the blob) becomes an upload in the session it opened.
    const fresh = Buffer.from('a blob no repository has');
    assert.equal(
      await repo('push/fallback').pushBlob(bufferSource(fresh), { mountFrom: ['push/mono'] }),
      'uploaded',
    );
    assert.equal(await repo('push/fallback').headBlob(sha256Digest(fresh)), fresh.length);
    assert.equal(await repo('push/other').mountBlob(sha256Digest(fresh), 'push/fallback'), true);

    for (const name of ['push/mono', 'push/chunked', 'push/mounted']) {
      const ref = `docker://${(registry as TestRegistry).host}/${name}:1.0`;
      const inspected = JSON.parse(skopeo(['inspect', '--tls-verify=false', ref])) as {
        Digest: string;
        Labels: Record<string, string>;
      };
      assert.equal(inspected.Digest, image.manifest.digest, name);
      assert.equal(inspected.Labels['org.example.team'], 'hello');
      skopeo(['copy', '--src-tls-verify=false', ref, `oci:${join(tmp, name.replace('/', '-'))}:copied`]);
    }
    const raw = skopeo([
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${(registry as TestRegistry).host}/push/mono:1.0`,
    ]);
    assert.equal(parseImageManifest(Buffer.from(raw), 'raw').annotations?.[OCI_ANNOTATION.version], '1.0');
  });

  test('pull: what skopeo pushed is read back, every blob verified', async (t) => {
    if (skip) return t.skip(skip);
    const ref = `docker://${(registry as TestRegistry).host}/pull/hello:1.0`;
    skopeo(['copy', '--dest-tls-verify=false', `oci:${image.layoutDir}:1.0`, ref]);
    const digest = (JSON.parse(skopeo(['inspect', '--tls-verify=false', ref])) as { Digest: string }).Digest;
    const target = openRepository(ref, { insecure: true });
    const root = await target.getManifest();
    assert.equal(root.digest, digest);
    assert.equal(root.mediaType, MEDIA_TYPE.ociManifest);
    assert.deepEqual(await target.headManifest(), root.descriptor);
    assert.deepEqual(await target.getManifest(digest), root);
    const manifest = parseImageManifest(root.bytes, ref);
    for (const layer of manifest.layers) {
      const chunks: Buffer[] = [];
      for await (const chunk of await target.openBlob(layer)) chunks.push(chunk as Buffer);
      assert.equal(sha256Digest(Buffer.concat(chunks)), layer.digest);
      assert.equal(await target.headBlob(layer.digest), layer.size);
    }
    assert.equal(await target.headBlob(sha256Digest('absent')), undefined);
    assert.equal(await target.headManifest('absent'), undefined);
    await assert.rejects(
      target.getManifest('absent'),
      (e: unknown) =>
        isWaybillError(e) &&
        e.code === 'NOT_FOUND' &&
        /manifest absent not found: MANIFEST_UNKNOWN/.test(e.message),
    );
  });

  test('tags: listed across pages through the Link header', async (t) => {
    if (skip) return t.skip(skip);
    const target = repo('tags/many');
    const tags = ['a', 'b', 'c', 'd', 'e', 'v1.0', 'v2.0'];
    await pushImage(target, 'a');
    const bytes = await readFile(layoutBlob(image.manifest));
    for (const tag of tags.slice(1)) await target.putManifest(tag, bytes, MEDIA_TYPE.ociManifest);
    assert.deepEqual(await target.listTags(2), tags);
    assert.deepEqual(await target.listTags(), tags);
  });

  test('referrers: the tag schema is written read-modify-write and read back; concurrent writers all land', async (t) => {
    if (skip) return t.skip(skip);
    const target = repo('refs/app');
    const { digest } = await pushImage(target, '1.0');
    const subject: Descriptor = { mediaType: MEDIA_TYPE.ociManifest, digest, size: image.manifest.size };
    const empty = await target.pushBlob(bufferSource(Buffer.from('{}')));
    assert.equal(empty, 'uploaded');
    const attach = async (artifactType: string, text: string, created: string) => {
      const payload = Buffer.from(text);
      await target.pushBlob(bufferSource(payload));
      const layer = { mediaType: 'application/json', digest: sha256Digest(payload), size: payload.length };
      return target.pushReferrer(artifactManifest(subject, artifactType, layer, created));
    };
    assert.deepEqual((await target.listReferrers(digest)).referrers, []);
    const record = await attach(ARTIFACT_TYPE.record, '{"record":1}', '2025-01-01T00:00:00Z');
    assert.equal(record.via, 'tag');
    assert.equal(record.descriptor.artifactType, ARTIFACT_TYPE.record);
    const sbom = await attach(ARTIFACT_TYPE.cyclonedx, '{"bomFormat":"CycloneDX"}', '2025-01-01T00:00:00Z');
    // The same attachment again: no duplicate entry.
    await attach(ARTIFACT_TYPE.record, '{"record":1}', '2025-01-01T00:00:00Z');

    const listed = await target.listReferrers(digest);
    assert.equal(listed.via, 'tag');
    assert.deepEqual(
      listed.referrers.map((d) => d.digest),
      [record.descriptor.digest, sbom.descriptor.digest],
    );
    assert.deepEqual((await target.listReferrers(digest, ARTIFACT_TYPE.cyclonedx)).referrers, [
      sbom.descriptor,
    ]);

    // skopeo sees the referrers tag as an OCI index whose entries carry artifactType and annotations.
    const tag = referrersTag(digest);
    assert.equal(tag, `sha256-${digest.slice(7)}`);
    const raw = skopeo([
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${(registry as TestRegistry).host}/refs/app:${tag}`,
    ]);
    const index = parseImageIndex(Buffer.from(raw), tag);
    assert.equal(index.mediaType, MEDIA_TYPE.ociIndex);
    assert.deepEqual(
      index.manifests.map((d) => [d.artifactType, d.annotations?.[OCI_ANNOTATION.created]]),
      [
        [ARTIFACT_TYPE.record, '2025-01-01T00:00:00Z'],
        [ARTIFACT_TYPE.cyclonedx, '2025-01-01T00:00:00Z'],
      ],
    );

    // Writers racing on the same tag (one process): updates are serialized, so each one is in.
    const racing = await Promise.all(
      ['a', 'b', 'c', 'd'].map((n) => attach(`application/vnd.example.${n}`, n, '2025-02-01T00:00:00Z')),
    );
    const after = (await target.listReferrers(digest)).referrers.map((d) => d.digest);
    for (const r of racing) assert.ok(after.includes(r.descriptor.digest), r.descriptor.artifactType);
    assert.equal(new Set(after).size, after.length);
  });

  test('referrers: a referrers tag that is not an index is left alone', async (t) => {
    if (skip) return t.skip(skip);
    const target = repo('refs/odd');
    const { digest } = await pushImage(target, '1.0');
    const bytes = await readFile(layoutBlob(image.manifest));
    await target.putManifest(referrersTag(digest), bytes, MEDIA_TYPE.ociManifest);
    assert.deepEqual((await target.listReferrers(digest)).referrers, []);
    await assert.rejects(
      target.addToReferrersTag(digest, {
        mediaType: MEDIA_TYPE.ociManifest,
        digest: sha256Digest('x'),
        size: 1,
      }),
      /holds a application\/vnd\.oci\.image\.manifest\.v1\+json, not an image index; not changed/,
    );
  });
});

describe('docker-registry with htpasswd basic auth', () => {
  let secured: TestRegistry | undefined;
  let securedSkip: string | undefined;
  const auth = { username: 'wb-user', password: 'S3cret-pa55word' };

  before(async () => {
    const started = await startRegistry({ auth });
    if ('skip' in started) securedSkip = started.skip;
    else secured = started;
  });
  after(async () => secured?.stop());

  test('credentials from flags and from a Docker config file; a wrong password is one line without it', async (t) => {
    if (securedSkip || skip) return t.skip(securedSkip ?? skip);
    const host = (secured as TestRegistry).host;
    const withFlags = openRepository(`docker://${host}/private/app:1.0`, {
      insecure: true,
      credentials: explicitCredentials(host, auth),
    });
    await pushImage(withFlags, '1.0');
    const configDir = join(tmp, 'docker-config');
    await mkdir(configDir, { recursive: true });
    await writeFile(
      join(configDir, 'config.json'),
      JSON.stringify({
        auths: { [host]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } },
      }),
    );
    const fromFile = openRepository(`docker://${host}/private/app:1.0`, {
      insecure: true,
      credentials: defaultCredentials({ env: { DOCKER_CONFIG: configDir } }),
    });
    assert.equal((await fromFile.getManifest()).digest, image.manifest.digest);
    skopeo([
      'inspect',
      '--tls-verify=false',
      '--creds',
      `${auth.username}:${auth.password}`,
      `docker://${host}/private/app:1.0`,
    ]);

    const wrong = openRepository(`docker://${host}/private/app:1.0`, {
      insecure: true,
      credentials: explicitCredentials(host, { username: auth.username, password: 'wrong-Pa55' }),
    });
    await assert.rejects(wrong.getManifest(), (e: unknown) => {
      assert.ok(isWaybillError(e) && e.code === 'AUTH');
      assert.match(e.message, /the registry refused access \(401: UNAUTHORIZED/);
      assert.ok(!e.message.includes('wrong-Pa55') && !e.message.includes(auth.password));
      return true;
    });
    const anonymous = openRepository(`docker://${host}/private/app:1.0`, {
      insecure: true,
      credentials: { lookup: async () => undefined },
    });
    await assert.rejects(anonymous.getManifest(), /asks for credentials and none are configured/);
  });
});
