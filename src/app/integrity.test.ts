/**
 * The bindings on top of the blobs: a file's or tree's digest against the record's subject, the
 * SBOM's bytes against the record's manifest.digest; `requireIntact` names the first failure with
 * both digests; a record whose SBOM is missing leaves that to the manifest rule.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildRecord } from '../record/build.ts';
import { sampleRecordInput } from '../record/sample-input.ts';
import { writeSidecar } from '../record/sidecar.ts';
import { openArtifact } from '../sources/open.ts';
import { sha256Digest, sha256Hex } from '../util/digest.ts';
import { readBoundFacts, requireIntact } from './integrity.ts';

const dir = mkdtempSync(join(tmpdir(), 'waybill-app-integrity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SBOM = '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}';

async function stamped(name: string, bytes: string, sbom = SBOM): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  writeFileSync(`${path}.cdx.json`, sbom);
  const input = sampleRecordInput();
  input.subject = [{ name, digest: { sha256: sha256Hex(bytes) } }];
  input.manifest = {
    format: 'cyclonedx-json',
    digest: { sha256: sha256Hex(SBOM) },
    location: `${name}.cdx.json`,
  };
  await writeSidecar(path, buildRecord(input));
  return path;
}

test('a file and its SBOM as stamped: the subject and the SBOM digest both match', async () => {
  const path = await stamped('intact.tar', 'release bytes');
  const { integrity, loaded, sbom } = await readBoundFacts(await openArtifact(`file:${path}`));
  assert.ok(loaded);
  assert.ok(sbom && 'bytes' in sbom);
  assert.deepEqual(
    integrity.checks.map((c) => [c.what, c.passed, c.expected]),
    [
      ['file', true, sha256Digest('release bytes')],
      ['SBOM', true, sha256Digest(SBOM)],
    ],
  );
  requireIntact(integrity);
});

test('a changed file fails against the record subject; check-style callers get one line with both digests', async () => {
  const path = await stamped('changed.tar', 'release bytes');
  writeFileSync(path, 'release bytez');
  const { integrity } = await readBoundFacts(await openArtifact(`file:${path}`));
  assert.equal(integrity.passed, false);
  const failed = integrity.checks.filter((c) => !c.passed);
  assert.deepEqual(
    failed.map((c) => [c.what, c.name, c.expected, c.actual]),
    [['file', path, sha256Digest('release bytes'), sha256Digest('release bytez')]],
  );
  assert.throws(
    () => requireIntact(integrity),
    (e: Error & { code?: string }) =>
      e.code === 'DIGEST_MISMATCH' &&
      e.message ===
        `${path} (file): digest is ${sha256Digest('release bytez')}, expected ${sha256Digest('release bytes')} (the release record's subject)`,
  );
});

test('a changed sidecar SBOM fails against the record; two failures are counted in the message', async () => {
  const path = await stamped('sbom.tar', 'sbom bytes');
  const edited = SBOM.replace('"components":[]', '"components": []');
  writeFileSync(`${path}.cdx.json`, edited);
  const { integrity } = await readBoundFacts(await openArtifact(`file:${path}`));
  const sbom = integrity.checks.find((c) => c.what === 'SBOM');
  assert.equal(sbom?.passed, false);
  assert.equal(sbom?.name, `${path}.cdx.json`);
  assert.equal(sbom?.actual, sha256Digest(edited));
  assert.equal(sbom?.expected, sha256Digest(SBOM));
  assert.equal(
    sbom?.problem,
    `digest is ${sha256Digest(edited)}, expected ${sha256Digest(SBOM)} (the release record's manifest.digest)`,
  );

  writeFileSync(path, 'other bytes');
  const both = await readBoundFacts(await openArtifact(`file:${path}`));
  assert.throws(() => requireIntact(both.integrity), /\(file\): .*; 1 more failed/);
});

test('a missing SBOM is not an integrity failure: the manifest rule reports it', async () => {
  const path = await stamped('nosbom.tar', 'no sbom');
  rmSync(`${path}.cdx.json`);
  const { integrity, sbom } = await readBoundFacts(await openArtifact(`file:${path}`));
  assert.deepEqual(
    integrity.checks.map((c) => c.what),
    ['file'],
  );
  assert.ok(sbom && 'error' in sbom);
});

test('a directory tree: its canonical digest against the record subject', async () => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  writeFileSync(join(tree, 'bin/hello'), '#!/bin/sh\n');
  const opened = await openArtifact(`dir:${tree}`);
  const input = sampleRecordInput();
  input.subject = [{ name: 'tree', digest: { sha256: opened.digest.slice(7) } }];
  input.manifest = null;
  await writeSidecar(tree, buildRecord(input));
  const intact = await readBoundFacts(await openArtifact(`dir:${tree}`));
  assert.deepEqual(
    intact.integrity.checks.map((c) => [c.what, c.passed]),
    [['directory tree (canonical tree digest)', true]],
  );
  writeFileSync(join(tree, 'bin/hello'), '#!/bin/sh\nexit 1\n');
  const changed = await readBoundFacts(await openArtifact(`dir:${tree}`));
  assert.equal(changed.integrity.passed, false);
  assert.equal(changed.integrity.checks[0]?.expected, opened.digest);
});
