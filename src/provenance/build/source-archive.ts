/**
 * The source archive: the tree of a commit as one deterministic tar, written from git's raw objects.
 *
 * `git archive` is not used on purpose. It runs the repository's clean/smudge filters and expands
 * `export-subst` (which can run `git log` format placeholders), and its output depends on the git
 * version; the repository's own .git/config and .gitattributes are attacker-controlled when the
 * source is not ours. Here git only lists the tree (`ls-tree`) and hands out object bytes
 * (`cat-file --batch`), which apply no filters, and the tar is written by waybill: paths in byte
 * order, every entry's mtime the commit time, uid/gid 0, modes 0644/0755, symlinks as symlinks. The
 * archive's digest is therefore a function of the tree alone, the same on every machine.
 *
 * Submodules (gitlinks) become empty directories, as `git archive` makes them. `.gitattributes`
 * (`export-ignore`) is not applied: the archive is exactly the tree the commit names.
 */
import { createHash } from 'node:crypto';
import { type TarEntryInput, tarChunks } from '../../archive/tar-writer.ts';
import { WaybillError } from '../../errors.ts';
import { writeStreamAtomic } from '../../util/atomic-write.ts';
import { type GitRunner, gitOk } from '../git-exec.ts';

export interface SourceArchive {
  /** Where the tar was written. */
  path: string;
  /** `sha256:<hex>` of the tar. */
  digest: string;
  size: number;
  commit: string;
  tree: string;
  /** Committer time of the commit, seconds since the epoch: every entry's mtime, and SOURCE_DATE_EPOCH. */
  commitTime: number;
  /** Number of tar entries (files, directories, symlinks). */
  entries: number;
}

interface TreeEntry {
  path: string;
  /** Sort key: the path's bytes. */
  key: Buffer;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  object: string;
  size: number;
}

/**
 * One `cat-file --batch` call reads blobs up to this many bytes in total (a larger blob is read on its
 * own; the hardened runner caps any one git output at 256 MiB, which bounds the largest file).
 */
const BATCH_BYTES = 32 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads `tree` and the committer time from a commit object. */
export async function readCommit(git: GitRunner, commit: string): Promise<{ tree: string; time: number }> {
  const text = (await gitOk(git, ['cat-file', 'commit', commit])).toString('latin1');
  const header = text.slice(0, text.indexOf('\n\n') === -1 ? text.length : text.indexOf('\n\n'));
  const tree = /^tree ([0-9a-f]{40}|[0-9a-f]{64})$/m.exec(header)?.[1];
  const time = /^committer .* (\d{1,12}) [+-]\d{4}$/m.exec(header)?.[1];
  if (!tree || time === undefined) {
    throw new WaybillError('MALFORMED', commit, 'commit object has no tree or committer time');
  }
  return { tree, time: Number(time) };
}

/** Every path of the commit's tree, directories included, sorted by their bytes. */
async function listTree(git: GitRunner, commit: string): Promise<TreeEntry[]> {
  const out = await gitOk(git, ['ls-tree', '-r', '-t', '-l', '-z', '--full-tree', commit]);
  const entries: TreeEntry[] = [];
  let start = 0;
  while (start < out.length) {
    const end = out.indexOf(0, start);
    const record = out.subarray(start, end === -1 ? out.length : end);
    start = end === -1 ? out.length : end + 1;
    if (record.length === 0) continue;
    const tab = record.indexOf(0x09);
    const meta = /^(\d{6}) (blob|tree|commit) ([0-9a-f]{40,64}) +(-|\d+)$/.exec(
      record.subarray(0, tab).toString('latin1'),
    );
    if (tab === -1 || !meta) throw new WaybillError('MALFORMED', git.dir, 'unexpected git ls-tree output');
    const key = Buffer.from(record.subarray(tab + 1));
    const path = decodePath(key, commit);
    const [, mode = '', type = '', object = '', size = '-'] = meta;
    if (type === 'tree' || type === 'commit') {
      entries.push({ path, key, type: 'dir', mode: 0o755, object, size: 0 });
    } else if (mode === '120000') {
      entries.push({ path, key, type: 'symlink', mode: 0o777, object, size: Number(size) });
    } else {
      // Git records only "executable or not" (100755 / 100644; 100664 from very old repositories).
      entries.push({
        path,
        key,
        type: 'file',
        mode: mode === '100755' ? 0o755 : 0o644,
        object,
        size: Number(size),
      });
    }
  }
  return entries.sort((a, b) => Buffer.compare(a.key, b.key));
}

