/**
 * A streaming tar reader: ustar (POSIX.1-1988), pax extended headers (POSIX.1-2001 `x`, with `path`,
 * `linkpath` and `size` overrides; `g` global headers are read and ignored), and GNU long names (`L`)
 * and long link targets (`K`). GNU sparse files are rejected as UNSUPPORTED.
 *
 * Input is hostile: every header checksum is verified, numbers are range-checked, metadata bodies are
 * size-capped, names must be UTF-8, and paths are normalized so nothing can point outside the tree
 * (absolute paths, `..` segments and hard links that escape are UNSAFE_PATH). Symlink targets are
 * kept as written: a symlink entry is harmless until something follows it, and waybill never does
 * (see `resolveSymlink` for the clamped resolution used when a caller needs the target).
 *
 * Two front ends share the header parser: `readTar` iterates a stream (entries' bodies are streamed
 * and must be consumed or are skipped), `indexTarFile` seeks through a file reading headers only, for
 * random access to blobs inside oci-archive and docker-archive tarballs and for rewriting such an
 * archive without buffering its layers (src/oci/tar-edit.ts).
 */
import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';
import { openRegularFile } from '../util/regular-file.ts';
import { ChunkQueue } from './chunk-queue.ts';

export const BLOCK_SIZE = 512;

/**
 * Names that say "tarball": uncompressed, or in a compression waybill decodes (gzip, zstd, xz). Used
 * where the content alone cannot tell (a cut or corrupt head; xz, which is not sniffed synchronously).
 */
export const TARBALL_NAME = /\.(?:tar|tar\.gz|tgz|tar\.zst|tzst|tar\.xz|txz)$/i;
/** Pax and GNU long-name bodies are metadata: anything larger is an attack, not a name. */
export const MAX_METADATA_BYTES = 1024 * 1024;
/**
 * Entries `indexTarFile` keeps in memory. Image archives hold a few blobs per layer; more than this is a
 * pathological file, stopped before the index eats the heap.
 */
export const MAX_INDEX_ENTRIES = 200_000;

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarHeader {
  /** Normalized relative path: no leading `/` or `./`, no `.`/`..` or empty segments. */
  path: string;
  type: TarEntryType;
  /** The raw typeflag character (`0`, `5`, …). */
  typeflag: string;
  /** Bytes of content that follow the header (0 for links, directories and devices). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  uname: string;
  gname: string;
  /** Symlinks: the target as written. Hard links: the normalized path of the linked entry. */
  linkTarget?: string;
  /** Byte offset of this entry's (last) header block in the archive. */
  headerOffset: number;
  /** Byte offset of the first content byte. */
  dataOffset: number;
}

export interface TarEntry {
  header: TarHeader;
  /** The content, streamed. Iterate at most once; whatever is not read is skipped. */
  body(): AsyncGenerator<Buffer>;
  /** Up to `n` first bytes of the content, without consuming them. */
  peek(n: number): Promise<Buffer>;
  /** The whole (remaining) content in one buffer. */
  readAll(): Promise<Buffer>;
  /**
   * Reads the whole content into `target` (at least the entry's size long) and returns the filled
   * part: lets a caller that looks at many files and keeps few reuse one buffer.
   */
  readInto(target: Buffer): Promise<Buffer>;
  /** Discards the content. */
  skip(): Promise<void>;
}

export interface TarReadOptions {
  /** Named in errors: the archive, layer or blob being read. */
  input: string;
}

// ---------------------------------------------------------------------------------------------
// Header fields (POSIX.1-2017 pax, "ustar Interchange Format").

const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const UID = [108, 8] as const;
const GID = [116, 8] as const;
const SIZE = [124, 12] as const;
const MTIME = [136, 12] as const;
const CHKSUM = [148, 8] as const;
const TYPEFLAG = 156;
const LINKNAME = [157, 100] as const;
const MAGIC = [257, 6] as const;
const UNAME = [265, 32] as const;
const GNAME = [297, 32] as const;
const PREFIX = [345, 155] as const;

