/**
 * A deterministic tar writer: POSIX ustar headers, with a pax extended header (POSIX.1-2001 `x`
 * typeflag) only where ustar cannot hold a value (paths or link targets over 100 bytes, sizes of
 * 8 GiB and more). Every entry gets uid/gid 0, empty user/group names and the same mtime (an
 * option, default 0), so the same entries always give the same bytes. Entries are written in the
 * order given: sorting is the caller's job because only the caller knows which order is meaningful
 * (an OCI layer's order is part of its digest).
 *
 * Used to write oci-archive and docker-archive files and, in tests, to build image layers.
 */
import { Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink';

/** File contents given lazily, so large blobs are streamed rather than held in memory. */
export interface TarStreamSource {
  size: number;
  open(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface TarEntryInput {
  /** Relative POSIX path: no leading `/`, no `..` or empty segments. Directories may end in `/`. */
  path: string;
  /** Default `file`. */
  type?: TarEntryType;
  /** Regular files only. */
  data?: Uint8Array | string | TarStreamSource;
  /** Permission bits; default 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  mode?: number;
  /** Symlinks and hard links: the target as it should be written. */
  linkTarget?: string;
  /** Seconds since the epoch; overrides the writer's `mtime` for this entry. */
  mtime?: number;
}

export interface TarWriteOptions {
  /** Seconds since the epoch for every entry without its own. Default 0. */
  mtime?: number;
}

const BLOCK = 512;
const USTAR_NAME_MAX = 100;
/** 11 octal digits: the largest size a ustar header holds. */
const USTAR_SIZE_MAX = 0o77777777777;
const TYPEFLAG: Record<TarEntryType | 'pax', string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  dir: '5',
  pax: 'x',
};

/** Writes the whole archive into one buffer (for small archives: tests, single-file layers). */
export async function tarBuffer(
  entries: Iterable<TarEntryInput> | AsyncIterable<TarEntryInput>,
  options: TarWriteOptions = {},
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarChunks(entries, options)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The archive as a readable stream; file data is pulled from each source only when reached. */
export function tarStream(
  entries: Iterable<TarEntryInput> | AsyncIterable<TarEntryInput>,
  options: TarWriteOptions = {},
): Readable {
  return Readable.from(tarChunks(entries, options), { objectMode: false });
}

/** The archive as an async sequence of buffers. */
export async function* tarChunks(
  entries: Iterable<TarEntryInput> | AsyncIterable<TarEntryInput>,
  options: TarWriteOptions = {},
): AsyncGenerator<Buffer> {
  const defaultMtime = options.mtime ?? 0;
  for await (const entry of entries) {
    const type = entry.type ?? 'file';
    const path = normalizeEntryPath(entry.path, type);
    const mtime = entry.mtime ?? defaultMtime;
    checkMtime(mtime, entry.path);
    const source = type === 'file' ? toSource(entry.data) : { size: 0, open: () => [] };
    if (type !== 'file' && entry.data !== undefined) {
      throw new WaybillError('USAGE', entry.path, `a ${type} entry cannot have data`);
    }
    const linkTarget = type === 'symlink' || type === 'hardlink' ? (entry.linkTarget ?? '') : '';
    if ((type === 'symlink' || type === 'hardlink') && linkTarget === '') {
      throw new WaybillError('USAGE', entry.path, `a ${type} entry needs a link target`);
    }
    if (linkTarget.includes('\0'))
      throw new WaybillError('UNSAFE_PATH', entry.path, 'link target contains NUL');
    const mode = entry.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);

    // pax records for whatever ustar cannot say (POSIX.1-2001 pax "path", "linkpath", "size").
    const pax: Array<[string, string]> = [];
    if (Buffer.byteLength(path) > USTAR_NAME_MAX) pax.push(['path', path]);
    if (Buffer.byteLength(linkTarget) > USTAR_NAME_MAX) pax.push(['linkpath', linkTarget]);
    if (source.size > USTAR_SIZE_MAX) pax.push(['size', String(source.size)]);
    if (pax.length > 0) {
      const body = paxBody(pax);
      yield header({
        name: paxHeaderName(path),
        mode: 0o644,
        size: body.length,
        mtime,
        typeflag: TYPEFLAG.pax,
        linkname: '',
      });
      yield body;
      yield padding(body.length);
    }
    yield header({
      name: truncateUtf8(path, USTAR_NAME_MAX),
      mode,
      size: source.size > USTAR_SIZE_MAX ? 0 : source.size,
      mtime,
      typeflag: TYPEFLAG[type],
      linkname: truncateUtf8(linkTarget, USTAR_NAME_MAX),
    });
    if (type === 'file') {
      let written = 0;
      for await (const chunk of source.open()) {
        const buf = Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        written += buf.length;
        if (written > source.size) break;
        yield buf;
      }
      if (written !== source.size) {
        throw new WaybillError(
          'MALFORMED',
          entry.path,
          `data source gave ${written > source.size ? 'more' : 'fewer'} bytes than its declared size ${source.size}`,
        );
      }
      yield padding(source.size);
    }
  }
  // End of archive: two zero blocks (POSIX ustar).
  yield Buffer.alloc(BLOCK * 2);
}

function toSource(data: TarEntryInput['data']): TarStreamSource {
  if (data === undefined) return { size: 0, open: () => [] };
  if (typeof data === 'string') data = Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) {
    const bytes = data;
    return { size: bytes.byteLength, open: () => [bytes] };
  }
  if (!Number.isSafeInteger(data.size) || data.size < 0) {
    throw new WaybillError('USAGE', '', `tar entry size must be a non-negative integer, got ${data.size}`);
  }
  return data;
}

/** Rejects paths a tar reader would put outside its target directory; gives dirs a trailing `/`. */
function normalizeEntryPath(path: string, type: TarEntryType): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === '' || trimmed.includes('\0')) {
    throw new WaybillError('UNSAFE_PATH', path, 'tar entry path is empty or contains NUL');
  }
  if (trimmed.startsWith('/')) throw new WaybillError('UNSAFE_PATH', path, 'tar entry path is absolute');
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new WaybillError('UNSAFE_PATH', path, `tar entry path has a "${segment}" segment`);
    }
  }
  if (path.endsWith('/') && type !== 'dir') {
    throw new WaybillError('USAGE', path, 'only directory entries may end in "/"');
  }
  return type === 'dir' ? `${trimmed}/` : trimmed;
}

