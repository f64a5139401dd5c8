/**
 * An in-memory zip reader (PKWARE APPNOTE.TXT): end of central directory → central directory →
 * local headers → stored (0) or deflated (8) data, with Zip64 sizes and offsets (4.3.14–4.3.16,
 * extra field 0x0001). Everything is bounded: entry count, bytes inflated across an archive and
 * the archives nested in it, per-entry expansion ratio, nesting depth. Names that would escape the
 * root (`..`, absolute, drive letters) → UNSAFE_PATH.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { WaybillError } from '../errors.ts';

export interface ZipLimits {
  /** Central directory entries per archive. */
  maxEntries: number;
  /** Bytes inflated in total, for one archive and every archive opened from it. */
  maxTotalUncompressed: number;
  /** Uncompressed / compressed size past which an entry is refused (deflate tops out near 1032). */
  maxRatio: number;
  /** Entries smaller than this are not ratio-checked (a 0-filled 4 KiB file is fine). */
  ratioFloor: number;
  /** How deep `openNested` may go (a jar in a war in an ear = 2). */
  maxDepth: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 200_000,
  maxTotalUncompressed: 512 * 1024 * 1024,
  maxRatio: 200,
  ratioFloor: 1024 * 1024,
  maxDepth: 4,
};

export interface ZipEntry {
  /** Normalized relative path (`/`-separated, no `./`, no trailing `/` for directories). */
  name: string;
  isDirectory: boolean;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  encrypted: boolean;
  /** Offset of the local file header (already corrected for data prepended to the archive). */
  localHeaderOffset: number;
}

export interface ZipArchive {
  name: string;
  /** Nesting depth: 0 for the outer archive. */
  depth: number;
  entries: ZipEntry[];
  find(path: string): ZipEntry | undefined;
  /** The entry's bytes, inflated and CRC-checked. */
  read(entry: ZipEntry): Buffer;
  /** Open a zip stored inside this one; shares this archive's limits and byte budget. */
  openNested(entry: ZipEntry): ZipArchive;
}

/** True for the first bytes of a zip (local file header, or the EOCD of an empty archive). */
export function isZipHead(head: Buffer): boolean {
  if (head.length < 4) return false;
  const sig = head.readUInt32LE(0);
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_EOCD64 = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const FLAG_ENCRYPTED = 1;
const FLAG_UTF8 = 1 << 11;

interface Budget {
  inflated: number;
}

export function openZip(
  buf: Buffer,
  name: string,
  options: { limits?: Partial<ZipLimits> } = {},
): ZipArchive {
  const limits = { ...DEFAULT_ZIP_LIMITS, ...options.limits };
  return open(buf, name, limits, { inflated: 0 }, 0);
}

function open(buf: Buffer, name: string, limits: ZipLimits, budget: Budget, depth: number): ZipArchive {
  const bad = (reason: string) => new WaybillError('MALFORMED', name, reason);
  const eocd = findEocd(buf);
  if (eocd < 0) throw bad('not a zip archive: no end of central directory record');
  let total = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  let cdEnd = eocd;
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const z = readZip64Eocd(buf, eocd, bad);
    if (z) ({ total, cdSize, cdOffset, cdEnd } = z);
  }
  if (total > limits.maxEntries) {
    throw new WaybillError(
      'LIMIT',
      name,
      `zip has ${total} entries, more than the limit of ${limits.maxEntries}`,
    );
  }
  // Data prepended to the archive (a launcher script before an executable jar) shifts every offset.
  const shift = cdEnd - (cdOffset + cdSize);
  if (shift < 0) throw bad('central directory overlaps the end record');
  const cdStart = cdOffset + shift;

  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  let p = cdStart;
  for (let i = 0; i < total; i++) {
    if (p + 46 > cdEnd || buf.readUInt32LE(p) !== SIG_CENTRAL)
      throw bad(`central directory entry ${i} is damaged`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cdEnd) throw bad(`central directory entry ${i} runs past the directory`);
    const rawName = buf.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    const extra = buf.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
    if (usize === 0xffffffff || csize === 0xffffffff || local === 0xffffffff) {
      ({ usize, csize, local } = applyZip64Extra(extra, usize, csize, local, bad));
    }
    const isDirectory = rawName.endsWith('/');
    const entry: ZipEntry = {
      name: safeName(rawName, name),
      isDirectory,
      method,
      compressedSize: csize,
      uncompressedSize: usize,
      crc32: crc,
      encrypted: (flags & FLAG_ENCRYPTED) !== 0,
      localHeaderOffset: local + shift,
    };
    entries.push(entry);
    // Duplicate names: the last one wins, as with most extractors (and `jar`'s class loader).
    if (!isDirectory) byName.set(entry.name, entry);
    p = next;
  }

  const archive: ZipArchive = {
    name,
    depth,
    entries,
    find: (path) => byName.get(path),
    read(entry) {
      return readEntry(buf, name, entry, limits, budget);
    },
    openNested(entry) {
      if (depth + 1 > limits.maxDepth) {
        throw new WaybillError(
          'LIMIT',
          `${name}!/${entry.name}`,
          `zip nested deeper than ${limits.maxDepth} levels`,
        );
      }
      return open(this.read(entry), `${name}!/${entry.name}`, limits, budget, depth + 1);
    },
  };
  return archive;
}

/** How many bytes at the end of a zip hold its end of central directory record (a maximal comment). */
export const EOCD_TAIL_BYTES = EOCD_SIZE + MAX_COMMENT;

/** True when `tail`, a file's last EOCD_TAIL_BYTES bytes (or all of a smaller file), ends a zip. */
export function endsLikeZip(tail: Buffer): boolean {
  return tail.length >= EOCD_SIZE && findEocd(tail) >= 0;
}

