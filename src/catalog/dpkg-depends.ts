/**
 * dpkg's package relationships resolved against what is installed (deb-control(5) "Package
 * interrelationship fields", Debian Policy §7.1): `Depends` and `Pre-Depends` are comma-separated
 * groups of `|`-separated alternatives, each `name[:arch] [(op version)] [[arch list]] [<profiles>]`.
 * A group is satisfied by any installed alternative, by name or through a package that `Provides`
 * it (a virtual package such as `awk` or `debconf-2.0`); every installed alternative gets an edge.
 * Versions are not compared: what is installed is what dpkg accepted.
 */

export interface Relationship {
  name: string;
  /** `any`, `native` or an architecture, when the relation was qualified (`python3:any`). */
  arch?: string;
}

/** `a (>= 1) | b:any, c [amd64] <!nocheck>` → [[a, b], [c]]. Malformed parts are skipped. */
export function parseRelationships(value: string): Relationship[][] {
  const groups: Relationship[][] = [];
  for (const group of value.split(',')) {
    const alternatives: Relationship[] = [];
    for (const alt of group.split('|')) {
      const m = /^\s*([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?/.exec(alt);
      if (m) alternatives.push(m[2] ? { name: m[1]!, arch: m[2] } : { name: m[1]! });
    }
    if (alternatives.length > 0) groups.push(alternatives);
  }
  return groups;
}

/** `Provides: awk, debconf-2.0 (= 1.5)` → the names provided. */
export function parseProvides(value: string): string[] {
  return parseRelationships(value).flatMap((group) => group.map((r) => r.name));
}

export interface InstalledPackage {
  key: string;
  name: string;
  arch: string;
  /** `same`, `foreign`, `allowed` (deb-control(5) Multi-Arch), when the package says. */
  multiArch?: string;
  provides: string[];
  depends: Relationship[][];
}

/**
 * dpkg's native architecture: that of the `dpkg` package itself (dpkg is built for the native
 * architecture, and `/var/lib/dpkg/arch-native` is not always there), else the most common
 * architecture other than `all` (distroless images have no dpkg package and one architecture).
 */
export function nativeArchitecture(packages: readonly InstalledPackage[]): string | undefined {
  const dpkg = packages.find((p) => p.name === 'dpkg' && p.arch !== 'all');
  if (dpkg) return dpkg.arch;
  const counts = new Map<string, number>();
  for (const p of packages) if (p.arch !== 'all') counts.set(p.arch, (counts.get(p.arch) ?? 0) + 1);
  let best: string | undefined;
  for (const [arch, n] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (best === undefined || n > counts.get(best)!) best = arch;
  return best;
}

/**
 * The installed packages that can satisfy `rel` for a package of architecture `arch`, as dpkg's
 * `deparchsatisfied` decides (lib/dpkg/depcon.c): a package of that name and the dependency's
 * architecture — the depending package's own, the native one for an `Architecture: all` package
 * or a `:native` qualifier, the named one for `:i386` — or of architecture `all`, or
 * `Multi-Arch: foreign` (it satisfies every architecture), or any architecture for `:any`; else the
 * packages that provide it, by the same rule. A package of another architecture that is none of
 * those does not satisfy the dependency (dpkg would not have accepted it): no edge.
 */
function candidates(
  rel: Relationship,
  arch: string,
  native: string | undefined,
  byName: Map<string, InstalledPackage[]>,
  byProvides: Map<string, InstalledPackage[]>,
): InstalledPackage[] {
  const depArch =
    rel.arch && rel.arch !== 'native' && rel.arch !== 'any'
      ? rel.arch
      : rel.arch === 'native' || arch === 'all'
        ? native
        : arch;
  const fits = (p: InstalledPackage) =>
    rel.arch === 'any' ||
    depArch === undefined ||
    p.arch === 'all' ||
    p.multiArch === 'foreign' ||
    p.arch === depArch;
  const named = (byName.get(rel.name) ?? []).filter(fits);
  if (named.length > 0) return named;
  return (byProvides.get(rel.name) ?? []).filter(fits);
}

/** key → keys of the installed packages each package's Depends and Pre-Depends resolve to. */
export function resolveDepends(packages: readonly InstalledPackage[]): Map<string, string[]> {
  const byName = new Map<string, InstalledPackage[]>();
  const byProvides = new Map<string, InstalledPackage[]>();
  const push = (map: Map<string, InstalledPackage[]>, k: string, p: InstalledPackage) =>
    map.set(k, [...(map.get(k) ?? []), p]);
  for (const p of packages) {
    push(byName, p.name, p);
    for (const v of p.provides) push(byProvides, v, p);
  }
  const native = nativeArchitecture(packages);
  const out = new Map<string, string[]>();
  for (const p of packages) {
    const deps = new Set<string>();
    for (const group of p.depends)
      for (const rel of group)
        for (const target of candidates(rel, p.arch, native, byName, byProvides))
          if (target.key !== p.key) deps.add(target.key);
    out.set(p.key, [...deps].sort());
  }
  return out;
}
