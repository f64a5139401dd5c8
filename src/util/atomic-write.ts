/**
 * The one writer: every file waybill writes goes through here. The bytes go to a fresh temp file in
 * the target's directory (same filesystem, so the rename is atomic), created with O_EXCL|O_NOFOLLOW
 * under an unpredictable name (temp-names.ts); they are fsync'd, the temp file is renamed over the
 * target and the directory is fsync'd. Neither a reader nor a crash ever sees a half-written file:
 * there is the old file or the new one.
 *
 * Nothing is ever written THROUGH something at the target path: a symbolic link, FIFO, device,
 * socket or directory there is refused (UNSAFE_PATH, one line) before anything is created, and
 * checked again just before the rename. A rename replaces the link itself, never what it points at,
 * so a link planted between the check and the rename cannot redirect the bytes either. Only a path
 * the user named (`sbom -o /dev/stdout`) may be written through, with `explicit: true`, as the
 * shell's `>` would.
 */
import { constants } from 'node:fs';
import { type FileHandle, link, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { describeFileType } from './regular-file.ts';
import { tempName } from './temp-names.ts';

/** A fresh, unpredictable hidden name next to `path` (see temp-names.ts). */
export function tempPathFor(path: string): string {
  return join(dirname(path), tempName(basename(path)));
}

/** What the usual errno codes of a failed write mean, in the words a user needs to fix it. */
const WRITE_ERRORS: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a directory',
};

/** The one-line error for a write that failed: `PATH: cannot write: no space left on the device (ENOSPC)`. */
export function writeFailed(e: unknown, path: string): WaybillError {
  if (e instanceof WaybillError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why = WRITE_ERRORS[code ?? ''];
  const reason = why ? `cannot write: ${why} (${code})` : `cannot write${code ? ` (${code})` : ''}`;
  return new WaybillError('NOT_FOUND', path, reason, { cause: e });
}

/**
 * Refuses a target that is anything but absent or a regular file: waybill replaces regular files, it
 * never writes through links or into devices, FIFOs or directories.
 */
export async function checkWriteTarget(path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw writeFailed(e, path);
  }
  if (info.isFile()) return;
  throw new WaybillError(
    info.isDirectory() ? 'USAGE' : 'UNSAFE_PATH',
    path,
    `is ${describeFileType(info)}; waybill only replaces regular files and never writes through links or into devices`,
  );
}

/**
 * Checks that every directory on the relative path `rel` below `home` is a real directory (not a
 * link leading out of `home`), creating missing ones with `create`. `home` itself is the caller's
 * (a path the user gave, which may be a link).
 */
export async function checkDirectories(
  home: string,
  rel: string,
  options: { create?: boolean } = {},
): Promise<void> {
  const parts = rel.split('/').filter((p) => p !== '');
  for (let i = 1; i <= parts.length; i++) {
    const dir = join(home, ...parts.slice(0, i));
    if (options.create) {
      await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw writeFailed(e, dir);
      });
    }
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new WaybillError(
        'UNSAFE_PATH',
        dir,
        info
          ? `is ${describeFileType(info)}, not a directory; waybill does not write through it`
          : 'is missing',
      );
    }
  }
}

/** fsync a directory, so a rename in it survives a crash. Filesystems that cannot are skipped. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EBADF' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES')
      throw writeFailed(e, dir);
  } finally {
    await handle?.close();
  }
}

/** Bytes read ahead while the previous batch is written (AtomicFile.writeAll). */
const WRITE_BATCH = 1024 * 1024;

/** The chunks after the first `written` bytes (a short writev). */
function remainder(chunks: Uint8Array[], written: number): Uint8Array[] {
  let skip = written;
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    out.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return out;
}

export interface AtomicFileOptions {
  /** Mode of the new file, before the umask. Default 0644. An existing file's mode is not kept. */
  mode?: number;
  /** Where the bytes go until `commit` (default: a fresh temp name next to the target). */
  tempPath?: string;
}

/**
 * A file being written atomically: `create`, `write` (or `writeAll` a stream), then `commit` (fsync,
 * rename over the target, fsync the directory) or `abort` (the temp file is removed). For writers
 * that produce large files in pieces (a rewritten archive or package).
 */
export class AtomicFile {
  readonly target: string;
  readonly tempPath: string;
  private handle: FileHandle | undefined;

  private constructor(target: string, tempPath: string, handle: FileHandle) {
    this.target = target;
    this.tempPath = tempPath;
    this.handle = handle;
  }

  static async create(target: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    await checkWriteTarget(target);
    const temp = options.tempPath ?? tempPathFor(target);
    try {
      // O_EXCL: never a file (or link) someone else put at the temp name; O_NOFOLLOW for good measure.
      const flags = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;
      return new AtomicFile(target, temp, await open(temp, flags, options.mode ?? 0o644));
    } catch (e) {
      throw writeFailed(e, target);
    }
  }

