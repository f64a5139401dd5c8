import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isWaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { OciArchiveLayout } from './archive-layout.ts';
import { stampOciArchive } from './archive-stamp.ts';
import {
  attachArtifact,
  attachToOciArchive,
  detachArtifacts,
  EMPTY_CONFIG,
  findAttachments,
  findAttachmentsInOciArchive,
  readAttachment,
  readAttachmentFromOciArchive,
} from './attach.ts';
import { blobPath, OciLayout, resolveRef, WAYBILL_REFERRER_ANNOTATION } from './layout.ts';
import { stampImage } from './stamp.ts';
import { haveTools, run, skopeoInspect, tempDir, umociImage } from './testing.ts';
import { ARTIFACT_TYPE, type ImageIndex, type ImageManifest, MEDIA_TYPE, OCI_ANNOTATION } from './types.ts';

const missing = haveTools('umoci', 'skopeo');
const CREATED = { [OCI_ANNOTATION.created]: '2025-03-01T12:00:00Z' };
const RECORD = Buffer.from(
  JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicate: { ok: true } }),
);
const SBOM = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }));

/** A umoci-built image tagged `t` in `<dir>/img`, and its manifest descriptor. */
async function taggedImage(dir: string) {
  const layout = join(dir, 'img');
  await umociImage(layout, 't');
  return { layout, subject: (await resolveRef(await OciLayout.open(layout), 't')).descriptor };
}

test('empty descriptor digest is sha256("{}")', () => {
  assert.equal(EMPTY_CONFIG.digest, sha256Digest(Buffer.from('{}')));
});

test('attach record + SBOM to a layout: OCI 1.1 manifest, found again, image still resolves by tag', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const layout = join(tmp.dir, 'img');
  await umociImage(layout, '1.0', { files: { a: 'a' } });
  await stampImage(layout, '1.0', { version: '1.0', created: '2025-03-01T12:00:00Z' });
  const subject = (await resolveRef(await OciLayout.open(layout), '1.0')).descriptor;

  const rec = await attachArtifact(
    layout,
    subject,
    ARTIFACT_TYPE.record,
    RECORD,
    'application/vnd.in-toto+json',
    CREATED,
  );
  const sbom = await attachArtifact(
    layout,
    subject,
    ARTIFACT_TYPE.cyclonedx,
    SBOM,
    ARTIFACT_TYPE.cyclonedx,
    CREATED,
  );

  const manifest = JSON.parse(
    readFileSync(join(layout, blobPath(rec.descriptor.digest)), 'utf8'),
  ) as ImageManifest;
  assert.equal(manifest.mediaType, MEDIA_TYPE.ociManifest);
  assert.equal(manifest.artifactType, ARTIFACT_TYPE.record);
  assert.deepEqual(manifest.config, EMPTY_CONFIG);
  assert.equal(readFileSync(join(layout, blobPath(EMPTY_CONFIG.digest)), 'utf8'), '{}');
  assert.deepEqual(manifest.subject, {
    mediaType: subject.mediaType,
    digest: subject.digest,
    size: subject.size,
  });
  assert.equal(manifest.layers.length, 1);
  assert.equal(manifest.layers[0]!.digest, sha256Digest(RECORD));
  assert.equal(manifest.annotations?.[OCI_ANNOTATION.created], '2025-03-01T12:00:00Z');

  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  assert.equal(index.manifests.length, 3);
  for (const d of index.manifests.slice(1)) {
    assert.equal(d.annotations?.[OCI_ANNOTATION.refName], undefined, 'an attachment is not a tag');
    assert.equal(d.annotations?.[WAYBILL_REFERRER_ANNOTATION], subject.digest);
  }
  // skopeo (1.9: no oci:DIR@digest) and umoci still find the image by tag.
  assert.equal(skopeoInspect(`oci:${layout}:1.0`).Digest, subject.digest);
  assert.equal(skopeoInspect(`oci:${layout}:1.0`).Labels?.['org.opencontainers.image.version'], '1.0');
  assert.match(run('umoci', ['stat', '--image', `${layout}:1.0`]), /LAYER/);

  const all = await findAttachments(layout, subject.digest);
  assert.deepEqual(
    all.map((a) => a.artifactType),
    [ARTIFACT_TYPE.cyclonedx, ARTIFACT_TYPE.record],
  );
  const [found] = await findAttachments(layout, subject.digest, ARTIFACT_TYPE.record);
  assert.equal(found!.descriptor.digest, rec.descriptor.digest);
  assert.deepEqual(await readAttachment(layout, found!), RECORD);
  assert.deepEqual(await readAttachment(layout, sbom.descriptor), SBOM);
  assert.deepEqual(await findAttachments(layout, `sha256:${'0'.repeat(64)}`), []);
});

