/**
 * From an SBOM component to what the advisory database is asked: the OSV ecosystem (from the purl
 * type and, for OS packages, its namespace), the release the package belongs to (the purl's `distro`
 * qualifier, else the SBOM's operating system), the package name as the ecosystem's advisories spell
 * it, and the version in the ecosystem's own scheme.
 *
 * OS packages are matched through their source package: Debian's, Ubuntu's and Alpine's advisories
 * name source packages (`glibc`, not `libc6`), so the source name and version come from the SBOM —
 * waybill's `waybill:source-package` / `waybill:source-version` properties, trivy's
 * `aquasecurity:trivy:Src*` properties, syft's `upstream` purl qualifier — and fall back to the
 * binary package's own. Red Hat's advisories name binary or source RPMs, so both are asked.
 */
import { PackageURL } from 'packageurl-js';
import { nameKey, schemeFor } from './ecosystem.ts';
import { releaseKey } from './eol-table.ts';
import type { InventoryComponent, InventoryDistro } from './inventory.ts';
import { releaseFromDebVersion } from './package-release.ts';
import type { VersionScheme } from './versions/scheme.ts';
import { goToOsvVersion } from './versions/semver.ts';

export interface PackageQuery {
  /** OSV ecosystem base: `Debian`, `PyPI`, `Go`, … */
  base: string;
  /** The release as advisories scope it (`12`, `v3.18`, `22.04`, `9`), when known. */
  release?: string;
  /** Package names to look up (normalised keys), most specific first. */
  keys: string[];
  /** The package name shown in findings (as the ecosystem spells it). */
  name: string;
  /** The version compared against ranges, in the ecosystem's spelling (Go without `v`). */
  version: string;
  scheme: VersionScheme;
}

/** What the caller knows beyond the SBOM. */
export interface QueryContext {
  /** The SBOM's operating system. */
  sbomDistro?: InventoryDistro;
  /** `--distro`: the release of OS packages whose purl and SBOM name none. */
  assumedDistro?: InventoryDistro;
}

export type QueryResult = { ok: true; query: PackageQuery } | { ok: false; reason: string };

const DEB_VENDORS: Record<string, string> = { debian: 'Debian', ubuntu: 'Ubuntu' };
const APK_VENDORS: Record<string, string> = { alpine: 'Alpine', wolfi: 'Wolfi', chainguard: 'Chainguard' };
const RPM_VENDORS: Record<string, string> = {
  redhat: 'Red Hat',
  rhel: 'Red Hat',
  rocky: 'Rocky Linux',
  almalinux: 'AlmaLinux',
  opensuse: 'openSUSE',
  'opensuse-leap': 'openSUSE',
  suse: 'SUSE',
  sles: 'SUSE',
  openeuler: 'openEuler',
  mariner: 'Azure Linux',
  azurelinux: 'Azure Linux',
  photon: 'Photon OS',
  mageia: 'Mageia',
};

function first(c: InventoryComponent, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = c.properties.get(n)?.[0];
    if (v) return v;
  }
  return undefined;
}

/** The distro a purl's `distro` qualifier names: `debian-12`, `ubuntu-22.04`, or trivy's bare `3.16.0`. */
function distroOf(
  qualifier: string | undefined,
  vendor: string,
  fallback: InventoryDistro | undefined,
): InventoryDistro | undefined {
  if (qualifier) {
    const m = /^([a-z][a-z0-9._]*?)-(\d.*|[a-z]+)$/.exec(qualifier);
    if (m) return { id: m[1] as string, versionId: m[2] as string };
    if (/^\d/.test(qualifier)) return { id: vendor, versionId: qualifier };
  }
  return fallback;
}

/**
 * The release of an OS package, most certain first: the purl's `distro` qualifier, the SBOM's
 * operating system, `--distro` (which also names the vendor: an Ubuntu .deb whose version does not
 * say `ubuntu` is written `pkg:deb/debian/…`), then what the version itself makes certain
 * (`+deb12u3`). Gives the vendor whose advisories apply, and the distro (without a release when
 * none is known).
 */
function osRelease(
  c: InventoryComponent,
  purl: PackageURL,
  vendors: Record<string, string>,
  context: QueryContext,
): { vendor: string; distro: InventoryDistro | undefined } {
  const vendor = (purl.namespace ?? '').toLowerCase();
  const known = distroOf(purl.qualifiers?.distro, vendor, context.sbomDistro);
  if (known?.versionId) return { vendor, distro: known };
  const assumed = context.assumedDistro;
  if (assumed && vendors[assumed.id]) return { vendor: assumed.id, distro: assumed };
  if (purl.type === 'deb') {
    for (const version of [purl.version, first(c, 'waybill:source-version')]) {
      const inferred = version ? releaseFromDebVersion(vendor, version) : undefined;
      if (inferred) return { vendor: inferred.id, distro: inferred };
    }
  }
  return { vendor, distro: known };
}

