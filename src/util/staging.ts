/**
 * Several files published as one step (a stamp: the rewritten artifact, its SBOM and its record; or
 * an OCI layout's new blobs and index.json). Everything is first written, complete and fsync'd, into
 * a private staging directory (mode 0700, a fresh unpredictable name, temp-names.ts) next to the
 * targets; nothing a reader looks at changes. `commit` then
 *
 * 1. checks every target is absent or a regular file inside real directories (no link on the way);
 * 2. writes a journal (`.NAME.waybill-journal.json`, atomically) listing the renames in order;
 * 3. renames the staged files over their targets in that order — the caller puts the one that
 *    publishes the rest (index.json, the artifact itself) last — and fsyncs the directories;
 * 4. removes the journal and the staging directory.
 *
 * A crash before step 2 leaves the old state and a staging directory nobody refers to, which the
 * next run removes (`recoverStaging`). A crash after step 2 leaves a journal whose staged files are
 * all complete: the next run finishes the renames (rolls forward) before doing anything else. Renames
 * are idempotent here: a staged file that is gone was already renamed.
 */
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import {
  AtomicFile,
  checkDirectories,
  checkWriteTarget,
  syncDirectory,
  writeFailed,
  writeFileAtomic,
} from './atomic-write.ts';
import { crashPoint } from './crash-point.ts';
import { readRegularFileIfPresent } from './regular-file.ts';
import { journalName, parseTempName, removeOrphanedTemps, tempName } from './temp-names.ts';

export interface PlannedRename {
  /** A file name inside the staging directory. */
  from: string;
  /** The target, relative to the staging area's home directory (`app.deb`, `blobs/sha256/<hex>`). */
  to: string;
}

interface Journal {
  waybillJournal: 1;
  /** The staging directory's name, in the home directory. */
  staging: string;
  renames: PlannedRename[];
}

const MAX_JOURNAL_BYTES = 1024 * 1024;

function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** `to` must stay inside `home`: relative, no `.`/`..`/empty segments. */
function isRelativeInside(to: string): boolean {
  return to.split('/').every(isPlainName);
}

/** Every directory between `home` and the target must be a real directory, not a link out of it. */
async function checkParents(home: string, to: string): Promise<void> {
  await checkDirectories(home, dirname(to) === '.' ? '' : dirname(to));
}

export class StagingArea {
  /** The directory holding the targets and the journal. */
  readonly home: string;
  /** Base name for the transient files (`app.deb`; empty inside an OCI layout). */
  readonly base: string;
  /** The staging directory. */
  readonly path: string;
  private readonly renames: PlannedRename[] = [];
  /** Set once the journal is written: from then on the staged files belong to the roll-forward. */
  private journaled = false;

  private constructor(home: string, base: string, path: string) {
    this.home = home;
    this.base = base;
    this.path = path;
  }

  static async create(home: string, base: string): Promise<StagingArea> {
    const path = join(home, tempName(base));
    try {
      // mkdir fails on an existing name: the directory is ours, new, and private.
      await mkdir(path, { mode: 0o700 });
    } catch (e) {
      throw writeFailed(e, path);
    }
    return new StagingArea(home, base, path);
  }

  /** The path of a staged file (a plain name). */
  file(name: string): string {
    if (!isPlainName(name)) throw new Error(`staged file name must be a plain name: ${JSON.stringify(name)}`);
    return join(this.path, name);
  }

  /** Creates a staged file for writing in pieces; `finish()` it when done. */
  async create(name: string, mode?: number): Promise<AtomicFile> {
    return AtomicFile.create(this.file(name), { mode, tempPath: this.file(name) });
  }

  /** Writes a whole staged file (new, exclusive, fsync'd) and returns its path. */
  async write(name: string, data: string | Uint8Array, mode?: number): Promise<string> {
    const file = await this.create(name, mode);
    try {
      await file.write(data);
      await file.finish();
    } catch (e) {
      await file.abort();
      throw e;
    }
    return file.tempPath;
  }

