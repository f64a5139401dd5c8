/**
 * Minimal Berkeley DB hash-database reader for rpm's legacy `Packages` file (rpm < 4.16 default).
 * Only what an inventory needs: every data item of every hash page, following overflow chains.
 *
 * Facts from Berkeley DB's dbinc/db_page.h and hash.h (byte order is the creating host's; the magic
 * number tells which):
 *   page 0, hash metadata (HMETA): lsn[8] pgno[4] magic[4]=0x061561 version[4] pagesize[4]
 *     encrypt_alg[1] type[1] metaflags[1] unused[1] free[4] last_pgno[4] (offset 32) ...
 *   every page starts with a 26-byte header: lsn[8] pgno[4] prev_pgno[4] next_pgno[4] entries[2]
 *     hf_offset[2] level[1] type[1]
 *   hash pages (type 2 P_HASH_UNSORTED or 13 P_HASH) follow the header with `entries` uint16 item
 *     offsets; items alternate key, data; an item's length is the previous item's offset (or the
 *     page size for item 0) minus its own offset. Item byte 0 is its kind: 1 H_KEYDATA (bytes
 *     follow inline), 3 H_OFFPAGE (unused[3] pgno[4] tlen[4]: value lives on overflow pages).
 *   overflow pages (type 7 P_OVERFLOW): hf_offset bytes of value after the header; next_pgno chains.
 */
import { WaybillError } from '../../errors.ts';

const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
/** rpm headers are capped at 256 MiB (lib/header.c); a longer overflow value is corrupt. */
const MAX_VALUE = 256 * 1024 * 1024;

export function isBdbHash(buf: Buffer): boolean {
  if (buf.length < 16) return false;
  return buf.readUInt32LE(12) === HASH_MAGIC || buf.readUInt32BE(12) === HASH_MAGIC;
}

export interface BdbRecord {
  key: Buffer;
  value: Buffer;
}

/**
 * Every key/value pair stored in the hash pages, in page order. A bad file header throws
 * WaybillError; a single damaged page or chain is reported through `onBad` and skipped.
 */
export function readBdbHash(
  buf: Buffer,
  input = 'Packages',
  onBad: (reason: string) => void = () => {},
): BdbRecord[] {
  if (buf.length < 72) throw new WaybillError('MALFORMED', input, 'bdb: shorter than its metadata page');
  let little: boolean;
  if (buf.readUInt32LE(12) === HASH_MAGIC) little = true;
  else if (buf.readUInt32BE(12) === HASH_MAGIC) little = false;
  else throw new WaybillError('MALFORMED', input, 'bdb: not a Berkeley DB hash database');
  const u32 = (at: number): number => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const u16 = (at: number): number => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));

  const pageSize = u32(20);
  // Berkeley DB page sizes are powers of two between 512 bytes and 64 KiB.
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new WaybillError('MALFORMED', input, `bdb: page size ${pageSize} invalid`);
  }
  const encrypted = buf[24] !== 0;
  if (encrypted) throw new WaybillError('UNSUPPORTED', input, 'bdb: encrypted database');
  const pageCount = Math.floor(buf.length / pageSize);
  const lastPage = Math.min(u32(32), pageCount - 1);

  const records: BdbRecord[] = [];
  for (let pgno = 1; pgno <= lastPage; pgno++) {
    const base = pgno * pageSize;
    const type = buf[base + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(base + 20);
    if (PAGE_HEADER + entries * 2 > pageSize) {
      onBad(`page ${pgno}: ${entries} entries cannot fit`);
      continue;
    }
    const offsets: number[] = [];
    for (let i = 0; i < entries; i++) offsets.push(u16(base + PAGE_HEADER + i * 2));
    const item = (i: number): Buffer | undefined => {
      const start = offsets[i] as number;
      const end = i === 0 ? pageSize : (offsets[i - 1] as number);
      if (start < PAGE_HEADER + entries * 2 || end > pageSize || start >= end) return undefined;
      return buf.subarray(base + start, base + end);
    };
    for (let i = 0; i + 1 < entries; i += 2) {
      const keyItem = item(i);
      const valueItem = item(i + 1);
      if (!keyItem || !valueItem) {
        onBad(`page ${pgno}: item ${i} out of bounds`);
        continue;
      }
      try {
        const key = itemValue(keyItem);
        const value = itemValue(valueItem);
        if (key && value) records.push({ key, value });
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
        onBad(`page ${pgno}: ${e.reason}`);
      }
    }
  }
  return records;

  function itemValue(it: Buffer): Buffer | undefined {
    const kind = it[0];
    if (kind === H_KEYDATA) return Buffer.from(it.subarray(1));
    if (kind === H_OFFPAGE) {
      if (it.length < 12) throw new WaybillError('MALFORMED', input, 'bdb: short off-page item');
      const first = u32(it.byteOffset - buf.byteOffset + 4);
      const total = u32(it.byteOffset - buf.byteOffset + 8);
      return readOverflow(first, total);
    }
    return undefined; // duplicates (H_DUPLICATE, H_OFFDUP) are never used by rpm's Packages
  }

  function readOverflow(first: number, total: number): Buffer {
    if (total > MAX_VALUE) throw new WaybillError('LIMIT', input, `bdb: value of ${total} bytes`);
    const parts: Buffer[] = [];
    let have = 0;
    let pgno = first;
    const seen = new Set<number>();
    while (pgno !== 0 && have < total) {
      if (pgno > lastPage || seen.has(pgno)) {
        throw new WaybillError('MALFORMED', input, `bdb: overflow chain broken at page ${pgno}`);
      }
      seen.add(pgno);
      const base = pgno * pageSize;
      if (buf[base + 25] !== P_OVERFLOW)
        throw new WaybillError('MALFORMED', input, `bdb: page ${pgno} is not an overflow page`);
      const len = u16(base + 22);
      if (PAGE_HEADER + len > pageSize)
        throw new WaybillError('MALFORMED', input, `bdb: overflow page ${pgno} length ${len}`);
      parts.push(buf.subarray(base + PAGE_HEADER, base + PAGE_HEADER + len));
      have += len;
      pgno = u32(base + 16);
    }
    if (have < total)
      throw new WaybillError('MALFORMED', input, `bdb: overflow chain short (${have} of ${total} bytes)`);
    return Buffer.concat(parts).subarray(0, total);
  }
}
