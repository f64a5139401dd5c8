/**
 * Is the checkout exactly the tagged commit? Decided without `git status`, because status trusts the
 * index: it skips files whose cached stat data matches (a forged index, `core.checkStat=minimal`
 * with a restored mtime, `assume-unchanged`, `skip-worktree` all hide a modified file), and it runs
 * the repository's clean filters on files whose stat data is stale.
 *
 * Instead, every entry of the commit's tree (`git ls-tree -r`) is compared with the worktree by
 * content: each file is hashed here the way git names a blob — SHA-1 or SHA-256 over
 * `blob <size>\0<bytes>` — with no filter and no end-of-line conversion; a symlink is hashed by its
 * target; the executable bit must match the tree's mode (100755 / 100644); a submodule must be
 * checked out at the commit the tree records and be clean itself (or not be checked out at all).
 * The index is never read. Files that are not in the tree count unless git's ignore rules (the
 * tree's .gitignore files, .git/info/exclude, core.excludesFile) ignore them, asked of
 * `git check-ignore --no-index`, so the index cannot make an untracked file look tracked.
 *
 * One conversion is recognised without running anything: a Git LFS pointer blob matches a worktree
 * file whose SHA-256 and size are the ones the pointer names (what the LFS smudge filter writes).
 */

import { createHash } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';
import { type GitRunner, gitOk } from './git-exec.ts';

export interface WorktreeOptions {
  /** A runner for another checkout (a submodule), with the same hardening and trust. */
  openRunner: (dir: string) => GitRunner;
  /** How deep submodules are followed; deeper ones count as changed. */
  maxSubmoduleDepth?: number;
  /**
   * Paths (byte strings relative to the worktree top) that are the caller's own outputs — the
   * artifact a stamp writes inside the checkout, its sidecars and lock — and never count as changes;
   * a directory it claims is not entered. Not applied inside submodules.
   */
  isOwnOutput?: (path: string) => boolean;
}

interface TreeEntry {
  mode: string;
  type: string;
  id: string;
  /** Path relative to the top of the worktree, as a byte string (latin1). */
  path: string;
}

/** Stop looking once this many changes are known: the caller only summarises them. */
const MAX_CHANGES = 1000;
const HASH_CONCURRENCY = 8;
const READ_CHUNK = 1024 * 1024;
/** LFS pointer files are at most 1024 bytes (git-lfs spec). */
const MAX_LFS_POINTER = 1024;
const LFS_POINTER =
  /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n/;

/**
 * `git` must run at the top of the worktree (`rev-parse --show-toplevel`).
 *
 * Paths (byte strings, relative to the worktree top, `/`-separated) that differ from `commit`, with
 * a short note for anything but a content change: `(mode)`, `(type)`, `(deleted)`, `(untracked)`,
 * `(submodule …)`. Empty when the worktree is exactly the commit.
 */
export async function worktreeChanges(
  git: GitRunner,
  commit: string,
  options: WorktreeOptions,
  depth = 0,
): Promise<string[]> {
  const top = git.dir;
  const algorithm = commit.length === 64 ? 'sha256' : 'sha1';
  const entries = parseTree(await gitOk(git, ['ls-tree', '-r', '-z', '--full-tree', commit]), git.dir);
  const changes: string[] = [];
  const own = options.isOwnOutput ?? (() => false);
  const note = (path: string, why?: string): void => {
    if (!own(path)) changes.push(why ? `${path} (${why})` : path);
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length && changes.length < MAX_CHANGES) {
      const entry = entries[next++]!;
      const why = await compareEntry(git, top, entry, algorithm, options, depth);
      if (why !== null) note(entry.path, why || undefined);
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  // lstat follows links in every component but the last: a tracked directory swapped for a link to
  // pristine copies elsewhere would hash clean, so each tracked directory must be a directory.
  const dirs = trackedDirectories(entries);
  for (const dir of dirs) {
    const st = await lstat(fsPath(top, dir)).catch(() => null);
    if (st !== null && !st.isDirectory()) note(dir, 'type');
  }
  if (changes.length < MAX_CHANGES) {
    for (const path of await untrackedPaths(git, top, entries, dirs, MAX_CHANGES - changes.length, own)) {
      note(path, 'untracked');
    }
  }
  return changes.sort();
}

/** Every directory that holds a tracked path (`a`, `a/b` for `a/b/c`). */
function trackedDirectories(entries: readonly TreeEntry[]): Set<string> {
  const dirs = new Set<string>();
  for (const { path } of entries) {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      dirs.add(path.slice(0, slash));
    }
  }
  return dirs;
}

