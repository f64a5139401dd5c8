/**
 * The comparison all archive kinds share: two lists of entries (tar, zip, ar members), each entry
 * reduced to the facts a reproducible-builds reader cares about, compared in the expected archive's
 * order. Reports entries present on one side only, a different order of the common entries, and,
 * per entry, type, content, link target, mode, owner and mtime. A caller can look inside an entry
 * whose content differs (a deb's data.tar.xz) through `inner`.
 */
import { type Difference, type DifferenceList, nested } from './types.ts';

export interface EntryFacts {
  path: string;
  type: string;
  /** Permission bits, octal (`0755`); empty when the format has none. */
  mode: string;
  /** `uid/gid` and names where the format has them; empty when it has none. */
  owner: string;
  /** As the format stores it, shown readably. */
  mtime: string;
  size: number;
  /** SHA-256 (hex) of the content. */
  sha256: string;
  link?: string;
  /** Container fields of this entry beyond the above (zip compression method and compressed bytes). */
  header?: string;
}

export type InnerCompare = (expected: EntryFacts, actual: EntryFacts, path: string) => Promise<void>;

function contentOf(e: EntryFacts): string {
  return `${e.size} bytes, sha256:${e.sha256}`;
}

/** The first place where the common entries appear in another order, if they do. */
function orderDifference(
  expected: readonly EntryFacts[],
  actual: readonly EntryFacts[],
  prefix: string,
): Difference | undefined {
  const inBoth = new Set(actual.map((e) => e.path));
  const a = expected.filter((e) => inBoth.has(e.path)).map((e) => e.path);
  const inExpected = new Set(expected.map((e) => e.path));
  const b = actual.filter((e) => inExpected.has(e.path)).map((e) => e.path);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return {
        path: nested(prefix, a[i] as string),
        aspect: 'order',
        expected: `entry ${i + 1} of the common entries`,
        actual: `entry ${b.indexOf(a[i] as string) + 1} (${JSON.stringify(b[i])} comes first)`,
      };
    }
  }
  return undefined;
}

/** Keys an entry list by path; a path repeated in one archive gets `#2`, `#3`… for its later copies. */
function keyed(entries: readonly EntryFacts[]): EntryFacts[] {
  const seen = new Map<string, number>();
  return entries.map((e) => {
    const n = (seen.get(e.path) ?? 0) + 1;
    seen.set(e.path, n);
    return n === 1 ? e : { ...e, path: `${e.path}#${n}` };
  });
}

export async function compareEntries(
  expectedList: readonly EntryFacts[],
  actualList: readonly EntryFacts[],
  prefix: string,
  out: DifferenceList,
  inner?: InnerCompare,
): Promise<void> {
  const expected = keyed(expectedList);
  const actual = keyed(actualList);
  const actualByPath = new Map(actual.map((e) => [e.path, e]));
  const expectedPaths = new Set(expected.map((e) => e.path));
  // Walk in the published archive's order so the first differences reported are the first a reader meets.
  for (const e of expected) {
    if (out.full) return;
    const path = nested(prefix, e.path);
    const a = actualByPath.get(e.path);
    if (!a) {
      out.add({ path, aspect: 'presence', expected: 'present', actual: 'absent' });
      continue;
    }
    if (e.type !== a.type) {
      out.add({ path, aspect: 'type', expected: e.type, actual: a.type });
      continue;
    }
    if (e.sha256 !== a.sha256 || e.size !== a.size) {
      out.add({ path, aspect: 'content', expected: contentOf(e), actual: contentOf(a) });
      if (inner) await inner(e, a, path);
    }
    out.field(path, 'link', e.link ?? '', a.link ?? '');
    out.field(path, 'mode', e.mode, a.mode);
    out.field(path, 'owner', e.owner, a.owner);
    out.field(path, 'mtime', e.mtime, a.mtime);
    out.field(path, 'header', e.header ?? '', a.header ?? '');
  }
  for (const a of actual) {
    if (out.full) return;
    if (!expectedPaths.has(a.path))
      out.add({ path: nested(prefix, a.path), aspect: 'presence', expected: 'absent', actual: 'present' });
  }
  const order = orderDifference(expected, actual, prefix);
  if (order) out.add(order);
}
