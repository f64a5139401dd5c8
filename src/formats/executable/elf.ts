/**
 * ELF reader (System V gABI, "Object Files" chapter): 32/64-bit, little/big endian; file header,
 * section headers with names, program headers. Every offset and length is checked against the file.
 */
import { archFromElfMachine } from './arch-names.ts';
import { byteReader, cString, malformed } from './byte-reader.ts';
import type { ExecSection, ExecSegment, Executable } from './sections.ts';

export const SHT_NOBITS = 8;
export const SHT_NOTE = 7;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
const PF_X = 1;
const PF_W = 2;
/** e_shstrndx escape: the real index is in section 0's sh_link (gABI, "Sections"). */
const SHN_XINDEX = 0xffff;
/** More headers than this is not a real executable; stops a hostile count from costing time. */
const MAX_HEADERS = 1 << 16;

export function parseElf(buf: Buffer, name: string): Executable {
  if (buf.length < 52) throw malformed(name, 'ELF file shorter than its header');
  const cls = buf[4];
  const data = buf[5];
  if (cls !== 1 && cls !== 2) throw malformed(name, `ELF class ${cls} is neither 32- nor 64-bit`);
  if (data !== 1 && data !== 2) throw malformed(name, `ELF data encoding ${data} is neither LSB nor MSB`);
  const is64 = cls === 2;
  const le = data === 1;
  const r = byteReader(buf, le, name);
  const w: 4 | 8 = is64 ? 8 : 4;
  const machine = r.u16(18);
  const phoff = r.offset(is64 ? 32 : 28, w);
  const shoff = r.offset(is64 ? 40 : 32, w);
  const hdr = is64 ? 52 : 40;
  const phentsize = r.u16(hdr + 2);
  let phnum = r.u16(hdr + 4);
  const shentsize = r.u16(hdr + 6);
  let shnum = r.u16(hdr + 8);
  let shstrndx = r.u16(hdr + 10);

  // Section 0 carries the real counts when they overflow 16 bits (gABI "Extended section numbering").
  if (shoff !== 0 && (shnum === 0 || shstrndx === SHN_XINDEX)) {
    const sh0 = r.slice(shoff, is64 ? 64 : 40, 'section header 0');
    const r0 = byteReader(sh0, le, name);
    if (shnum === 0) shnum = r0.offset(is64 ? 32 : 20, w);
    if (shstrndx === SHN_XINDEX) shstrndx = r0.u32(is64 ? 40 : 24);
  }
  if (phnum === 0xffff && shoff !== 0) {
    const sh0 = r.slice(shoff, is64 ? 64 : 40, 'section header 0');
    phnum = byteReader(sh0, le, name).u32(is64 ? 44 : 28);
  }

  const segments: ExecSegment[] = [];
  if (phoff !== 0 && phnum > 0) {
    const minPh = is64 ? 56 : 32;
    if (phentsize < minPh) throw malformed(name, `program header size ${phentsize} is below ${minPh}`);
    if (phnum > MAX_HEADERS) throw malformed(name, `${phnum} program headers is past the limit`);
    r.slice(phoff, phnum * phentsize, 'program header table');
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      const type = r.u32(o);
      const flags = is64 ? r.u32(o + 4) : r.u32(o + 24);
      const offset = is64 ? r.offset(o + 8, 8) : r.u32(o + 4);
      const vaddr = is64 ? r.u64(o + 16) : BigInt(r.u32(o + 8));
      const filesz = is64 ? r.offset(o + 32, 8) : r.u32(o + 16);
      segments.push({
        type,
        addr: vaddr,
        data: r.slice(offset, filesz, `segment ${i}`),
        writable: (flags & PF_W) !== 0,
        executable: (flags & PF_X) !== 0,
      });
    }
  }

  const sections: ExecSection[] = [];
  if (shoff !== 0 && shnum > 0) {
    const minSh = is64 ? 64 : 40;
    if (shentsize < minSh) throw malformed(name, `section header size ${shentsize} is below ${minSh}`);
    if (shnum > MAX_HEADERS) throw malformed(name, `${shnum} section headers is past the limit`);
    r.slice(shoff, shnum * shentsize, 'section header table');
    const raw: Array<{ nameOff: number; type: number; flags: number; addr: bigint; data: Buffer }> = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      const nameOff = r.u32(o);
      const type = r.u32(o + 4);
      const flags = is64 ? Number(r.u64(o + 8) & 0xffffffffn) : r.u32(o + 8);
      const addr = is64 ? r.u64(o + 16) : BigInt(r.u32(o + 12));
      const offset = is64 ? r.offset(o + 24, 8) : r.u32(o + 16);
      const size = is64 ? r.offset(o + 32, 8) : r.u32(o + 20);
      // SHT_NOBITS (.bss) occupies no file bytes; SHT_NULL (index 0) has none either.
      const data =
        type === SHT_NOBITS || type === 0 ? Buffer.alloc(0) : r.slice(offset, size, `section ${i}`);
      raw.push({ nameOff, type, flags, addr, data });
    }
    const strtab = shstrndx > 0 && shstrndx < raw.length ? raw[shstrndx]!.data : Buffer.alloc(0);
    for (const s of raw) {
      sections.push({
        name: cString(strtab, s.nameOff),
        addr: s.addr,
        data: s.data,
        flags: s.flags,
        type: s.type,
      });
    }
  }

  return {
    format: 'elf',
    arch: archFromElfMachine(machine, is64, le),
    littleEndian: le,
    ptrSize: w,
    sections,
    segments,
  };
}
