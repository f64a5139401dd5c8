/**
 * RPM header structure (rpm docs/manual/format.md "Header"; hregions.md): an index of 16-byte
 * big-endian entries (tag, type, offset, count) followed by a data store. rpmdb backends (sqlite,
 * ndb, bdb) store the header blob without the 8-byte magic: `il` (entry count), `dl` (data length),
 * the entries, the data. In .rpm files the signature and main headers are preceded by the magic
 * `8e ad e8 01 00 00 00 00`.
 *
 * Every offset and count is checked against the blob before it is read: rpmdb contents are
 * untrusted input (an image layer can carry anything).
 */
import { WaybillError } from '../../errors.ts';

/** Tag numbers from rpm's include/rpm/rpmtag.h. */
export const RpmTag = {
  HEADERIMMUTABLE: 63,
  SIGMD5: 261,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  INSTALLTIME: 1008,
  SIZE: 1009,
  DISTRIBUTION: 1010,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  OS: 1021,
  ARCH: 1022,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  BUGURL: 5012,
  MODULARITYLABEL: 5096,
} as const;

/** Entry types (rpmtag.h rpmTagType_e). */
export const RpmType = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

export type RpmValue = string | string[] | number[] | bigint[] | Buffer;

export interface RpmHeader {
  /** Tag → decoded value. STRING → string; STRING_ARRAY/I18NSTRING → string[]; ints → number[] (INT64 → bigint[]); BIN → Buffer. */
  tags: Map<number, RpmValue>;
}

export const RPM_HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0x00, 0x00, 0x00, 0x00]);

/** rpm's own sanity limits (lib/header.c hdrchkTags / hdrchkData): 0xffff entries, 256 MiB data. */
const MAX_ENTRIES = 0xffff;
const MAX_DATA = 256 * 1024 * 1024;

const ALIGN: Record<number, number> = { 3: 2, 4: 4, 5: 8 };

/**
 * Parse a header blob as stored in an rpmdb: il, dl, il×16 index bytes, dl data bytes.
 * Trailing bytes after the data are ignored (BDB/NDB pad blobs). Throws WaybillError MALFORMED.
 */
export function parseRpmHeaderBlob(blob: Buffer, input = 'rpm header'): RpmHeader {
  return parseAt(blob, 0, input).header;
}

/**
 * Parse a header with the 8-byte magic at `offset` (as in .rpm files). Returns the header and the
 * offset just past its data, where the next structure (padding, main header, payload) begins.
 */
export function parseRpmHeaderWithMagic(
  buf: Buffer,
  offset: number,
  input = 'rpm header',
): { header: RpmHeader; end: number } {
  if (offset < 0 || offset + 8 > buf.length) throw malformed(input, 'truncated before header magic');
  if (!buf.subarray(offset, offset + 8).equals(RPM_HEADER_MAGIC)) throw malformed(input, 'bad header magic');
  return parseAt(buf, offset + 8, input);
}

function parseAt(buf: Buffer, start: number, input: string): { header: RpmHeader; end: number } {
  if (start + 8 > buf.length) throw malformed(input, 'truncated header intro');
  const il = buf.readUInt32BE(start);
  const dl = buf.readUInt32BE(start + 4);
  if (il < 1 || il > MAX_ENTRIES) throw malformed(input, `index count ${il} out of range`);
  if (dl > MAX_DATA) throw malformed(input, `data length ${dl} out of range`);
  const indexStart = start + 8;
  const dataStart = indexStart + il * 16;
  const end = dataStart + dl;
  if (end > buf.length)
    throw malformed(input, `header needs ${end - start} bytes, blob has ${buf.length - start}`);
  const data = buf.subarray(dataStart, end);
  const tags = new Map<number, RpmValue>();
  for (let i = 0; i < il; i++) {
    const at = indexStart + i * 16;
    const tag = buf.readUInt32BE(at);
    const type = buf.readUInt32BE(at + 4);
    const off = buf.readInt32BE(at + 8);
    const count = buf.readUInt32BE(at + 12);
    if (off < 0 || off > dl) throw malformed(input, `tag ${tag}: offset ${off} past data (${dl} bytes)`);
    // Region tags (61–64) point at a trailer, not a value we need; their data is BIN-typed 16 bytes.
    if (tag >= 61 && tag <= 64) continue;
    tags.set(tag, decodeValue(data, tag, type, off, count, input));
  }
  return { header: { tags }, end };
}

function decodeValue(
  data: Buffer,
  tag: number,
  type: number,
  off: number,
  count: number,
  input: string,
): RpmValue {
  const need = (bytes: number): void => {
    if (bytes > data.length - off) throw malformed(input, `tag ${tag}: value runs past data`);
  };
  const align = ALIGN[type];
  if (align && off % align !== 0) throw malformed(input, `tag ${tag}: misaligned value`);
  switch (type) {
    case RpmType.NULL:
      return [];
    case RpmType.CHAR:
    case RpmType.INT8:
      need(count);
      return Array.from(data.subarray(off, off + count));
    case RpmType.INT16: {
      need(count * 2);
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(data.readUInt16BE(off + i * 2));
      return out;
    }
    case RpmType.INT32: {
      need(count * 4);
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(data.readUInt32BE(off + i * 4));
      return out;
    }
    case RpmType.INT64: {
      need(count * 8);
      const out: bigint[] = [];
      for (let i = 0; i < count; i++) out.push(data.readBigUInt64BE(off + i * 8));
      return out;
    }
    case RpmType.BIN:
      need(count);
      return Buffer.from(data.subarray(off, off + count));
    case RpmType.STRING: {
      if (count !== 1) throw malformed(input, `tag ${tag}: STRING with count ${count}`);
      return readStrings(data, off, 1, tag, input)[0] as string;
    }
    case RpmType.STRING_ARRAY:
    case RpmType.I18NSTRING:
      return readStrings(data, off, count, tag, input);
    default:
      throw malformed(input, `tag ${tag}: unknown type ${type}`);
  }
}

