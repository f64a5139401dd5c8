/**
 * `stamp --sbom` refuses an SBOM about something else. Real artifacts (dpkg-deb packages, an OCI
 * layout), SBOMs as waybill, syft and trivy write their subjects.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildPackages } from '../../test/fixtures/build-packages.ts';
import { makeTmp, removeTmp } from '../../test/helpers/exec-fixtures.ts';
import { readSbom } from '../sbom/read.ts';
import { openArtifact } from '../sources/open.ts';
import { buildOciLayout } from '../sources/testing.ts';
import type { Artifact } from '../sources/types.ts';
import { generateSbom } from './generate-sbom.ts';
import { sbomSubjectMismatch, sbomTarget } from './sbom-subject.ts';

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-sbom-subject-');
});
after(() => removeTmp(tmp));

const fixtures = await buildPackages();
const skip = !fixtures.deb.gzip || !fixtures.deb.xz ? (fixtures.debSkip ?? 'no deb fixtures') : false;

function cdx(component: Record<string, unknown> | undefined) {
  return readSbom(
    JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: component ? { component } : {} }),
    'given.cdx.json',
  );
}

const hex = (a: Artifact) => a.digest.slice('sha256:'.length);
const DEB = { name: 'waybill-demo', version: '1:1.2.3-1' };

test('by digest: an SBOM of this very file matches, one of another build does not', { skip }, async () => {
  const a = await openArtifact(fixtures.deb.gzip!);
  const b = await openArtifact(fixtures.deb.xz!);
  const target = sbomTarget([a], DEB, 'deb');
  const own = await generateSbom(a, { format: 'cyclonedx-json', name: 'waybill-demo' });
  assert.equal(sbomSubjectMismatch(readSbom(own.bytes, 'own'), target), undefined);
  const spdx = await generateSbom(a, { format: 'spdx-json', name: 'waybill-demo' });
  assert.equal(sbomSubjectMismatch(readSbom(spdx.bytes, 'own'), target), undefined);
  // Same package, same name and version, other bytes: the digest decides.
  const other = await generateSbom(b, {
    format: 'cyclonedx-json',
    name: 'waybill-demo',
    version: DEB.version,
  });
  const why = sbomSubjectMismatch(readSbom(other.bytes, 'other'), target);
  assert.match(
    why ?? '',
    /^the SBOM describes waybill-demo 1:1\.2\.3-1 \(sha256:[0-9a-f]{12}…\), metadata\.component, not this artifact, waybill-demo 1:1\.2\.3-1 \(sha256:[0-9a-f]{12}…\): other bytes \(digest\)$/,
  );
  // syft's file subject: the digest as version, prefixed twice.
  assert.equal(
    sbomSubjectMismatch(cdx({ type: 'file', name: 'x.deb', version: `sha256:sha256:${hex(a)}` }), target),
    undefined,
  );
  assert.match(
    sbomSubjectMismatch(cdx({ type: 'file', name: 'x.deb', version: `sha256:${hex(b)}` }), target) ?? '',
    /other bytes/,
  );
});

test('by name and version when the subject has no hash: own name, purl, file path', { skip }, async () => {
  const a = await openArtifact(fixtures.deb.gzip!);
  const target = sbomTarget([a], DEB, 'deb');
  assert.equal(sbomSubjectMismatch(cdx({ name: 'waybill-demo', version: '1:1.2.3-1' }), target), undefined);
  assert.equal(sbomSubjectMismatch(cdx({ name: 'waybill-demo' }), target), undefined);
  assert.equal(
    sbomSubjectMismatch(
      cdx({ name: 'x', purl: 'pkg:deb/debian/waybill-demo@1%3A1.2.3-1?arch=amd64' }),
      target,
    ),
    undefined,
  );
  // trivy names a scanned file by its path.
  assert.equal(
    sbomSubjectMismatch(cdx({ type: 'file', name: `dist/${a.path.split('/').at(-1)}` }), target),
    undefined,
  );
  assert.match(sbomSubjectMismatch(cdx({ name: 'jq', version: '1.6' }), target) ?? '', /: another name$/);
  assert.match(
    sbomSubjectMismatch(cdx({ name: 'waybill-demo', version: '1.2.2' }), target) ?? '',
    /: another version$/,
  );
  assert.match(
    sbomSubjectMismatch(cdx(undefined), target) ?? '',
    /^the SBOM names no subject \(no metadata\.component\)/,
  );
  const spdxWithout = readSbom(JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [] }), 'x.spdx.json');
  assert.match(sbomSubjectMismatch(spdxWithout, target) ?? '', /no documentDescribes/);
});

test('images: manifest, index or config digest (trivy writes the image id) all name the image', async () => {
  const layout = join(tmp, 'layout');
  const built = await buildOciLayout(layout, [{ 'etc/hostname': 'x\n' }], { tag: 'latest' });
  const image = await openArtifact(`oci:${layout}:latest`);
  const target = sbomTarget([image], { name: 'hello', version: null }, 'oci-image');
  const trivyLike = cdx({
    type: 'container',
    name: 'ghcr.io/acme/other:1.0',
    properties: [{ name: 'aquasecurity:trivy:ImageID', value: built.config.digest }],
  });
  assert.equal(sbomSubjectMismatch(trivyLike, target), undefined, 'the config digest is the image id');
  const byManifest = cdx({ type: 'container', name: 'x', hashes: [{ alg: 'SHA-256', content: hex(image) }] });
  assert.equal(sbomSubjectMismatch(byManifest, target), undefined);
  // A reference names the image by its repository's last component.
  assert.equal(
    sbomSubjectMismatch(cdx({ type: 'container', name: 'ghcr.io/acme/hello:1.0' }), target),
    undefined,
  );
});