  /**
   * Copies `source` into the staging directory (a reflink where the filesystem can, else a copy;
   * the mode is kept) for a stamper to rewrite there, never touching the original.
   */
  async copyIn(source: string, name: string): Promise<string> {
    const target = this.file(name);
    try {
      await copyFile(source, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      const handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw writeFailed(e, target);
    }
    return target;
  }

  /** Plans the rename of staged `from` onto `to` (relative to home). Renames run in planning order. */
  publish(from: string, to: string): void {
    this.file(from);
    if (!isRelativeInside(to)) throw new Error(`publish target must be a relative path inside: ${to}`);
    this.renames.push({ from, to });
  }

  async commit(): Promise<void> {
    for (const { from, to } of this.renames) {
      await checkParents(this.home, to);
      await checkWriteTarget(join(this.home, to));
      const staged = await lstat(this.file(from)).catch(() => undefined);
      if (!staged?.isFile()) throw new Error(`staged file ${from} is missing`);
    }
    await crashPoint('commit:staged');
    const journal: Journal = { waybillJournal: 1, staging: basename(this.path), renames: this.renames };
    const journalPath = join(this.home, journalName(this.base));
    await writeFileAtomic(journalPath, `${JSON.stringify(journal)}\n`, { mode: 0o600 });
    this.journaled = true;
    await crashPoint('commit:journal');
    try {
      await applyRenames(this.home, this.path, this.renames);
    } catch (e) {
      const error = writeFailed(e, this.home);
      throw new WaybillError(
        error.code,
        error.input,
        `${error.reason}; the next stamp finishes publishing what is staged (${journalName(this.base)})`,
        { cause: e },
      );
    }
    await rm(journalPath, { force: true });
    await this.discard();
  }

  /**
   * Removes the staging directory and everything in it — unless a commit wrote its journal and then
   * failed: those files are the next run's to publish (`recoverStaging`).
   */
  async discard(): Promise<void> {
    if (this.journaled && (await lstat(join(this.home, journalName(this.base))).catch(() => undefined)))
      return;
    await rm(this.path, { recursive: true, force: true });
  }
}

async function applyRenames(home: string, staging: string, renames: PlannedRename[]): Promise<void> {
  const dirs = new Set<string>();
  let n = 0;
  for (const { from, to } of renames) {
    const source = join(staging, from);
    const target = join(home, to);
    const staged = await lstat(source).catch(() => undefined);
    if (staged?.isFile()) {
      await checkParents(home, to);
      await checkWriteTarget(target);
      try {
        await rename(source, target);
      } catch (e) {
        throw writeFailed(e, target);
      }
      dirs.add(dirname(target));
    }
    await crashPoint(`commit:rename-${++n}`);
  }
  for (const dir of [...dirs].sort()) await syncDirectory(dir);
}

function parseJournal(bytes: Buffer, path: string, base: string, allowed: (to: string) => boolean): Journal {
  const bad = (why: string) =>
    new WaybillError(
      'MALFORMED',
      path,
      `journal of an interrupted stamp is not usable (${why}); remove it after checking the artifact`,
    );
  let v: Journal;
  try {
    v = JSON.parse(bytes.toString('utf8')) as Journal;
  } catch {
    throw bad('not JSON');
  }
  if (v === null || typeof v !== 'object' || v.waybillJournal !== 1 || !Array.isArray(v.renames))
    throw bad('wrong shape');
  if (typeof v.staging !== 'string' || !isPlainName(v.staging) || parseTempName(v.staging)?.base !== base)
    throw bad('staging directory is not one of ours');
  for (const r of v.renames) {
    if (typeof r?.from !== 'string' || !isPlainName(r.from)) throw bad('bad staged name');
    if (typeof r.to !== 'string' || !isRelativeInside(r.to) || !allowed(r.to))
      throw bad(`unexpected target ${JSON.stringify(r.to)}`);
  }
  return v;
}

export interface Recovery {
  /** Targets an interrupted commit had not yet renamed, renamed now (the stamp is completed). */
  completed: string[];
  /** Leftover temp files and staging directories removed. */
  removed: string[];
}

/**
 * Cleans up after an interrupted run for `base` in `home`: finishes a commit that had written its
 * journal (only renames to targets `allowed` accepts), then removes orphaned staging directories and
 * temp files (temp-names.ts). Call it holding the lock on the artifact.
 */
export async function recoverStaging(
  home: string,
  base: string,
  allowed: (to: string) => boolean,
): Promise<Recovery> {
  const journalPath = join(home, journalName(base));
  const bytes = await readRegularFileIfPresent(journalPath, { noFollow: true, maxBytes: MAX_JOURNAL_BYTES });
  const completed: string[] = [];
  if (bytes) {
    const journal = parseJournal(bytes, journalPath, base, allowed);
    const staging = join(home, journal.staging);
    const info = await lstat(staging).catch(() => undefined);
    if (info?.isDirectory()) {
      for (const r of journal.renames) {
        if ((await lstat(join(staging, r.from)).catch(() => undefined))?.isFile()) completed.push(r.to);
      }
      await applyRenames(home, staging, journal.renames);
      await rm(staging, { recursive: true, force: true });
    }
    await rm(journalPath, { force: true });
  }
  const removed = await removeOrphanedTemps(home, (b) => b === base);
  return { completed, removed };
}
