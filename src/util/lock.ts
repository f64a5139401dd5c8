/**
 * An exclusive lock between waybill processes, as a file created with O_EXCL: whoever creates it
 * holds the lock until it removes it. The file says who holds it (pid, host, boot id, the process's
 * start time and the wall-clock time), so that
 *
 * - a second run is told, in one line, who holds it since when (BUSY, exit 2) instead of losing an
 *   update silently;
 * - a lock left by a process that was killed (kill -9, power loss) is recognised as stale and taken
 *   over: same host, and either a different boot, no such pid, or a pid now belonging to a process
 *   that started at another time (pid reuse). A lock from another host is never broken: waybill
 *   cannot tell whether that process lives, and says so.
 *
 * Taking over a stale lock is itself guarded by a second O_EXCL file (`LOCK.break`), and the lock is
 * removed only if it still holds the stale content read before, so two runs finding the same stale
 * lock do not both win. A `.break` file is only ever held for a few system calls; one older than a
 * minute is a crash inside that window and is removed.
 */
import { constants, readFileSync } from 'node:fs';
import { lstat, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { WaybillError } from '../errors.ts';
import { processExists } from './temp-names.ts';

export interface LockOwner {
  pid: number;
  host: string;
  /** Linux boot id: a lock from before a reboot is stale. */
  boot?: string;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22): detects pid reuse. */
  procStart?: string;
  /** When the lock was taken, RFC 3339. */
  since: string;
}

const BREAK_STALE_MS = 60_000;
const MAX_LOCK_BYTES = 4096;

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function currentOwner(now = new Date()): LockOwner {
  const owner: LockOwner = { pid: process.pid, host: hostname(), since: now.toISOString() };
  const boot = bootId();
  if (boot) owner.boot = boot;
  const start = processStart(process.pid);
  if (start) owner.procStart = start;
  return owner;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string' || typeof v.since !== 'string')
      return undefined;
    return v as LockOwner;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `owner` is certainly gone. Unknown (another host) is not stale. */
export function isStale(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  const boot = bootId();
  if (owner.boot && boot && owner.boot !== boot) return true;
  if (!processExists(owner.pid)) return true;
  const start = owner.procStart ? processStart(owner.pid) : undefined;
  return start !== undefined && start !== owner.procStart;
}

function describeOwner(owner: LockOwner | undefined): string {
  if (!owner) return 'a process that left no readable owner';
  return `pid ${owner.pid} on ${owner.host} since ${owner.since}`;
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const flags = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;
    const handle = await open(path, flags, 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new WaybillError(
      'NOT_FOUND',
      path,
      `cannot create the lock (${(e as NodeJS.ErrnoException).code})`,
      {
        cause: e,
      },
    );
  }
}

async function readLockText(path: string): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isFile() || info.size > MAX_LOCK_BYTES) return ''; // not ours to interpret: never stale
  return readFile(path, 'utf8').catch(() => undefined);
}

export class FileLock {
  readonly path: string;
  private readonly content: string;
  private released = false;

  private constructor(path: string, content: string) {
    this.path = path;
    this.content = content;
  }

  /**
   * Takes the lock at `path`, or throws BUSY naming who holds it. `what` names the thing locked in
   * that message (`dist/app.deb`).
   */
  static async acquire(path: string, what: string): Promise<FileLock> {
    const content = `${JSON.stringify(currentOwner())}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await createExclusive(path, content)) return new FileLock(path, content);
      const text = await readLockText(path);
      if (text === undefined) continue; // released meanwhile: try again
      const owner = parseOwner(text);
      if (!owner || !isStale(owner)) {
        throw new WaybillError(
          'BUSY',
          what,
          `another waybill run holds the lock ${path} (${describeOwner(owner)}); wait for it, or remove the lock if that run is gone`,
        );
      }
      await breakStaleLock(path, text);
    }
    throw new WaybillError('BUSY', what, `could not take the lock ${path}: other runs keep taking it`);
  }

  /** Removes the lock if it is still this one. Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if ((await readLockText(this.path)) === this.content) await rm(this.path, { force: true });
  }
}

/** Removes the lock at `path` if it still holds `staleText`, under the `.break` guard (see above). */
async function breakStaleLock(path: string, staleText: string): Promise<void> {
  const guard = `${path}.break`;
  if (!(await createExclusive(guard, `${JSON.stringify(currentOwner())}\n`))) {
    const info = await lstat(guard).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > BREAK_STALE_MS) await rm(guard, { force: true });
    return;
  }
  try {
    if ((await readLockText(path)) === staleText) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/** Runs `fn` holding the lock at `path` (see `FileLock.acquire`), releasing it however `fn` ends. */
export async function withLock<T>(path: string, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = await FileLock.acquire(path, what);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
