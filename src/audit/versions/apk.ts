/**
 * Alpine (apk-tools) version comparison. apk versions follow Gentoo's version syntax (Package Manager
 * Specification §3.2–3.3) with apk's own post-release suffixes and commit hashes:
 * `1.2.3[a-z]?(_alpha|_beta|_pre|_rc|_cvs|_svn|_git|_hg|_p)N*…[~hash][-rN]`.
 * Order: the first number numerically; later numbers numerically unless one has a leading zero (then
 * as decimal fractions: trailing zeros dropped, compared as strings); more numbers sort later; a letter
 * after none; suffixes `_alpha` < `_beta` < `_pre` < `_rc` < none < `_cvs` < `_svn` < `_git` < `_hg`
 * < `_p`, each by its number; then the `-r` revision (absent = r0). The `~hash` does not order.
 */
import { compareDigits, type VersionScheme } from './scheme.ts';

const SUFFIX_RANK: Record<string, number> = {
  alpha: -4,
  beta: -3,
  pre: -2,
  rc: -1,
  cvs: 1,
  svn: 2,
  git: 3,
  hg: 4,
  p: 5,
};

interface ApkVersion {
  numbers: string[];
  letter: string;
  suffixes: Array<{ rank: number; n: string }>;
  revision: string;
}

const APK =
  /^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$/;

export function parseApkVersion(v: string): ApkVersion | undefined {
  const m = APK.exec(v);
  if (!m) return undefined;
  const suffixes = [...(m[3] as string).matchAll(/_([a-z]+)(\d*)/g)].map((s) => ({
    rank: SUFFIX_RANK[s[1] as string] as number,
    n: s[2] || '0',
  }));
  return {
    numbers: (m[1] as string).split('.'),
    letter: m[2] as string,
    suffixes,
    revision: m[4] ?? '0',
  };
}

/** PMS §3.3: a later component with a leading zero is a decimal fraction. */
function compareComponent(a: string, b: string): number {
  if (a.startsWith('0') || b.startsWith('0')) {
    const x = a.replace(/0+$/, '');
    const y = b.replace(/0+$/, '');
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareDigits(a, b);
}

export function compareApk(a: string, b: string): number {
  const x = parseApkVersion(a);
  const y = parseApkVersion(b);
  if (!x || !y) throw new TypeError(`not an Alpine version: ${!x ? a : b}`);
  let d = compareDigits(x.numbers[0] as string, y.numbers[0] as string);
  if (d !== 0) return d;
  const n = Math.min(x.numbers.length, y.numbers.length);
  for (let i = 1; i < n; i++) {
    d = compareComponent(x.numbers[i] as string, y.numbers[i] as string);
    if (d !== 0) return d;
  }
  if (x.numbers.length !== y.numbers.length) return x.numbers.length < y.numbers.length ? -1 : 1;
  if (x.letter !== y.letter) return x.letter < y.letter ? -1 : 1;
  const s = Math.min(x.suffixes.length, y.suffixes.length);
  for (let i = 0; i < s; i++) {
    const p = x.suffixes[i]!;
    const q = y.suffixes[i]!;
    if (p.rank !== q.rank) return p.rank < q.rank ? -1 : 1;
    d = compareDigits(p.n, q.n);
    if (d !== 0) return d;
  }
  // An extra suffix: a pre-release one sorts before none, a post-release one after.
  if (x.suffixes.length > s) return x.suffixes[s]!.rank < 0 ? -1 : 1;
  if (y.suffixes.length > s) return y.suffixes[s]!.rank < 0 ? 1 : -1;
  return compareDigits(x.revision, y.revision);
}

export const apkScheme: VersionScheme = {
  name: 'apk',
  valid: (v) => parseApkVersion(v) !== undefined,
  compare: compareApk,
};