/** POSIX ustar magic `ustar\0` (GNU's old format has `ustar  \0` and no prefix field). */
function isUstar(block: Buffer): boolean {
  const m = MAGIC[0];
  return (
    block[m] === 0x75 &&
    block[m + 1] === 0x73 &&
    block[m + 2] === 0x74 &&
    block[m + 3] === 0x61 &&
    block[m + 4] === 0x72 &&
    block[m + 5] === 0
  );
}

/** Typeflags whose size field does not describe content (Go's archive/tar does the same). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

function field(block: Buffer, [offset, length]: readonly [number, number]): Buffer {
  const raw = block.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return nul === -1 ? raw : raw.subarray(0, nul);
}

/** Octal (NUL/space padded) or, when the high bit is set, GNU base-256 big-endian. */
function parseNumber(block: Buffer, spec: readonly [number, number], what: string, input: string): number {
  const [offset, length] = spec;
  const end = offset + length;
  const first = block[offset] as number;
  if ((first & 0x80) !== 0) {
    if (first === 0xff) throw new WaybillError('MALFORMED', input, `negative ${what} in tar header`);
    let value = first & 0x7f;
    for (let i = offset + 1; i < end; i++) {
      value = value * 256 + (block[i] as number);
      if (value > Number.MAX_SAFE_INTEGER) {
        throw new WaybillError('LIMIT', input, `${what} in tar header is too large`);
      }
    }
    return value;
  }
  // The usual field, read in place: spaces, octal digits, spaces, then a NUL or the field's end.
  // Anything else (other whitespace, stray characters) takes the general path below.
  let i = offset;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  for (; i < end; i++) {
    const digit = (block[i] as number) - 0x30;
    if (digit < 0 || digit > 7) break;
    value = value * 8 + digit;
  }
  while (i < end && block[i] === 0x20) i++;
  if (i === end || block[i] === 0) {
    if (!Number.isSafeInteger(value))
      throw new WaybillError('LIMIT', input, `${what} in tar header is too large`);
    return value;
  }
  const text = field(block, spec).toString('latin1').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new WaybillError(
      'MALFORMED',
      input,
      `bad ${what} field in tar header: ${escapeBytes(Buffer.from(text, 'latin1'))}`,
    );
  }
  const parsed = Number.parseInt(text, 8);
  if (!Number.isSafeInteger(parsed))
    throw new WaybillError('LIMIT', input, `${what} in tar header is too large`);
  return parsed;
}

/** The checksum is the sum of the header bytes with the checksum field read as spaces. */
function checksumMatches(block: Buffer, input: string): boolean {
  const stored = parseNumber(block, CHKSUM, 'checksum', input);
  const [from, length] = CHKSUM;
  let unsigned = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) unsigned += block[i] as number;
  for (let i = from; i < from + length; i++) unsigned += 0x20 - (block[i] as number);
  if (stored === unsigned) return true;
  // Some historic writers summed signed chars; POSIX says unsigned. Accept either, like GNU tar.
  let high = 0;
  for (let i = 0; i < BLOCK_SIZE; i++)
    if ((i < from || i >= from + length) && (block[i] as number) > 127) high++;
  return stored === unsigned - 256 * high;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** True when `block` looks like a valid tar header (checksum matches); used to sniff tarballs. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK_SIZE) return false;
  const b = Buffer.from(block.buffer, block.byteOffset, BLOCK_SIZE);
  if (isZeroBlock(b)) return false;
  try {
    return checksumMatches(b, '');
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Names.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Shows arbitrary bytes readably: printable ASCII as is, everything else as \xHH. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x22) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `"${out}"`;
}

/** `what` names the bytes in the error; a function when building the name costs (most never fail). */
function decodeName(bytes: Buffer, what: string | (() => string), input: string): string {
  // ASCII (nearly every name) is valid UTF-8 and reads the same as Latin-1, which decodes faster.
  if (isAscii(bytes)) return bytes.toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    const name = typeof what === 'string' ? what : what();
    throw new WaybillError('MALFORMED', input, `${name} is not UTF-8: ${escapeBytes(bytes)}`);
  }
}

