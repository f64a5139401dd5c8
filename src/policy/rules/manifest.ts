/**
 * Guideline 2, manifest: the record pins an SBOM by digest, and the SBOM the caller loaded from the
 * recorded location is that file (same sha256), in the recorded format, and parses.
 */

import type { Finding, RuleContext } from '../types.ts';
import { error, info, noRecord, recordPath, warning } from './findings.ts';

const FORMAT_NAMES = { 'cyclonedx-json': 'CycloneDX JSON', 'spdx-json': 'SPDX JSON' } as const;

function hex(d: string): string {
  return d
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
}

export function checkManifest(ctx: RuleContext): Finding[] {
  const { record, sbom } = ctx;
  if (!record) return [noRecord('SBOM', ctx.missingRecord)];
  const manifest = record.predicate.manifest;
  if (!manifest) {
    return [
      error(
        'the record names no SBOM',
        recordPath('manifest'),
        'stamp again with an SBOM: let waybill generate one (default) or pass --sbom FILE',
      ),
    ];
  }
  const where = manifest.location;
  const recorded = hex(manifest.digest?.sha256 ?? '');
  if (!/^[0-9a-f]{64}$/.test(recorded)) {
    return [
      error(
        `the recorded SBOM digest "${manifest.digest?.sha256 ?? ''}" is not a sha256 hex digest`,
        recordPath('manifest/digest/sha256'),
        'stamp again so waybill records the SBOM digest',
      ),
    ];
  }
  if (!sbom) {
    return [
      error(
        `the SBOM the record names (${where}) was not found`,
        where,
        'copy the SBOM along with the artifact (the sidecar file beside it, or its OCI attachment: waybill copy SRC DST), or stamp again',
      ),
    ];
  }
  if ('error' in sbom) {
    return [
      error(
        `the SBOM at ${where} cannot be read: ${sbom.error}`,
        where,
        'stamp again (it writes a valid SBOM), or give a valid one with --sbom FILE',
      ),
    ];
  }
  const findings: Finding[] = [];
  if (hex(sbom.digestSha256) !== recorded) {
    findings.push(
      error(
        `the SBOM at ${where} is sha256:${hex(sbom.digestSha256).slice(0, 12)}…, but the record pins sha256:${recorded.slice(0, 12)}…`,
        recordPath('manifest/digest/sha256'),
        'the SBOM was changed or replaced after stamping: restore it or stamp again',
      ),
    );
  }
  if (sbom.format !== manifest.format) {
    findings.push(
      error(
        `the record says the SBOM is ${FORMAT_NAMES[manifest.format] ?? manifest.format}, but it is ${FORMAT_NAMES[sbom.format]}`,
        recordPath('manifest/format'),
        'stamp again so the record states the SBOM format',
      ),
    );
  }
  if (findings.length) return findings;
  if (manifest.forced) {
    findings.push(
      warning(
        `the SBOM was published with --force-sbom although it does not describe this artifact: ${manifest.forced.reason}`,
        recordPath('manifest/forced'),
        'stamp again with this artifact’s own SBOM (--sbom FILE), or let waybill generate one',
      ),
    );
  }
  // A package's own SBOM names the package (its purl) even when nothing else is bundled inside it.
  if (sbom.components === 0 && !sbom.subjectPurl) {
    findings.push(
      warning(
        `the SBOM at ${where} lists no components`,
        where,
        'an empty SBOM tells users nothing: check that the artifact was scanned (waybill sbom <artifact>)',
      ),
    );
  }
  findings.push(
    info(
      `${FORMAT_NAMES[sbom.format]} SBOM ${sbom.subjectPurl ? `of ${sbom.subjectPurl} ` : ''}with ${sbom.components} component${sbom.components === 1 ? '' : 's'}, sha256:${recorded.slice(0, 12)}… (record; ${where})`,
      recordPath('manifest'),
    ),
  );
  return findings;
}