function parseTree(listing: Buffer, input: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of listing.toString('latin1').split('\0')) {
    if (record === '') continue;
    const match = /^(\d{6}) (\w+) ([0-9a-f]{40}|[0-9a-f]{64})\t(.+)$/s.exec(record);
    if (!match) throw new WaybillError('SOURCE', input, `git ls-tree printed an unexpected line`);
    entries.push({ mode: match[1]!, type: match[2]!, id: match[3]!, path: match[4]! });
  }
  return entries;
}

/** `top` is text, `relative` a byte string from git: join them as bytes. */
function fsPath(top: string, relative: string): Buffer {
  const base = Buffer.from(top, 'utf8');
  return relative === '' ? base : Buffer.concat([base, Buffer.from(`/${relative}`, 'latin1')]);
}

/** null: unchanged; '': content changed; otherwise the kind of change. */
async function compareEntry(
  git: GitRunner,
  top: string,
  entry: TreeEntry,
  algorithm: string,
  options: WorktreeOptions,
  depth: number,
): Promise<string | null> {
  const file = fsPath(top, entry.path);
  const st = await lstat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
    throw e;
  });
  if (st === null) return 'deleted';
  switch (entry.mode) {
    case '160000':
      return compareSubmodule(file, entry, st.isDirectory(), options, depth);
    case '120000': {
      if (!st.isSymbolicLink()) return 'type';
      const target = await readlink(file, { encoding: 'buffer' });
      return blobId(algorithm, [target]) === entry.id ? null : '';
    }
    case '100644':
    case '100755': {
      if (!st.isFile()) return 'type';
      const executable = (st.mode & 0o100) !== 0;
      const content = await hashFile(file, algorithm);
      if (content === null) return '';
      if (content.id !== entry.id && !(await isLfsCheckout(git, entry, content))) return '';
      return executable !== (entry.mode === '100755') ? 'mode' : null;
    }
    default:
      return `mode ${entry.mode}`;
  }
}

function blobId(algorithm: string, parts: readonly Buffer[]): string {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const hash = createHash(algorithm).update(`blob ${size}\0`);
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}

interface FileHash {
  id: string;
  sha256: string;
  size: number;
}

/**
 * The git blob id (and plain SHA-256, for LFS) of a regular file, read once. Opened without
 * following links and without blocking, so a path swapped for a FIFO or a link after lstat is
 * refused rather than followed; null when it changed under us.
 */
async function hashFile(file: Buffer, algorithm: string): Promise<FileHash | null> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    () => null,
  );
  if (handle === null) return null;
  try {
    const st = await handle.stat();
    if (!st.isFile()) return null;
    const git = createHash(algorithm).update(`blob ${st.size}\0`);
    const plain = createHash('sha256');
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(st.size, 1)));
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > st.size) return null;
      const chunk = buffer.subarray(0, bytesRead);
      git.update(chunk);
      plain.update(chunk);
    }
    if (total !== st.size) return null;
    return { id: git.digest('hex'), sha256: plain.digest('hex'), size: total };
  } finally {
    await handle.close();
  }
}

/** The tree holds an LFS pointer and the worktree holds exactly the object it points to. */
async function isLfsCheckout(git: GitRunner, entry: TreeEntry, content: FileHash): Promise<boolean> {
  const size = await git.run(['cat-file', '-s', entry.id]);
  if (size.code !== 0 || Number(size.stdout.toString('latin1').trim()) > MAX_LFS_POINTER) return false;
  const pointer = LFS_POINTER.exec((await gitOk(git, ['cat-file', 'blob', entry.id])).toString('latin1'));
  return pointer !== null && pointer[1] === content.sha256 && Number(pointer[2]) === content.size;
}