/** A NUL-terminated text field of a header block, decoded as `decodeName` does, read in place. */
function fieldText(
  block: Buffer,
  [offset, length]: readonly [number, number],
  what: string | (() => string),
  input: string,
): string {
  let end = offset;
  let ascii = true;
  for (const max = offset + length; end < max; end++) {
    const byte = block[end] as number;
    if (byte === 0) break;
    if (byte > 0x7f) ascii = false;
  }
  if (ascii) return block.toString('latin1', offset, end);
  return decodeName(block.subarray(offset, end), what, input);
}

/** A leading slash, an empty, `.` or `..` segment, or two trailing slashes: the general path. */
const NOT_NORMAL = /^\/|\/\/|(^|\/)\.\.?(\/|$)|^$/;

/**
 * Normalizes an entry name to a relative POSIX path. Leading `./`, `.` segments, repeated and
 * trailing slashes go; absolute paths and `..` segments are refused (UNSAFE_PATH) rather than
 * "fixed", because an archive that tries them is hostile or broken. An empty result is the root.
 */
export function normalizeEntryPath(raw: string, input: string, what = 'entry'): string {
  // Already normal (the usual case): nothing to take away but a directory's trailing slash.
  if (!NOT_NORMAL.test(raw)) return raw.endsWith('/') ? raw.slice(0, -1) : raw;
  // `/` alone (umoci writes it for the root of an inserted tree) is the root, not an escape.
  if (raw.startsWith('/') && !/^[/.]*$/.test(raw)) {
    throw new WaybillError('UNSAFE_PATH', input, `${what} ${JSON.stringify(raw)} is an absolute path`);
  }
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      throw new WaybillError('UNSAFE_PATH', input, `${what} ${JSON.stringify(raw)} contains a ".." segment`);
    }
    segments.push(segment);
  }
  return segments.join('/');
}

/**
 * Resolves a symlink found at `linkPath` (relative, normalized) to a path inside the tree, the way a
 * chroot would: `..` never climbs above the root and absolute targets start at the root. Returns the
 * normalized target, `''` for the root itself. Never touches the filesystem.
 */
export function resolveSymlink(linkPath: string, target: string): string {
  const base = target.startsWith('/') ? [] : linkPath.split('/').slice(0, -1);
  const out = base.filter((s) => s !== '');
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return out.join('/');
}

// ---------------------------------------------------------------------------------------------
// The header parser, over an abstract block source.

interface BlockSource {
  /** Offset of the next unread byte. */
  readonly position: number;
  /** Exactly `n` bytes, `null` at a clean end (no byte left); partial data is truncation. */
  read(n: number): Promise<Buffer | null>;
  skip(n: number): Promise<void>;
}

export function truncated(input: string, position: number, what: string): WaybillError {
  return new WaybillError(
    'MALFORMED',
    input,
    `truncated tar archive: unexpected end of data in ${what} at offset ${position}`,
  );
}

/** An entry's padding that starts but stops short: the archive was cut there (both readers say so). */
export function cutInPadding(input: string, position: number, path: string): WaybillError {
  return truncated(input, position, `padding after ${JSON.stringify(path)}`);
}

/** Bytes of padding after `size` bytes of content, to the next 512-byte block. */
export function padding(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
}

/** Reads a metadata body (pax record set, GNU long name; its size checked by HeaderSequence) with its padding. */
async function readMetadata(source: BlockSource, size: number, kind: string, input: string): Promise<Buffer> {
  const at = source.position;
  const body = await source.read(size);
  if (body === null && size > 0) throw truncated(input, at, kind);
  await source.skip(padding(size));
  return body ?? Buffer.alloc(0);
}

