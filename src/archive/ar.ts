/**
 * The Unix `ar` archive as Debian binary packages use it (deb(5), ar(5)): the global magic
 * `!<arch>\n`, then members, each a 60-byte ASCII header (name 16, mtime 12, uid 6, gid 6, octal
 * mode 8, size 10, terminator "`\n") followed by `size` bytes and one `\n` pad byte when the size is
 * odd.
 *
 * Names: dpkg writes short names padded with spaces (`debian-binary   `); GNU ar ends them with `/`
 * and keeps longer ones in a `//` table referenced as `/123`; BSD ar writes `#1/LEN` with the name as
 * the first LEN bytes of the member data. All three are read; `/` (a symbol table) is skipped.
 *
 * The reader indexes member offsets (no member data is read except BSD names), so a 4 GB data.tar is
 * never buffered; member bodies are then streamed or read by offset. Every size and offset is
 * checked against the file length: a truncated member is MALFORMED naming the file and the member.
 *
 * The writer emits members exactly as dpkg-deb does (lib/dpkg/ar.c): names padded with spaces, no
 * trailing `/`, uid and gid 0, mode 100644, the given mtime.
 */
import { createReadStream } from 'node:fs';
import { WaybillError } from '../errors.ts';
import { openRegularFile } from '../util/regular-file.ts';

export const AR_MAGIC = Buffer.from('!<arch>\n', 'latin1');
export const AR_HEADER_SIZE = 60;
/** More members than this is not a package: dpkg reads three and looks for a few signature members. */
const MAX_MEMBERS = 4096;
/** GNU long-name tables and BSD names are names, not data. */
const MAX_NAME_BYTES = 4096;

export interface ArMember {
  /** Normalized name: trailing `/` and padding removed, long names resolved. */
  name: string;
  mtime: number;
  uid: number;
  gid: number;
  mode: number;
  /** Size of the member's content (a BSD name stored in front of it excluded). */
  size: number;
  /** Offset of the 60-byte header. */
  headerOffset: number;
  /** Offset of the first content byte. */
  dataOffset: number;
}

/** Random access to the bytes of an archive: a file or, in tests, a buffer. */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (the caller has bounds-checked against `size`). */
  read(offset: number, length: number): Promise<Buffer>;
}

export function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    read: async (offset, length) => buf.subarray(offset, offset + length),
  };
}

/** A file opened for random access; `close` it when done. */
export async function openFileSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  // A regular file only: a FIFO or device would block or never end (util/regular-file.ts).
  const { handle, size } = await openRegularFile(path);
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new WaybillError('MALFORMED', path, 'file shrank while being read');
        done += bytesRead;
      }
      return buf;
    },
    close: () => handle.close(),
  };
}

export async function withFileSource<T>(path: string, use: (source: ByteSource) => Promise<T>): Promise<T> {
  const source = await openFileSource(path);
  try {
    return await use(source);
  } finally {
    await source.close();
  }
}

export function isArArchive(head: Uint8Array): boolean {
  return head.length >= AR_MAGIC.length && AR_MAGIC.equals(head.subarray(0, AR_MAGIC.length));
}

