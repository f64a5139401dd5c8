/**
 * The sidecar ↔ attachment map: each sidecar of a file is found with its type, a rebuild kit only
 * when it lists the file, other files' sidecars and look-alikes are not taken, and every attachment
 * type comes back under its sidecar name (a hostile title never names a path).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tarBuffer } from '../archive/tar-writer.ts';
import { ARTIFACT_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import { writeKit } from '../provenance/build/kit.ts';
import { sampleKitManifest } from '../provenance/build/testing.ts';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION } from '../sign/bundle-files.ts';
import { sha256Digest } from '../util/digest.ts';
import { PUBLICATION_ARTIFACT_TYPE } from './publication.ts';
import {
  collectSidecars,
  INTOTO_JSONL_ARTIFACT_TYPE,
  PREDICATE_TYPE_ANNOTATION,
  REBUILD_KIT_ARTIFACT_TYPE,
  STATEMENT_ARTIFACT_TYPE,
  sidecarNameFor,
  sidecarRoleOf,
  sidecarTypeOf,
} from './sidecars.ts';

let dir: string;
const NAME = 'hello_1.0_amd64.deb';
const content = Buffer.from('the package');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-sidecars-'));
  const payload = Buffer.from(JSON.stringify({ predicateType: 'https://slsa.dev/provenance/v1' })).toString(
    'base64',
  );
  const files: Record<string, string | Buffer> = {
    [NAME]: content,
    [`${NAME}.waybill.json`]: '{}',
    [`${NAME}.cdx.json`]: '{}',
    [`${NAME}.publication.json`]: '{}',
    [`${NAME}.provenance.json`]: JSON.stringify({ predicateType: 'https://slsa.dev/provenance/v1' }),
    [`${NAME}.provenance.sigstore.json`]: JSON.stringify({ dsseEnvelope: { payload } }),
    [`${NAME}.intoto.jsonl`]: '{}\n',
    // Not this file's: another artifact's sidecar, and a look-alike name.
    'other.deb.waybill.json': '{}',
    [`${NAME}x.waybill.json`]: '{}',
    'notes.txt': 'x',
    'broken.rebuild.tar': 'not a tar',
  };
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  // Two real kits (provenance/build/kit.ts): one lists this file's digest, one another file's.
  const source = join(dir, 'source.tar.src');
  await writeFile(source, await tarBuffer([{ path: 'README', data: 'hello\n' }]));
  const output = (published: string) => ({
    path: `dist/${NAME}`,
    name: NAME,
    kind: 'file' as const,
    built: published,
    published,
  });
  const config = Buffer.from('version: 1\n');
  await writeKit(
    join(dir, 'hello-1.0.rebuild.tar'),
    sampleKitManifest(await readFile(source), [output(sha256Digest(content).slice(7))]),
    config,
    source,
    0,
  );
  await writeKit(
    join(dir, 'other-2.0.rebuild.tar'),
    sampleKitManifest(await readFile(source), [output('ff'.repeat(32))]),
    config,
    source,
    0,
  );
});

after(async () => rm(dir, { recursive: true, force: true }));

test('the sidecars of a file: each with its type and title; a kit only when it lists the file', async () => {
  const found = await collectSidecars(join(dir, NAME), sha256Digest(content));
  assert.deepEqual(
    found.map((s) => [s.fileName, s.role, s.artifactType]),
    [
      ['hello-1.0.rebuild.tar', 'rebuild-kit', REBUILD_KIT_ARTIFACT_TYPE],
      [`${NAME}.cdx.json`, 'sbom', ARTIFACT_TYPE.cyclonedx],
      [`${NAME}.intoto.jsonl`, 'bundles', INTOTO_JSONL_ARTIFACT_TYPE],
      [`${NAME}.provenance.json`, 'statement', STATEMENT_ARTIFACT_TYPE],
      [`${NAME}.provenance.sigstore.json`, 'bundle', BUNDLE_MEDIA_TYPE],
      [`${NAME}.publication.json`, 'publication', PUBLICATION_ARTIFACT_TYPE],
      [`${NAME}.waybill.json`, 'record', ARTIFACT_TYPE.record],
    ],
  );
  for (const s of found) assert.equal(s.annotations[OCI_ANNOTATION.title], s.fileName);
  const bundle = found.find((s) => s.role === 'bundle');
  assert.equal(bundle?.annotations[BUNDLE_PREDICATE_ANNOTATION], 'https://slsa.dev/provenance/v1');
  const statement = found.find((s) => s.role === 'statement');
  assert.equal(statement?.annotations[PREDICATE_TYPE_ANNOTATION], 'https://slsa.dev/provenance/v1');
  // The kit is streamed, never read whole.
  assert.equal(found.find((s) => s.role === 'rebuild-kit')?.bytes, undefined);
});

test('attachments come back under their sidecar names; a hostile title never names a path', () => {
  for (const file of [
    `${NAME}.waybill.json`,
    `${NAME}.cdx.json`,
    `${NAME}.spdx.json`,
    `${NAME}.publication.json`,
  ]) {
    const type = sidecarTypeOf(NAME, file);
    assert.ok(type, file);
    assert.equal(sidecarNameFor(NAME, type.artifactType, file), file);
    assert.equal(sidecarNameFor(NAME, type.artifactType, undefined), file);
    assert.equal(sidecarNameFor(NAME, type.artifactType, `../../etc/${file}`), file);
  }
  assert.equal(
    sidecarNameFor(NAME, BUNDLE_MEDIA_TYPE, `${NAME}.record.sigstore.json`),
    `${NAME}.record.sigstore.json`,
  );
  assert.equal(sidecarNameFor(NAME, BUNDLE_MEDIA_TYPE, '../x.sigstore.json'), undefined);
  assert.equal(sidecarNameFor(NAME, BUNDLE_MEDIA_TYPE, undefined), undefined);
  assert.equal(sidecarNameFor(NAME, REBUILD_KIT_ARTIFACT_TYPE, 'p-1.rebuild.tar'), 'p-1.rebuild.tar');
  assert.equal(sidecarNameFor(NAME, REBUILD_KIT_ARTIFACT_TYPE, '/etc/p.rebuild.tar'), undefined);
  // A title of another type's name does not turn an SBOM into a record.
  assert.equal(sidecarNameFor(NAME, ARTIFACT_TYPE.cyclonedx, `${NAME}.waybill.json`), `${NAME}.cdx.json`);
  assert.equal(sidecarRoleOf(ARTIFACT_TYPE.spdx), 'sbom');
  assert.equal(sidecarRoleOf('application/vnd.in-toto+json'), 'statement');
});
