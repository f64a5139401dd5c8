/**
 * Guideline 1, identity: the record names the artifact (name, version, architecture) and is bound to
 * its digest; where the format has identity fields of its own, they say the same thing.
 */

import { architectureSet } from '../architecture.ts';
import { sameName, sameVersion } from '../identity-names.ts';
import type { Finding, RuleContext } from '../types.ts';
import { error, factValue, foundIn, info, nonEmpty, noRecord, recordPath } from './findings.ts';

/** Where each format keeps its identity, for fix hints when a native field is missing. */
const NATIVE_FIELDS: Record<string, { name: string; version: string; arch: string }> = {
  'oci-image': {
    name: 'OCI annotation org.opencontainers.image.title',
    version: 'OCI annotation org.opencontainers.image.version',
    arch: 'OCI image config architecture',
  },
  'docker-image': {
    name: 'image label org.opencontainers.image.title',
    version: 'image label org.opencontainers.image.version',
    arch: 'image config architecture',
  },
  elf: { name: 'ELF .note.package name', version: 'ELF .note.package version', arch: 'ELF header e_machine' },
  deb: { name: 'deb Package field', version: 'deb Version field', arch: 'deb Architecture field' },
  rpm: { name: 'rpm Name tag', version: 'rpm Version tag', arch: 'rpm Arch tag' },
  apk: { name: 'apk .PKGINFO pkgname', version: 'apk .PKGINFO pkgver', arch: 'apk .PKGINFO arch' },
  wheel: { name: 'wheel METADATA Name', version: 'wheel METADATA Version', arch: 'wheel platform tag' },
  sdist: {
    name: 'sdist PKG-INFO Name',
    version: 'sdist PKG-INFO Version',
    arch: 'sdist (architecture-free)',
  },
};

function nativeField(format: string, what: 'name' | 'version' | 'arch'): string {
  return NATIVE_FIELDS[format]?.[what] ?? `${format} metadata (${what})`;
}

/**
 * Formats whose name and version `stamp` writes itself (docs/config.md: image title and version
 * annotations and labels, the ELF package note): a missing one is fixed by the stamp flag, not by
 * rebuilding. A package's identity is its package manager's and is never rewritten.
 */
const IDENTITY_WRITTEN_BY_STAMP = new Set(['oci-image', 'docker-image', 'elf']);

/** The fix for an identity field the artifact lacks. */
function missingNativeFix(format: string, what: 'name' | 'version' | 'arch'): string {
  const field = nativeField(format, what);
  if (what !== 'arch' && IDENTITY_WRITTEN_BY_STAMP.has(format))
    return `pass --${what} when stamping: stamp writes it into the ${field}`;
  return `set ${field} when building the artifact`;
}

function bareDigest(d: string): string {
  return d
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '');
}

