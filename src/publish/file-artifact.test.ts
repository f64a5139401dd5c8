/**
 * Files as OCI artifacts: the kind and media types of real files (a gzip tarball, an ELF binary,
 * anything else), the manifest's shape (one layer titled with the file name, the empty config, the
 * record's facts as annotations), and the same file and record giving the same digest.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EMPTY_CONFIG } from '../oci/artifact-manifest.ts';
import { parseImageManifest } from '../oci/parse.ts';
import { OCI_ANNOTATION } from '../oci/types.ts';
import { buildRecord } from '../record/build.ts';
import { sampleRecordInput } from '../record/sample-input.ts';
import { fileSource } from '../registry/blobs.ts';
import { singleFileLayer } from '../sources/registry-file.ts';
import { buildTar } from '../sources/testing.ts';
import { sha256File } from '../util/digest.ts';
import { fileArtifact, fileKindOf, recordAnnotations } from './file-artifact.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-file-artifact-'));
  await writeFile(join(dir, 'app-1.0.tar.gz'), gzipSync(buildTar({ 'bin/app': 'x' })));
  await copyFile('/bin/true', join(dir, 'true'));
  await writeFile(join(dir, 'notes.txt'), 'plain text');
});
after(async () => rm(dir, { recursive: true, force: true }));

test('kinds: a gzip tarball, an executable, any other file', async () => {
  assert.deepEqual(await fileKindOf(join(dir, 'app-1.0.tar.gz')), {
    kind: 'tarball',
    artifactType: 'application/vnd.waybill.tarball.v1',
    mediaType: 'application/gzip',
  });
  assert.equal((await fileKindOf(join(dir, 'true'))).kind, 'executable');
  assert.deepEqual(await fileKindOf(join(dir, 'notes.txt')), {
    kind: 'file',
    artifactType: 'application/vnd.waybill.file.v1',
    mediaType: 'application/octet-stream',
  });
});

test('the manifest: one titled layer, the empty config, the record as annotations; deterministic', async () => {
  const path = join(dir, 'app-1.0.tar.gz');
  const digest = await sha256File(path);
  const { size } = await import('node:fs/promises').then((fs) => fs.stat(path));
  const record = buildRecord(sampleRecordInput());
  const made = await fileArtifact(path, { digest, size, local: fileSource(path, digest, size) }, record);
  const manifest = parseImageManifest(made.manifest.bytes, 'test');
  assert.equal(manifest.artifactType, 'application/vnd.waybill.tarball.v1');
  assert.deepEqual(manifest.config, EMPTY_CONFIG);
  assert.equal(manifest.subject, undefined);
  assert.deepEqual(singleFileLayer(manifest), {
    mediaType: 'application/gzip',
    digest,
    size,
    annotations: { [OCI_ANNOTATION.title]: 'app-1.0.tar.gz' },
  });
  assert.deepEqual(manifest.annotations, recordAnnotations(record));
  assert.equal(manifest.annotations?.[OCI_ANNOTATION.created], record.predicate.dates.built);
  const again = await fileArtifact(path, { digest, size, local: fileSource(path, digest, size) }, record);
  assert.equal(again.manifest.descriptor.digest, made.manifest.descriptor.digest);
  // Without a record the file names itself.
  const bare = await fileArtifact(path, { digest, size, local: fileSource(path, digest, size) }, undefined);
  assert.deepEqual(parseImageManifest(bare.manifest.bytes, 'test').annotations, {
    [OCI_ANNOTATION.title]: 'app-1.0.tar.gz',
  });
});
