/**
 * Bounds-checked byte reading shared by the ELF, PE and Mach-O parsers: every offset and length is
 * checked against the file, and anything that slips through becomes MALFORMED, never a RangeError.
 */
import { WaybillError } from '../../errors.ts';

export interface ByteReader {
  readonly buf: Buffer;
  readonly le: boolean;
  u8(off: number): number;
  u16(off: number): number;
  u32(off: number): number;
  /** 64-bit value as bigint (addresses). */
  u64(off: number): bigint;
  /** A file offset or size (32- or 64-bit), checked to be a safe integer. */
  offset(off: number, size: 4 | 8): number;
  /** A slice [off, off+len) that must lie inside the buffer. */
  slice(off: number, len: number, what: string): Buffer;
}

export function malformed(name: string, reason: string): WaybillError {
  return new WaybillError('MALFORMED', name, reason);
}

export function byteReader(buf: Buffer, le: boolean, name: string): ByteReader {
  const need = (off: number, len: number) => {
    if (!Number.isSafeInteger(off) || off < 0 || off + len > buf.length) {
      throw malformed(name, `truncated: needs ${len} bytes at offset ${off}, file has ${buf.length}`);
    }
  };
  return {
    buf,
    le,
    u8(off) {
      need(off, 1);
      return buf[off]!;
    },
    u16(off) {
      need(off, 2);
      return le ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
    },
    u32(off) {
      need(off, 4);
      return le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    },
    u64(off) {
      need(off, 8);
      return le ? buf.readBigUInt64LE(off) : buf.readBigUInt64BE(off);
    },
    offset(off, size) {
      if (size === 4) return this.u32(off);
      const v = this.u64(off);
      if (v > BigInt(Number.MAX_SAFE_INTEGER))
        throw malformed(name, `offset or size ${v} at ${off} is past any file`);
      return Number(v);
    },
    slice(off, len, what) {
      if (
        !Number.isSafeInteger(off) ||
        !Number.isSafeInteger(len) ||
        off < 0 ||
        len < 0 ||
        off + len > buf.length
      ) {
        throw malformed(
          name,
          `${what} (offset ${off}, length ${len}) lies outside the file (${buf.length} bytes)`,
        );
      }
      return buf.subarray(off, off + len);
    },
  };
}

/** NUL-terminated string inside a fixed-size field or a string table. */
export function cString(buf: Buffer, off: number, max = buf.length - off): string {
  if (off < 0 || off >= buf.length) return '';
  const end = Math.min(buf.length, off + Math.max(0, max));
  let i = off;
  while (i < end && buf[i] !== 0) i++;
  return buf.toString('latin1', off, i);
}

/** Keep WaybillError as is; anything else a parser let slip (RangeError on odd input) becomes MALFORMED. */
export function asWaybillError(e: unknown, name: string): WaybillError {
  if (e instanceof WaybillError) return e;
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new WaybillError('MALFORMED', name, `cannot parse: ${why}`, { cause: e });
}