  private open(): FileHandle {
    if (!this.handle) throw new Error(`${this.target}: the atomic file is already committed or aborted`);
    return this.handle;
  }

  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const handle = this.open();
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
    } catch (e) {
      throw writeFailed(e, this.target);
    }
  }

  /**
   * Writes every chunk of `source` in order. Reading and writing overlap: while one batch of chunks
   * is being written (one `writev`), the next is read, up to WRITE_BATCH bytes. Written one chunk at
   * a time, a download would stop reading the network during every write (16-64 KiB each).
   */
  async writeAll(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    let inFlight: Promise<void> = Promise.resolve();
    for await (const chunk of source) {
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes < WRITE_BATCH) continue;
      await inFlight;
      inFlight = this.writeChunks(batch);
      // Seen by the next `await inFlight`; until then it must not count as unhandled.
      inFlight.catch(() => {});
      batch = [];
      batchBytes = 0;
    }
    await inFlight;
    if (batch.length > 0) await this.writeChunks(batch);
  }

  /** One `writev` of `chunks` (again for what a short write left). */
  private async writeChunks(chunks: Uint8Array[]): Promise<void> {
    const handle = this.open();
    try {
      let left = chunks;
      while (left.length > 0) {
        const { bytesWritten } = await handle.writev(left);
        left = remainder(left, bytesWritten);
      }
    } catch (e) {
      throw writeFailed(e, this.target);
    }
  }

  /** fsync and close, without renaming: the temp file is complete and durable (staging.ts). */
  async finish(): Promise<void> {
    const handle = this.open();
    this.handle = undefined;
    try {
      // Durable before anything publishes it; otherwise a crash can leave an empty file in place.
      await handle.sync();
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw writeFailed(e, this.target);
    }
    await handle.close();
  }

  /**
   * Publishes the file. With `noClobber` an existing target is never replaced: the temp file is
   * hard-linked into place, which fails atomically (USAGE, "already exists") when the name is taken.
   */
  async commit(options: { noClobber?: boolean } = {}): Promise<void> {
    try {
      await this.finish();
      await checkWriteTarget(this.target);
      if (options.noClobber) await link(this.tempPath, this.target);
      else await rename(this.tempPath, this.target);
    } catch (e) {
      await this.abort();
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new WaybillError('USAGE', this.target, 'already exists', { cause: e });
      throw writeFailed(e, this.target);
    }
    if (options.noClobber) await rm(this.tempPath, { force: true });
    await syncDirectory(dirname(this.target));
  }

  async abort(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }
}

export interface WriteOptions {
  /** Mode of the new file, before the umask. Default 0644. */
  mode?: number;
  /**
   * The path was named by the user (`sbom -o PATH`): a device, FIFO or link there is written
   * through, as the shell's `>` would. Never set for a path waybill chose (sidecars, blobs…).
   */
  explicit?: boolean;
  /** Never replace an existing file: USAGE "already exists" instead (see `AtomicFile.commit`). */
  noClobber?: boolean;
}

/** Writes `data` to `path` atomically and without following links (see above). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array>,
  options: WriteOptions = {},
): Promise<void> {
  if (options.explicit && (await isSpecial(path))) {
    await writeThrough(
      path,
      typeof data === 'string' || data instanceof Uint8Array ? data : await collect(data),
    );
    return;
  }
  const file = await AtomicFile.create(path, { mode: options.mode });
  try {
    // A stream (a download) that fails midway — a digest verifier finding a mismatch, a broken
    // connection — aborts the temp file: nothing lands at `path`.
    if (typeof data === 'string' || data instanceof Uint8Array) await file.write(data);
    else await file.writeAll(data);
  } catch (e) {
    await file.abort();
    throw e;
  }
  await file.commit({ noClobber: options.noClobber });
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function isSpecial(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  return info !== undefined && !info.isFile() && !info.isDirectory();
}

/** An explicit output that is a device, FIFO or link: opened as `>` opens it (a rename would replace it). */
async function writeThrough(path: string, data: string | Uint8Array): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOCTTY);
    await handle.writeFile(data);
  } catch (e) {
    throw writeFailed(e, path);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * A file that must not exist yet (a new private key): published with link(2), so anything already at
 * `path` — a file, a directory, a dangling link — is never replaced or followed (USAGE "already
 * exists"). `mode` is applied before the umask, which can only take bits away.
 */
export async function writeNewFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  await writeFileAtomic(path, data, { mode, noClobber: true });
}

/**
 * `writeFileAtomic` for content that arrives in pieces (an archive being written, a copied
 * artifact): the same temp file, checks and rename, without holding it all in memory. A source that
 * throws leaves the target as it was.
 */
export async function writeStreamAtomic(
  path: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: { mode?: number } = {},
): Promise<void> {
  const file = await AtomicFile.create(path, { mode: options.mode });
  try {
    await file.writeAll(chunks);
  } catch (e) {
    await file.abort();
    throw e;
  }
  await file.commit();
}
