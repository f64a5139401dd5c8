/**
 * Maven version order (maven-artifact `ComparableVersion`, as documented in Maven's "Version Order
 * Specification"): the version is split at `.`, `-` and digit/letter transitions into a tree where
 * `-` (and a transition) opens a sub-list. Trailing "null" items (0, "", `final`, `ga`, `release`)
 * are dropped at the end and before every sub-list. Items compare: number > sub-list > qualifier;
 * qualifiers `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < "" = `final` = `ga` =
 * `release` < `sp` < any other qualifier (those alphabetically); `a1`/`b1`/`m1` mean alpha/beta/
 * milestone 1. So `1-alpha-1` = `1-a1`, `1.0-SNAPSHOT` < `1.0` = `1.0.0` = `1-ga` < `1-sp` < `1-1` < `1.1`.
 */
import { compareDigits, type VersionScheme } from './scheme.ts';

type Item = { kind: 'int'; value: string } | { kind: 'str'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_KEY = String(QUALIFIERS.indexOf(''));

/** A sortable key for a qualifier: known ones by rank, unknown ones after `sp`, alphabetically. */
function qualifierKey(q: string): string {
  const name = ALIASES[q] ?? q;
  const i = QUALIFIERS.indexOf(name);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${name}`;
}

function strItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1)
    v = v === 'a' ? 'alpha' : v === 'b' ? 'beta' : v === 'm' ? 'milestone' : v;
  return { kind: 'str', value: v };
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return /^0+$/.test(item.value);
  if (item.kind === 'str') return qualifierKey(item.value) === RELEASE_KEY;
  return item.items.length === 0;
}

/** Drop trailing null items, looking past sub-lists (ComparableVersion.ListItem.normalize). */
function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i]!;
    if (isNull(item)) list.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

function parseItem(isDigit: boolean, text: string, followedByDigit: boolean): Item {
  return isDigit ? { kind: 'int', value: text.replace(/^0+(?=\d)/, '') } : strItem(text, followedByDigit);
}

export function parseMaven(version: string): Item[] {
  const v = version.toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  let isDigit = false;
  let start = 0;
  const open = () => {
    const sub: Item[] = [];
    list.push({ kind: 'list', items: sub });
    list = sub;
    stack.push(sub);
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '.') {
      list.push(i === start ? { kind: 'int', value: '0' } : parseItem(isDigit, v.slice(start, i), false));
      start = i + 1;
    } else if (c === '-') {
      list.push(i === start ? { kind: 'int', value: '0' } : parseItem(isDigit, v.slice(start, i), false));
      start = i + 1;
      open();
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) {
        list.push(strItem(v.slice(start, i), true));
        start = i;
        open();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.push(parseItem(true, v.slice(start, i), false));
        start = i;
        open();
      }
      isDigit = false;
    }
  }
  if (v.length > start) list.push(parseItem(isDigit, v.slice(start), false));
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

/** Compare an item with another, or with "nothing" (padding) when `b` is undefined. */
function compareItem(a: Item | undefined, b: Item | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -compareItem(b, undefined);
  if (a.kind === 'int') {
    if (b === undefined) return isNull(a) ? 0 : 1;
    if (b.kind === 'int') return compareDigits(a.value, b.value);
    return 1; // a number is newer than a qualifier or a sub-list
  }
  if (a.kind === 'str') {
    if (b === undefined) return cmp(qualifierKey(a.value), RELEASE_KEY);
    if (b.kind === 'str') return cmp(qualifierKey(a.value), qualifierKey(b.value));
    return -1; // a qualifier is older than a number or a sub-list
  }
  if (b === undefined) {
    for (const item of a.items) {
      const d = compareItem(item, undefined);
      if (d !== 0) return d;
    }
    return 0;
  }
  if (b.kind === 'int') return -1;
  if (b.kind === 'str') return 1;
  return compareLists(a.items, b.items);
}

function compareLists(a: Item[], b: Item[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = compareItem(a[i], b[i]);
    if (d !== 0) return d;
  }
  return 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareMaven(a: string, b: string): number {
  return Math.sign(compareLists(parseMaven(a), parseMaven(b)));
}

export const mavenScheme: VersionScheme = {
  name: 'maven',
  // Maven orders any string; an empty one or one with whitespace is not a version anyone publishes.
  valid: (v) => v !== '' && !/\s/.test(v),
  compare: compareMaven,
};
