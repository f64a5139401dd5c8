/**
 * The names waybill gives its own transient files, and the removal of those an interrupted run left
 * behind. Every temp file, staging directory, lock and journal sits next to what it is for (same
 * directory, so a rename is atomic) under a hidden name that says whose it is:
 *
 *     .NAME.waybill-PID-RANDOM.tmp     a temp file or staging directory (RANDOM: 16 hex digits)
 *     .NAME.waybill.lock               the lock of a stamp on NAME (lock.ts)
 *     .NAME.waybill-journal.json       the rename plan of a stamp being committed (staging.ts)
 *
 * With an empty NAME (the files waybill keeps inside an OCI layout) the leading `NAME.` is dropped:
 * `.waybill-PID-RANDOM.tmp`, `.waybill.lock`. The random part makes a temp name unpredictable, so
 * nobody can plant a link at it in advance (and it is created with O_EXCL anyway); the pid says which
 * process made it, so a leftover can be told from a file in use.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

function prefix(base: string): string {
  return base === '' ? '.' : `.${base}.`;
}

/** A fresh temp name for `base` (see above). */
export function tempName(base: string): string {
  return `${prefix(base)}waybill-${process.pid}-${randomBytes(8).toString('hex')}.tmp`;
}

export function lockName(base: string): string {
  return `${prefix(base)}waybill.lock`;
}

export function journalName(base: string): string {
  return `${prefix(base)}waybill-journal.json`;
}

/**
 * Temp names, current and those of earlier versions (kept so their leftovers are cleaned too):
 * `.NAME.PID.HEX12.tmp` (the first atomic writer) and `NAME.waybill-PID-HEX8.tmp` (the deb stamper).
 */
const TEMP_PATTERNS: readonly RegExp[] = [
  /^\.(?:(.+)\.)?waybill-(\d+)-[0-9a-f]{16}\.tmp$/s,
  /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/s,
  /^(.+)\.waybill-(\d+)-[0-9a-f]{8}\.tmp$/s,
];

/** The base name and pid of a waybill temp name; undefined for any other name. */
export function parseTempName(name: string): { base: string; pid: number } | undefined {
  for (const pattern of TEMP_PATTERNS) {
    const m = pattern.exec(name);
    if (m) return { base: m[1] ?? '', pid: Number(m[2]) };
  }
  return undefined;
}

/** The current names of `tempName`, `lockName` (and its `.break` guard) and `journalName`. */
const TRANSIENT_NAMES: readonly RegExp[] = [
  TEMP_PATTERNS[0] as RegExp,
  /^\.(?:.+\.)?waybill\.lock(?:\.break)?$/s,
  /^\.(?:.+\.)?waybill-journal\.json$/s,
];

/** Whether `name` is one of waybill's transient files (a temp file, staging directory, lock or journal). */
export function isTransientName(name: string): boolean {
  return TRANSIENT_NAMES.some((pattern) => pattern.test(name));
}

/** Whether a process with this pid exists on this machine (EPERM: it exists, it is not ours). */
export function processExists(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A leftover this old is never in use: no stamp runs for a day with a temp file untouched. */
export const ORPHAN_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Removes the temp files and staging directories in `dir` that an interrupted waybill run left for
 * a base name `wanted` accepts. Only what is provably ours goes: a name of the pattern above, owned by
 * the current user, and either made by a process that no longer exists or untouched for a day.
 * Returns the names removed.
 */
export async function removeOrphanedTemps(
  dir: string,
  wanted: (base: string) => boolean,
  now = Date.now(),
): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of names.sort()) {
    const parsed = parseTempName(name);
    // This process's own temp files are in use, however old.
    if (!parsed || parsed.pid === process.pid || !wanted(parsed.base)) continue;
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info || !(info.isFile() || info.isDirectory())) continue;
    if (uid !== undefined && info.uid !== uid) continue;
    const stale = !processExists(parsed.pid) || now - info.mtimeMs > ORPHAN_AGE_MS;
    if (!stale) continue;
    // `rm` unlinks symbolic links inside a staging directory; it never follows them.
    await rm(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