function readStrings(data: Buffer, off: number, count: number, tag: number, input: string): string[] {
  // Each string is NUL-terminated; a count larger than the bytes left cannot be satisfied.
  if (count > data.length - off) throw malformed(input, `tag ${tag}: ${count} strings cannot fit`);
  const out: string[] = [];
  let at = off;
  for (let i = 0; i < count; i++) {
    const nul = data.indexOf(0, at);
    if (nul < 0) throw malformed(input, `tag ${tag}: unterminated string`);
    out.push(data.toString('utf8', at, nul));
    at = nul + 1;
  }
  return out;
}

function malformed(input: string, reason: string): WaybillError {
  return new WaybillError('MALFORMED', input, `rpm header: ${reason}`);
}

/** A string tag; I18NSTRING gives its first (C locale) value. Wrong type → undefined. */
export function headerString(h: RpmHeader, tag: number): string | undefined {
  const v = h.tags.get(tag);
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

export function headerStrings(h: RpmHeader, tag: number): string[] {
  const v = h.tags.get(tag);
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return [];
}

/** The first integer of an INT8/16/32 tag (INT64 narrowed when safe). */
export function headerNumber(h: RpmHeader, tag: number): number | undefined {
  const v = h.tags.get(tag);
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const first = v[0];
  if (typeof first === 'number') return first;
  if (typeof first === 'bigint' && first <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(first);
  return undefined;
}

/** The fields a package inventory needs, read with type checks. */
export interface RpmPackageInfo {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  summary?: string;
  description?: string;
  license?: string;
  vendor?: string;
  packager?: string;
  url?: string;
  bugUrl?: string;
  sourceRpm?: string;
  buildTime?: number;
  size?: number;
  modularityLabel?: string;
  /** SIGMD5 as lowercase hex. */
  sigmd5?: string;
  /** Installed file paths (DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]), rpmdb headers only. */
  files: string[];
  /** PROVIDENAME: capabilities the package provides (its own name, sonames, virtual names). */
  provides: string[];
  /** REQUIRENAME: capabilities it requires (names, sonames, file paths, `rpmlib(…)`). */
  requires: string[];
}

/** Name, version and release are required; anything else missing is left undefined. */
export function rpmPackageInfo(h: RpmHeader, input = 'rpm header'): RpmPackageInfo {
  const name = headerString(h, RpmTag.NAME);
  const version = headerString(h, RpmTag.VERSION);
  const release = headerString(h, RpmTag.RELEASE);
  if (!name || version === undefined || release === undefined) {
    throw malformed(input, 'NAME, VERSION or RELEASE missing');
  }
  const info: RpmPackageInfo = {
    name,
    version,
    release,
    files: [],
    provides: headerStrings(h, RpmTag.PROVIDENAME),
    requires: headerStrings(h, RpmTag.REQUIRENAME),
  };
  const optional: Array<[keyof RpmPackageInfo, number]> = [
    ['arch', RpmTag.ARCH],
    ['summary', RpmTag.SUMMARY],
    ['description', RpmTag.DESCRIPTION],
    ['license', RpmTag.LICENSE],
    ['vendor', RpmTag.VENDOR],
    ['packager', RpmTag.PACKAGER],
    ['url', RpmTag.URL],
    ['bugUrl', RpmTag.BUGURL],
    ['sourceRpm', RpmTag.SOURCERPM],
    ['modularityLabel', RpmTag.MODULARITYLABEL],
  ];
  for (const [key, tag] of optional) {
    const v = headerString(h, tag);
    if (v !== undefined && v !== '') (info as unknown as Record<string, unknown>)[key] = v;
  }
  const epoch = headerNumber(h, RpmTag.EPOCH);
  if (epoch !== undefined) info.epoch = epoch;
  const buildTime = headerNumber(h, RpmTag.BUILDTIME);
  if (buildTime !== undefined) info.buildTime = buildTime;
  const size = headerNumber(h, RpmTag.SIZE);
  if (size !== undefined) info.size = size;
  const md5 = h.tags.get(RpmTag.SIGMD5);
  if (Buffer.isBuffer(md5)) info.sigmd5 = md5.toString('hex');
  const basenames = headerStrings(h, RpmTag.BASENAMES);
  const dirnames = headerStrings(h, RpmTag.DIRNAMES);
  const dirindexes = h.tags.get(RpmTag.DIRINDEXES);
  if (basenames.length > 0 && Array.isArray(dirindexes) && dirindexes.length === basenames.length) {
    for (let i = 0; i < basenames.length; i++) {
      const dir = dirnames[Number(dirindexes[i])];
      if (dir !== undefined) info.files.push(dir + basenames[i]);
    }
  }
  return info;
}
