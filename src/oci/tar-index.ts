/**
 * Lists the entries of an uncompressed tar FILE with the offset of each entry's data, reading only
 * the headers (positional reads), so an archive rewrite can copy multi-gigabyte layers straight from
 * the original without buffering or extracting them. Understands ustar (name + prefix), POSIX pax
 * `x` records (path, linkpath, size), GNU `L`/`K` long names and GNU base-256 sizes; `g` global
 * headers are skipped.
 *
 * This is deliberately the minimal reader the archive WRITE path needs; walking image contents is
 * the job of src/archive/tar-reader.ts.
 */
import { open } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';

export interface TarIndexEntry {
  /** Normalized relative path: no leading `./` or `/`, no trailing `/`. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  size: number;
  /** Byte offset of the entry's data in the tar file. */
  offset: number;
  linkTarget?: string;
}

const BLOCK = 512;
/** More entries than any image archive has; stops pathological files early. */
const MAX_ENTRIES = 200_000;
/** Extension records (pax, GNU long names) are small; anything bigger is hostile. */
const MAX_EXTENSION = 1024 * 1024;

export async function indexTarFile(path: string): Promise<TarIndexEntry[]> {
  const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new WaybillError('NOT_FOUND', path, `cannot open (${e.code ?? e.message})`, { cause: e });
  });
  try {
    const { size: fileSize } = await handle.stat();
    const read = async (position: number, length: number): Promise<Buffer> => {
      if (position + length > fileSize) throw new WaybillError('MALFORMED', path, 'tar archive is truncated');
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, position);
      if (bytesRead !== length) throw new WaybillError('MALFORMED', path, 'tar archive is truncated');
      return buf;
    };
    if (fileSize >= 2) {
      const magic = await read(0, Math.min(fileSize, 4));
      if (magic[0] === 0x1f && magic[1] === 0x8b) {
        throw new WaybillError(
          'UNSUPPORTED',
          path,
          'archive is gzip-compressed; waybill rewrites uncompressed tar only',
        );
      }
      if (magic.length === 4 && magic.readUInt32BE(0) === 0x28b52ffd) {
        throw new WaybillError(
          'UNSUPPORTED',
          path,
          'archive is zstd-compressed; waybill rewrites uncompressed tar only',
        );
      }
    }
    return await walkHeaders(path, fileSize, read);
  } finally {
    await handle.close();
  }
}

async function walkHeaders(
  path: string,
  fileSize: number,
  read: (position: number, length: number) => Promise<Buffer>,
): Promise<TarIndexEntry[]> {
  const entries: TarIndexEntry[] = [];
  let position = 0;
  let pending: { path?: string; linkpath?: string; size?: number } = {};
  while (true) {
    if (position + BLOCK > fileSize) {
      // Some writers omit the end-of-archive blocks; a clean end at a block boundary is accepted.
      if (position === fileSize && Object.keys(pending).length === 0) break;
      throw new WaybillError('MALFORMED', path, 'tar archive is truncated');
    }
    const header = await read(position, BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    verifyChecksum(header, path, position);
    const typeflag = String.fromCharCode(header[156]!);
    const size = pending.size ?? readNumber(header.subarray(124, 136), path, position);
    const dataOffset = position + BLOCK;
    const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    if (next > fileSize) throw new WaybillError('MALFORMED', path, 'tar archive is truncated');

    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_EXTENSION)
        throw new WaybillError('LIMIT', path, `tar extension header of ${size} bytes`);
      const body = await read(dataOffset, size);
      if (typeflag === 'x') pending = { ...pending, ...parsePax(body, path) };
      else if (typeflag === 'L') pending.path = cString(body);
      else if (typeflag === 'K') pending.linkpath = cString(body);
      position = next;
      continue;
    }

    const rawName = pending.path ?? ustarName(header);
    const linkTarget = pending.linkpath ?? cString(header.subarray(157, 257));
    pending = {};
    const entryPath = normalizeArchivePath(rawName, path);
    const type =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'dir'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'other';
    if (entryPath !== '') {
      const entry: TarIndexEntry = {
        path: entryPath,
        type,
        size: type === 'file' ? size : 0,
        offset: dataOffset,
      };
      if (type === 'symlink' || type === 'hardlink') entry.linkTarget = linkTarget;
      entries.push(entry);
      if (entries.length > MAX_ENTRIES)
        throw new WaybillError('LIMIT', path, `more than ${MAX_ENTRIES} tar entries`);
    }
    position = next;
  }
  return entries;
}

function verifyChecksum(header: Buffer, path: string, position: number): void {
  const stored = readNumber(header.subarray(148, 156), path, position);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== stored)
    throw new WaybillError('MALFORMED', path, `bad tar header checksum at offset ${position}`);
}

/** Octal (NUL/space padded) or GNU base-256 (high bit of the first byte set). */
function readNumber(field: Buffer, path: string, position: number): number {
  if (field[0]! & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if ((field[0]! & 0x7f) !== 0 || !Number.isSafeInteger(value)) {
      throw new WaybillError('LIMIT', path, `tar number too large at offset ${position}`);
    }
    return value;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new WaybillError('MALFORMED', path, `bad tar header number at offset ${position}`);
  return Number.parseInt(text, 8);
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end === -1 ? buf.length : end).toString('utf8');
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const isUstar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** pax records: "<len> <key>=<value>\n" (POSIX.1-2001 pax extended header). */
function parsePax(body: Buffer, path: string): { path?: string; linkpath?: string; size?: number } {
  const out: { path?: string; linkpath?: string; size?: number } = {};
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0) break;
    const space = body.indexOf(0x20, i);
    const length = space === -1 ? Number.NaN : Number(body.subarray(i, space).toString('latin1'));
    if (
      !Number.isSafeInteger(length) ||
      length <= 0 ||
      i + length > body.length ||
      body[i + length - 1] !== 0x0a
    ) {
      throw new WaybillError('MALFORMED', path, 'bad pax extended header record');
    }
    const record = body.subarray(space + 1, i + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) {
      const key = record.slice(0, eq);
      const value = record.slice(eq + 1);
      if (key === 'path') out.path = value;
      else if (key === 'linkpath') out.linkpath = value;
      else if (key === 'size') {
        if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
          throw new WaybillError('MALFORMED', path, 'bad pax size record');
        }
        out.size = Number(value);
      }
    }
    i += length;
  }
  return out;
}

/** `./blobs/sha256/x` and `blobs/sha256/x/` both become `blobs/sha256/x`; escaping paths are refused. */
export function normalizeArchivePath(raw: string, archive: string): string {
  if (raw.includes('\0')) throw new WaybillError('UNSAFE_PATH', archive, 'tar entry name contains NUL');
  if (raw.startsWith('/')) throw new WaybillError('UNSAFE_PATH', archive, `absolute tar entry path ${raw}`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new WaybillError('UNSAFE_PATH', archive, `tar entry path escapes the archive: ${raw}`);
  return parts.join('/');
}