/** POSIX pax "Extended header format": records `"%d %s=%s\n"`, the length counting the whole record. */
export function parsePaxRecords(body: Buffer, input: string): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break; // some writers pad the record set with NULs
    const space = body.indexOf(0x20, pos);
    if (space === -1 || space - pos > 20) throw new WaybillError('MALFORMED', input, 'bad pax record length');
    const lengthText = body.toString('latin1', pos, space);
    if (!/^[1-9][0-9]*$/.test(lengthText))
      throw new WaybillError('MALFORMED', input, 'bad pax record length');
    const length = Number(lengthText);
    const end = pos + length;
    if (end > body.length || body[end - 1] !== 0x0a || end <= space + 1) {
      throw new WaybillError('MALFORMED', input, 'pax record runs past its header or lacks a newline');
    }
    const record = body.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new WaybillError('MALFORMED', input, 'pax record without a key');
    const key = decodeName(record.subarray(0, equals), 'pax record key', input);
    const value = decodeName(record.subarray(equals + 1), `pax ${key} value`, input);
    records.set(key, value);
    pos = end;
  }
  return records;
}

function applyPax(records: Map<string, string>, into: Overrides, input: string): void {
  for (const [key, value] of records) {
    if (key.startsWith('GNU.sparse.')) {
      throw new WaybillError('UNSUPPORTED', input, 'GNU sparse files in pax format are not supported');
    }
    if (key === 'path') into.path = value;
    else if (key === 'linkpath') into.linkpath = value;
    else if (key === 'size') {
      if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new WaybillError('MALFORMED', input, `bad pax size ${JSON.stringify(value.slice(0, 40))}`);
      }
      into.size = Number(value);
    }
  }
}

function entryType(typeflag: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '7': // contiguous file: a regular file everywhere that matters
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'dir';
    default:
      return 'other';
  }
}

/** What follows a header block, as `HeaderSequence.block` sees it. */
export type HeaderStep =
  /** A metadata body (pax records, GNU long name) of `size` bytes and its padding: hand it to `metadata`. */
  | { kind: 'metadata'; size: number; what: string }
  /** The archive root (`./`): not an entry of the tree; skip its `size` bytes and padding. */
  | { kind: 'root'; size: number }
  /** An entry: its `size` bytes of content and their padding follow. */
  | { kind: 'entry'; header: TarHeader };

/**
 * The header logic of a tar archive, one 512-byte block at a time, shared by the pulling reader
 * (`parseHeaders`) and the pushing one (tar-push.ts): checksums, typeflags, pax and GNU long-name
 * records applying to the next entry, and entry paths. The caller reads the blocks and bodies and
 * recognizes the zero blocks that end the archive.
 */
export class HeaderSequence {
  private overrides: Overrides = {};
  private longName: Buffer | undefined;
  private longLink: Buffer | undefined;
  private pending: string | undefined;
  private readonly input: string;

  constructor(input: string) {
    this.input = input;
  }

