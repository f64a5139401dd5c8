/**
 * The release bundle of a stamped file, from what `stamp` and signing left beside it: its record
 * (`FILE.waybill.json`, which names the release and binds the file's digest), the SBOM the record
 * names (`FILE.cdx.json` / `FILE.spdx.json`), signed statements (`FILE.<kind>.sigstore.json`,
 * `FILE.sigstore.json`, `FILE.intoto.jsonl`) and an attached audit (`FILE.audit.json`). What
 * `publish FILE dir:ROOT` hands to `publishToReleaseDirectory`, with its own additions (the
 * publication statement, a rebuild kit) in `extra`.
 */
import { basename, dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { readSidecar, SIDECAR_SUFFIX, sidecarPath } from '../record/sidecar.ts';
import { findSidecarBundles } from '../sign/bundle-files.ts';
import { sha256File } from '../util/digest.ts';
import { readRegularFile, readRegularFileIfPresent } from '../util/regular-file.ts';
import type { ReleaseBundle } from './release-dir.ts';
import { isSidecarName } from './release-names.ts';
import { MAX_SIDECAR_BYTES } from './release-read.ts';

export interface BundleOptions {
  /** RFC 3339 UTC: the publication date. */
  published: string;
  /** More sidecars (`FILE.<suffix>`), e.g. the publication statement. */
  extra?: ReleaseBundle['files'];
}

/** The kind index.json records for a sidecar file name of `file`. */
export function sidecarKind(file: string, name: string): string {
  const suffix = name.slice(file.length + 1);
  if (suffix === 'waybill.json') return 'record';
  if (suffix === 'cdx.json' || suffix === 'spdx.json') return 'sbom';
  if (suffix === 'intoto.jsonl') return 'intoto';
  if (suffix === 'audit.json') return 'audit';
  if (suffix.endsWith('sigstore.json') || suffix === 'sigstore') return 'bundle';
  return 'file';
}

export async function releaseBundleFor(artifactPath: string, options: BundleOptions): Promise<ReleaseBundle> {
  const file = basename(artifactPath);
  const record = await readSidecar(artifactPath);
  if (!record)
    throw new WaybillError(
      'USAGE',
      artifactPath,
      `has no release record (${file}${SIDECAR_SUFFIX}): stamp it first`,
    );
  const { name, version } = record.predicate.identity;
  if (!name || !version)
    throw new WaybillError(
      'USAGE',
      sidecarPath(artifactPath),
      'the record names no release name and version',
    );
  const digest = await sha256File(artifactPath);
  if (!record.subject.some((s) => `sha256:${s.digest.sha256}` === digest))
    throw new WaybillError(
      'USAGE',
      sidecarPath(artifactPath),
      `the record does not bind ${file} (${digest}): stamp it again`,
    );

  // The sidecars that must be there (the record, the SBOM it names, the bundles found), then one
  // that may be (an attached audit).
  const names = new Set([`${file}${SIDECAR_SUFFIX}`]);
  const location = record.predicate.manifest?.location;
  if (location && isSidecarName(file, location)) names.add(location);
  for (const path of await findSidecarBundles(artifactPath)) names.add(basename(path));
  const files: ReleaseBundle['files'] = [];
  const read = (sidecar: string) => join(dirname(artifactPath), sidecar);
  for (const sidecar of [...names].sort()) {
    const bytes = await readRegularFile(read(sidecar), { maxBytes: MAX_SIDECAR_BYTES });
    files.push({ fileName: sidecar, bytes, kind: sidecarKind(file, sidecar) });
  }
  const audit = await readRegularFileIfPresent(read(`${file}.audit.json`), { maxBytes: MAX_SIDECAR_BYTES });
  if (audit) files.push({ fileName: `${file}.audit.json`, bytes: audit, kind: 'audit' });
  return {
    name,
    version,
    artifactPath,
    artifactFileName: file,
    digest,
    files: [...files, ...(options.extra ?? [])],
    built: record.predicate.dates.built,
    published: options.published,
  };
}
