/**
 * Opening files for reading without ever blocking on, or reading from, something that is not a
 * regular file. A FIFO blocks `open()` until a writer appears and `/dev/zero` or `/dev/urandom` never
 * end, so reading either hangs a command forever; opening some devices has side effects of its own
 * (a watchdog starts counting, a tape rewinds). So:
 *
 * 1. `stat` (or `lstat`, for paths inside an artifact) first: anything but a regular file is refused
 *    by name, without being opened;
 * 2. then `open` with O_NONBLOCK (a FIFO swapped in after step 1 does not block the open) and
 *    O_NOFOLLOW where links are refused, and O_NOCTTY (a terminal never becomes ours);
 * 3. then `fstat` the open descriptor: it must be a regular file and the same file step 1 saw, so
 *    a path swapped between the two steps is refused rather than read.
 *
 * O_NONBLOCK has no effect on reads from regular files (POSIX), so the handle reads as usual.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, stat } from 'node:fs/promises';
import { type ErrorCode, WaybillError } from '../errors.ts';

export interface RegularFileOptions {
  /**
   * Refuse a symbolic link at the path itself. Set for paths inside an artifact (layout blobs,
   * `index.json`, entries of a `dir:` tree), where following a link reads outside the artifact.
   */
  noFollow?: boolean;
  /** What to name in errors (default: the path). */
  input?: string;
  /** Error code for a path that exists but is not a regular file (default USAGE). */
  code?: ErrorCode;
}

/** What a directory entry is (lstat's view). */
export type FileType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

type TypeTests = Pick<
  Stats,
  'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice'
>;

export function fileTypeOf(info: TypeTests): FileType {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'dir';
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isFIFO()) return 'fifo';
  if (info.isCharacterDevice()) return 'char';
  if (info.isBlockDevice()) return 'block';
  return 'socket';
}

const DESCRIPTIONS: Record<FileType, string> = {
  file: 'a regular file',
  dir: 'a directory',
  symlink: 'a symbolic link',
  fifo: 'a FIFO (named pipe)',
  char: 'a character device',
  block: 'a block device',
  socket: 'a socket',
};

/** `a FIFO (named pipe)`, `a character device`…: what a file is, for one-line errors. */
export function describeFileType(info: TypeTests): string {
  return DESCRIPTIONS[fileTypeOf(info)];
}

function notRegular(info: Stats, options: RegularFileOptions, path: string): WaybillError {
  const input = options.input ?? path;
  if (info.isSymbolicLink())
    return new WaybillError('UNSAFE_PATH', input, 'is a symbolic link; waybill does not follow it here');
  return new WaybillError(options.code ?? 'USAGE', input, `is ${describeFileType(info)}, not a regular file`);
}

function openFailed(e: unknown, path: string, options: RegularFileOptions): WaybillError {
  const input = options.input ?? path;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new WaybillError('NOT_FOUND', input, 'no such file', { cause: e });
  // O_NOFOLLOW on a symlink (one swapped in after the lstat).
  if (code === 'ELOOP')
    return new WaybillError('UNSAFE_PATH', input, 'is a symbolic link; waybill does not follow it here', {
      cause: e,
    });
  return new WaybillError('NOT_FOUND', input, `cannot be read${code ? ` (${code})` : ''}`, { cause: e });
}

/** Step 1 alone: the file's stats when it is a regular file (see above), else a WaybillError. */
export async function statRegularFile(path: string, options: RegularFileOptions = {}): Promise<Stats> {
  let info: Stats;
  try {
    info = options.noFollow ? await lstat(path) : await stat(path);
  } catch (e) {
    throw openFailed(e, path, options);
  }
  if (!info.isFile()) throw notRegular(info, options, path);
  return info;
}

/** Step 2's flags: never block on a FIFO, never take a terminal, and no link when refused. */
function openFlags(options: RegularFileOptions): number {
  return (
    constants.O_RDONLY |
    constants.O_NONBLOCK |
    constants.O_NOCTTY |
    (options.noFollow ? constants.O_NOFOLLOW : 0)
  );
}

