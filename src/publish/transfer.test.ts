/**
 * Copying graphs between real layouts, archives and (for the referrers API path) the TEST ONLY
 * in-memory registry of src/registry/test-server.ts: attachments travel with the image, per-platform
 * attachments with their platform, the order is blobs → manifests → attachments → tag, a second copy
 * writes nothing, and a copy that fails midway leaves the old tag and resumes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  attachArtifact,
  findAttachments,
  findAttachmentsInOciArchive,
  readAttachment,
} from '../oci/attach.ts';
import { OciLayout, resolveRef } from '../oci/layout.ts';
import { ARTIFACT_TYPE, type Descriptor } from '../oci/types.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import { openRepository } from '../registry/repository.ts';
import { startFakeReferrersRegistry } from '../registry/test-server.ts';
import { DirectoryBlobStore } from '../sources/blob-store.ts';
import { buildMultiPlatformLayout, buildOciLayout } from '../sources/testing.ts';
import { withGraphSink } from './destination.ts';
import { collectGraph, type GraphSink } from './graph.ts';
import { LayoutGraphSource } from './layout-endpoint.ts';
import { RegistryGraphSink } from './registry-target.ts';
import { transfer } from './transfer.ts';

let tmp: string;
let cache: BlobCache;
let image: Descriptor;
const src = () => join(tmp, 'src');

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'waybill-transfer-'));
  cache = new BlobCache(join(tmp, 'cache'));
  const built = await buildOciLayout(src(), [{ 'etc/hello': 'hello\n' }, { 'usr/bin/x': 'binary' }], {
    tag: '1.0',
  });
  image = built.manifest;
  await attachArtifact(
    src(),
    image,
    ARTIFACT_TYPE.record,
    Buffer.from('{"record":1}'),
    'application/vnd.in-toto+json',
  );
  const sbom = await attachArtifact(
    src(),
    image,
    ARTIFACT_TYPE.cyclonedx,
    Buffer.from('{"bomFormat":"CycloneDX"}'),
    ARTIFACT_TYPE.cyclonedx,
  );
  // A signature on the SBOM attachment: a referrer of a referrer.
  await attachArtifact(
    src(),
    sbom.descriptor,
    'application/vnd.example.signature',
    Buffer.from('sig'),
    'application/octet-stream',
  );
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const layoutSource = (dir: string, tag?: string) =>
  new LayoutGraphSource(`oci:${dir}`, new DirectoryBlobStore(dir), tag);

/** Records the order of the sink calls. */
function recording(sink: GraphSink, log: string[], failOn?: string): GraphSink {
  const step = (name: string) => {
    log.push(name);
    if (failOn !== undefined && name === failOn) throw new Error(`injected failure at ${name}`);
  };
  return {
    name: sink.name,
    tagged: () => sink.tagged(),
    referrerDigests: (s) => sink.referrerDigests(s),
    putBlob: async (r, onBytes) => {
      step(`blob ${r.descriptor.mediaType}`);
      return sink.putBlob(r, onBytes);
    },
    putManifest: async (d, b) => {
      step(`manifest ${d.mediaType}`);
      return sink.putManifest(d, b);
    },
    putReferrer: async (s, d, b) => {
      step(`referrer ${d.artifactType}`);
      return sink.putReferrer(s, d, b);
    },
    tag: async (d, b) => {
      step('tag');
      return sink.tag(d, b);
    },
    commit: () => sink.commit(),
    abort: () => sink.abort(),
  };
}