  /** A non-zero header block that starts at `headerOffset`; `dataOffset` is where its body starts. */
  block(block: Buffer, headerOffset: number, dataOffset: number): HeaderStep {
    const input = this.input;
    if (!checksumMatches(block, input)) {
      throw new WaybillError('MALFORMED', input, `tar header checksum mismatch at offset ${headerOffset}`);
    }
    const flagByte = block[TYPEFLAG] as number;
    const typeflag = flagByte === 0 ? '0' : String.fromCharCode(flagByte);
    const headerSize = parseNumber(block, SIZE, 'size', input);

    const metadata = METADATA_KINDS[typeflag];
    if (metadata !== undefined) {
      if (headerSize > MAX_METADATA_BYTES) {
        throw new WaybillError(
          'LIMIT',
          input,
          `${metadata} of ${headerSize} bytes is larger than ${MAX_METADATA_BYTES}`,
        );
      }
      this.pending = typeflag;
      return { kind: 'metadata', size: headerSize, what: metadata };
    }
    if (typeflag === 'S') {
      throw new WaybillError(
        'UNSUPPORTED',
        input,
        `GNU sparse file at offset ${headerOffset} is not supported`,
      );
    }

    let rawName: string;
    if (this.overrides.path !== undefined) rawName = this.overrides.path;
    else if (this.longName !== undefined) rawName = decodeName(this.longName, 'entry name', input);
    else if (isUstar(block) && block[PREFIX[0]] !== 0) {
      const joined = Buffer.concat([field(block, PREFIX), Buffer.from('/'), field(block, NAME)]);
      rawName = decodeName(joined, 'entry name', input);
    } else rawName = fieldText(block, NAME, 'entry name', input);
    const linkWhat = () => `link target of ${JSON.stringify(rawName)}`;
    let rawLink: string;
    if (this.overrides.linkpath !== undefined) rawLink = this.overrides.linkpath;
    else if (this.longLink !== undefined) rawLink = decodeName(this.longLink, linkWhat, input);
    else rawLink = fieldText(block, LINKNAME, linkWhat, input);

    const type = entryType(typeflag);
    const size = HEADER_ONLY.has(typeflag) ? 0 : (this.overrides.size ?? headerSize);
    const path = normalizeEntryPath(rawName, input);
    const header: TarHeader = {
      path,
      type,
      typeflag,
      size,
      mode: parseNumber(block, MODE, 'mode', input),
      uid: parseNumber(block, UID, 'uid', input),
      gid: parseNumber(block, GID, 'gid', input),
      mtime: parseNumber(block, MTIME, 'mtime', input),
      uname: fieldText(block, UNAME, 'user name', input),
      gname: fieldText(block, GNAME, 'group name', input),
      headerOffset,
      dataOffset,
    };
    if (type === 'hardlink') {
      if (rawLink === '')
        throw new WaybillError('MALFORMED', input, `hard link ${JSON.stringify(rawName)} has no target`);
      header.linkTarget = normalizeEntryPath(
        rawLink,
        input,
        `hard link target of ${JSON.stringify(rawName)}:`,
      );
    } else if (type === 'symlink') {
      header.linkTarget = rawLink;
    }
    this.overrides = {};
    this.longName = undefined;
    this.longLink = undefined;
    if (path === '') {
      // The archive root (`./`): not an entry of the tree. Anything but a directory there is broken.
      if (type !== 'dir')
        throw new WaybillError('MALFORMED', input, `entry with an empty name at offset ${headerOffset}`);
      return { kind: 'root', size };
    }
    return { kind: 'entry', header };
  }

  /** The body of the metadata record the last `block` announced. */
  metadata(body: Buffer): void {
    const typeflag = this.pending;
    this.pending = undefined;
    if (typeflag === 'x' || typeflag === 'g') {
      const records = parsePaxRecords(body, this.input);
      // `g` global headers are read (so a broken one is still refused) and ignored.
      if (typeflag === 'x') applyPax(records, this.overrides, this.input);
    } else if (typeflag === 'L') this.longName = stripNuls(body);
    else if (typeflag === 'K') this.longLink = stripNuls(body);
  }
}

/** Typeflags whose body is metadata for the next entry, and what errors call each. */
const METADATA_KINDS: Readonly<Record<string, string>> = {
  x: 'pax header',
  g: 'pax header',
  L: 'GNU long name',
  K: 'GNU long link name',
};

/**
 * Yields one header per entry; the caller must advance `source` past the entry's content and
 * padding (`size` + `padding(size)`) before asking for the next.
 */
async function* parseHeaders(source: BlockSource, input: string): AsyncGenerator<TarHeader> {
  const headers = new HeaderSequence(input);
  while (true) {
    const headerOffset = source.position;
    const block = await source.read(BLOCK_SIZE);
    // A stream that ends cleanly at a header boundary is accepted without the end marker, as Go's
    // archive/tar does; a partial block is truncation (thrown by `read`).
    if (block === null) return;
    if (isZeroBlock(block)) {
      const second = await source.read(BLOCK_SIZE);
      if (second === null || isZeroBlock(second)) return;
      throw new WaybillError('MALFORMED', input, `stray zero block at offset ${headerOffset}`);
    }
    const step = headers.block(block, headerOffset, source.position);
    if (step.kind === 'metadata') {
      headers.metadata(await readMetadata(source, step.size, step.what, input));
      continue;
    }
    if (step.kind === 'root') {
      await source.skip(step.size + padding(step.size));
      continue;
    }
    yield step.header;
  }
}

