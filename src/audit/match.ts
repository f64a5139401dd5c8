/**
 * Components × advisories: for each component of the inventory, the advisories whose affected
 * packages name it (same ecosystem, release covered by the ecosystem suffix, same package name) and
 * whose ranges or versions include its version. One raw match per (component, advisory).
 */
import { releaseScoped, suffixCovers } from './ecosystem.ts';
import type { Inventory, InventoryComponent, InventoryDistro } from './inventory.ts';
import type { OsvAffected } from './osv-record.ts';
import { type PackageQuery, packageQuery } from './package-query.ts';
import { evaluateAffected } from './ranges.ts';
import { maxSeverity, type Severity, severityOf } from './severity.ts';
import {
  type AdvisoryStore,
  type Row,
  type StoredAdvisory,
  type StoredAffected,
  storedAdvisory,
} from './store.ts';

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
  /**
   * OS packages of ecosystems whose advisories name a release (`Debian:12`) that were looked up
   * without one, by base: only the advisories for every release can match them.
   */
  releaseUnknown: Record<string, number>;
}

export interface MatchResult {
  matches: RawMatch[];
  /** The database question each evaluated component became. */
  queries: Array<{ component: InventoryComponent; query: PackageQuery }>;
  stats: MatchStats;
}

/**
 * Reads the database in bulk for one audit: each ecosystem's affected entries in one query (parsed
 * once, shared by every component that names the package), the alias index, advisories on demand.
 */
export class AdvisoryCache {
  readonly store: AdvisoryStore;
  private readonly advisories = new Map<string, StoredAdvisory | null>();
  private readonly bases = new Map<
    string,
    Map<
      string,
      Array<{ advisoryId: string; ecosystem: string; name: string; data: string; entry?: StoredAffected }>
    >
  >();
  private aliases: Map<string, string[]> | undefined;
  private rows: Map<string, Row> | undefined;
  private dates: Map<string, Map<string, string>> | undefined;

  constructor(store: AdvisoryStore) {
    this.store = store;
  }

  get(id: string): StoredAdvisory | undefined {
    this.rows ??= this.store.advisoryRows();
    let hit = this.advisories.get(id);
    if (hit === undefined) {
      const row = this.rows.get(id);
      hit = row ? storedAdvisory(row) : null;
      this.advisories.set(id, hit);
    }
    return hit ?? undefined;
  }

  aliasedBy(id: string): string[] {
    this.aliases ??= this.store.aliasIndex();
    return this.aliases.get(id) ?? [];
  }

  affected(base: string, key: string): StoredAffected[] {
    let index = this.bases.get(base);
    if (!index) {
      index = this.store.affectedByBase(base);
      this.bases.set(base, index);
    }
    const rows = index.get(key);
    if (!rows) return [];
    // Parsed once, on first use, and shared by every component naming the package.
    return rows.map((row) => {
      row.entry ??= {
        advisoryId: row.advisoryId,
        ecosystem: row.ecosystem,
        name: row.name,
        affected: JSON.parse(row.data) as OsvAffected,
      };
      return row.entry;
    });
  }

  releaseDates(base: string, key: string): Map<string, string> | undefined {
    this.dates ??= this.store.releaseDateIndex();
    return this.dates.get(`${base}\0${key}`);
  }
}

/** One advisory's severity for one affected entry, computed once per audit process. */
const severities = new WeakMap<OsvAffected, Map<string, Severity>>();
function severityFor(affected: OsvAffected, advisory: StoredAdvisory, compute: () => Severity): Severity {
  let byAdvisory = severities.get(affected);
  if (!byAdvisory) {
    byAdvisory = new Map();
    severities.set(affected, byAdvisory);
  }
  let hit = byAdvisory.get(advisory.id);
  if (!hit) {
    hit = compute();
    byAdvisory.set(advisory.id, hit);
  }
  return hit;
}

/**
 * `assumedDistro` (`--distro`) is the release of OS packages whose purl and SBOM name none (a
 * package file's own SBOM).
 */
export function matchInventory(
  inventory: Inventory,
  cache: AdvisoryCache,
  assumedDistro?: InventoryDistro,
): MatchResult {
  const stats: MatchStats = {
    components: inventory.components.length,
    evaluated: 0,
    notEvaluated: {},
    gitRangesSkipped: 0,
    problems: [],
    releaseUnknown: {},
  };
  const matches: RawMatch[] = [];
  const queries: MatchResult['queries'] = [];
  const problems = new Set<string>();
  for (const component of inventory.components) {
    const q = packageQuery(component, {
      ...(inventory.distro ? { sbomDistro: inventory.distro } : {}),
      ...(assumedDistro ? { assumedDistro } : {}),
    });
    if (!q.ok) {
      stats.notEvaluated[q.reason] = (stats.notEvaluated[q.reason] ?? 0) + 1;
      continue;
    }
    stats.evaluated++;
    const query = q.query;
    if (query.release === undefined && releaseScoped(query.base))
      stats.releaseUnknown[query.base] = (stats.releaseUnknown[query.base] ?? 0) + 1;
    queries.push({ component, query });
    const byAdvisory = new Map<string, RawMatch>();
    for (const key of query.keys) {
      for (const stored of cache.affected(query.base, key)) {
        const suffix = stored.ecosystem.slice(query.base.length + 1);
        if (!suffixCovers(query.base, suffix, query.release)) continue;
        const verdict = evaluateAffected(stored.affected, query.version, query.scheme);
        stats.gitRangesSkipped += verdict.gitRanges;
        for (const p of verdict.problems) problems.add(`${stored.advisoryId}: ${p}`);
        if (!verdict.affected) continue;
        const advisory = cache.get(stored.advisoryId);
        if (!advisory) continue;
        const severity = severityFor(stored.affected, advisory, () =>
          severityOf({
            packageSeverity: stored.affected.severity ?? [],
            recordSeverity: advisory.severity,
            ...(stored.affected.databaseSeverity
              ? { packageDatabaseSeverity: stored.affected.databaseSeverity }
              : {}),
            ...(advisory.databaseSeverity ? { recordDatabaseSeverity: advisory.databaseSeverity } : {}),
          }),
        );
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
  return { matches, queries, stats };
}