describe('transfer', () => {
  test('layout → layout: image and attachments (and their own referrers), in order, then nothing the second time', async () => {
    const dst = join(tmp, 'copy');
    const source = layoutSource(src(), '1.0');
    const graph = await collectGraph(source);
    assert.equal(graph.root.digest, image.digest);
    assert.deepEqual(
      graph.referrers.map((r) => r.descriptor.artifactType).sort(),
      [ARTIFACT_TYPE.cyclonedx, ARTIFACT_TYPE.record, 'application/vnd.example.signature'].sort(),
    );
    const log: string[] = [];
    const report = await withGraphSink(
      { kind: 'oci', ref: `oci:${dst}:2.0`, path: dst, tag: '2.0' },
      { cache },
      (sink) => transfer(graph, source, recording(sink, log)),
    );
    assert.equal(report.changed, true);
    assert.equal(report.tagged, true);
    assert.equal(report.referrers.written.length, 3);
    // blobs, then the manifest, then attachments (their blobs first), the tag last.
    const firstManifest = log.findIndex((l) => l.startsWith('manifest'));
    const firstReferrer = log.findIndex((l) => l.startsWith('referrer'));
    assert.ok(
      log.slice(0, firstManifest).every((l) => l.startsWith('blob')),
      log.join('\n'),
    );
    assert.ok(firstManifest < firstReferrer);
    assert.equal(log.at(-1), 'tag');
    // The signature comes after the SBOM it signs.
    assert.ok(
      log.indexOf(`referrer ${ARTIFACT_TYPE.cyclonedx}`) <
        log.indexOf('referrer application/vnd.example.signature'),
    );

    const copied = await resolveRef(await OciLayout.open(dst), '2.0');
    assert.equal(copied.descriptor.digest, image.digest);
    const records = await findAttachments(dst, image.digest, ARTIFACT_TYPE.record);
    assert.equal((await readAttachment(dst, records[0]!)).toString(), '{"record":1}');

    const again = await withGraphSink(
      { kind: 'oci', ref: `oci:${dst}:2.0`, path: dst, tag: '2.0' },
      { cache },
      (sink) => transfer(graph, source, sink),
    );
    assert.equal(again.changed, false);
    assert.equal(again.referrers.present, 3);
  });

  test('a copy that fails before the tag leaves the old tag; the next run resumes and completes', async () => {
    const dst = join(tmp, 'interrupted');
    const old = await buildOciLayout(dst, [{ old: 'old' }], { tag: '1.0' });
    const source = layoutSource(src(), '1.0');
    const graph = await collectGraph(source);
    const ref = { kind: 'oci' as const, ref: `oci:${dst}:1.0`, path: dst, tag: '1.0' };
    await assert.rejects(
      withGraphSink(ref, { cache }, (sink) =>
        transfer(graph, source, recording(sink, [], `referrer ${ARTIFACT_TYPE.cyclonedx}`)),
      ),
      /injected failure/,
    );
    // Nothing visible changed: the tag still names the old image, no attachment is listed.
    assert.equal((await resolveRef(await OciLayout.open(dst), '1.0')).descriptor.digest, old.manifest.digest);
    assert.deepEqual(await findAttachments(dst, image.digest), []);
    const log: string[] = [];
    const resumed = await withGraphSink(ref, { cache }, (sink) =>
      transfer(graph, source, recording(sink, log)),
    );
    assert.equal(resumed.changed, true);
    // Blobs written by the failed run are found, not written again.
    assert.equal(resumed.blobs.uploaded, 0);
    assert.equal((await resolveRef(await OciLayout.open(dst), '1.0')).descriptor.digest, image.digest);
    assert.equal((await findAttachments(dst, image.digest)).length, 2);
  });

  test('layout → oci-archive → layout keeps every attachment and the digest', async () => {
    const archive = join(tmp, 'image.tar');
    const source = layoutSource(src(), '1.0');
    const graph = await collectGraph(source);
    await withGraphSink(
      { kind: 'oci-archive', ref: `oci-archive:${archive}`, path: archive, tag: 'v1' },
      { cache },
      (sink) => transfer(graph, source, sink),
    );
    assert.equal((await findAttachmentsInOciArchive(archive, image.digest)).length, 2);
    const { openTarBlobStore } = await import('../sources/oci-archive.ts');
    const fromArchive = new LayoutGraphSource(
      `oci-archive:${archive}`,
      await openTarBlobStore(archive),
      'v1',
    );
    const back = join(tmp, 'back');
    const graph2 = await collectGraph(fromArchive);
    assert.equal(graph2.root.digest, image.digest);
    assert.equal(graph2.referrers.length, 3);
    await withGraphSink({ kind: 'oci', ref: `oci:${back}`, path: back, tag: 'v1' }, { cache }, (sink) =>
      transfer(graph2, fromArchive, sink),
    );
    assert.equal((await findAttachments(back, image.digest)).length, 2);
  });

  test('a multi-platform index: per-platform attachments travel with their platform', async () => {
    const dir = join(tmp, 'multi');
    const { index, amd, arm } = await buildMultiPlatformLayout(dir, 'm');
    for (const platform of [amd, arm])
      await attachArtifact(
        dir,
        platform.manifest,
        ARTIFACT_TYPE.record,
        Buffer.from(platform.manifest.digest),
        'application/vnd.in-toto+json',
      );
    const source = layoutSource(dir, 'm');
    const graph = await collectGraph(source);
    assert.equal(graph.root.digest, index.digest);
    assert.equal(graph.manifests.length, 3);
    assert.deepEqual(
      graph.referrers.map((r) => r.subject.digest).sort(),
      [amd.manifest.digest, arm.manifest.digest].sort(),
    );
    const dst = join(tmp, 'multi-copy');
    await withGraphSink({ kind: 'oci', ref: `oci:${dst}`, path: dst, tag: 'm' }, { cache }, (sink) =>
      transfer(graph, source, sink),
    );
    assert.equal((await findAttachments(dst, arm.manifest.digest, ARTIFACT_TYPE.record)).length, 1);
  });

  test('a registry with the referrers API (TEST ONLY fake): attachments are listed by the registry, no referrers tag', async () => {
    const fake = await startFakeReferrersRegistry();
    try {
      const repo = openRepository(`docker://${fake.server.host}/app:1.0`, {
        insecure: true,
        credentials: { lookup: async () => undefined },
      });
      const source = layoutSource(src(), '1.0');
      const graph = await collectGraph(source);
      const report = await transfer(graph, source, new RegistryGraphSink(repo, cache));
      assert.equal(report.referrers.written.length, 3);
      assert.deepEqual([...fake.tags.keys()], ['1.0']);
      const listed = await repo.listReferrers(image.digest);
      assert.equal(listed.via, 'api');
      assert.equal(listed.referrers.length, 2);
      const again = await transfer(graph, source, new RegistryGraphSink(repo, cache));
      assert.equal(again.changed, false);
    } finally {
      await fake.server.close();
    }
  });
});
