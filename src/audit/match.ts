/**
 * Components × advisories: for each component of the inventory, the advisories whose affected
 * packages name it (same ecosystem, release covered by the ecosystem suffix, same package name) and
 * whose ranges or versions include its version. One raw match per (component, advisory).
 */
import { suffixCovers } from './ecosystem.ts';
import type { Inventory, InventoryComponent } from './inventory.ts';
import { type PackageQuery, packageQuery } from './package-query.ts';
import { evaluateAffected } from './ranges.ts';
import { maxSeverity, type Severity, severityOf } from './severity.ts';
import type { AdvisoryStore, StoredAdvisory } from './store.ts';

export interface RawMatch {
  component: InventoryComponent;
  query: PackageQuery;
  advisory: StoredAdvisory;
  /** The affected package as the advisory names it: `Debian:12/glibc`. */
  affectedPackage: string;
  fixed: string[];
  severity: Severity;
}

export interface MatchStats {
  components: number;
  /** Components looked up in the database. */
  evaluated: number;
  /** Why the others were not, with counts (`no purl`, `no advisories for gem packages`, …). */
  notEvaluated: Record<string, number>;
  /** GIT ranges met and skipped (out of scope: they need the repository's commit graph). */
  gitRangesSkipped: number;
  /** Range events or versions that were not versions of their scheme, with the advisory id. */
  problems: string[];
}

export interface MatchResult {
  matches: RawMatch[];
  stats: MatchStats;
}

/** Reads advisories through a cache: one component's advisories are often another's. */
export class AdvisoryCache {
  private readonly advisories = new Map<string, StoredAdvisory | null>();
  private readonly reverse = new Map<string, string[]>();
  readonly store: AdvisoryStore;
  constructor(store: AdvisoryStore) {
    this.store = store;
  }

  get(id: string): StoredAdvisory | undefined {
    let hit = this.advisories.get(id);
    if (hit === undefined) {
      hit = this.store.advisory(id) ?? null;
      this.advisories.set(id, hit);
    }
    return hit ?? undefined;
  }

  aliasedBy(id: string): string[] {
    let hit = this.reverse.get(id);
    if (!hit) {
      hit = this.store.aliasedBy(id);
      this.reverse.set(id, hit);
    }
    return hit;
  }
}

export function matchInventory(inventory: Inventory, cache: AdvisoryCache): MatchResult {
  const stats: MatchStats = {
    components: inventory.components.length,
    evaluated: 0,
    notEvaluated: {},
    gitRangesSkipped: 0,
    problems: [],
  };
  const matches: RawMatch[] = [];
  const problems = new Set<string>();
  for (const component of inventory.components) {
    const q = packageQuery(component, inventory.distro);
    if (!q.ok) {
      stats.notEvaluated[q.reason] = (stats.notEvaluated[q.reason] ?? 0) + 1;
      continue;
    }
    stats.evaluated++;
    const query = q.query;
    const byAdvisory = new Map<string, RawMatch>();
    for (const key of query.keys) {
      for (const stored of cache.store.affectedFor(query.base, key)) {
        const suffix = stored.ecosystem.slice(query.base.length + 1);
        if (!suffixCovers(query.base, suffix, query.release)) continue;
        const verdict = evaluateAffected(stored.affected, query.version, query.scheme);
        stats.gitRangesSkipped += verdict.gitRanges;
        for (const p of verdict.problems) problems.add(`${stored.advisoryId}: ${p}`);
        if (!verdict.affected) continue;
        const advisory = cache.get(stored.advisoryId);
        if (!advisory) continue;
        const severity = severityOf({
          packageSeverity: stored.affected.severity ?? [],
          recordSeverity: advisory.severity,
          ...(stored.affected.databaseSeverity
            ? { packageDatabaseSeverity: stored.affected.databaseSeverity }
            : {}),
          ...(advisory.databaseSeverity ? { recordDatabaseSeverity: advisory.databaseSeverity } : {}),
        });
        const previous = byAdvisory.get(advisory.id);
        if (previous) {
          // Several affected entries of one advisory for the same package: one match, all fixes.
          previous.fixed = [...new Set([...previous.fixed, ...verdict.fixed])];
          previous.severity = maxSeverity(previous.severity, severity);
          continue;
        }
        byAdvisory.set(advisory.id, {
          component,
          query,
          advisory,
          affectedPackage: `${stored.ecosystem}/${stored.name}`,
          fixed: verdict.fixed,
          severity,
        });
      }
    }
    matches.push(...byAdvisory.values());
  }
  stats.problems = [...problems].sort();
  return { matches, stats };
}
