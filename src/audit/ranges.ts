/**
 * Is a version affected? The OSV schema's evaluation algorithm ("Evaluation" in the spec), for
 * SEMVER and ECOSYSTEM ranges and explicit `versions` lists:
 * - a version listed in `versions` is affected;
 * - for a range whose limits allow it (no `limit` events, or the version is below one of them; a
 *   limit containing `*` is infinity), walk the events sorted by version (`introduced: "0"` first,
 *   ties kept in the record's order): `introduced` ≤ v makes it vulnerable, `fixed` ≤ v or
 *   `last_affected` < v makes it not; vulnerable at the end means affected.
 * GIT ranges need the repository's commit graph and are out of scope: they are skipped (the
 * `versions` list that the spec requires next to them is still used) and counted.
 *
 * The fixed version reported is the one that closes the interval the version is in: the first
 * `fixed` event after it in that range.
 */
import type { OsvAffected, OsvEvent, OsvRange } from './osv-record.ts';
import type { VersionScheme } from './versions/scheme.ts';
import { semverScheme } from './versions/semver.ts';

export interface RangeVerdict {
  affected: boolean;
  /** Versions that fix the interval the version is in, in the scheme's order. */
  fixed: string[];
  /** Events or versions that are not versions of the scheme and were skipped. */
  problems: string[];
  /** GIT ranges skipped. */
  gitRanges: number;
}

type Kind = 'introduced' | 'fixed' | 'last_affected' | 'limit';

function eventOf(e: OsvEvent): { kind: Kind; value: string } {
  const kind = Object.keys(e)[0] as Kind;
  return { kind, value: (e as Record<Kind, string>)[kind] };
}

const ZERO = Symbol('zero');
const INFINITY = Symbol('infinity');
type Bound = string | typeof ZERO | typeof INFINITY;

function boundOf(kind: Kind, value: string): Bound {
  if (kind === 'introduced' && value === '0') return ZERO;
  if (kind === 'limit' && value.includes('*')) return INFINITY;
  return value;
}

function compareBound(scheme: VersionScheme, a: Bound, b: Bound): number {
  if (a === b) return 0;
  if (a === ZERO || b === INFINITY) return -1;
  if (a === INFINITY || b === ZERO) return 1;
  return scheme.compare(a, b);
}

interface PreparedRange {
  events: Array<{ kind: Kind; bound: Bound; index: number }>;
  problems: string[];
}

/** Validated, sorted events per (range, scheme): advisories are shared by many components. */
const prepared = new WeakMap<OsvRange, Map<string, PreparedRange>>();

function prepare(range: OsvRange, scheme: VersionScheme): PreparedRange {
  let byScheme = prepared.get(range);
  if (!byScheme) {
    byScheme = new Map();
    prepared.set(range, byScheme);
  }
  let hit = byScheme.get(scheme.name);
  if (hit) return hit;
  const events: PreparedRange['events'] = [];
  const problems: string[] = [];
  range.events.forEach((e, index) => {
    const { kind, value } = eventOf(e);
    const bound = boundOf(kind, value);
    if (typeof bound === 'string' && !scheme.valid(bound)) {
      problems.push(`${kind} ${JSON.stringify(value)} is not a ${scheme.name} version`);
      return;
    }
    events.push({ kind, bound, index });
  });
  // Stable: equal versions keep the record's order (adjacent intervals: fixed X, introduced X).
  events.sort((a, b) => compareBound(scheme, a.bound, b.bound) || a.index - b.index);
  hit = { events, problems };
  byScheme.set(scheme.name, hit);
  return hit;
}

function evaluateRange(
  range: OsvRange,
  version: string,
  scheme: VersionScheme,
  problems: string[],
): { vulnerable: boolean; fixed?: string } {
  const ready = prepare(range, scheme);
  problems.push(...ready.problems);
  const events = ready.events;

  const limits = events.filter((e) => e.kind === 'limit');
  if (limits.length > 0 && !limits.some((l) => compareBound(scheme, version, l.bound) < 0)) {
    return { vulnerable: false };
  }
  let vulnerable = false;
  let position = -1;
  events.forEach((e, i) => {
    const c = compareBound(scheme, version, e.bound);
    if (e.kind === 'introduced' && c >= 0) {
      vulnerable = true;
      position = i;
    } else if (e.kind === 'fixed' && c >= 0) {
      vulnerable = false;
      position = i;
    } else if (e.kind === 'last_affected' && c > 0) {
      vulnerable = false;
      position = i;
    }
  });
  if (!vulnerable) return { vulnerable };
  const closing = events.slice(position + 1).find((e) => e.kind === 'fixed');
  return closing && typeof closing.bound === 'string' ? { vulnerable, fixed: closing.bound } : { vulnerable };
}

/**
 * Evaluate one `affected` entry for a version. `scheme` orders the ecosystem's ECOSYSTEM ranges;
 * `osvVersion` is the version as the database spells it (Go: without `v`), and SEMVER ranges use
 * SemVer 2.0 precedence on it.
 */
export function evaluateAffected(
  affected: OsvAffected,
  osvVersion: string,
  scheme: VersionScheme,
): RangeVerdict {
  const verdict: RangeVerdict = { affected: false, fixed: [], problems: [], gitRanges: 0 };
  const fixed = new Set<string>();
  for (const range of affected.ranges) {
    if (range.type === 'GIT') {
      verdict.gitRanges++;
      continue;
    }
    const rangeScheme = range.type === 'SEMVER' ? semverScheme : scheme;
    if (!rangeScheme.valid(osvVersion)) {
      verdict.problems.push(`${JSON.stringify(osvVersion)} is not a ${rangeScheme.name} version`);
      continue;
    }
    const r = evaluateRange(range, osvVersion, rangeScheme, verdict.problems);
    if (r.vulnerable) {
      verdict.affected = true;
      if (r.fixed !== undefined) fixed.add(r.fixed);
    }
  }
  if (!verdict.affected && affected.versions.length > 0) {
    const comparable = scheme.valid(osvVersion);
    verdict.affected = affected.versions.some(
      (v) => v === osvVersion || (comparable && scheme.valid(v) && scheme.compare(v, osvVersion) === 0),
    );
  }
  verdict.fixed = [...fixed].sort((a, b) =>
    scheme.valid(a) && scheme.valid(b) ? scheme.compare(a, b) : a < b ? -1 : 1,
  );
  return verdict;
}
