/**
 * Compiled executables (ELF, PE/COFF, Mach-O): format detection, one "sections and segments" view
 * over all three, architecture names, and bounds-checked byte reading shared by the three parsers.
 *
 * The parsers (elf.ts, pe.ts, macho.ts) import the reader helpers below; this module imports the
 * parsers. That cycle is safe because everything shared is a function declaration (initialized when
 * the module graph is linked) and nothing is called while modules are still evaluating.
 */
import { WaybillError } from '../../errors.ts';
import { parseElf } from './elf.ts';
import { readPackageNote } from './elf-note.ts';
import { readGoBuildInfo } from './go-buildinfo.ts';
import { parseMachO } from './macho.ts';
import { parsePe } from './pe.ts';

export type ExecutableFormat = 'elf' | 'pe' | 'macho';

export interface ArchName {
  /** GOARCH spelling (`amd64`, `arm64`, `386`, `ppc64le`…); `unknown-<n>` when the machine is not known. */
  goarch: string;
  /** The spelling the format's own tools use (`x86_64`, `aarch64` for ELF/PE; `arm64` for Mach-O). */
  native: string;
}

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

export interface ExecutableInfo {
  format: ExecutableFormat;
  arch: ArchName;
  /** More than one for a Mach-O universal binary. */
  architectures: ArchName[];
  universal: boolean;
  sections: Array<{ name: string; segment?: string; size: number }>;
}

/** What `inspect`/`check` need from an executable's own metadata. */
export interface ExecutableMetadata {
  format: ExecutableFormat;
  arch: ArchName;
  packageNote?: Record<string, string>;
  goMain?: { path: string; version: string };
  goVersion?: string;
}

/** Smallest file worth parsing: a real executable is never smaller than its headers plus one section. */
export const MIN_EXECUTABLE_SIZE = 128;

const FAT_MAGIC = 0xcafebabe;
const FAT_MAGIC_64 = 0xcafebabf;
/** A Java class file also starts with 0xcafebabe; its next word is (minor << 16 | major), major >= 45. */
const JAVA_CLASS_MIN_MAJOR = 45;

/** Detect the format from the first bytes (64 are enough). Undefined for anything else. */
export function detectExecutable(head: Buffer): ExecutableFormat | undefined {
  if (head.length < 8) return undefined;
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return 'elf';
  const be = head.readUInt32BE(0);
  const le = head.readUInt32LE(0);
  if (be === 0xfeedface || be === 0xfeedfacf || le === 0xfeedface || le === 0xfeedfacf) return 'macho';
  if (be === FAT_MAGIC || be === FAT_MAGIC_64) {
    const nfat = head.readUInt32BE(4);
    return nfat > 0 && nfat < JAVA_CLASS_MIN_MAJOR ? 'macho' : undefined;
  }
  if (head[0] === 0x4d && head[1] === 0x5a) {
    // MZ alone is common in random data; a PE also needs e_lfanew (at 0x3c) to point past the DOS header.
    if (head.length < 0x40) return undefined;
    const lfanew = head.readUInt32LE(0x3c);
    return lfanew >= 0x40 && lfanew < 0x10000000 ? 'pe' : undefined;
  }
  return undefined;
}

/** Parse any supported executable. Throws WaybillError (MALFORMED, UNSUPPORTED) and nothing else. */
export function parseExecutable(buf: Buffer, name = 'executable'): Executable {
  const cached = parsedCache.get(buf);
  if (cached && cached.name === name) return cached.exe;
  const format = detectExecutable(buf.subarray(0, 64));
  let exe: Executable;
  try {
    if (format === 'elf') exe = parseElf(buf, name);
    else if (format === 'pe') exe = parsePe(buf, name);
    else if (format === 'macho') exe = parseMachO(buf, name);
    else throw new WaybillError('UNSUPPORTED', name, 'not an ELF, PE or Mach-O executable');
  } catch (e) {
    throw asWaybillError(e, name);
  }
  parsedCache.set(buf, { name, exe });
  return exe;
}

/**
 * Several catalogers (Go, Rust, package notes) look at the same executable; parse each buffer once.
 * Keyed weakly by the buffer so nothing outlives the walk that read it.
 */
const parsedCache = new WeakMap<Buffer, { name: string; exe: Executable }>();

