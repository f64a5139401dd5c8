/**
 * rpm's NDB package database (`Packages.db`, SUSE since 15 SP3; rpm lib/backend/ndb/rpmpkg.c).
 *
 * Layout, all little-endian uint32:
 *   file header (32 bytes): magic "RpmP", version 0, generation, slot page count, next package index, 3 unused
 *   slot array (16 bytes each) filling the slot pages right after the header:
 *     magic "Slot", package index (0 = free), block offset, block count   (blocks are 16 bytes)
 *   blobs at blockOffset×16: magic "BlbS", package index, generation, blob length, then the header
 *     blob (il/dl form, see rpm-header.ts), then padding and a checksum trailer we do not need.
 */
import { WaybillError } from '../../errors.ts';

const HEADER_MAGIC = 0x506d7052; // "RpmP" read little-endian
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"
const PAGE_SIZE = 4096;
const BLOCK_SIZE = 16;
const SLOT_SIZE = 16;
const HEADER_SIZE = 32;
/** rpmpkg.c caps slot pages far below this; a bigger number is a corrupt or hostile header. */
const MAX_SLOT_PAGES = 1 << 16;

export interface NdbBlob {
  pkgIndex: number;
  blob: Buffer;
}

export function isNdb(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === HEADER_MAGIC;
}

/**
 * Every package header blob in an NDB file, in slot order. Structural damage to the file header
 * throws WaybillError; a single bad slot or blob is reported through `onBadBlob` and skipped.
 */
export function readNdbBlobs(
  buf: Buffer,
  input = 'Packages.db',
  onBadBlob: (reason: string) => void = () => {},
): NdbBlob[] {
  if (buf.length < HEADER_SIZE) throw new WaybillError('MALFORMED', input, 'ndb: shorter than its header');
  if (buf.readUInt32LE(0) !== HEADER_MAGIC) throw new WaybillError('MALFORMED', input, 'ndb: bad magic');
  const version = buf.readUInt32LE(4);
  if (version !== 0) throw new WaybillError('UNSUPPORTED', input, `ndb: version ${version}`);
  const slotPages = buf.readUInt32LE(12);
  if (slotPages === 0 || slotPages > MAX_SLOT_PAGES) {
    throw new WaybillError('MALFORMED', input, `ndb: slot page count ${slotPages} out of range`);
  }
  const slotsEnd = Math.min(slotPages * PAGE_SIZE, buf.length - (buf.length % SLOT_SIZE));
  const out: NdbBlob[] = [];
  // The header occupies the first two slot positions (rpmpkg.c SLOT_START).
  for (let at = HEADER_SIZE; at + SLOT_SIZE <= slotsEnd; at += SLOT_SIZE) {
    if (buf.readUInt32LE(at) !== SLOT_MAGIC) {
      onBadBlob(`slot at ${at}: bad magic`);
      continue;
    }
    const pkgIndex = buf.readUInt32LE(at + 4);
    if (pkgIndex === 0) continue; // free slot
    const blockOffset = buf.readUInt32LE(at + 8);
    const blockCount = buf.readUInt32LE(at + 12);
    const start = blockOffset * BLOCK_SIZE;
    const limit = start + blockCount * BLOCK_SIZE;
    if (blockOffset === 0 || start + 16 > buf.length || limit > buf.length) {
      onBadBlob(`package ${pkgIndex}: blob at block ${blockOffset} outside the file`);
      continue;
    }
    if (buf.readUInt32LE(start) !== BLOB_MAGIC || buf.readUInt32LE(start + 4) !== pkgIndex) {
      onBadBlob(`package ${pkgIndex}: bad blob header`);
      continue;
    }
    const length = buf.readUInt32LE(start + 12);
    if (start + 16 + length > limit) {
      onBadBlob(`package ${pkgIndex}: blob length ${length} exceeds its ${blockCount} blocks`);
      continue;
    }
    out.push({ pkgIndex, blob: buf.subarray(start + 16, start + 16 + length) });
  }
  return out;
}
