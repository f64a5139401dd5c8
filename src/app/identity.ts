/**
 * The name and version a stamp records (and writes, where the format has a place for them). The
 * artifact's own word comes first; waybill.yaml only fills in what the artifact does not say
 * (docs/config.md, "Name and version: the artifact's own word wins"):
 *
 * 1. A flag (`--name`, `--version`) is an instruction for this run, recorded as given. Where the
 *    stamp writes the identity into the artifact — an image's title and version annotations and
 *    labels, an ELF package note, a Vagrant catalog — it replaces what the artifact said, and the
 *    two agree again. Where it does not — deb, rpm, wheel, sdist, system images: their name and
 *    version ARE the package in every package manager, and stamp never rewrites them — a flag that
 *    contradicts the artifact is still recorded (stamp records what it is told; refusing to ship is
 *    `check`'s job, and its identity rule will fail), with a warning saying so now.
 * 2. The artifact's own metadata: deb Package/Version, rpm Name/Version, wheel and sdist
 *    Name/Version, an image's title/version (annotations, labels), then its references (docker-archive
 *    `RepoTags`, a full OCI `ref.name`), an ELF package note.
 * 3. `name` in waybill.yaml, only for an artifact that does not name itself (a tarball, a directory,
 *    an image with no title and no full reference). When the artifact names itself differently, the
 *    config value is not used and the stamp says so in a warning: one waybill.yaml serves all the
 *    artifacts of a project, and a package's name is not the config's to change.
 * 4. What the artifact only implies (the Go main module path of an ELF file without a package note).
 *
 * Formats without identity fields of their own (plain tarballs, PE, Mach-O) keep the simple order
 * flag, config, whatever the file implies: `check` does not compare them with anything.
 */
import type { Settings } from '../config/merge.ts';
import type { Fact, NativeFacts } from '../formats/facts.ts';
import { sameName, sameVersion } from '../policy/identity-names.ts';

export interface IdentityChoice {
  name: string | null;
  version: string | null;
  /**
   * For the user: a waybill.yaml value not used because the artifact says otherwise, or a flag that
   * contradicts what the artifact says (recorded, and `check` will fail it).
   */
  warnings: Array<{ path: string; reason: string }>;
}

export interface IdentityInput {
  settings: Pick<Settings, 'name' | 'nameFrom' | 'version' | 'versionFrom'>;
  native: NativeFacts;
  /** Whether this stamp writes name and version into the artifact (images, ELF notes, Vagrant catalogs). */
  writesIdentity: boolean;
}

/** A fact the artifact states outright (not one it only implies). */
function stated(fact: Fact | undefined): Fact | undefined {
  return fact && fact.value.trim() !== '' && !fact.inferred ? fact : undefined;
}

/** The warning for a flag that contradicts a package's own identity, which stamp does not rewrite. */
function flagWarning(
  flag: '--name' | '--version',
  given: string,
  own: Fact,
): { path: string; reason: string } {
  const what = flag === '--name' ? 'names itself' : 'says its version is';
  return {
    path: flag,
    reason: `${JSON.stringify(given)} is recorded, but the artifact ${what} ${JSON.stringify(own.value)} (${own.field}), which stamp does not rewrite: check will fail identity; drop ${flag} to record the artifact's own`,
  };
}

export function resolveIdentity(input: IdentityInput): IdentityChoice {
  const { settings, native } = input;
  const warnings: IdentityChoice['warnings'] = [];
  // A name with no stated origin (settings built by hand) is taken as given, like a flag.
  const fromConfig = settings.nameFrom === 'config' ? settings.name : null;
  const fromFlag = fromConfig === null ? settings.name : null;
  if (!native.hasIdentityFields) {
    return {
      name: settings.name ?? native.name?.value ?? null,
      version: settings.version ?? native.version?.value ?? null,
      warnings,
    };
  }
  const ownName = stated(native.name);
  const ownVersion = stated(native.version);

  let name: string | null;
  if (fromFlag !== null) {
    if (ownName && !input.writesIdentity && !sameName(fromFlag, ownName.value, native.format))
      warnings.push(flagWarning('--name', fromFlag, ownName));
    name = fromFlag;
  } else if (ownName) {
    name = ownName.value;
    if (fromConfig !== null && !sameName(fromConfig, ownName.value, native.format)) {
      warnings.push({
        path: 'waybill.yaml name',
        reason: `${JSON.stringify(fromConfig)} not used: the artifact names itself ${JSON.stringify(ownName.value)} (${ownName.field}), and an artifact's own name wins`,
      });
    }
  } else {
    name = fromConfig ?? native.name?.value ?? null;
  }

  let version: string | null;
  if (settings.version !== null && settings.versionFrom === 'default') {
    // A guess (build's tag version) fills in; it never contradicts the artifact's own.
    version = ownVersion?.value ?? settings.version;
  } else if (settings.version !== null) {
    if (ownVersion && !input.writesIdentity && !sameVersion(settings.version, ownVersion.value))
      warnings.push(flagWarning('--version', settings.version, ownVersion));
    version = settings.version;
  } else {
    version = native.version?.value ?? null;
  }
  return { name, version, warnings };
}
