/**
 * The referrers API path (distribution-spec 1.1), which Debian's docker-registry 2.8 lacks, against
 * a minimal in-memory fake written only for this test (test-server.ts, TEST ONLY — not a registry):
 * it stores manifests and blobs, answers `OCI-Subject` on pushes with a subject, and lists referrers
 * two per page with `Link` headers, without applying the artifactType filter (so the client must).
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { ARTIFACT_TYPE, MEDIA_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import { sha256Digest } from '../util/digest.ts';
import {
  findRegistryAttachments,
  readRegistryAttachmentAt,
  readRegistryAttachmentPayload,
} from './attachments.ts';
import { bufferSource } from './blobs.ts';
import { openRepository } from './repository.ts';
import { startFakeReferrersRegistry, type TestServer, testManifest } from './test-server.ts';

let server: TestServer | undefined;
afterEach(async () => server?.close());

test('referrers API: pushes use it (no referrers tag), lists are paged and filtered, attachments are read', async () => {
  const fake = await startFakeReferrersRegistry();
  server = fake.server;
  const repo = openRepository(`docker://${fake.server.host}/app:1`, {
    insecure: true,
    credentials: { lookup: async () => undefined },
  });
  const image = testManifest({ mediaType: MEDIA_TYPE.ociConfig, digest: sha256Digest('c'), size: 1 });
  const subject = (await repo.putManifest('1', image, MEDIA_TYPE.ociManifest)).descriptor;
  await repo.pushBlob(bufferSource(Buffer.from('{}')));

  const pushed = [];
  for (const [type, text, created] of [
    [ARTIFACT_TYPE.record, '{"old":true}', '2025-01-01T00:00:00Z'],
    [ARTIFACT_TYPE.record, '{"new":true}', '2025-06-01T00:00:00Z'],
    [ARTIFACT_TYPE.cyclonedx, '{"bomFormat":"CycloneDX"}', '2025-06-01T00:00:00Z'],
    [ARTIFACT_TYPE.spdx, '{"spdxVersion":"SPDX-2.3"}', '2025-06-01T00:00:00Z'],
    ['application/vnd.other', 'x', '2025-06-01T00:00:00Z'],
  ] as const) {
    const payload = Buffer.from(text);
    await repo.pushBlob(bufferSource(payload));
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      artifactType: type,
      config: { mediaType: MEDIA_TYPE.ociEmpty, digest: sha256Digest('{}'), size: 2 },
      layers: [{ mediaType: 'application/json', digest: sha256Digest(payload), size: payload.length }],
      subject,
      annotations: { [OCI_ANNOTATION.created]: created },
    };
    const result = await repo.pushReferrer(Buffer.from(JSON.stringify(manifest)));
    assert.equal(result.via, 'api');
    pushed.push(result.descriptor);
  }
  // No referrers tag was written: the registry indexes referrers itself.
  assert.deepEqual([...fake.tags.keys()], ['1']);

  const all = await repo.listReferrers(subject.digest);
  assert.equal(all.via, 'api');
  assert.deepEqual(all.referrers.map((d) => d.digest).sort(), pushed.map((d) => d.digest).sort());
  const records = await repo.listReferrers(subject.digest, ARTIFACT_TYPE.record);
  assert.equal(records.referrers.length, 2);
  assert.ok(records.referrers.every((d) => d.artifactType === ARTIFACT_TYPE.record));
  // Paged: 5 referrers at 2 a page is 3 referrers requests per listing.
  assert.equal(fake.server.requests.filter((r) => r.url.includes('/referrers/')).length, 6);

  // The newest record wins; its payload is read and verified.
  const [newest] = await findRegistryAttachments(repo, subject.digest, ARTIFACT_TYPE.record);
  assert.ok(newest);
  assert.equal((await readRegistryAttachmentPayload(repo, newest)).toString(), '{"new":true}');
  const sbomDigest = pushed[2]?.digest as string;
  assert.equal(
    (await readRegistryAttachmentAt(repo, sbomDigest, subject.digest))?.toString(),
    '{"bomFormat":"CycloneDX"}',
  );
  // An attachment of another image is not this image's.
  assert.equal(await readRegistryAttachmentAt(repo, sbomDigest, sha256Digest('another image')), undefined);
  assert.equal(await readRegistryAttachmentAt(repo, sha256Digest('absent'), subject.digest), undefined);
});
