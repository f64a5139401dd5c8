/**
 * The temp files interrupted downloads left in the user cache (`$XDG_CACHE_HOME/waybill`): a download
 * killed midway (SIGKILL, a crash, a power cut) cannot clean up after itself, and its temp file can
 * be as large as the blob. The next download into the same cache removes them — only those
 * util/temp-names.ts proves are waybill's own and whose writer is gone (its pid no longer exists, or
 * the file was untouched for a day), so a download running in another process is never disturbed and
 * nothing else in the directory is ever touched.
 *
 * Where downloads are written: `blobs/sha256/` (registry blobs), `files/sha256/<hex>/` (files
 * published as OCI artifacts, under their own names) and `releases/sha256/<hex>/` (release files).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeOrphanedTemps } from '../util/temp-names.ts';

const swept = new Map<string, Promise<string[]>>();

/**
 * Removes the leftovers of interrupted downloads under the cache `root`, once per process and root.
 * Returns the paths removed (relative to `root`).
 */
export function removeInterruptedDownloads(root: string): Promise<string[]> {
  let job = swept.get(root);
  if (!job) {
    job = sweep(root);
    swept.set(root, job);
  }
  return job;
}

async function sweep(root: string): Promise<string[]> {
  const removed: string[] = [];
  const clean = async (dir: string) => {
    for (const name of await removeOrphanedTemps(join(root, dir), () => true)) removed.push(join(dir, name));
  };
  await clean(join('blobs', 'sha256'));
  for (const parent of [join('files', 'sha256'), join('releases', 'sha256')]) {
    const entries = await readdir(join(root, parent), { withFileTypes: true }).catch(() => []);
    // Dirent types come from lstat: a link planted here is not followed.
    for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1)))
      await clean(join(parent, entry.name));
  }
  return removed;
}
