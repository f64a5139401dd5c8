/**
 * The severity of a vulnerability, from what its advisories say: CVSS vectors (scored, see cvss.ts;
 * the newest CVSS version present wins, v4 over v3 over v2), else the database's own rating
 * (`database_specific.severity`: GitHub's LOW / MODERATE / HIGH / CRITICAL, …), else Ubuntu's
 * priority; else unknown. Package-level severity takes precedence over the record's (OSV schema:
 * they are exclusive). Several advisories for one vulnerability (aliases) give the highest.
 */
import { type Rating, scoreCvss } from './cvss.ts';
import type { OsvSeverity } from './osv-record.ts';

export type SeverityRating = Rating | 'unknown';

export interface Severity {
  rating: SeverityRating;
  score?: number;
  vector?: string;
  /** `cvss-v4.0`, `cvss-v3.1`, `cvss-v3.0`, `cvss-v2.0`, `database`, `ubuntu`, or `none`. */
  source: string;
}

export const UNKNOWN_SEVERITY: Severity = { rating: 'unknown', source: 'none' };

const ORDER: Record<SeverityRating, number> = {
  unknown: -1,
  none: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};

export function ratingRank(r: SeverityRating): number {
  return ORDER[r];
}

const DATABASE_RATINGS: Record<string, Rating> = {
  none: 'none',
  negligible: 'low',
  low: 'low',
  moderate: 'medium',
  medium: 'medium',
  important: 'high',
  high: 'high',
  critical: 'critical',
};

function cvssSeverity(list: readonly OsvSeverity[]): Severity | undefined {
  const order = ['CVSS_V4', 'CVSS_V3', 'CVSS_V2'];
  for (const type of order) {
    for (const s of list) {
      if (s.type !== type) continue;
      const scored = scoreCvss(s.score);
      if (scored)
        return {
          rating: scored.rating,
          score: scored.score,
          vector: s.score,
          source: `cvss-v${scored.version}`,
        };
    }
  }
  return undefined;
}

export interface SeverityInput {
  packageSeverity: readonly OsvSeverity[];
  recordSeverity: readonly OsvSeverity[];
  packageDatabaseSeverity?: string;
  recordDatabaseSeverity?: string;
}

/** The severity one advisory gives one package. */
export function severityOf(input: SeverityInput): Severity {
  const cvss = cvssSeverity(input.packageSeverity) ?? cvssSeverity(input.recordSeverity);
  if (cvss) return cvss;
  for (const db of [input.packageDatabaseSeverity, input.recordDatabaseSeverity]) {
    const rating = db ? DATABASE_RATINGS[db.toLowerCase()] : undefined;
    if (rating) return { rating, source: 'database' };
  }
  for (const s of [...input.packageSeverity, ...input.recordSeverity]) {
    const rating = s.type === 'Ubuntu' ? DATABASE_RATINGS[s.score] : undefined;
    if (rating) return { rating, source: 'ubuntu' };
  }
  return UNKNOWN_SEVERITY;
}

/** The higher of two severities (by rating, then score). */
export function maxSeverity(a: Severity, b: Severity): Severity {
  const d = ORDER[a.rating] - ORDER[b.rating];
  if (d !== 0) return d > 0 ? a : b;
  return (b.score ?? -1) > (a.score ?? -1) ? b : a;
}
