/**
 * CVSS vectors → score and qualitative rating.
 * - v3.0 / v3.1: the base score formula of the FIRST specification (v3.1 §7.1, with Appendix A's
 *   `Roundup` that avoids floating-point surprises; v3.0 rounds up to one decimal directly), written
 *   out here: a dozen weights and one equation.
 * - v4.0: the score is not a formula but a lookup over "macrovectors" plus interpolation (v4.0 §8),
 *   so it comes from `ae-cvss-calculator` (Apache-2.0, metaeffekt), checked in the tests against the
 *   FIRST calculator's published examples. v2 comes from the same library.
 * Ratings use the v3/v4 scale (§5): 0 none, 0.1–3.9 low, 4–6.9 medium, 7–8.9 high, 9–10 critical;
 * v2 has no critical (NVD's v2 scale: 7–10 high).
 */
import cvssLibrary from 'ae-cvss-calculator';

// A CommonJS (webpack) bundle: its classes are properties of the default export.
const { Cvss2, Cvss4P0 } = cvssLibrary;

export type Rating = 'none' | 'low' | 'medium' | 'high' | 'critical';

export interface CvssScore {
  version: '2.0' | '3.0' | '3.1' | '4.0';
  vector: string;
  score: number;
  rating: Rating;
}

const AV: Record<string, number> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 };
const AC: Record<string, number> = { L: 0.77, H: 0.44 };
const PR_UNCHANGED: Record<string, number> = { N: 0.85, L: 0.62, H: 0.27 };
const PR_CHANGED: Record<string, number> = { N: 0.85, L: 0.68, H: 0.5 };
const UI: Record<string, number> = { N: 0.85, R: 0.62 };
const CIA: Record<string, number> = { H: 0.56, L: 0.22, N: 0 };

/** CVSS v3.1 Appendix A: round up to one decimal, exact for inputs like 4.000000000000001. */
function roundup31(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

function roundup30(x: number): number {
  return Math.ceil(x * 10) / 10;
}

/** The metrics of a `CVSS:3.x/…` vector; undefined when a base metric is missing or repeated. */
function metrics(vector: string): Map<string, string> | undefined {
  const parts = vector.split('/');
  const out = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const [key, value, extra] = part.split(':');
    if (key === undefined || value === undefined || extra !== undefined || out.has(key)) return undefined;
    out.set(key, value);
  }
  return out;
}

export function ratingOf(score: number, version: CvssScore['version'] = '3.1'): Rating {
  if (version === '2.0') return score < 4 ? 'low' : score < 7 ? 'medium' : 'high';
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

/** The base score of a CVSS v3.0 or v3.1 vector, or undefined when it is not one. */
export function cvss3BaseScore(vector: string): number | undefined {
  const version = /^CVSS:3\.([01])\//.exec(vector)?.[1];
  if (version === undefined) return undefined;
  const m = metrics(vector);
  if (!m) return undefined;
  const changed = m.get('S') === 'C';
  if (m.get('S') !== 'C' && m.get('S') !== 'U') return undefined;
  const av = AV[m.get('AV') ?? ''];
  const ac = AC[m.get('AC') ?? ''];
  const pr = (changed ? PR_CHANGED : PR_UNCHANGED)[m.get('PR') ?? ''];
  const ui = UI[m.get('UI') ?? ''];
  const c = CIA[m.get('C') ?? ''];
  const i = CIA[m.get('I') ?? ''];
  const a = CIA[m.get('A') ?? ''];
  if (av === undefined || ac === undefined || pr === undefined || ui === undefined) return undefined;
  if (c === undefined || i === undefined || a === undefined) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  const roundup = version === '1' ? roundup31 : roundup30;
  return changed
    ? roundup(Math.min(1.08 * (impact + exploitability), 10))
    : roundup(Math.min(impact + exploitability, 10));
}

const scored = new Map<string, CvssScore | null>();

/** Score any CVSS vector OSV carries (CVSS_V2, CVSS_V3, CVSS_V4); undefined when it cannot. */
export function scoreCvss(vector: string): CvssScore | undefined {
  let hit = scored.get(vector);
  if (hit === undefined) {
    hit = computeScore(vector) ?? null;
    if (scored.size > 10_000) scored.clear();
    scored.set(vector, hit);
  }
  return hit ?? undefined;
}

function computeScore(vector: string): CvssScore | undefined {
  const v3 = /^CVSS:3\.([01])\//.exec(vector);
  if (v3) {
    const score = cvss3BaseScore(vector);
    if (score === undefined) return undefined;
    const version = v3[1] === '1' ? '3.1' : '3.0';
    return { version, vector, score, rating: ratingOf(score, version) };
  }
  try {
    if (vector.startsWith('CVSS:4.0/')) {
      const score = new Cvss4P0(vector).calculateScores().overall;
      if (typeof score !== 'number' || Number.isNaN(score)) return undefined;
      return { version: '4.0', vector, score, rating: ratingOf(score, '4.0') };
    }
    if (/^AV:[NAL]\//.test(vector)) {
      const score = new Cvss2(vector).calculateScores().base;
      if (typeof score !== 'number' || Number.isNaN(score)) return undefined;
      return { version: '2.0', vector, score, rating: ratingOf(score, '2.0') };
    }
  } catch {
    return undefined; // the library refuses vectors it cannot parse
  }
  return undefined;
}
