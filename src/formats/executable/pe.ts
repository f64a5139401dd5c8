/**
 * PE/COFF reader (Microsoft "PE Format"): DOS stub → "PE\0\0" → COFF file header → optional header
 * (PE32 or PE32+, for ImageBase) → section table. Long section names (`/123`) are resolved through
 * the COFF string table, as Go's linker writes them for its DWARF sections.
 */
import { archFromPeMachine } from './arch-names.ts';
import { byteReader, cString, malformed } from './byte-reader.ts';
import type { ExecSection, Executable } from './sections.ts';

const IMAGE_SCN_MEM_EXECUTE = 0x20000000;
const IMAGE_SCN_MEM_WRITE = 0x80000000;
const SECTION_HEADER_SIZE = 40;
const COFF_SYMBOL_SIZE = 18;
/** The COFF header's NumberOfSections is 16 bits; the loader itself caps it at 96. */
const MAX_SECTIONS = 0xffff;

export function parsePe(buf: Buffer, name: string): Executable {
  const r = byteReader(buf, true, name);
  if (r.u16(0) !== 0x5a4d) throw malformed(name, 'no MZ signature');
  const peOff = r.u32(0x3c);
  if (r.u32(peOff) !== 0x00004550) throw malformed(name, 'MZ file without a PE signature (a DOS program?)');
  const coff = peOff + 4;
  const machine = r.u16(coff);
  const nsections = r.u16(coff + 2);
  const symtabOff = r.u32(coff + 8);
  const nsymbols = r.u32(coff + 12);
  const optSize = r.u16(coff + 16);
  const opt = coff + 20;

  let imageBase = 0n;
  let ptrSize: 4 | 8 = 4;
  if (optSize >= 2) {
    const magic = r.u16(opt);
    if (magic === 0x20b) {
      ptrSize = 8;
      imageBase = r.u64(opt + 24);
    } else if (magic === 0x10b) {
      imageBase = BigInt(r.u32(opt + 28));
    } else {
      throw malformed(name, `optional header magic 0x${magic.toString(16)} is neither PE32 nor PE32+`);
    }
  }

  const table = opt + optSize;
  if (nsections > MAX_SECTIONS) throw malformed(name, 'too many sections');
  r.slice(table, nsections * SECTION_HEADER_SIZE, 'section table');
  const strtabOff = symtabOff !== 0 ? symtabOff + nsymbols * COFF_SYMBOL_SIZE : 0;

  const sections: ExecSection[] = [];
  for (let i = 0; i < nsections; i++) {
    const o = table + i * SECTION_HEADER_SIZE;
    let secName = cString(buf, o, 8);
    if (secName.startsWith('/') && strtabOff > 0) {
      const idx = Number.parseInt(secName.slice(1), 10);
      if (Number.isSafeInteger(idx) && idx >= 0) secName = cString(buf, strtabOff + idx, 256);
    }
    const virtualSize = r.u32(o + 8);
    const virtualAddress = r.u32(o + 12);
    const rawSize = r.u32(o + 16);
    const rawPtr = r.u32(o + 20);
    const flags = r.u32(o + 36);
    // Uninitialized data has SizeOfRawData 0 (and PointerToRawData may be 0 too).
    let data = rawSize === 0 ? Buffer.alloc(0) : r.slice(rawPtr, rawSize, `section ${secName || i}`);
    // Raw data is padded to FileAlignment; VirtualSize is the meaningful length when it is smaller.
    if (virtualSize > 0 && virtualSize < data.length) data = data.subarray(0, virtualSize);
    sections.push({ name: secName, addr: imageBase + BigInt(virtualAddress), data, flags });
  }

  return {
    format: 'pe',
    arch: archFromPeMachine(machine),
    littleEndian: true,
    ptrSize,
    sections,
    segments: [],
  };
}

export function peSectionIsWritable(s: ExecSection): boolean {
  return (s.flags & IMAGE_SCN_MEM_WRITE) !== 0;
}

export function peSectionIsExecutable(s: ExecSection): boolean {
  return (s.flags & IMAGE_SCN_MEM_EXECUTE) !== 0;
}