function stripNuls(buf: Buffer): Buffer {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  return buf.subarray(0, end);
}

// ---------------------------------------------------------------------------------------------
// Streaming front end.

/**
 * Iterates the entries of a tar stream. Each entry's content must be read (or skipped) before the
 * next is requested; content left unread is skipped automatically. After the end-of-archive marker
 * the rest of the stream is read and discarded, so digest checks on upstream stages complete.
 */
export async function* readTar(
  source: AsyncIterable<unknown> | Readable,
  options: TarReadOptions,
): AsyncGenerator<TarEntry> {
  const input = options.input;
  const queue = new ChunkQueue((source as AsyncIterable<unknown>)[Symbol.asyncIterator](), (at, what) =>
    truncated(input, at, what),
  );
  for await (const header of parseHeaders(queue, input)) {
    let remaining = header.size;
    const truncatedBody = () => truncated(input, queue.position, `content of ${JSON.stringify(header.path)}`);
    const readInto = async (target: Buffer): Promise<Buffer> => {
      if (target.length < remaining) {
        throw new RangeError(`readInto: ${target.length}-byte buffer for ${remaining} bytes`);
      }
      const out = target.subarray(0, remaining);
      let written = 0;
      while (remaining > 0) {
        if ((await queue.fill(1)) === 0) throw truncatedBody();
        const piece = queue.takeSome(remaining);
        piece.copy(out, written);
        written += piece.length;
        remaining -= piece.length;
      }
      return out;
    };
    const entry: TarEntry = {
      header,
      async *body() {
        while (remaining > 0) {
          if ((await queue.fill(1)) === 0) throw truncatedBody();
          const piece = queue.takeSome(remaining);
          remaining -= piece.length;
          yield piece;
        }
      },
      async peek(n: number) {
        const want = Math.min(n, remaining);
        if ((await queue.fill(want)) < want) throw truncatedBody();
        return queue.peekBuffered(want);
      },
      readAll: () => readInto(Buffer.allocUnsafe(remaining)),
      readInto,
      async skip() {
        const n = remaining;
        remaining = 0;
        // Only running out of bytes is this entry's truncation: an upstream error (decompression
        // limit, digest mismatch, corrupt gzip) passes through as it is, or a bomb reads as a cut file.
        let left = n;
        while (left > 0) {
          if ((await queue.fill(1)) === 0) throw truncatedBody();
          left -= queue.takeSome(left).length;
        }
      },
    };
    yield entry;
    await entry.skip();
    // Some writers (umoci's layers) stop right after the last content byte, without padding or the
    // end-of-archive blocks; Go's archive/tar accepts that, so do we. Missing content is still an error,
    // and so is padding that starts but stops short: no writer ends there, a cut file does (and every
    // entry after the cut would be silently missing).
    const pad = padding(header.size);
    const skipped = await queue.skipAvailable(pad);
    if (skipped > 0 && skipped < pad) throw cutInPadding(input, queue.position, header.path);
  }
  await queue.drain();
}

// ---------------------------------------------------------------------------------------------
// Random-access front end.

export interface TarIndexEntry {
  path: string;
  type: TarEntryType;
  /** Offset of the first content byte in the archive file. */
  offset: number;
  size: number;
  linkTarget?: string;
}

/** Entry path → where its content lies. Later entries with the same path win, as on extraction. */
export type TarIndex = Map<string, TarIndexEntry>;

/** How much of an indexed tar file one read takes (FileBlocks). */
const READ_WINDOW_BYTES = 64 * 1024;

/**
 * Block source over a file. Unlike a stream, a file on disk is written whole by every tar writer, so
 * an entry's padding that stops short is a cut file (MALFORMED), not a writer that skips padding.
 */
class FileBlocks implements BlockSource {
  position = 0;
  private readonly handle: FileHandle;
  private readonly fileSize: number;
  private readonly input: string;