test('re-attaching replaces the earlier attachment of the same type; same input, same digest', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const { layout, subject } = await taggedImage(tmp.dir);
  const first = await attachArtifact(
    layout,
    subject,
    ARTIFACT_TYPE.record,
    RECORD,
    'application/json',
    CREATED,
  );
  const same = await attachArtifact(
    layout,
    subject,
    ARTIFACT_TYPE.record,
    RECORD,
    'application/json',
    CREATED,
  );
  assert.equal(same.descriptor.digest, first.descriptor.digest);
  const next = Buffer.from('{"v":2}');
  const second = await attachArtifact(
    layout,
    subject,
    ARTIFACT_TYPE.record,
    next,
    'application/json',
    CREATED,
  );
  const index = await (await OciLayout.open(layout)).readIndex();
  assert.equal(index.manifests.length, 2);
  assert.equal(index.manifests[1]!.digest, second.descriptor.digest);
  const found = await findAttachments(layout, subject.digest, ARTIFACT_TYPE.record);
  assert.equal(found.length, 1);
  assert.deepEqual(await readAttachment(layout, found[0]!), next);
});

test('attachments of one type with different annotations (bundles of different statements) are kept side by side', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const { layout, subject } = await taggedImage(tmp.dir);
  const bundle = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const kind = (predicateType: string) => ({
    ...CREATED,
    'dev.sigstore.bundle.predicateType': predicateType,
  });
  await attachArtifact(layout, subject, bundle, Buffer.from('{"record":1}'), bundle, kind('record'));
  await attachArtifact(layout, subject, bundle, Buffer.from('{"provenance":1}'), bundle, kind('provenance'));
  await attachArtifact(layout, subject, bundle, Buffer.from('{"provenance":2}'), bundle, kind('provenance'));
  const found = await findAttachments(layout, subject.digest, bundle);
  const payloads = await Promise.all(found.map(async (a) => (await readAttachment(layout, a)).toString()));
  assert.deepEqual(payloads.sort(), ['{"provenance":2}', '{"record":1}']);
});

test('detachArtifacts empties one slot: the other bundles stay', { skip: missing }, async () => {
  using tmp = tempDir();
  const { layout, subject } = await taggedImage(tmp.dir);
  const bundle = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const kind = (predicateType: string) => ({
    ...CREATED,
    'dev.sigstore.bundle.predicateType': predicateType,
  });
  await attachArtifact(
    layout,
    subject,
    bundle,
    Buffer.from('{"r":1}'),
    bundle,
    kind('https://waybill.dev/release-record/v2'),
  );
  await attachArtifact(
    layout,
    subject,
    bundle,
    Buffer.from('{"s":1}'),
    bundle,
    kind('https://cyclonedx.org/bom'),
  );
  // The created time is not part of the slot: a drop names the kind alone.
  const removed = await detachArtifacts(layout, subject.digest, bundle, {
    'dev.sigstore.bundle.predicateType': 'https://waybill.dev/release-record/v2',
  });
  assert.equal(removed, 1);
  const left = await findAttachments(layout, subject.digest, bundle);
  assert.deepEqual((await Promise.all(left.map((f) => readAttachment(layout, f)))).map(String), ['{"s":1}']);
  assert.equal(await detachArtifacts(layout, subject.digest, ARTIFACT_TYPE.record), 0);
});

test('tampered payload is a DIGEST_MISMATCH; a subject not in the layout is refused', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const { layout, subject } = await taggedImage(tmp.dir);
  const rec = await attachArtifact(
    layout,
    subject,
    ARTIFACT_TYPE.record,
    RECORD,
    'application/json',
    CREATED,
  );
  const payloadFile = join(layout, blobPath(rec.payload.digest));
  run('chmod', ['u+w', payloadFile]);
  writeFileSync(payloadFile, Buffer.from(RECORD.toString().replace('true', 'fals')));
  await assert.rejects(readAttachment(layout, rec), (e) => isWaybillError(e) && e.code === 'DIGEST_MISMATCH');
  const ghost = { ...subject, digest: `sha256:${'1'.repeat(64)}` };
  await assert.rejects(
    attachArtifact(layout, ghost, ARTIFACT_TYPE.record, RECORD, 'application/json', CREATED),
    (e) => isWaybillError(e) && e.code === 'NOT_FOUND',
  );
});

test('oci-archive: stamp, attach, find and read; skopeo still reads the image by tag', {
  skip: missing,
}, async () => {
  using tmp = tempDir();
  const layout = join(tmp.dir, 'img');
  await umociImage(layout, '3.0', { files: { a: 'a' } });
  const archive = join(tmp.dir, 'img.tar');
  run('skopeo', ['copy', '-q', `oci:${layout}:3.0`, `oci-archive:${archive}:3.0`]);
  const stamped = await stampOciArchive(archive, '3.0', { version: '3.0', created: '2025-03-01T12:00:00Z' });
  const real = (await resolveRef(await OciArchiveLayout.open(archive), '3.0')).descriptor;
  assert.equal(real.digest, stamped.newDigest);
  const att = await attachToOciArchive(archive, real, ARTIFACT_TYPE.spdx, SBOM, ARTIFACT_TYPE.spdx, CREATED);
  const inspect = skopeoInspect(`oci-archive:${archive}:3.0`);
  assert.equal(inspect.Digest, stamped.newDigest);
  assert.equal(inspect.Labels?.['org.opencontainers.image.version'], '3.0');
  const found = await findAttachmentsInOciArchive(archive, stamped.newDigest);
  assert.deepEqual(
    found.map((f) => f.descriptor.digest),
    [att.descriptor.digest],
  );
  assert.deepEqual(await readAttachmentFromOciArchive(archive, found[0]!), SBOM);
});