function decodePath(bytes: Buffer, commit: string): string {
  let path: string;
  try {
    path = utf8.decode(bytes);
  } catch {
    throw new WaybillError(
      'UNSUPPORTED',
      commit,
      `tree has a path that is not UTF-8: ${JSON.stringify(bytes.toString('latin1'))}`,
    );
  }
  // Git refuses to check these out (verify_path); a tree that has them was made to attack a checkout.
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git')) {
    throw new WaybillError('UNSAFE_PATH', commit, `tree has an unsafe path: ${JSON.stringify(path)}`);
  }
  return path;
}

/** Object contents for `ids` (in order) from one `cat-file --batch` call. */
async function readObjects(git: GitRunner, ids: readonly string[]): Promise<Buffer[]> {
  const out = await gitOk(git, ['cat-file', '--batch'], {
    stdin: Buffer.from(`${ids.join('\n')}\n`, 'latin1'),
  });
  const bodies: Buffer[] = [];
  let at = 0;
  for (const id of ids) {
    const eol = out.indexOf(0x0a, at);
    const header = eol === -1 ? '' : out.subarray(at, eol).toString('latin1');
    const match = /^([0-9a-f]+) blob (\d+)$/.exec(header);
    if (!match || match[1] !== id) {
      throw new WaybillError(
        'MALFORMED',
        git.dir,
        `git cat-file gave ${JSON.stringify(header)} for blob ${id}`,
      );
    }
    const size = Number(match[2]);
    const body = out.subarray(eol + 1, eol + 1 + size);
    if (body.length !== size || out[eol + 1 + size] !== 0x0a) {
      throw new WaybillError('MALFORMED', git.dir, `git cat-file output for blob ${id} is truncated`);
    }
    bodies.push(body);
    at = eol + 2 + size;
  }
  return bodies;
}

/** The tar entries in order, reading blob contents lazily in batches of about BATCH_BYTES. */
async function* tarEntries(git: GitRunner, entries: readonly TreeEntry[]): AsyncGenerator<TarEntryInput> {
  let i = 0;
  while (i < entries.length) {
    // The next batch: consecutive entries whose blobs add up to at most BATCH_BYTES (at least one).
    let j = i;
    let bytes = 0;
    const ids: string[] = [];
    while (j < entries.length) {
      const e = entries[j] as TreeEntry;
      if (e.type !== 'dir') {
        if (ids.length > 0 && bytes + e.size > BATCH_BYTES) break;
        ids.push(e.object);
        bytes += e.size;
      }
      j++;
    }
    const bodies = ids.length > 0 ? await readObjects(git, ids) : [];
    let k = 0;
    for (const e of entries.slice(i, j)) {
      if (e.type === 'dir') {
        yield { path: e.path, type: 'dir', mode: e.mode };
        continue;
      }
      const body = bodies[k++] as Buffer;
      if (e.type === 'symlink') {
        yield { path: e.path, type: 'symlink', linkTarget: decodeLinkTarget(body, e.path) };
      } else {
        yield { path: e.path, type: 'file', mode: e.mode, data: body };
      }
    }
    i = j;
  }
}

function decodeLinkTarget(body: Buffer, path: string): string {
  try {
    const target = utf8.decode(body);
    if (target === '' || target.includes('\0')) throw new Error('empty');
    return target;
  } catch {
    throw new WaybillError('UNSUPPORTED', path, 'symlink target is empty or not UTF-8');
  }
}

/**
 * Writes the tree of `commit` as a deterministic tar at `target` (atomically) and returns its digest.
 * `git` must be a hardened runner on the repository.
 */
export async function exportSourceArchive(
  git: GitRunner,
  commit: string,
  target: string,
): Promise<SourceArchive> {
  const { tree, time } = await readCommit(git, commit);
  const entries = await listTree(git, commit);
  const hash = createHash('sha256');
  let size = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of tarChunks(tarEntries(git, entries), { mtime: time })) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  await writeStreamAtomic(target, hashed());
  return {
    path: target,
    digest: `sha256:${hash.digest('hex')}`,
    size,
    commit,
    tree,
    commitTime: time,
    entries: entries.length,
  };
}
