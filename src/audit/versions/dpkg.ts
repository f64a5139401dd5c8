/**
 * Debian version comparison (Debian Policy §5.6.12, dpkg lib/dpkg/version.c semantics):
 * `[epoch:]upstream_version[-debian_revision]`. The epoch compares numerically (absent = 0); then the
 * upstream version and the revision each by the dpkg algorithm: alternating non-digit and digit runs;
 * non-digit runs character by character where `~` sorts before everything (even the end of the
 * string), then the end, then letters, then everything else; digit runs numerically. So
 * `1.0~rc1` < `1.0` < `1.0a` < `1.0+b1` < `1.0.1`, and a missing revision equals `0`.
 */
import { compareDigits, type VersionScheme } from './scheme.ts';

interface DpkgVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

// Policy §5.6.12: upstream_version starts with a digit and may contain . + - ~ (and : only with an
// epoch, which dpkg has long refused); a hyphen in it requires a revision. The revision has no hyphen.
const EPOCH = /^\d+$/;
const UPSTREAM = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

export function parseDpkgVersion(v: string): DpkgVersion | undefined {
  let rest = v;
  let epoch = '0';
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    epoch = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    if (!EPOCH.test(epoch)) return undefined;
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (!UPSTREAM.test(upstream)) return undefined;
  if (colon < 0 && upstream.includes(':')) return undefined;
  if (hyphen >= 0 && !REVISION.test(revision)) return undefined;
  return { epoch, upstream, revision };
}

/** The weight of one character in a non-digit run (dpkg `order()`); 0 stands for the end. */
function order(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (c === 0x7e) return -1; // ~
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c; // letters
  if (c >= 0x30 && c <= 0x39) return 0; // a digit ends the run like the end of the string
  return c + 256;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** dpkg `verrevcmp`: one upstream version or revision against another. */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a, i)) || (j < b.length && !isDigit(b, j))) {
      const d = order(a, i) - order(b, j);
      if (d !== 0) return d < 0 ? -1 : 1;
      i++;
      j++;
    }
    const si = i;
    while (i < a.length && isDigit(a, i)) i++;
    const sj = j;
    while (j < b.length && isDigit(b, j)) j++;
    const d = compareDigits(a.slice(si, i) || '0', b.slice(sj, j) || '0');
    if (d !== 0) return d;
  }
  return 0;
}

export function compareDpkg(a: string, b: string): number {
  const x = parseDpkgVersion(a);
  const y = parseDpkgVersion(b);
  if (!x || !y) throw new TypeError(`not a Debian version: ${!x ? a : b}`);
  return (
    compareDigits(x.epoch, y.epoch) || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision)
  );
}

export const dpkgScheme: VersionScheme = {
  name: 'dpkg',
  valid: (v) => parseDpkgVersion(v) !== undefined,
  compare: compareDpkg,
};
