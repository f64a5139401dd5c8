/**
 * Mach-O reader (<mach-o/loader.h>, <mach-o/fat.h>): thin 32/64-bit files of either byte order, and
 * universal ("fat") files, whose slices are parsed one by one. Load commands are walked by cmdsize,
 * which must be a positive multiple of 4 inside sizeofcmds (a zero cmdsize would loop forever).
 */
import { archFromMachOCpu } from './arch-names.ts';
import { byteReader, cString, malformed } from './byte-reader.ts';
import type { ExecSection, ExecSegment, Executable } from './sections.ts';

const MH_MAGIC = 0xfeedface;
const MH_MAGIC_64 = 0xfeedfacf;
const FAT_MAGIC = 0xcafebabe;
const FAT_MAGIC_64 = 0xcafebabf;
const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;
const VM_PROT_WRITE = 2;
const VM_PROT_EXECUTE = 4;
/** Section types with no bytes in the file (S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL). */
const ZEROFILL_TYPES = new Set([0x1, 0xc, 0x12]);
const MAX_FAT_ARCHS = 64;
const MAX_LOAD_COMMANDS = 1 << 16;

export function parseMachO(buf: Buffer, name: string): Executable {
  if (buf.length < 8) throw malformed(name, 'Mach-O file shorter than its header');
  const magic = buf.readUInt32BE(0);
  if (magic === FAT_MAGIC || magic === FAT_MAGIC_64) return parseFat(buf, name, magic === FAT_MAGIC_64);
  return parseThin(buf, name);
}

function parseFat(buf: Buffer, name: string, is64: boolean): Executable {
  // Fat headers are always big-endian.
  const r = byteReader(buf, false, name);
  const n = r.u32(4);
  if (n === 0 || n > MAX_FAT_ARCHS) throw malformed(name, `universal binary with ${n} architectures`);
  const entry = is64 ? 32 : 20;
  const slices: Executable[] = [];
  for (let i = 0; i < n; i++) {
    const o = 8 + i * entry;
    const offset = is64 ? r.offset(o + 8, 8) : r.u32(o + 8);
    const size = is64 ? r.offset(o + 16, 8) : r.u32(o + 12);
    const slice = r.slice(offset, size, `architecture slice ${i}`);
    if (
      slice.length >= 4 &&
      (slice.readUInt32BE(0) === FAT_MAGIC || slice.readUInt32BE(0) === FAT_MAGIC_64)
    ) {
      throw malformed(name, 'universal binary nested in a universal binary');
    }
    slices.push(parseThin(slice, `${name}[${i}]`));
  }
  const first = slices[0]!;
  return { ...first, slices };
}

function parseThin(buf: Buffer, name: string): Executable {
  if (buf.length < 28) throw malformed(name, 'Mach-O file shorter than its header');
  const be = buf.readUInt32BE(0);
  const le = buf.readUInt32LE(0);
  let little: boolean;
  let is64: boolean;
  if (le === MH_MAGIC || le === MH_MAGIC_64) {
    little = true;
    is64 = le === MH_MAGIC_64;
  } else if (be === MH_MAGIC || be === MH_MAGIC_64) {
    little = false;
    is64 = be === MH_MAGIC_64;
  } else {
    throw malformed(name, 'no Mach-O magic');
  }
  const r = byteReader(buf, little, name);
  const cputype = r.u32(4);
  const ncmds = r.u32(16);
  const sizeofcmds = r.u32(20);
  const headerSize = is64 ? 32 : 28;
  if (ncmds > MAX_LOAD_COMMANDS) throw malformed(name, `${ncmds} load commands is past the limit`);
  r.slice(headerSize, sizeofcmds, 'load commands');
  const end = headerSize + sizeofcmds;

  const sections: ExecSection[] = [];
  const segments: ExecSegment[] = [];
  let off = headerSize;
  for (let i = 0; i < ncmds; i++) {
    if (off + 8 > end) throw malformed(name, `load command ${i} starts past sizeofcmds`);
    const cmd = r.u32(off);
    const cmdsize = r.u32(off + 4);
    if (cmdsize < 8 || cmdsize % 4 !== 0 || off + cmdsize > end) {
      throw malformed(name, `load command ${i} has an invalid size ${cmdsize}`);
    }
    if (cmd === LC_SEGMENT || cmd === LC_SEGMENT_64) {
      readSegment(r, name, off, cmdsize, cmd === LC_SEGMENT_64, sections, segments);
    }
    off += cmdsize;
  }
  return {
    format: 'macho',
    arch: archFromMachOCpu(cputype),
    littleEndian: little,
    ptrSize: is64 ? 8 : 4,
    sections,
    segments,
  };
}

function readSegment(
  r: ReturnType<typeof byteReader>,
  name: string,
  off: number,
  cmdsize: number,
  is64: boolean,
  sections: ExecSection[],
  segments: ExecSegment[],
): void {
  const w: 4 | 8 = is64 ? 8 : 4;
  const segname = cString(r.buf, off + 8, 16);
  const vmaddr = is64 ? r.u64(off + 24) : BigInt(r.u32(off + 24));
  const fileoff = r.offset(is64 ? off + 40 : off + 32, w);
  const filesize = r.offset(is64 ? off + 48 : off + 36, w);
  const initprot = r.u32(is64 ? off + 60 : off + 44);
  const nsects = r.u32(is64 ? off + 64 : off + 48);
  const segHeader = is64 ? 72 : 56;
  const sectSize = is64 ? 80 : 68;
  if (segHeader + nsects * sectSize > cmdsize)
    throw malformed(name, `segment ${segname} declares more sections than fit`);
  segments.push({
    name: segname,
    addr: vmaddr,
    data: r.slice(fileoff, filesize, `segment ${segname}`),
    writable: (initprot & VM_PROT_WRITE) !== 0,
    executable: (initprot & VM_PROT_EXECUTE) !== 0,
  });
  for (let j = 0; j < nsects; j++) {
    const s = off + segHeader + j * sectSize;
    const sectname = cString(r.buf, s, 16);
    const secSeg = cString(r.buf, s + 16, 16);
    const addr = is64 ? r.u64(s + 32) : BigInt(r.u32(s + 32));
    const size = r.offset(is64 ? s + 40 : s + 36, w);
    const fileOffset = r.u32(is64 ? s + 48 : s + 40);
    const flags = r.u32(is64 ? s + 64 : s + 56);
    const zerofill = ZEROFILL_TYPES.has(flags & 0xff);
    const data =
      zerofill || size === 0 ? Buffer.alloc(0) : r.slice(fileOffset, size, `section ${secSeg},${sectname}`);
    sections.push({ name: sectname, segment: secSeg, addr, data, flags });
  }
}