function findEocd(buf: Buffer): number {
  const last = buf.length - EOCD_SIZE;
  const first = Math.max(0, last - MAX_COMMENT);
  for (let i = last; i >= first; i--) {
    // The comment length must reach exactly to the end, which rules out a signature inside a comment.
    if (buf.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + buf.readUInt16LE(i + 20) === buf.length) return i;
  }
  // Some writers leave trailing bytes after the comment; accept the last signature found.
  for (let i = last; i >= first; i--) if (buf.readUInt32LE(i) === SIG_EOCD) return i;
  return -1;
}

function readZip64Eocd(
  buf: Buffer,
  eocd: number,
  bad: (r: string) => WaybillError,
): { total: number; cdSize: number; cdOffset: number; cdEnd: number } | undefined {
  const loc = eocd - 20;
  if (loc < 0 || buf.readUInt32LE(loc) !== SIG_EOCD64_LOCATOR) return undefined;
  const declared = num64(buf.readBigUInt64LE(loc + 8), bad);
  // Like the central directory, the Zip64 record may be shifted by prepended data: it ends at the locator.
  let at = declared;
  if (at + 56 > buf.length || buf.readUInt32LE(at) !== SIG_EOCD64) {
    at = loc - 56;
    if (at < 0 || buf.readUInt32LE(at) !== SIG_EOCD64)
      throw bad('Zip64 end of central directory record is missing');
  }
  return {
    total: num64(buf.readBigUInt64LE(at + 32), bad),
    cdSize: num64(buf.readBigUInt64LE(at + 40), bad),
    cdOffset: num64(buf.readBigUInt64LE(at + 48), bad),
    cdEnd: at,
  };
}

function applyZip64Extra(
  extra: Buffer,
  usize: number,
  csize: number,
  local: number,
  bad: (r: string) => WaybillError,
): { usize: number; csize: number; local: number } {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = extra.readUInt16LE(p);
    const size = extra.readUInt16LE(p + 2);
    const end = p + 4 + size;
    if (end > extra.length) break;
    if (id === 0x0001) {
      // Only the fields whose 32-bit value is all ones are present, in this order (APPNOTE 4.5.3).
      let q = p + 4;
      const take = () => {
        if (q + 8 > end) throw bad('Zip64 extra field is too short');
        const v = num64(extra.readBigUInt64LE(q), bad);
        q += 8;
        return v;
      };
      if (usize === 0xffffffff) usize = take();
      if (csize === 0xffffffff) csize = take();
      if (local === 0xffffffff) local = take();
      return { usize, csize, local };
    }
    p = end;
  }
  return { usize, csize, local };
}

function num64(v: bigint, bad: (r: string) => WaybillError): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`zip size or offset ${v} is past any file`);
  return Number(v);
}

/** Normalize an entry name; refuse the ones that would land outside the extraction root. */
function safeName(raw: string, archive: string): string {
  const unsafe = () =>
    new WaybillError(
      'UNSAFE_PATH',
      archive,
      `zip entry name escapes the archive root: ${JSON.stringify(raw.slice(0, 200))}`,
    );
  const s = raw.replace(/\\/g, '/');
  if (s.startsWith('/') || /^[A-Za-z]:/.test(s) || s.includes('\0')) throw unsafe();
  const parts: string[] = [];
  for (const seg of s.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw unsafe();
    parts.push(seg);
  }
  return parts.join('/');
}

function readEntry(buf: Buffer, archive: string, entry: ZipEntry, limits: ZipLimits, budget: Budget): Buffer {
  const where = `${archive}!/${entry.name}`;
  const bad = (reason: string) => new WaybillError('MALFORMED', where, reason);
  if (entry.isDirectory) return Buffer.alloc(0);
  if (entry.encrypted) throw new WaybillError('UNSUPPORTED', where, 'zip entry is encrypted');
  const lh = entry.localHeaderOffset;
  if (lh + 30 > buf.length || buf.readUInt32LE(lh) !== SIG_LOCAL) throw bad('local file header is missing');
  const start = lh + 30 + buf.readUInt16LE(lh + 26) + buf.readUInt16LE(lh + 28);
  if (start + entry.compressedSize > buf.length) throw bad('entry data runs past the end of the archive');
  const raw = buf.subarray(start, start + entry.compressedSize);

  const size = entry.uncompressedSize;
  if (size >= limits.ratioFloor && size / Math.max(1, entry.compressedSize) > limits.maxRatio) {
    throw new WaybillError(
      'LIMIT',
      where,
      `expands ${Math.round(size / Math.max(1, entry.compressedSize))}x, past the ratio limit of ${limits.maxRatio}`,
    );
  }
  if (budget.inflated + size > limits.maxTotalUncompressed) {
    throw new WaybillError(
      'LIMIT',
      where,
      `reading it would inflate more than ${limits.maxTotalUncompressed} bytes in total`,
    );
  }
  let out: Buffer;
  if (entry.method === 0) {
    if (entry.compressedSize !== size) throw bad('stored entry sizes disagree');
    out = raw;
  } else if (entry.method === 8) {
    try {
      // Cap at the declared size (+1 to notice a lie): the declared size was what the budget allowed.
      out = inflateRawSync(raw, { maxOutputLength: Math.max(1, size + 1) });
    } catch {
      throw bad('deflate data is damaged or larger than declared');
    }
  } else {
    throw new WaybillError('UNSUPPORTED', where, `zip compression method ${entry.method}`);
  }
  if (out.length !== size) throw bad(`inflated to ${out.length} bytes, the directory says ${size}`);
  if (crc32(out) >>> 0 !== entry.crc32 >>> 0) throw bad('CRC-32 mismatch');
  budget.inflated += size;
  return out;
}
