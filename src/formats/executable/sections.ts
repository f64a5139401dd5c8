/**
 * One "sections and segments" view over ELF, PE/COFF and Mach-O: what the three parsers produce and
 * what the readers of embedded metadata (Go build info, package notes, cargo-auditable) look in.
 */
import type { ArchName } from './arch-names.ts';

export type ExecutableFormat = 'elf' | 'pe' | 'macho';

export interface ExecSection {
  name: string;
  /** Mach-O only: the segment the section belongs to (`__DATA`). */
  segment?: string;
  /** Virtual address (ELF sh_addr, PE ImageBase+VirtualAddress, Mach-O addr); 0n when not loaded. */
  addr: bigint;
  /** Bytes of the section in the file; empty for sections with no file data (.bss, zerofill). */
  data: Buffer;
  /** Format-specific flags word (ELF sh_flags low 32 bits, PE Characteristics, Mach-O flags). */
  flags: number;
  /** ELF only: sh_type (SHT_NOTE = 7 …). */
  type?: number;
}

/** A file-backed part of the memory image: what virtual addresses map to which bytes. */
export interface ExecSegment {
  name?: string;
  addr: bigint;
  data: Buffer;
  writable: boolean;
  executable: boolean;
  /** ELF only: p_type (PT_LOAD = 1, PT_NOTE = 4). */
  type?: number;
}

export interface Executable {
  format: ExecutableFormat;
  arch: ArchName;
  littleEndian: boolean;
  /** Pointer size in bytes: 4 or 8. */
  ptrSize: 4 | 8;
  sections: ExecSection[];
  segments: ExecSegment[];
  /** Mach-O universal binaries: every architecture slice, in file order (the top level is the first). */
  slices?: Executable[];
}

/** Find a section by name; for Mach-O `name` may also be `SEGMENT,section` (`__DATA,__go_buildinfo`). */
export function findSection(exe: Executable, name: string): ExecSection | undefined {
  for (const s of exe.sections) {
    if (s.name === name) return s;
    if (s.segment !== undefined && `${s.segment},${s.name}` === name) return s;
  }
  return undefined;
}

/**
 * Bytes at a virtual address, from the file-backed part of a segment (or of a section when the
 * format has no segment table). Undefined when the range is not entirely in the file.
 */
export function readVirtual(exe: Executable, addr: bigint, size: number): Buffer | undefined {
  if (size < 0) return undefined;
  // ELF: only PT_LOAD segments are the memory image (PT_NOTE, PT_INTERP repeat bytes of it). Formats
  // or files without a segment table (PE, relocatable objects) map through their sections.
  const loadable = exe.segments.filter((s) => s.type === undefined || s.type === 1);
  const ranges: Array<{ addr: bigint; data: Buffer }> = loadable.length > 0 ? loadable : exe.sections;
  for (const r of ranges) {
    if (r.data.length === 0 || addr < r.addr) continue;
    const off = addr - r.addr;
    if (off + BigInt(size) <= BigInt(r.data.length)) return r.data.subarray(Number(off), Number(off) + size);
  }
  return undefined;
}
