/**
 * PyPI versions: PEP 440 (the Version specifiers spec on packaging.python.org). Parsing and
 * normalisation are `@renovatebot/pep440`'s (a port of `packaging.version`): epochs, pre (`a`/`b`/`rc`),
 * post and dev releases, local versions, `1.0RC1` = `1.0rc1`. The order is packaging's `_cmpkey`,
 * computed once per version string and cached — the library re-parses both sides on every compare,
 * which dominated large audits:
 * `1.0.dev0` < `1.0a1.dev0` < `1.0a1` < `1.0a1.post1` < `1.0b1` < `1.0rc1` < `1.0` < `1.0+local`
 * < `1.0.post1.dev0` < `1.0.post1`; trailing zeros of the release do not count (`1.0` = `1.0.0`).
 */
import { parse } from '@renovatebot/pep440';
import type { VersionScheme } from './scheme.ts';

type Part = number | string;
/** A comparable key: epoch, release, pre, post, dev, local (packaging.version._cmpkey). */
type Key = [number, number[], Part[], Part[], Part[], Part[][]];

const NEG = Number.NEGATIVE_INFINITY;
const POS = Number.POSITIVE_INFINITY;
const cache = new Map<string, Key | null>();

function keyOf(v: string): Key | undefined {
  let hit = cache.get(v);
  if (hit === undefined) {
    const p = parse(v) as {
      epoch: number;
      release: number[];
      pre: [string, number] | null;
      post: [string, number] | null;
      dev: [string, number] | null;
      local: Array<string | number> | null;
    } | null;
    if (!p) hit = null;
    else {
      const release = [...p.release];
      while (release.length > 0 && release[release.length - 1] === 0) release.pop();
      // 1.0.dev0 sorts before 1.0a0: a dev release with neither pre nor post takes the lowest pre.
      const pre: Part[] = p.pre ? [p.pre[0], p.pre[1]] : !p.post && p.dev ? [NEG] : [POS];
      const post: Part[] = p.post ? [p.post[0], p.post[1]] : [NEG];
      const dev: Part[] = p.dev ? [p.dev[0], p.dev[1]] : [POS];
      // Local segments: alphanumeric ones sort before numeric ones; no local sorts first.
      const local: Part[][] = p.local
        ? p.local.map((s) =>
            typeof s === 'number' || /^\d+$/.test(String(s)) ? [Number(s), ''] : [NEG, String(s)],
          )
        : [[NEG]];
      hit = [p.epoch, release, pre, post, dev, local];
    }
    if (cache.size > 100_000) cache.clear();
    cache.set(v, hit);
  }
  return hit ?? undefined;
}

/** packaging's Infinity / NegativeInfinity compare against anything, strings included. */
function comparePart(a: Part, b: Part): number {
  if (a === b) return 0;
  if (a === NEG || b === POS) return -1;
  if (a === POS || b === NEG) return 1;
  if (typeof a !== typeof b) return typeof a === 'number' ? -1 : 1;
  return a < b ? -1 : 1;
}

/** Python's tuple ordering: element by element, then the shorter first. */
function compareTuple<T>(a: readonly T[], b: readonly T[], each: (x: T, y: T) => number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = each(a[i] as T, b[i] as T);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function compareKeys(x: Key, y: Key): number {
  return (
    x[0] - y[0] ||
    compareTuple(x[1], y[1], (a, b) => a - b) ||
    compareTuple(x[2], y[2], comparePart) ||
    compareTuple(x[3], y[3], comparePart) ||
    compareTuple(x[4], y[4], comparePart) ||
    compareTuple(x[5], y[5], (a, b) => compareTuple(a, b, comparePart))
  );
}

export const pep440Scheme: VersionScheme = {
  name: 'pep440',
  valid: (v) => keyOf(v) !== undefined,
  compare: (a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    if (!x || !y) throw new TypeError(`not a PEP 440 version: ${!x ? a : b}`);
    return Math.sign(compareKeys(x, y));
  },
};