export function checkIdentity(ctx: RuleContext): Finding[] {
  const { record, facts } = ctx;
  if (!record) return [noRecord('name, version or architecture', ctx.missingRecord)];
  const id = record.predicate.identity;
  const findings: Finding[] = [];
  const fixFor = (key: string, flag: string) =>
    key === 'name' ? `set name in waybill.yaml or pass ${flag}` : `pass ${flag} when stamping`;

  const subjectDigests = record.subject.map((s) => bareDigest(s.digest?.sha256 ?? ''));
  if (nonEmpty(ctx.digest) && !subjectDigests.includes(bareDigest(ctx.digest))) {
    findings.push(
      error(
        `the record is about ${subjectDigests.map((d) => `sha256:${d.slice(0, 12)}…`).join(', ') || 'no digest'}, not this artifact (${ctx.digest})`,
        'record:/subject/0/digest/sha256',
        'the record belongs to another artifact: stamp this artifact to give it its own record',
      ),
    );
  }

  const checks = [
    { key: 'name', value: id.name, flag: '--name' },
    { key: 'version', value: id.version, flag: '--version' },
  ] as const;
  for (const c of checks) {
    if (!nonEmpty(c.value)) {
      findings.push(
        error(`no ${c.key} in the record`, recordPath(`identity/${c.key}`), fixFor(c.key, c.flag)),
      );
    }
  }
  if (id.architectures.filter(nonEmpty).length === 0) {
    findings.push(
      error(
        'no architecture in the record',
        recordPath('identity/architectures'),
        'set architecture in waybill.yaml or pass --arch (noarch or all for architecture-free artifacts)',
      ),
    );
  }

  const places = (nativeFact?: { field: string }) => (nativeFact ? ['record', nativeFact.field] : ['record']);
  if (facts.hasIdentityFields) {
    const nativeName = factValue(facts.name);
    if (!nativeName) {
      findings.push(
        error(
          `the artifact's own metadata has no name`,
          nativeField(facts.format, 'name'),
          missingNativeFix(facts.format, 'name'),
        ),
      );
    } else if (nonEmpty(id.name) && !sameName(nativeName, id.name, facts.format)) {
      findings.push(
        error(
          `name differs: record says "${id.name}", ${facts.name!.field} says "${nativeName}"`,
          facts.name!.field,
          'stamp again without --name (the artifact’s own name is recorded), or rebuild the artifact with the right name',
        ),
      );
    }
    const nativeVersion = factValue(facts.version);
    if (!nativeVersion) {
      findings.push(
        error(
          `the artifact's own metadata has no version`,
          nativeField(facts.format, 'version'),
          missingNativeFix(facts.format, 'version'),
        ),
      );
    } else if (nonEmpty(id.version) && !sameVersion(nativeVersion, id.version)) {
      findings.push(
        error(
          `version differs: record says "${id.version}", ${facts.version!.field} says "${nativeVersion}"`,
          facts.version!.field,
          'versions must match exactly: stamp again without --version (the artifact’s own version is recorded), or rebuild the artifact',
        ),
      );
    }
    const nativeArchs = facts.architectures.filter((a) => nonEmpty(a.value));
    if (nativeArchs.length === 0) {
      findings.push(
        error(
          `the artifact's own metadata has no architecture`,
          nativeField(facts.format, 'arch'),
          missingNativeFix(facts.format, 'arch'),
        ),
      );
    } else if (id.architectures.length > 0) {
      const recorded = architectureSet(id.architectures);
      const native = architectureSet(nativeArchs.map((a) => a.value));
      const missing = native.filter((a) => !recorded.includes(a));
      const extra = recorded.filter((a) => !native.includes(a));
      if (missing.length || extra.length) {
        const fields = [...new Set(nativeArchs.map((a) => a.field))].join(', ');
        const parts = [
          missing.length ? `the artifact has ${missing.join(', ')} but the record does not` : '',
          extra.length ? `the record lists ${extra.join(', ')} but the artifact has no such platform` : '',
        ].filter(Boolean);
        findings.push(
          error(
            `architectures differ: ${parts.join('; ')} (record: ${id.architectures.join(', ')}; native: ${nativeArchs.map((a) => a.value).join(', ')})`,
            fields,
            'stamp again without --arch and with no architecture in waybill.yaml (the artifact’s own architectures are recorded)',
          ),
        );
      }
    }
  }

  if (findings.length === 0) {
    findings.push(
      info(
        `name ${foundIn(id.name!, places(facts.hasIdentityFields ? facts.name : undefined))}`,
        recordPath('identity/name'),
      ),
      info(
        `version ${foundIn(id.version!, places(facts.hasIdentityFields ? facts.version : undefined))}`,
        recordPath('identity/version'),
      ),
      info(
        `architecture ${foundIn(
          id.architectures.join(', '),
          facts.hasIdentityFields
            ? ['record', ...new Set(facts.architectures.map((a) => a.field))]
            : ['record'],
        )}`,
        recordPath('identity/architectures'),
      ),
    );
    if (!facts.hasIdentityFields) {
      findings.push(
        info(
          facts.format === 'none'
            ? 'a plain file (a tarball, say) has no metadata of its own for identity; the record alone names it'
            : `${facts.format} artifacts have no identity fields of their own; the record alone names it`,
          facts.format,
        ),
      );
    }
  }
  return findings;
}
