/**
 * A small zip writer (PKWARE APPNOTE.TXT 4.3): local headers with the sizes filled in (no data
 * descriptors), a central directory and the end record. No Zip64: a member or archive past 4 GiB is
 * refused with UNSUPPORTED. Output is deterministic: no extra fields, timestamps are whatever the
 * caller passes (1980-01-01 by default), compression is zlib's raw deflate at a fixed level.
 *
 * Members can be copied from another archive without being recompressed (`rawMembers`), so
 * rewriting one file of a wheel keeps every other member's bytes exactly.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { WaybillError } from '../errors.ts';
import { openZip, type ZipLimits } from './zip-reader.ts';

/** A member whose compressed bytes and header fields are already known. */
export interface RawZipMember {
  /** The name exactly as stored (directories end with `/`). */
  name: string;
  method: number;
  /** General purpose flags; only bit 11 (UTF-8 name) is carried over. */
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  dosTime: number;
  dosDate: number;
  /** High 16 bits: Unix mode when `versionMadeBy` says Unix (APPNOTE 4.4.2, 4.4.15). */
  externalAttr: number;
  versionMadeBy: number;
  compressed: Buffer;
}

export interface NewZipMember {
  name: string;
  data: Buffer;
  /** 8 (deflate, default) or 0 (stored). */
  method?: 0 | 8;
  dosTime?: number;
  dosDate?: number;
  /** Unix mode bits (e.g. 0o644); default 0o644 for files. */
  mode?: number;
}

export type ZipMemberInput = { raw: RawZipMember } | NewZipMember;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const FLAG_UTF8 = 1 << 11;
/** "Made by" Unix (3), spec version 2.0: tells readers the high external-attribute bits are a mode. */
const MADE_BY_UNIX = (3 << 8) | 20;
const VERSION_NEEDED = 20;
const MAX32 = 0xffffffff;
/** MS-DOS date of 1980-01-01, the earliest a zip can say: the deterministic default. */
export const DOS_EPOCH_DATE = (0 << 9) | (1 << 5) | 1;
const S_IFREG = 0o100000;

/** DOS date and time fields for a Date (local fields taken as UTC, so the bytes do not depend on the machine). */
export function dosDateTime(date: Date): { dosDate: number; dosTime: number } {
  const year = Math.min(2107, Math.max(1980, date.getUTCFullYear()));
  if (date.getUTCFullYear() < 1980) return { dosDate: DOS_EPOCH_DATE, dosTime: 0 };
  return {
    dosDate: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
    dosTime: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1),
  };
}

/** Compress a new member into the raw form the writer copies. */
export function makeMember(m: NewZipMember): RawZipMember {
  const method = m.method ?? 8;
  const compressed = method === 8 ? deflateRawSync(m.data, { level: 9 }) : m.data;
  return {
    name: m.name,
    method,
    flags: /[^\x20-\x7e]/.test(m.name) ? FLAG_UTF8 : 0,
    crc32: crc32(m.data) >>> 0,
    compressedSize: compressed.length,
    uncompressedSize: m.data.length,
    dosTime: m.dosTime ?? 0,
    dosDate: m.dosDate ?? DOS_EPOCH_DATE,
    externalAttr: ((S_IFREG | (m.mode ?? 0o644)) << 16) >>> 0,
    versionMadeBy: MADE_BY_UNIX,
    compressed,
  };
}

