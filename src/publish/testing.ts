/**
 * Test support: a small release to publish — an artifact file on disk and its sidecars (a valid
 * release record bound to it, a CycloneDX SBOM it names) — as the `publish` command will hand it to
 * `publishToReleaseDirectory`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRecord, serializeRecord } from '../record/build.ts';
import { sampleRecordInput } from '../record/sample-input.ts';
import { sha256Digest, sha256Hex } from '../util/digest.ts';
import type { ReleaseBundle } from './release-dir.ts';

export interface SampleRelease {
  name?: string;
  version?: string;
  file?: string;
  content?: string | Buffer;
  built?: string | null;
  published?: string;
  /** Extra sidecars. */
  extra?: ReleaseBundle['files'];
}

/** Writes the artifact into `dir` and returns its bundle. */
export function sampleReleaseBundle(dir: string, options: SampleRelease = {}): ReleaseBundle {
  const name = options.name ?? 'hello';
  const version = options.version ?? '1.2.3';
  const file = options.file ?? `${name}-${version}.tar`;
  const content = options.content ?? `the ${name} ${version} release\n`;
  const artifactPath = join(dir, `${file}-${sha256Hex(content).slice(0, 8)}`);
  writeFileSync(artifactPath, content);
  const sbom = Buffer.from(
    `${JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }, null, 2)}\n`,
  );
  const built = options.built === undefined ? '2026-03-01T12:00:00Z' : options.built;
  const record = buildRecord({
    ...sampleRecordInput(),
    subject: [{ name: file, digest: { sha256: sha256Hex(content) } }],
    identity: { name, version, architectures: ['noarch'] },
    manifest: { format: 'cyclonedx-json', digest: { sha256: sha256Hex(sbom) }, location: `${file}.cdx.json` },
    dates: { built, published: null },
  });
  return {
    name,
    version,
    artifactPath,
    artifactFileName: file,
    digest: sha256Digest(content),
    files: [
      { fileName: `${file}.cdx.json`, bytes: sbom, kind: 'sbom' },
      { fileName: `${file}.waybill.json`, bytes: Buffer.from(serializeRecord(record)), kind: 'record' },
      ...(options.extra ?? []),
    ],
    built,
    published: options.published ?? '2026-03-02T08:00:00Z',
  };
}
