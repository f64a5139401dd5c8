/**
 * One builder at a time for a cached test fixture: several test files (node --test runs files in
 * parallel processes) may ask for the same fixture at once; one builds it while the others wait on a
 * lock file, whose owner's pid lets a crashed build's lock be taken over.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `build` holding the lock file `lock` (created with O_EXCL), waiting up to `maxWaitMs` for it. */
export async function withCacheLock<T>(
  lock: string,
  build: () => Promise<T>,
  maxWaitMs = 30 * 60_000,
): Promise<T> {
  for (let waited = 0; ; waited += 500) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const owner = Number(await readFile(lock, 'utf8').catch(() => '0'));
      if (!owner || !processAlive(owner) || waited > maxWaitMs) await rm(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await build();
  } finally {
    await rm(lock, { force: true });
  }
}