function checkMtime(mtime: number, path: string): void {
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime > USTAR_SIZE_MAX) {
    throw new WaybillError('USAGE', path, `mtime must be whole seconds in [0, 8^11), got ${mtime}`);
  }
}

interface HeaderFields {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}

/** One 512-byte ustar header (POSIX.1-1988 layout, magic "ustar\0" version "00"). */
function header(f: HeaderFields): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(f.name, 0, 100, 'utf8');
  writeOctal(h, 100, 8, f.mode & 0o7777);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, f.size);
  writeOctal(h, 136, 12, f.mtime);
  h.write(f.typeflag, 156, 1, 'latin1');
  h.write(f.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  // uname/gname (265, 297) stay empty; devmajor/devminor are zero-filled octal.
  writeOctal(h, 329, 8, 0);
  writeOctal(h, 337, 8, 0);
  // Checksum: sum of all header bytes with the checksum field read as eight spaces.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** Zero-padded octal digits followed by a NUL, filling `width` bytes. */
function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
}

/** pax records are "<length> <key>=<value>\n" where <length> counts the whole record, itself included. */
function paxBody(records: Array<[string, string]>): Buffer {
  const parts: string[] = [];
  for (const [key, value] of records) {
    const rest = ` ${key}=${value}\n`;
    const restLength = Buffer.byteLength(rest);
    let length = restLength + 1;
    while (String(length).length + restLength !== length) length = String(length).length + restLength;
    parts.push(`${length}${rest}`);
  }
  return Buffer.from(parts.join(''), 'utf8');
}

/** A stable name for the pax header entry itself (readers that do not know pax extract it as a file). */
function paxHeaderName(path: string): string {
  const base = path.replace(/\/$/, '').split('/').pop() ?? 'entry';
  return truncateUtf8(`PaxHeaders/${base}`, USTAR_NAME_MAX);
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
function truncateUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}
