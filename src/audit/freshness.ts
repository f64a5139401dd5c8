/**
 * How current an artifact is: its age since it was built and since it was published (the release
 * record's dates), whether a newer release of the same name is listed where it was published (a
 * `ReleaseLister`: release-directory index, registry tags), whether its operating system release is
 * past end of life (the embedded table, overridden by imported rows), how many of its components have
 * a fix available, and — where the database knows release dates — its libyear (the sum over
 * components of the time between the release in use and the newest release, in years).
 */
import type { EolEntry } from './data-files.ts';
import { EMBEDDED_EOL, releaseKey } from './eol-table.ts';
import type { Finding } from './findings.ts';
import type { InventoryDistro } from './inventory.ts';
import type { ReleaseListing } from './release-lister.ts';
import { dpkgScheme } from './versions/dpkg.ts';
import { pep440Scheme } from './versions/pep440.ts';
import type { VersionScheme } from './versions/scheme.ts';
import { semverScheme } from './versions/semver.ts';

const DAY = 86_400_000;
const YEAR = 365.25 * DAY;

export interface OsFreshness {
  distro: string;
  release: string;
  codename?: string;
  /** End of regular security support and of free extended support, when the table knows them. */
  eol?: string;
  eolExtended?: string;
  /** `supported`, `extended` (past regular support, in extended), `end-of-life`, or `unknown`. */
  status: 'supported' | 'extended' | 'end-of-life' | 'unknown';
  /** Where the dates come from: `embedded` or the imported file. */
  table?: string;
}

export interface NewerRelease {
  /** Where the list came from. */
  source: string;
  /** Releases newer than this one, newest first. */
  newer: string[];
  latest?: string;
  /** The scheme the versions were compared by. */
  scheme?: string;
}

export interface Libyear {
  years: number;
  /** Components whose release dates were known. */
  components: number;
}

export interface Freshness {
  /** The time ages are measured at. */
  now: string;
  built?: string;
  published?: string;
  daysSinceBuilt?: number;
  daysSincePublished?: number;
  newerRelease?: NewerRelease;
  os?: OsFreshness;
  /** Components with at least one finding that has a fixed version. */
  componentsWithFixes: number;
  libyear?: Libyear;
}

function days(from: string | undefined, now: Date): number | undefined {
  if (!from) return undefined;
  const t = Date.parse(from);
  if (Number.isNaN(t)) return undefined;
  return Math.floor((now.getTime() - t) / DAY);
}

/** The version scheme that accepts all the given versions: SemVer (with or without `v`), PEP 440, dpkg. */
export function schemeForVersions(
  versions: string[],
): { scheme: VersionScheme; normalize: (v: string) => string } | undefined {
  const strip = (v: string) => v.replace(/^v(?=\d)/, '');
  if (versions.every((v) => semverScheme.valid(strip(v)))) return { scheme: semverScheme, normalize: strip };
  for (const scheme of [pep440Scheme, dpkgScheme]) {
    if (versions.every((v) => scheme.valid(v))) return { scheme, normalize: (v) => v };
  }
  return undefined;
}

export function newerReleases(current: string, listing: ReleaseListing): NewerRelease {
  let versions = [...new Set(listing.releases.map((r) => r.version))];
  // A tag list also holds names that are no versions (`latest`, `main`, referrer tags): the current
  // version's scheme decides which tags are versions at all.
  const chosen = listing.mixed ? schemeForVersions([current]) : schemeForVersions([current, ...versions]);
  if (!chosen) return { source: listing.source, newer: [] };
  if (listing.mixed) versions = versions.filter((v) => chosen.scheme.valid(chosen.normalize(v)));
  const cmp = (a: string, b: string) => chosen.scheme.compare(chosen.normalize(a), chosen.normalize(b));
  const newer = versions.filter((v) => cmp(v, current) > 0).sort((a, b) => cmp(b, a));
  const latest = [...versions, current].sort((a, b) => cmp(b, a))[0];
  return { source: listing.source, newer, scheme: chosen.scheme.name, ...(latest ? { latest } : {}) };
}

export function osFreshness(distro: InventoryDistro, imported: EolEntry[], now: Date): OsFreshness {
  const id = distro.id.toLowerCase();
  const release = releaseKey(id, distro.versionId ?? '');
  const found =
    imported.find((e) => e.distro === id && e.release === release) ??
    EMBEDDED_EOL.find((e) => e.distro === id && e.release === release);
  const out: OsFreshness = { distro: id, release, status: 'unknown' };
  if (!found) return out;
  out.table = imported.includes(found) ? 'imported' : 'embedded';
  if (found.codename) out.codename = found.codename;
  out.eol = found.eol;
  if (found.eolExtended) out.eolExtended = found.eolExtended;
  // A support period ends at the end of its last day (UTC).
  const ended = (d: string) => now.getTime() >= Date.parse(`${d.slice(0, 10)}T00:00:00Z`) + DAY;
  if (!ended(found.eol)) out.status = 'supported';
  else if (found.eolExtended && !ended(found.eolExtended)) out.status = 'extended';
  else out.status = 'end-of-life';
  return out;
}

/** Components (by purl) with a finding that names a fixed version. */
export function componentsWithFixes(findings: Finding[]): number {
  return new Set(findings.filter((f) => f.fixed.length > 0).map((f) => f.component.purl)).size;
}

export interface LibyearInput {
  version: string;
  scheme: VersionScheme;
  /** version → release date, for this package. */
  dates: Map<string, string>;
}

/** libyear (libyear.com): Σ (newest release date − date of the release in use), in years. */
export function libyear(packages: LibyearInput[]): Libyear | undefined {
  let total = 0;
  let counted = 0;
  for (const p of packages) {
    const used = p.dates.get(p.version);
    if (!used) continue;
    const valid = [...p.dates.keys()].filter((v) => p.scheme.valid(v));
    if (valid.length === 0) continue;
    const newest = valid.sort((a, b) => p.scheme.compare(b, a))[0] as string;
    const gap = Date.parse(p.dates.get(newest) as string) - Date.parse(used);
    total += Math.max(0, gap) / YEAR;
    counted++;
  }
  return counted === 0 ? undefined : { years: Math.round(total * 100) / 100, components: counted };
}

export function ageFields(
  built: string | undefined,
  published: string | undefined,
  now: Date,
): Partial<Freshness> {
  const out: Partial<Freshness> = {};
  if (built) out.built = built;
  if (published) out.published = published;
  const b = days(built, now);
  const p = days(published, now);
  if (b !== undefined) out.daysSinceBuilt = b;
  if (p !== undefined) out.daysSincePublished = p;
  return out;
}
