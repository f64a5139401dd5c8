/**
 * Raw matches → findings: one finding per (component, vulnerability). Advisories that are aliases of
 * each other (OSV schema, aliases field: symmetric and transitive) are one vulnerability: they are
 * joined through the aliases every matched advisory lists and the advisories that list it, and the
 * finding carries one id, the others as aliases, the union of their fixed versions and the highest
 * severity any of them (or an alias record in the database, e.g. a GHSA with a CVSS vector for a Go
 * advisory without one) gives. The id shown is the matched advisory from the most specific database:
 * the ecosystem's own (GO-, PYSEC-, RUSTSEC-, DSA-, USN-, …) over GHSA- over CVE-.
 */
import type { ComponentLocation } from './inventory.ts';
import type { AdvisoryCache, RawMatch } from './match.ts';
import { maxSeverity, type Severity, severityOf } from './severity.ts';

export interface FindingLocation extends ComponentLocation {
  /** Labels from the artifact down to the component, when the SBOM's graph reaches it. */
  dependencyPath?: string[];
}

export interface Finding {
  id: string;
  aliases: string[];
  summary?: string;
  severity: Severity;
  component: { name: string; version: string; purl: string };
  /** The ecosystem and package the advisory names (`Debian:12/glibc`, `Go/golang.org/x/net`). */
  package: string;
  /** Versions that fix it for this component's line of releases, in the ecosystem's order. */
  fixed: string[];
  locations: FindingLocation[];
  /** The matched advisories (one or more, when aliases were joined). */
  advisories: string[];
  url?: string;
  published?: string;
  modified: string;
}

function idRank(id: string): number {
  if (id.startsWith('CVE-')) return 2;
  if (id.startsWith('GHSA-')) return 1;
  return 0;
}

function byId(a: string, b: string): number {
  return idRank(a) - idRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root) as string;
    let at = x;
    while (at !== root) {
      const next = this.parent.get(at) ?? root;
      this.parent.set(at, root);
      at = next;
    }
    if (!this.parent.has(root)) this.parent.set(root, root);
    return root;
  }
  union(a: string, b: string): void {
    const x = this.find(a);
    const y = this.find(b);
    // The smaller id becomes the root, so groups do not depend on the order of unions.
    if (x === y) return;
    const [low, high] = x < y ? [x, y] : [y, x];
    this.parent.set(high, low);
  }
}

/** Everything one advisory is the same vulnerability as: its aliases and the records aliasing it. */
function aliasSet(id: string, cache: AdvisoryCache): string[] {
  const advisory = cache.get(id);
  return [...new Set([id, ...(advisory?.aliases ?? []), ...cache.aliasedBy(id)])];
}

export function buildFindings(
  matches: RawMatch[],
  cache: AdvisoryCache,
  pathOf: (ref: string) => string[] | undefined,
): Finding[] {
  const groups = new UnionFind();
  const sets = new Map<string, string[]>();
  for (const m of matches) {
    if (sets.has(m.advisory.id)) continue;
    const set = aliasSet(m.advisory.id, cache);
    sets.set(m.advisory.id, set);
    for (const other of set) groups.union(m.advisory.id, other);
  }
  // Component identity: its purl (other tools list one package once per location).
  const byKey = new Map<string, RawMatch[]>();
  for (const m of matches) {
    const key = `${m.component.purl}\n${groups.find(m.advisory.id)}`;
    const list = byKey.get(key);
    if (list) list.push(m);
    else byKey.set(key, [m]);
  }
  const paths = new Map<string, string[] | undefined>();
  const cachedPath = (ref: string) => {
    if (!paths.has(ref)) paths.set(ref, pathOf(ref));
    return paths.get(ref);
  };
  // The severity alias records add depends only on the set of matched advisories.
  const aliasSeverity = new Map<string, Severity | undefined>();
  const findings: Finding[] = [];
  for (const group of byKey.values()) {
    const matched = [...new Set(group.map((m) => m.advisory.id))].sort(byId);
    const primaryId = matched[0] as string;
    const primary = group.find((m) => m.advisory.id === primaryId) as RawMatch;
    const ids = new Set<string>();
    for (const id of matched) for (const a of sets.get(id) ?? []) ids.add(a);
    let severity: Severity = group.map((m) => m.severity).reduce(maxSeverity);
    const groupKey = matched.join('\n');
    if (!aliasSeverity.has(groupKey)) {
      let fromAliases: Severity | undefined;
      for (const id of ids) {
        if (matched.includes(id)) continue;
        const alias = cache.get(id);
        if (!alias || alias.withdrawn) continue;
        const s = severityOf({
          packageSeverity: [],
          recordSeverity: alias.severity,
          ...(alias.databaseSeverity ? { recordDatabaseSeverity: alias.databaseSeverity } : {}),
        });
        fromAliases = fromAliases ? maxSeverity(fromAliases, s) : s;
      }
      aliasSeverity.set(groupKey, fromAliases);
    }
    const fromAliases = aliasSeverity.get(groupKey);
    if (fromAliases) severity = maxSeverity(severity, fromAliases);
    const scheme = primary.query.scheme;
    const fixed = [...new Set(group.flatMap((m) => m.fixed))].sort(
      (a, b) => scheme.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0),
    );
    const locations = new Map<string, FindingLocation>();
    for (const m of group) {
      const path = cachedPath(m.component.ref);
      const list = m.component.locations.length > 0 ? m.component.locations : [{}];
      for (const l of list) {
        const loc: FindingLocation = { ...l, ...(path ? { dependencyPath: path } : {}) };
        locations.set(JSON.stringify([loc.layer, loc.path, loc.dependencyPath]), loc);
      }
    }
    const c = primary.component;
    const summary = primary.advisory.summary ?? group.find((m) => m.advisory.summary)?.advisory.summary;
    const finding: Finding = {
      id: primaryId,
      aliases: [...ids].filter((id) => id !== primaryId).sort(byId),
      severity,
      component: { name: c.name, version: c.version ?? primary.query.version, purl: c.purl ?? '' },
      package: primary.affectedPackage,
      fixed,
      locations: [...locations.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l),
      advisories: matched,
      modified: primary.advisory.modified,
    };
    if (summary) finding.summary = summary;
    if (primary.advisory.url) finding.url = primary.advisory.url;
    if (primary.advisory.published) finding.published = primary.advisory.published;
    findings.push(finding);
  }
  return findings.sort(
    (a, b) =>
      (a.component.purl < b.component.purl ? -1 : a.component.purl > b.component.purl ? 1 : 0) ||
      byId(a.id, b.id),
  );
}
