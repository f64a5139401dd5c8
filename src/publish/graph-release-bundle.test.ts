/**
 * A file built by `waybill build` has its rebuild kit beside it under the release's name
 * (PROJECT-VERSION.rebuild.tar). A release directory files every sidecar as FILE.<suffix>, so the
 * kit goes there as FILE.rebuild.tar: publishing a built file must not be refused for its kit's name.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tarBuffer } from '../archive/tar-writer.ts';
import { ARTIFACT_TYPE } from '../oci/types.ts';
import { writeKit } from '../provenance/build/kit.ts';
import { sampleKitManifest } from '../provenance/build/testing.ts';
import { buildRecord, serializeRecord } from '../record/build.ts';
import { sampleRecordInput } from '../record/sample-input.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import { sha256Hex } from '../util/digest.ts';
import { fileGraph } from './file-graph.ts';
import { collectGraph } from './graph.ts';
import { releaseBundleFromGraph, releaseSidecarName } from './graph-release-bundle.ts';
import { publishToReleaseDirectory } from './release-dir.ts';
import { REBUILD_KIT_ARTIFACT_TYPE } from './sidecars.ts';

const FILE = 'hello-1.2.3.tar.gz';
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-graph-bundle-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a kit is filed as FILE.rebuild.tar whatever its title; other sidecars keep theirs', () => {
  assert.equal(
    releaseSidecarName(FILE, REBUILD_KIT_ARTIFACT_TYPE, 'hello-1.2.3.rebuild.tar'),
    `${FILE}.rebuild.tar`,
  );
  assert.equal(releaseSidecarName(FILE, REBUILD_KIT_ARTIFACT_TYPE, undefined), `${FILE}.rebuild.tar`);
  assert.equal(
    releaseSidecarName(FILE, REBUILD_KIT_ARTIFACT_TYPE, `${FILE}.rebuild.tar`),
    `${FILE}.rebuild.tar`,
  );
  assert.equal(releaseSidecarName(FILE, ARTIFACT_TYPE.record, 'whatever.json'), `${FILE}.waybill.json`);
  assert.equal(releaseSidecarName(FILE, ARTIFACT_TYPE.cyclonedx, `${FILE}.cdx.json`), `${FILE}.cdx.json`);
  assert.equal(releaseSidecarName(FILE, 'application/x-unknown', 'notes.txt'), undefined);
});

test('a built file with its PROJECT-VERSION.rebuild.tar publishes to a release directory, the kit as FILE.rebuild.tar', async () => {
  const dist = join(dir, 'dist');
  await mkdir(dist);
  const content = Buffer.from('the hello 1.2.3 release\n');
  const artifact = join(dist, FILE);
  await writeFile(artifact, content);
  const record = buildRecord({
    ...sampleRecordInput(),
    subject: [{ name: FILE, digest: { sha256: sha256Hex(content) } }],
    identity: { name: 'hello', version: '1.2.3', architectures: ['noarch'] },
    dates: { built: '2026-03-01T12:00:00Z', published: null },
  });
  await writeFile(`${artifact}.waybill.json`, serializeRecord(record));
  // A real kit (provenance/build/kit.ts) listing the file as a published output.
  const sourceArchive = join(dir, 'source.tar');
  await writeFile(sourceArchive, await tarBuffer([{ path: 'README', data: 'hello\n' }]));
  const hex = sha256Hex(content);
  await writeKit(
    join(dist, 'hello-1.2.3.rebuild.tar'),
    sampleKitManifest(readFileSync(sourceArchive), [
      { path: `dist/${FILE}`, name: FILE, kind: 'file', built: hex, published: hex },
    ]),
    Buffer.from('version: 1\n'),
    sourceArchive,
    0,
  );

  const { source } = await fileGraph(`file:${artifact}`, artifact);
  const bundle = await releaseBundleFromGraph(
    await collectGraph(source),
    source,
    new BlobCache(join(dir, 'cache')),
    '2026-03-02T08:00:00Z',
    artifact,
  );
  assert.deepEqual(bundle.files.map((f) => [f.fileName, f.kind]).sort(), [
    [`${FILE}.rebuild.tar`, 'rebuild-kit'],
    [`${FILE}.waybill.json`, 'record'],
  ]);
  const root = join(dir, 'releases');
  await mkdir(root);
  await publishToReleaseDirectory(root, bundle);
  const version = join(root, 'hello', '1.2.3');
  assert.deepEqual(
    readFileSync(join(version, `${FILE}.rebuild.tar`)),
    readFileSync(join(dist, 'hello-1.2.3.rebuild.tar')),
  );
  assert.match(
    readFileSync(join(version, 'SHA256SUMS'), 'utf8'),
    / {2}hello-1\.2\.3\.tar\.gz\.rebuild\.tar$/m,
  );
  assert.equal(existsSync(join(version, 'hello-1.2.3.rebuild.tar')), false);
});
