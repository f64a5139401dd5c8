/**
 * OSV ecosystems (OSV schema "affected[].package" and ecosystems.json): the base name, the optional
 * `:SUFFIX` that scopes a package to a release (`Debian:12`, `Alpine:v3.18`, `Ubuntu:22.04:LTS`,
 * `Ubuntu:Pro:18.04:LTS`, `AlmaLinux:9`, `Maven:https://maven.google.com`), the version scheme each
 * base uses, and how package names compare (PyPI names are normalised per PEP 503).
 */
import { apkScheme } from './versions/apk.ts';
import { dpkgScheme } from './versions/dpkg.ts';
import { mavenScheme } from './versions/maven.ts';
import { pep440Scheme } from './versions/pep440.ts';
import { rpmScheme } from './versions/rpm.ts';
import type { VersionScheme } from './versions/scheme.ts';
import { cratesScheme, goScheme, npmScheme } from './versions/semver.ts';

export interface Ecosystem {
  /** `Debian`, `PyPI`, `Go`, … */
  base: string;
  /** What follows the first `:`, or '' (`12`, `v3.18`, `22.04:LTS`, `Pro:18.04:LTS`). */
  suffix: string;
}

export function parseEcosystem(s: string): Ecosystem {
  const colon = s.indexOf(':');
  return colon < 0 ? { base: s, suffix: '' } : { base: s.slice(0, colon), suffix: s.slice(colon + 1) };
}

const DPKG_BASES = ['Debian', 'Ubuntu'];
const APK_BASES = ['Alpine', 'Wolfi', 'Chainguard', 'Alpaquita', 'BellSoft Hardened Containers', 'MinimOS'];
const RPM_BASES = [
  'Red Hat',
  'AlmaLinux',
  'Rocky Linux',
  'openSUSE',
  'SUSE',
  'Mageia',
  'openEuler',
  'Azure Linux',
  'Photon OS',
];

/** The scheme for ECOSYSTEM ranges of a base; undefined for ecosystems waybill cannot order. */
export function schemeFor(base: string): VersionScheme | undefined {
  if (DPKG_BASES.includes(base)) return dpkgScheme;
  if (APK_BASES.includes(base)) return apkScheme;
  if (RPM_BASES.includes(base)) return rpmScheme;
  switch (base) {
    case 'PyPI':
      return pep440Scheme;
    case 'npm':
      return npmScheme;
    case 'Go':
      return goScheme;
    case 'crates.io':
      return cratesScheme;
    case 'Maven':
      return mavenScheme;
    default:
      return undefined;
  }
}

/** The ecosystems whose matching the audit supports, for reports and docs. */
export const SUPPORTED_BASES: readonly string[] = [
  ...DPKG_BASES,
  ...APK_BASES,
  ...RPM_BASES,
  'PyPI',
  'npm',
  'Go',
  'crates.io',
  'Maven',
].sort();

/**
 * Whether a base's advisories are scoped to releases (`Debian:12`, `Alpine:v3.20`, `AlmaLinux:9`):
 * a package of it whose release is unknown matches only the unscoped ones. Wolfi and Chainguard
 * are rolling distributions without releases.
 */
export function releaseScoped(base: string): boolean {
  return (
    DPKG_BASES.includes(base) ||
    RPM_BASES.includes(base) ||
    (APK_BASES.includes(base) && base !== 'Wolfi' && base !== 'Chainguard')
  );
}

/** PEP 503: runs of `-`, `_`, `.` are one `-`, case-insensitive. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The key a package name is stored and looked up under, per ecosystem. */
export function nameKey(base: string, name: string): string {
  if (base === 'PyPI') return normalizePypiName(name);
  // crates.io and Maven coordinates are case-insensitive on their registries; npm names are lower case.
  if (base === 'crates.io' || base === 'Maven') return name.toLowerCase();
  return name;
}

/**
 * Whether an advisory's ecosystem suffix covers the release a component comes from. No suffix
 * covers every release. `release` is the component's release as the ecosystem spells it (`12`,
 * `v3.18`, `22.04`, `9`), or undefined when the SBOM did not say (then only unscoped advisories
 * and, for distributions, none of the scoped ones apply: guessing a release would be worse).
 */
export function suffixCovers(base: string, suffix: string, release: string | undefined): boolean {
  if (suffix === '') return true;
  if (base === 'Maven') return true; // the suffix names a repository, not a release
  if (release === undefined) return false;
  if (base === 'Ubuntu') {
    // `22.04`, `22.04:LTS`; `Pro:…` and `Pro:FIPS…` are Ubuntu Pro streams a stock system does not run.
    const parts = suffix.split(':');
    if (parts[0] === 'Pro' || parts[0] === 'FIPS') return false;
    return parts[0] === release;
  }
  if (RPM_BASES.includes(base)) {
    // `AlmaLinux:9`, `Rocky Linux:8`, `Red Hat:enterprise_linux:9::appstream`: the major release.
    const major = /(?:^|[:_ -])(\d+)(?:[.:]|$)/.exec(suffix)?.[1];
    return major !== undefined && major === release.split('.')[0];
  }
  return suffix === release;
}