  constructor(handle: FileHandle, fileSize: number, input: string) {
    this.handle = handle;
    this.fileSize = fileSize;
    this.input = input;
  }

  /**
   * The file's bytes from `windowStart`, read at once: an archive of 20 000 small entries is
   * otherwise 20 000 reads of one header each, every one a round trip through libuv's thread pool
   * (50 s for a 10 MB oci-archive on a loaded machine, found by fuzzing; a few reads now).
   */
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  async read(n: number): Promise<Buffer | null> {
    if (this.position >= this.fileSize && n > 0) return null;
    if (this.position + n > this.fileSize) throw truncated(this.input, this.position, 'header or metadata');
    let at = this.position - this.windowStart;
    if (at < 0 || at + n > this.window.length) {
      const length = Math.min(Math.max(n, READ_WINDOW_BYTES), this.fileSize - this.position);
      const buf = Buffer.alloc(length);
      const { bytesRead } = await this.handle.read(buf, 0, length, this.position);
      if (bytesRead < n) throw truncated(this.input, this.position, 'header or metadata');
      this.window = buf.subarray(0, bytesRead);
      this.windowStart = this.position;
      at = 0;
    }
    this.position += n;
    // A copy: callers keep metadata bodies (long names), and the window is replaced.
    return Buffer.from(this.window.subarray(at, at + n));
  }

  async skip(n: number): Promise<void> {
    if (this.position + n > this.fileSize) throw truncated(this.input, this.position, 'entry content');
    this.position += n;
  }
}

/** Compressed tarballs are named for what they are: the checksum error they would give says less. */
async function refuseCompressed(handle: FileHandle, input: string): Promise<void> {
  const magic = Buffer.alloc(4);
  const { bytesRead } = await handle.read(magic, 0, 4, 0);
  const compression =
    bytesRead >= 2 && magic[0] === 0x1f && magic[1] === 0x8b
      ? 'gzip'
      : bytesRead === 4 && magic.readUInt32BE(0) === 0x28b52ffd
        ? 'zstd'
        : undefined;
  if (compression) {
    throw new WaybillError(
      'UNSUPPORTED',
      input,
      `archive is ${compression}-compressed; only uncompressed tar files are indexed`,
    );
  }
}

/**
 * Indexes an uncompressed tar file by reading its headers only (seeking over content). Hard links
 * are resolved to their target's content when the target precedes them.
 */
export async function indexTarFile(path: string, options?: Partial<TarReadOptions>): Promise<TarIndex> {
  const input = options?.input ?? path;
  // A regular file only: a FIFO or device would block or never end (util/regular-file.ts).
  const { handle, size } = await openRegularFile(path, { input });
  try {
    await refuseCompressed(handle, input);
    const blocks = new FileBlocks(handle, size, input);
    const index: TarIndex = new Map();
    for await (const header of parseHeaders(blocks, input)) {
      if (index.size >= MAX_INDEX_ENTRIES && !index.has(header.path)) {
        throw new WaybillError('LIMIT', input, `more than ${MAX_INDEX_ENTRIES} tar entries`);
      }
      const entry: TarIndexEntry = {
        path: header.path,
        type: header.type,
        offset: header.dataOffset,
        size: header.size,
      };
      if (header.linkTarget !== undefined) entry.linkTarget = header.linkTarget;
      const target = header.type === 'hardlink' ? index.get(header.linkTarget as string) : undefined;
      if (target && target.type === 'file') {
        entry.offset = target.offset;
        entry.size = target.size;
      }
      index.set(header.path, entry);
      await blocks.skip(header.size + padding(header.size));
    }
    return index;
  } finally {
    await handle.close();
  }
}

/** A stream of one indexed entry's content. */
export function openIndexedEntry(archivePath: string, entry: TarIndexEntry): Readable {
  if (entry.size === 0) return Readable.from([]);
  return createReadStream(archivePath, { start: entry.offset, end: entry.offset + entry.size - 1 });
}