export interface OpenedRegularFile {
  handle: FileHandle;
  /** The size fstat reported on the open descriptor. */
  size: number;
}

/** Opens a regular file for reading (steps 1–3 above). The caller closes the handle. */
export async function openRegularFile(
  path: string,
  options: RegularFileOptions = {},
): Promise<OpenedRegularFile> {
  const before = await statRegularFile(path, options);
  const flags = openFlags(options);
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (e) {
    throw openFailed(e, path, options);
  }
  try {
    const after = await handle.stat();
    if (!after.isFile()) throw notRegular(after, options, path);
    if (after.ino !== before.ino || after.dev !== before.dev)
      throw new WaybillError('UNSAFE_PATH', options.input ?? path, 'was replaced while being opened');
    return { handle, size: after.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** LIMIT before anything is read when the file is larger than `maxBytes`. */
function requireWithinLimit(
  path: string,
  size: number,
  options: RegularFileOptions & { maxBytes?: number },
): void {
  if (options.maxBytes !== undefined && size > options.maxBytes) {
    throw new WaybillError(
      'LIMIT',
      options.input ?? path,
      `is ${size} bytes, over the ${options.maxBytes}-byte limit`,
    );
  }
}

/** A file that grew or shrank between its fstat and the end of the read is not the file that was checked. */
function changedSize(path: string, options: RegularFileOptions): WaybillError {
  return new WaybillError('MALFORMED', options.input ?? path, 'changed size while being read');
}

/**
 * The whole content of a regular file, refused past `maxBytes` (LIMIT) before anything is read. A
 * file that changes size while being read is MALFORMED.
 */
export async function readRegularFile(
  path: string,
  options: RegularFileOptions & { maxBytes?: number } = {},
): Promise<Buffer> {
  const { handle, size } = await openRegularFile(path, options);
  try {
    requireWithinLimit(path, size, options);
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== size) throw changedSize(path, options);
    return buf;
  } finally {
    await handle.close();
  }
}

/** As `readRegularFile`, but undefined when nothing is at `path` (a sidecar that was never written). */
export async function readRegularFileIfPresent(
  path: string,
  options: RegularFileOptions & { maxBytes?: number } = {},
): Promise<Buffer | undefined> {
  try {
    return await readRegularFile(path, options);
  } catch (e) {
    const code = ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (e instanceof WaybillError && e.code === 'NOT_FOUND' && (code === 'ENOENT' || code === 'ENOTDIR'))
      return undefined;
    throw e;
  }
}

/**
 * Steps 2–3 above, synchronously, for a thread that does nothing else (a worker hashing a tree):
 * opens with O_NONBLOCK and O_NOFOLLOW when asked, and the descriptor must be a regular file. Step 1
 * is the caller's own listing (an lstat that saw a regular file). Returns the descriptor and size;
 * the caller closes it.
 */
export function openRegularFileSync(
  path: string,
  options: RegularFileOptions = {},
): { fd: number; size: number } {
  const flags = openFlags(options);
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (e) {
    throw openFailed(e, path, options);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw notRegular(info, options, path);
    return { fd, size: info.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * As `readRegularFile`, synchronously, for a file the caller's own listing saw as a regular file
 * (step 1): thousands of small files (an advisory directory) are read without a promise and a
 * FileHandle each, which cost `db import` more than a second of CPU on 8 000 files.
 */
export function readListedFileSync(
  path: string,
  options: RegularFileOptions & { maxBytes?: number } = {},
): Buffer {
  const { fd, size } = openRegularFileSync(path, options);
  try {
    requireWithinLimit(path, size, options);
    const buf = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const bytesRead = readSync(fd, buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== size) throw changedSize(path, options);
    return buf;
  } finally {
    closeSync(fd);
  }
}