/** The release suffix an OS ecosystem's advisories use for a distro version. */
function releaseFor(base: string, distro: InventoryDistro | undefined): string | undefined {
  const version = distro?.versionId;
  if (!version) return undefined;
  const key = releaseKey(distro.id, version);
  return base === 'Alpine' ? `v${key}` : key;
}

function sourceVersion(c: InventoryComponent): string | undefined {
  const waybill = first(c, 'waybill:source-version');
  if (waybill) return waybill;
  const version = first(c, 'aquasecurity:trivy:SrcVersion');
  if (!version) return undefined;
  const release = first(c, 'aquasecurity:trivy:SrcRelease');
  const epoch = first(c, 'aquasecurity:trivy:SrcEpoch');
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${version}${release ? `-${release}` : ''}`;
}

function osQuery(
  c: InventoryComponent,
  purl: PackageURL,
  base: string,
  distro: InventoryDistro | undefined,
  alsoBinary: boolean,
): QueryResult {
  const upstream = purl.qualifiers?.upstream;
  const upstreamName = upstream?.split('@')[0];
  const source = first(c, 'waybill:source-package', 'aquasecurity:trivy:SrcName') ?? upstreamName;
  let version =
    sourceVersion(c) ?? (upstream?.includes('@') ? upstream.split('@')[1] : undefined) ?? purl.version;
  if (!version) return { ok: false, reason: 'no version' };
  // purl-spec types/rpm: the epoch is a qualifier, not part of the version.
  const epoch = purl.qualifiers?.epoch;
  if (purl.type === 'rpm' && epoch && !version.includes(':') && !first(c, 'waybill:source-version'))
    version = `${epoch}:${version}`;
  const name = source ?? purl.name;
  const keys = [nameKey(base, name)];
  if (alsoBinary && source && source !== purl.name) keys.push(nameKey(base, purl.name));
  const scheme = schemeFor(base) as VersionScheme;
  if (!scheme.valid(version)) return { ok: false, reason: `version is not a ${scheme.name} version` };
  const release = releaseFor(base, distro);
  return { ok: true, query: { base, keys, name, version, scheme, ...(release ? { release } : {}) } };
}

const OS_VENDORS: Record<string, Record<string, string>> = {
  deb: DEB_VENDORS,
  apk: APK_VENDORS,
  rpm: RPM_VENDORS,
};

/** What to ask the database about one component, or why it cannot be asked. */
export function packageQuery(c: InventoryComponent, context: QueryContext = {}): QueryResult {
  if (!c.purl) return { ok: false, reason: 'no purl' };
  let purl: PackageURL;
  try {
    purl = PackageURL.fromString(c.purl);
  } catch {
    return { ok: false, reason: 'not a valid purl' };
  }
  const vendors = OS_VENDORS[purl.type];
  if (!vendors) return languageQuery(purl);
  const { vendor, distro } = osRelease(c, purl, vendors, context);
  const base = vendors[vendor];
  // Red Hat's advisories name binary or source RPMs: both are asked.
  return base
    ? osQuery(c, purl, base, distro, purl.type === 'rpm')
    : { ok: false, reason: `no advisories for ${purl.type}/${vendor}` };
}

function languageQuery(purl: PackageURL): QueryResult {
  const version = purl.version;
  if (!version) return { ok: false, reason: 'no version' };
  const done = (base: string, name: string, v: string | undefined): QueryResult => {
    const scheme = schemeFor(base) as VersionScheme;
    if (v === undefined || !scheme.valid(v))
      return { ok: false, reason: `version is not a ${scheme.name} version` };
    return { ok: true, query: { base, keys: [nameKey(base, name)], name, version: v, scheme } };
  };
  const ns = purl.namespace;
  switch (purl.type) {
    case 'golang': {
      const name = ns ? `${ns}/${purl.name}` : purl.name;
      return done('Go', name, goToOsvVersion(version));
    }
    case 'pypi':
      return done('PyPI', purl.name, version);
    case 'npm':
      return done('npm', ns ? `${ns}/${purl.name}` : purl.name, version);
    case 'cargo':
      return done('crates.io', purl.name, version);
    case 'maven':
      return ns
        ? done('Maven', `${ns}:${purl.name}`, version)
        : { ok: false, reason: 'Maven purl without a group' };
    default:
      return { ok: false, reason: `no advisories for ${purl.type} packages` };
  }
}
