/**
 * Detects a recipe writing outside its build directory, without a sandbox: the entries directly
 * inside a few watched directories are stat'ed before and after the recipe, and every entry that
 * appeared, disappeared or changed (inode, size, mtime, ctime, at nanosecond precision) is reported.
 * Creating or deleting anything one level further down also changes the entry's mtime, so a write
 * into `$HOME/.cache/x` shows as `$HOME/.cache`.
 *
 * What it can and cannot see is documented in docs/build.md ("Security model"): it watches the
 * places a build plausibly leaks into (the build root around the tree, the output directory, the
 * checkout; and, for new entries only, the shared temp directory and the real home directory); it
 * cannot see a write deeper inside an existing directory that leaves the watched entry's own times
 * alone (overwriting an existing file two levels down), and in a shared directory it cannot tell the
 * recipe's new entries from another process's. Where a private mount namespace is available the
 * shared places are isolated instead (isolation.ts) and only the non-shared places are snapshotted.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface WatchedPlace {
  /** Directory whose direct entries are watched. */
  dir: string;
  /** Entry names inside `dir` the recipe may change (its own build tree). */
  allowed?: readonly string[];
  /**
   * A directory other processes write to at the same time (the system temp directory, a shared home):
   * only entries that appear are reported, because changes to existing ones cannot be told apart
   * from the neighbours' own activity.
   */
  shared?: boolean;
}

type Stamp = string;

/** More entries than this in one place are not snapshotted past the limit (a huge /tmp). */
const MAX_ENTRIES_PER_PLACE = 100_000;

async function stampOf(path: string): Promise<Stamp | undefined> {
  try {
    const s = await lstat(path, { bigint: true });
    return `${s.ino}:${s.mode}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** Entries of shared places carry no stamp: only their presence is compared. */
const PRESENT = 'present';

async function snapshotPlace(place: WatchedPlace, into: Map<string, Stamp>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(place.dir);
  } catch {
    return; // a place that does not exist (yet) is compared as empty
  }
  const allowed = new Set(place.allowed ?? []);
  for (const name of names.sort().slice(0, MAX_ENTRIES_PER_PLACE)) {
    if (allowed.has(name)) continue;
    const path = join(place.dir, name);
    const stamp = await stampOf(path);
    if (stamp !== undefined) into.set(path, place.shared ? PRESENT : stamp);
  }
}

export interface OutsideWriteWatch {
  /** Paths created, changed or removed since the watch started, sorted. */
  changes(): Promise<string[]>;
}

/** Takes the "before" snapshot now; `changes()` takes the "after" one and compares. */
export async function watchOutsideWrites(places: readonly WatchedPlace[]): Promise<OutsideWriteWatch> {
  const snapshot = async () => {
    const map = new Map<string, Stamp>();
    for (const place of places) await snapshotPlace(place, map);
    return map;
  };
  const before = await snapshot();
  return {
    async changes() {
      const after = await snapshot();
      const changed = new Set<string>();
      for (const [path, stamp] of after) if (before.get(path) !== stamp) changed.add(path);
      for (const [path, stamp] of before) if (!after.has(path) && stamp !== PRESENT) changed.add(path);
      return [...changed].sort();
    },
  };
}
