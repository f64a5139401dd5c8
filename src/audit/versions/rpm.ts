/**
 * RPM version comparison: `[epoch:]version[-release]`, epoch numerically (absent = 0), then version
 * and release each with rpm's `rpmvercmp` (rpmio/rpmvercmp.c): runs of digits and of letters are
 * compared in turn, anything else only separates them; a digit run beats a letter run; `~` sorts
 * before everything (pre-releases: `1.0~rc1` < `1.0`), `^` after the version it follows but before
 * anything longer (snapshots: `1.0` < `1.0^git1` < `1.0.1`).
 */
import { compareDigits, type VersionScheme } from './scheme.ts';

export interface Evr {
  epoch: string;
  version: string;
  release: string;
}

const EPOCH = /^\d+$/;
// rpm refuses these characters in version and release tags; anything else is accepted.
const PART = /^[^\s:-]*$/;

export function parseEvr(v: string): Evr | undefined {
  let rest = v;
  let epoch = '0';
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    epoch = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    if (!EPOCH.test(epoch)) return undefined;
  }
  const hyphen = rest.lastIndexOf('-');
  const version = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const release = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (version === '' || !PART.test(version) || !PART.test(release)) return undefined;
  if (hyphen >= 0 && release === '') return undefined;
  // A version with no letter or digit at all has nothing rpmvercmp can order.
  if (!/[A-Za-z0-9]/.test(version)) return undefined;
  return { epoch, version, release };
}

const isAlnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);
const isDigitChar = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && /[A-Za-z]/.test(c);

/** rpm's `rpmvercmp` on one version or release string. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    // Tilde: sorts before everything, the end included.
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // Caret: like tilde but sorts after the end of the other string.
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigitChar(a[i]);
    const same = numeric ? isDigitChar : isAlpha;
    const si = i;
    while (i < a.length && same(a[i])) i++;
    const sj = j;
    while (j < b.length && same(b[j])) j++;
    const x = a.slice(si, i);
    const y = b.slice(sj, j);
    // Segments of different kinds: the numeric one is newer.
    if (y === '') return numeric ? 1 : -1;
    const d = numeric ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return d;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export function compareRpm(a: string, b: string): number {
  const x = parseEvr(a);
  const y = parseEvr(b);
  if (!x || !y) throw new TypeError(`not an RPM version: ${!x ? a : b}`);
  return (
    compareDigits(x.epoch, y.epoch) || rpmvercmp(x.version, y.version) || rpmvercmp(x.release, y.release)
  );
}

export const rpmScheme: VersionScheme = {
  name: 'rpm',
  valid: (v) => parseEvr(v) !== undefined,
  compare: compareRpm,
};