export function executableInfo(buf: Buffer, name = 'executable'): ExecutableInfo {
  const exe = parseExecutable(buf, name);
  const slices = exe.slices ?? [exe];
  return {
    format: exe.format,
    arch: exe.arch,
    architectures: slices.map((s) => s.arch),
    universal: exe.slices !== undefined,
    sections: exe.sections.map((s) => ({
      name: s.name,
      ...(s.segment !== undefined ? { segment: s.segment } : {}),
      size: s.data.length,
    })),
  };
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

/** Metadata that identifies an executable: package note, Go main module, Go version. Throws WaybillError. */
export function readExecutableMetadata(buf: Buffer, name = 'executable'): ExecutableMetadata {
  const exe = parseExecutable(buf, name);
  const meta: ExecutableMetadata = { format: exe.format, arch: exe.arch };
  const note = readPackageNote(exe, name);
  if (note) meta.packageNote = note;
  const go = readGoBuildInfo(exe, name);
  if (go) {
    meta.goVersion = go.goVersion;
    if (go.main) meta.goMain = { path: go.main.path, version: go.main.version };
  }
  return meta;
}

// ---- architecture names -------------------------------------------------------------------------

/** ELF e_machine (System V gABI, "e_machine" table), with class and endianness where GOARCH needs it. */
export function archFromElfMachine(machine: number, is64: boolean, littleEndian: boolean): ArchName {
  switch (machine) {
    case 3:
      return { goarch: '386', native: 'i386' };
    case 62:
      return { goarch: 'amd64', native: 'x86_64' };
    case 183:
      return { goarch: 'arm64', native: 'aarch64' };
    case 40:
      return { goarch: 'arm', native: 'arm' };
    case 8:
      if (is64)
        return littleEndian
          ? { goarch: 'mips64le', native: 'mips64el' }
          : { goarch: 'mips64', native: 'mips64' };
      return littleEndian ? { goarch: 'mipsle', native: 'mipsel' } : { goarch: 'mips', native: 'mips' };
    case 20:
      return { goarch: 'ppc', native: 'ppc' };
    case 21:
      return littleEndian ? { goarch: 'ppc64le', native: 'ppc64le' } : { goarch: 'ppc64', native: 'ppc64' };
    case 22:
      return is64 ? { goarch: 's390x', native: 's390x' } : { goarch: 's390', native: 's390' };
    case 243:
      return is64 ? { goarch: 'riscv64', native: 'riscv64' } : { goarch: 'riscv', native: 'riscv32' };
    case 258:
      return { goarch: 'loong64', native: 'loongarch64' };
    case 2:
      return { goarch: 'sparc', native: 'sparc' };
    case 43:
      return { goarch: 'sparc64', native: 'sparc64' };
    case 50:
      return { goarch: 'ia64', native: 'ia64' };
    default:
      return { goarch: `unknown-${machine}`, native: `unknown-${machine}` };
  }
}

/** PE/COFF IMAGE_FILE_MACHINE_* (Microsoft PE format, "Machine Types"). */
export function archFromPeMachine(machine: number): ArchName {
  switch (machine) {
    case 0x14c:
      return { goarch: '386', native: 'i386' };
    case 0x8664:
      return { goarch: 'amd64', native: 'x86_64' };
    case 0xaa64:
      return { goarch: 'arm64', native: 'aarch64' };
    case 0x1c0:
    case 0x1c2:
    case 0x1c4:
      return { goarch: 'arm', native: 'arm' };
    case 0x5032:
      return { goarch: 'riscv', native: 'riscv32' };
    case 0x5064:
      return { goarch: 'riscv64', native: 'riscv64' };
    case 0x6264:
      return { goarch: 'loong64', native: 'loongarch64' };
    case 0x200:
      return { goarch: 'ia64', native: 'ia64' };
    default:
      return { goarch: `unknown-${machine}`, native: `unknown-${machine}` };
  }
}

/** Mach-O cputype (<mach/machine.h>); CPU_ARCH_ABI64 = 0x01000000. */
export function archFromMachOCpu(cputype: number): ArchName {
  switch (cputype >>> 0) {
    case 7:
      return { goarch: '386', native: 'i386' };
    case 0x01000007:
      return { goarch: 'amd64', native: 'x86_64' };
    case 12:
      return { goarch: 'arm', native: 'arm' };
    case 0x0100000c:
      return { goarch: 'arm64', native: 'arm64' };
    case 0x0200000c:
      return { goarch: 'arm64', native: 'arm64_32' };
    case 18:
      return { goarch: 'ppc', native: 'ppc' };
    case 0x01000012:
      return { goarch: 'ppc64', native: 'ppc64' };
    default:
      return { goarch: `unknown-${cputype >>> 0}`, native: `unknown-${cputype >>> 0}` };
  }
}

// ---- bounds-checked reading ----------------------------------------------------------------------

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

// ---- walk filter helpers for catalogers ---------------------------------------------------------

/** Executables are found by content, not name: regular files big enough to hold headers get sniffed. */
export function wantExecutable(entry: { type: string; size: number }): 'sniff' | false {
  return (entry.type === 'file' || entry.type === 'hardlink') && entry.size >= MIN_EXECUTABLE_SIZE
    ? 'sniff'
    : false;
}

export function sniffExecutable(head: Buffer): boolean {
  return detectExecutable(head) !== undefined;
}
