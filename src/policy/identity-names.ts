/**
 * When two names of one artifact are the same name: Python distribution names compare as PEP 503
 * normalizes them (runs of `-`, `_`, `.` folded to one `-`, case-insensitive); every other format's
 * names compare case-insensitively, trimmed. Shared by the identity rule and by `stamp`, which must
 * agree on what "the artifact says something else" means.
 */

export function normalizeName(name: string, format: string): string {
  const lower = name.trim().toLowerCase();
  return format === 'wheel' || format === 'sdist' ? lower.replace(/[-_.]+/g, '-') : lower;
}

export function sameName(a: string, b: string, format: string): boolean {
  return normalizeName(a, format) === normalizeName(b, format);
}

/** Versions are compared exactly (trimmed): `1:1.2.3-1` and `1.2.3` are different releases. */
export function sameVersion(a: string, b: string): boolean {
  return a.trim() === b.trim();
}