async function compareSubmodule(
  dir: Buffer,
  entry: TreeEntry,
  isDirectory: boolean,
  options: WorktreeOptions,
  depth: number,
): Promise<string | null> {
  if (!isDirectory) return 'type';
  const names = await readdir(dir);
  // An empty directory is a submodule that was never initialised: nothing of it went into a build.
  if (names.length === 0) return null;
  if (!names.includes('.git')) return 'submodule directory is not a checkout';
  if (depth + 1 > (options.maxSubmoduleDepth ?? 8)) return 'submodules nested too deep';
  const sub = options.openRunner(dir.toString('utf8'));
  const { isOwnOutput: _paths, ...inSubmodule } = options;
  const head = await sub.run(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  const at = head.code === 0 ? head.stdout.toString('latin1').trim() : null;
  if (at !== entry.id) {
    return `submodule at ${at ? at.slice(0, 12) : 'no commit'}, tree records ${entry.id.slice(0, 12)}`;
  }
  const inner = await worktreeChanges(sub, entry.id, inSubmodule, depth + 1);
  return inner.length === 0 ? null : `submodule changed: ${inner.slice(0, 3).join(', ')}`;
}

/**
 * Files and directories not in the tree and not ignored, walked breadth first. Ignored directories
 * are not entered (a huge node_modules costs one check), a directory holding `.git` is a nested
 * repository and counts as one path, like git status shows it.
 */
async function untrackedPaths(
  git: GitRunner,
  top: string,
  entries: readonly TreeEntry[],
  trackedDirs: ReadonlySet<string>,
  limit: number,
  own: (path: string) => boolean,
): Promise<string[]> {
  const tracked = new Set(entries.map((e) => e.path));
  const found: string[] = [];
  let level: string[] = [''];
  while (level.length > 0 && found.length < limit) {
    const candidates: Array<{ path: string; entry: Dirent<Buffer> }> = [];
    const nextLevel: string[] = [];
    for (const dir of level) {
      const listing = await readdir(fsPath(top, dir), { withFileTypes: true, encoding: 'buffer' }).catch(
        () => [] as Dirent<Buffer>[],
      );
      for (const entry of listing) {
        const name = entry.name.toString('latin1');
        if (name === '.git') continue;
        const path = dir === '' ? name : `${dir}/${name}`;
        if (tracked.has(path) || own(path)) continue;
        if (trackedDirs.has(path) && entry.isDirectory()) nextLevel.push(path);
        else candidates.push({ path, entry });
      }
    }
    const ignored = await ignoredPaths(
      git,
      candidates.map((c) => c.path),
    );
    for (const { path, entry } of candidates) {
      if (ignored.has(path)) continue;
      if (entry.isDirectory()) {
        const inner = await readdir(fsPath(top, path)).catch(() => [] as string[]);
        if (inner.includes('.git')) found.push(`${path}/`);
        else nextLevel.push(path);
      } else {
        found.push(path);
      }
    }
    level = nextLevel;
  }
  return found.slice(0, limit);
}

/**
 * Which of `paths` git's ignore rules ignore, judged without the index (`--no-index`). check-ignore
 * reads its input as pathspecs and rejects `:(literal)`, so a name starting with `:` (`:(top)build`
 * would be read as `build`) is never asked about: it counts as not ignored.
 */
async function ignoredPaths(git: GitRunner, candidates: readonly string[]): Promise<Set<string>> {
  const paths = candidates.filter((p) => !p.startsWith(':'));
  if (paths.length === 0) return new Set();
  const input = Buffer.from(`${paths.join('\0')}\0`, 'latin1');
  const result = await git.run(['check-ignore', '--no-index', '--stdin', '-z'], { stdin: input });
  // Exit 1: none of them is ignored.
  if (result.code !== 0 && result.code !== 1) {
    throw new WaybillError(
      'SOURCE',
      git.dir,
      `git check-ignore failed: ${result.stderr.trim().split('\n')[0]}`,
    );
  }
  return new Set(
    result.stdout
      .toString('latin1')
      .split('\0')
      .filter((p) => p !== ''),
  );
}