function decimalField(
  header: Buffer,
  start: number,
  length: number,
  what: string,
  input: string,
  member: string,
): number {
  const text = header.toString('latin1', start, start + length).trimEnd();
  // dpkg leaves uid/gid empty in some historical builds; an empty field reads as 0.
  if (text === '') return 0;
  if (!/^[0-9]+$/.test(text)) {
    throw new WaybillError(
      'MALFORMED',
      input,
      `ar member ${member}: bad ${what} field ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

function octalField(header: Buffer, start: number, length: number, input: string, member: string): number {
  const text = header.toString('latin1', start, start + length).trimEnd();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new WaybillError('MALFORMED', input, `ar member ${member}: bad mode field ${JSON.stringify(text)}`);
  }
  return Number.parseInt(text, 8);
}

function printableName(raw: string): string {
  return JSON.stringify(raw.replace(/[^\x20-\x7e]/g, '?'));
}

/**
 * Reads every member header. `input` names the archive in errors. Throws MALFORMED for a bad magic,
 * a bad header, or a member whose content runs past the end of the file.
 */
export async function indexAr(source: ByteSource, input: string): Promise<ArMember[]> {
  if (source.size < AR_MAGIC.length || !AR_MAGIC.equals(await source.read(0, AR_MAGIC.length))) {
    throw new WaybillError('MALFORMED', input, 'not an ar archive (no "!<arch>" magic)');
  }
  const members: ArMember[] = [];
  let longNames: Buffer | undefined;
  let offset = AR_MAGIC.length;
  while (offset < source.size) {
    // A lone pad byte at the very end (an odd last member written without it) is tolerated by GNU ar.
    if (source.size - offset === 1 && (await source.read(offset, 1))[0] === 0x0a) break;
    if (members.length >= MAX_MEMBERS) {
      throw new WaybillError('LIMIT', input, `more than ${MAX_MEMBERS} ar members`);
    }
    if (offset + AR_HEADER_SIZE > source.size) {
      throw new WaybillError('MALFORMED', input, `truncated ar member header at offset ${offset}`);
    }
    const header = await source.read(offset, AR_HEADER_SIZE);
    const rawName = header.toString('latin1', 0, 16);
    const shown = printableName(rawName.trimEnd());
    if (header[58] !== 0x60 || header[59] !== 0x0a) {
      throw new WaybillError(
        'MALFORMED',
        input,
        `ar member ${shown} at offset ${offset}: bad header terminator`,
      );
    }
    const mtime = decimalField(header, 16, 12, 'mtime', input, shown);
    const uid = decimalField(header, 28, 6, 'uid', input, shown);
    const gid = decimalField(header, 34, 6, 'gid', input, shown);
    const mode = octalField(header, 40, 8, input, shown);
    const rawSize = decimalField(header, 48, 10, 'size', input, shown);
    let dataOffset = offset + AR_HEADER_SIZE;
    const end = dataOffset + rawSize;
    if (end > source.size) {
      throw new WaybillError(
        'MALFORMED',
        input,
        `truncated ar member ${shown}: needs ${rawSize} bytes, ${source.size - dataOffset} left`,
      );
    }
    let size = rawSize;
    let name: string;
    let special = false;
    const trimmed = rawName.trimEnd();
    if (trimmed === '/' || trimmed === '/SYM64/') {
      name = trimmed; // symbol table: not a file member
      special = true;
    } else if (trimmed === '//') {
      special = true;
      if (rawSize > MAX_NAME_BYTES * 64)
        throw new WaybillError('LIMIT', input, 'ar long-name table too large');
      longNames = await source.read(dataOffset, rawSize);
      name = '//';
    } else if (/^\/[0-9]+$/.test(trimmed)) {
      const at = Number(trimmed.slice(1));
      if (!longNames || at >= longNames.length) {
        throw new WaybillError('MALFORMED', input, `ar member ${shown}: long name outside the name table`);
      }
      let stop = longNames.indexOf(0x0a, at);
      if (stop < 0) stop = longNames.length;
      name = longNames.toString('latin1', at, stop).replace(/\/$/, '');
    } else if (/^#1\/[0-9]+$/.test(trimmed)) {
      const nameLength = Number(trimmed.slice(3));
      if (nameLength > MAX_NAME_BYTES || nameLength > rawSize) {
        throw new WaybillError(
          'MALFORMED',
          input,
          `ar member ${shown}: BSD name length ${nameLength} is impossible`,
        );
      }
      name = (await source.read(dataOffset, nameLength)).toString('latin1').replace(/\0+$/, '');
      dataOffset += nameLength;
      size -= nameLength;
    } else {
      // dpkg: names end at the first space or `/` (lib/dpkg/ar.c dpkg_ar_normalize_name).
      name = trimmed.replace(/\/$/, '');
    }
    if (!special && (name === '' || name.includes('/') || name.includes('\0'))) {
      throw new WaybillError(
        'MALFORMED',
        input,
        `ar member at offset ${offset} has an unusable name ${shown}`,
      );
    }
    if (!special) members.push({ name, mtime, uid, gid, mode, size, headerOffset: offset, dataOffset });
    offset = end + (rawSize % 2);
  }
  return members;
}

/** `indexAr` over a file path. */
export function indexArFile(path: string): Promise<ArMember[]> {
  return withFileSource(path, (source) => indexAr(source, path));
}

/** A member's whole content, for the small ones (debian-binary, control.tar). */
export async function readArMember(path: string, member: ArMember, maxBytes: number): Promise<Buffer> {
  if (member.size > maxBytes) {
    throw new WaybillError(
      'LIMIT',
      path,
      `ar member ${member.name} is ${member.size} bytes, more than ${maxBytes}`,
    );
  }
  return withFileSource(path, (source) => source.read(member.dataOffset, member.size));
}

// ---------------------------------------------------------------------------------------------
// Writer.

export interface ArWriteMember {
  /** At most 16 bytes, no spaces or `/` (dpkg's member names all qualify). */
  name: string;
  mtime: number;
  /** Content: bytes, or a byte range of an existing file copied without being interpreted. */
  data: Buffer | { path: string; offset: number; size: number };
}

/** One member header, dpkg-deb style: `%-16s%-12lu0     0     100644  %-10jd\`\n`. */
export function arHeader(name: string, mtime: number, size: number): Buffer {
  if (!/^[!-.0-~]{1,16}$/.test(name)) {
    throw new WaybillError(
      'USAGE',
      name,
      'ar member names must be 1–16 printable bytes without "/" or spaces',
    );
  }
  if (!Number.isSafeInteger(mtime) || mtime < 0 || String(mtime).length > 12) {
    throw new WaybillError('USAGE', name, `ar member mtime out of range: ${mtime}`);
  }
  if (!Number.isSafeInteger(size) || size < 0 || String(size).length > 10) {
    throw new WaybillError('LIMIT', name, `ar member of ${size} bytes does not fit the 10-digit size field`);
  }
  const text = `${name.padEnd(16)}${String(mtime).padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
  return Buffer.from(text, 'latin1');
}

/** The archive as a sequence of chunks; file ranges are streamed, never buffered whole. */
export async function* arChunks(members: ArWriteMember[]): AsyncGenerator<Buffer> {
  yield AR_MAGIC;
  for (const member of members) {
    const data = member.data;
    const size = Buffer.isBuffer(data) ? data.length : data.size;
    yield arHeader(member.name, member.mtime, size);
    if (Buffer.isBuffer(data)) {
      yield data;
    } else if (size > 0) {
      let copied = 0;
      const stream = createReadStream(data.path, { start: data.offset, end: data.offset + size - 1 });
      for await (const chunk of stream) {
        copied += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (copied !== size) {
        throw new WaybillError(
          'MALFORMED',
          data.path,
          `ar member ${member.name}: source gave ${copied} of ${size} bytes`,
        );
      }
    }
    if (size % 2 === 1) yield Buffer.from('\n');
  }
}

/** Whole archive in memory, for tests and small packages. */
export async function arBuffer(members: ArWriteMember[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of arChunks(members)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
