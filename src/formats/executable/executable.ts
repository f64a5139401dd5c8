/**
 * Compiled executables (ELF, PE/COFF, Mach-O): format detection, parsing into the one view of
 * sections.ts, the metadata that identifies an executable, and the walk filter catalogers use.
 * The parsers (elf.ts, pe.ts, macho.ts) share byte-reader.ts and arch-names.ts, never this module.
 */
import { WaybillError } from '../../errors.ts';
import type { ArchName } from './arch-names.ts';
import { asWaybillError } from './byte-reader.ts';
import { parseElf } from './elf.ts';
import { readPackageNote } from './elf-note.ts';
import { readGoBuildInfo } from './go-buildinfo.ts';
import { parseMachO } from './macho.ts';
import { parsePe } from './pe.ts';
import type { Executable, ExecutableFormat } from './sections.ts';

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

// ---- walk filter helpers for catalogers ---------------------------------------------------------

/**
 * Names of files that are loaded rather than run, so often without an execute bit: shared objects
 * (`libx.so`, `libx.so.1.2`, Python's `x.cpython-311-x86_64-linux-gnu.so`), Node addons, Mach-O
 * dylibs and bundles, Windows DLLs, executables and Python extension modules.
 */
const LOADED_NAME = /\.(?:so(?:\.[0-9]+)*|node|dylib|bundle|dll|exe|pyd)$/i;

/**
 * Executables are found by content among the files that can be run or loaded: regular files big
 * enough to hold headers with an execute bit, or a library's name (LOADED_NAME). The rest of a tree
 * (data, sources, documentation: 95 % of the files of a root file system) is never opened to be
 * sniffed, which on a `dir:` tree is an open, a read and a close each. Trivy's executable analyzers
 * go by the execute bit alone.
 */
export function wantExecutable(entry: {
  type: string;
  size: number;
  mode: number;
  path: string;
}): 'sniff' | false {
  if (!mayHoldExecutable(entry)) return false;
  return (entry.mode & 0o111) !== 0 || hasLoadedName(entry.path) ? 'sniff' : false;
}

/**
 * LOADED_NAME on the part of the base name from its first dot: the same answer (an extension holds
 * no `/`), without the expression trying every position of a long path. Three catalogers ask this of
 * every file of a walk.
 */
function hasLoadedName(path: string): boolean {
  const dot = path.indexOf('.', path.lastIndexOf('/') + 1);
  return dot !== -1 && LOADED_NAME.test(path.slice(dot));
}

/** A regular file big enough to hold an executable's headers, whatever its mode and name. */
export function mayHoldExecutable(entry: { type: string; size: number }): boolean {
  return (entry.type === 'file' || entry.type === 'hardlink') && entry.size >= MIN_EXECUTABLE_SIZE;
}

export function sniffExecutable(head: Buffer): boolean {
  return detectExecutable(head) !== undefined;
}