/** Write a zip archive. Names must be unique; throws WaybillError (USAGE, UNSUPPORTED). */
export function writeZip(members: ZipMemberInput[], input = 'zip'): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const item of members) {
    const m = 'raw' in item ? item.raw : makeMember(item);
    if (seen.has(m.name)) throw new WaybillError('USAGE', input, `duplicate zip member ${m.name}`);
    seen.add(m.name);
    if (m.compressedSize !== m.compressed.length) {
      throw new WaybillError(
        'USAGE',
        input,
        `zip member ${m.name}: compressed size disagrees with its bytes`,
      );
    }
    if (m.compressedSize >= MAX32 || m.uncompressedSize >= MAX32 || offset >= MAX32) {
      throw new WaybillError(
        'UNSUPPORTED',
        input,
        'zip members past 4 GiB need Zip64, which this writer does not write',
      );
    }
    const name = Buffer.from(m.name, 'utf8');
    // Names are written as UTF-8; say so whenever that is not plain ASCII (APPNOTE 4.4.4 bit 11).
    const flags = (m.flags & FLAG_UTF8) | (name.length !== m.name.length ? FLAG_UTF8 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(SIG_LOCAL, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(m.method, 8);
    local.writeUInt16LE(m.dosTime & 0xffff, 10);
    local.writeUInt16LE(m.dosDate & 0xffff, 12);
    local.writeUInt32LE(m.crc32 >>> 0, 14);
    local.writeUInt32LE(m.compressedSize, 18);
    local.writeUInt32LE(m.uncompressedSize, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(SIG_CENTRAL, 0);
    cd.writeUInt16LE(m.versionMadeBy & 0xffff, 4);
    cd.writeUInt16LE(VERSION_NEEDED, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(m.method, 10);
    cd.writeUInt16LE(m.dosTime & 0xffff, 12);
    cd.writeUInt16LE(m.dosDate & 0xffff, 14);
    cd.writeUInt32LE(m.crc32 >>> 0, 16);
    cd.writeUInt32LE(m.compressedSize, 20);
    cd.writeUInt32LE(m.uncompressedSize, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(m.externalAttr >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, m.compressed);
    central.push(cd, name);
    offset += local.length + name.length + m.compressed.length;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  if (members.length >= 0xffff || offset + cdSize >= MAX32) {
    throw new WaybillError('UNSUPPORTED', input, 'archive needs Zip64, which this writer does not write');
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(SIG_EOCD, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, eocd]);
}

/**
 * Every member of an archive in central-directory order, with its compressed bytes, ready to copy.
 * The archive is validated by the reader first (names, limits); each member's data is CRC-checked
 * by inflating it once, so a damaged member is not copied silently.
 */
export function rawMembers(buf: Buffer, input: string, limits?: Partial<ZipLimits>): RawZipMember[] {
  const zip = openZip(buf, input, { limits });
  const cd = centralAttributes(buf, zip.entries.length);
  return zip.entries.map((e, i) => {
    const where = `${input}!/${e.name}`;
    zip.read(e); // verifies sizes and CRC (and the byte budget)
    const lh = e.localHeaderOffset;
    const start = lh + 30 + buf.readUInt16LE(lh + 26) + buf.readUInt16LE(lh + 28);
    if (start + e.compressedSize > buf.length)
      throw new WaybillError('MALFORMED', where, 'entry data runs past the end of the archive');
    const attrs = cd[i];
    return {
      name: attrs?.name ?? (e.isDirectory ? `${e.name}/` : e.name),
      method: e.method,
      flags: attrs?.flags ?? buf.readUInt16LE(lh + 6),
      crc32: e.crc32 >>> 0,
      compressedSize: e.compressedSize,
      uncompressedSize: e.uncompressedSize,
      dosTime: attrs?.dosTime ?? buf.readUInt16LE(lh + 10),
      dosDate: attrs?.dosDate ?? buf.readUInt16LE(lh + 12),
      externalAttr: attrs?.externalAttr ?? ((S_IFREG | 0o644) << 16) >>> 0,
      versionMadeBy: attrs?.versionMadeBy ?? MADE_BY_UNIX,
      compressed: buf.subarray(start, start + e.compressedSize),
    };
  });
}

interface CentralAttributes {
  name: string;
  flags: number;
  dosTime: number;
  dosDate: number;
  externalAttr: number;
  versionMadeBy: number;
}

/**
 * The header fields the reader does not expose (mode bits, times, raw names), read from the central
 * directory. Best effort: for an archive whose directory this walk cannot place (Zip64), an empty
 * list, and the caller falls back to the local headers and default modes.
 */
function centralAttributes(buf: Buffer, count: number): CentralAttributes[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return [];
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdSize === MAX32 || cdOffset === MAX32) return [];
  const shift = eocd - (cdOffset + cdSize);
  let p = cdOffset + shift;
  const out: CentralAttributes[] = [];
  for (let i = 0; i < count; i++) {
    if (p < 0 || p + 46 > eocd || buf.readUInt32LE(p) !== SIG_CENTRAL) return [];
    const flags = buf.readUInt16LE(p + 8);
    const nameLen = buf.readUInt16LE(p + 28);
    const next = p + 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    if (next > eocd) return [];
    out.push({
      name: buf.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen).replace(/\\/g, '/'),
      flags,
      dosTime: buf.readUInt16LE(p + 12),
      dosDate: buf.readUInt16LE(p + 14),
      externalAttr: buf.readUInt32LE(p + 38),
      versionMadeBy: buf.readUInt16LE(p + 4),
    });
    p = next;
  }
  return out;
}
