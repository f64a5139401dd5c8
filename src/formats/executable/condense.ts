/**
 * A condensed copy of an ELF executable: what the embedded-metadata readers (Go build info,
 * cargo-auditable, package notes) read, without the code and data they never look at. A walk keeps
 * this copy instead of the whole file, so a 100 MiB Go program costs a few KiB of memory until the
 * catalogers run, and the same catalogers read the same answers from it. It reads its input through
 * a ByteSource, so a file too large to hold is condensed from disk, a few ranges at a time.
 *
 * The copy is itself an ELF file (gABI "Object Files"): the original file header, program header
 * table and section header table, followed by the bytes of the kept sections — the section-name
 * string table, `.go.buildinfo`, `.dep-v0`, every SHT_NOTE section and `.note.package` — and of the
 * PT_NOTE segments. Every other section and segment keeps its header (name, type, address, flags)
 * with no bytes in the file (offset and size 0), which the parsers read as "no file data".
 *
 * Not condensed (undefined: keep the whole file), because a reader may then look anywhere, or
 * because the file is one the ELF parser (elf.ts) would refuse, which it must go on refusing:
 *  - PE and Mach-O files, and ELF files without section headers (notes found through PT_NOTE only)
 *    or with extended section numbering;
 *  - Go build info outside a `.go.buildinfo` section (found by scanning the start of the data
 *    segment), or in the pre-1.18 layout, whose strings are pointers into the data segment;
 *  - any header, section or segment range the parser would reject, and a section 0 (reserved, with
 *    no file bytes) that claims some.
 */
import { type ByteSource, bufferSource } from '../../util/byte-source.ts';
import { CARGO_AUDITABLE_SECTION } from './cargo-auditable.ts';
import { PT_LOAD, PT_NOTE, SHT_NOBITS, SHT_NOTE } from './elf.ts';
import { PACKAGE_NOTE_SECTION } from './elf-note.ts';
import { findGoBuildInfo, GO_BUILDINFO_MAGIC } from './go-buildinfo.ts';

const GO_BUILDINFO_SECTION = '.go.buildinfo';
/** buildinfo flags byte (offset 15): bit 1 set = version and modinfo inline (Go >= 1.18). */
const GO_FLAG_INLINE = 2;
/** What Go's reader (and go-buildinfo.ts) scans of the data segment when the section is missing. */
const GO_DATA_SCAN = 64 * 1024;
const PF_X = 1;
const PF_W = 2;
/** As elf.ts: more headers than this is not a real executable. */
const MAX_HEADERS = 1 << 16;
/** Below this a file is kept whole: condensing saves little and costs a parse. */
export const CONDENSE_MIN_BYTES = 256 * 1024;

interface Header {
  type: number;
  flags: number;
  offset: number;
  size: number;
  /** Where this header's offset and size fields are in its table. */
  at: number;
}

interface Parsed {
  is64: boolean;
  le: boolean;
  headerBytes: Buffer;
  phTable: Buffer;
  phentsize: number;
  segments: Header[];
  shTable: Buffer;
  shentsize: number;
  sections: Array<Header & { name: string }>;
  shstrndx: number;
}

/** `condenseElf` over a whole buffer. */
export function condenseElf(buf: Buffer, minBytes = CONDENSE_MIN_BYTES): Buffer | undefined {
  return condenseElfSource(bufferSource(buf), minBytes);
}

/** `condenseElfSource` as a cataloger's `condense`: the Go, Rust and package-note catalogers share it. */
export function condenseExecutable(_entry: unknown, source: ByteSource): Buffer | undefined {
  return condenseElfSource(source);
}

/**
 * The condensed copy of the file `source` reads, or undefined when it is not an ELF file this can
 * condense (see the top of this file) or would not be much smaller. Never throws.
 */
export function condenseElfSource(source: ByteSource, minBytes = CONDENSE_MIN_BYTES): Buffer | undefined {
  if (source.size < Math.max(minBytes, 64)) return undefined;
  try {
    const parsed = parse(source);
    if (!parsed || !goInfoStaysReadable(source, parsed)) return undefined;
    return build(source, parsed);
  } catch {
    return undefined;
  }
}

/** The headers, with every check elf.ts makes; undefined where it would refuse the file. */
function parse(source: ByteSource): Parsed | undefined {
  const head = source.read(0, 64);
  if (head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  if ((head[4] !== 1 && !is64) || (head[5] !== 2 && !le)) return undefined;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (b: Buffer, o: number) => {
    if (!is64) return u32(b, o);
    const v = le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('offset past any file');
    return Number(v);
  };
  const hdr = is64 ? 52 : 40;
  const phoff = word(head, is64 ? 32 : 28);
  const shoff = word(head, is64 ? 40 : 32);
  const phentsize = u16(head, hdr + 2);
  const phnum = phoff === 0 ? 0 : u16(head, hdr + 4);
  const shentsize = u16(head, hdr + 6);
  const shnum = u16(head, hdr + 8);
  const shstrndx = u16(head, hdr + 10);
  // Extended numbering keeps the counts in section 0: rare enough to keep such files whole.
  if (shoff === 0 || shnum === 0 || phnum === 0xffff || shstrndx === 0xffff) return undefined;
  if (shentsize < (is64 ? 64 : 40) || (phnum > 0 && phentsize < (is64 ? 56 : 32))) return undefined;
  if (shnum > MAX_HEADERS || phnum > MAX_HEADERS) return undefined;

  const inFile = (offset: number, size: number) => offset + size <= source.size;
  const phTable = phnum > 0 ? source.read(phoff, phnum * phentsize) : Buffer.alloc(0);
  const segments: Header[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    const segment: Header = {
      type: u32(phTable, o),
      flags: is64 ? u32(phTable, o + 4) : u32(phTable, o + 24),
      offset: is64 ? word(phTable, o + 8) : u32(phTable, o + 4),
      size: is64 ? word(phTable, o + 32) : u32(phTable, o + 16),
      at: o,
    };
    if (!inFile(segment.offset, segment.size)) return undefined;
    segments.push(segment);
  }
  const shTable = source.read(shoff, shnum * shentsize);
  const raw: Array<Header & { nameOff: number }> = [];
  for (let i = 0; i < shnum; i++) {
    const o = i * shentsize;
    const section = {
      nameOff: u32(shTable, o),
      type: u32(shTable, o + 4),
      flags: 0,
      offset: is64 ? word(shTable, o + 24) : u32(shTable, o + 16),
      size: is64 ? word(shTable, o + 32) : u32(shTable, o + 20),
      at: o,
    };
    if (!hasNoFileBytes(section.type) && !inFile(section.offset, section.size)) return undefined;
    raw.push(section);
  }
  // Section 0 is reserved (SHT_NULL, no file bytes). One that claims file bytes is read by the
  // parser like any other section, so a copy that leaves it as it is could point past its own end:
  // such a file is kept whole.
  if (raw[0] && !hasNoFileBytes(raw[0].type)) return undefined;
  const strtabHeader = shstrndx > 0 && shstrndx < raw.length ? raw[shstrndx] : undefined;
  const strtab =
    strtabHeader && !hasNoFileBytes(strtabHeader.type)
      ? source.read(strtabHeader.offset, strtabHeader.size)
      : Buffer.alloc(0);
  const sections = raw.map((s) => ({ ...s, name: cString(strtab, s.nameOff) }));
  return {
    is64,
    le,
    headerBytes: head.subarray(0, is64 ? 64 : 52),
    phTable,
    phentsize,
    segments,
    shTable,
    shentsize,
    sections,
    shstrndx,
  };
}

/** SHT_NULL (index 0) and SHT_NOBITS (.bss) occupy no file bytes. */
function hasNoFileBytes(type: number): boolean {
  return type === 0 || type === SHT_NOBITS;
}

function cString(buf: Buffer, off: number): string {
  if (off >= buf.length) return '';
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 ? buf.length : end);
}

/**
 * Whether the Go build info reader finds in the copy exactly what it finds in the file: yes when the
 * info is inline in a `.go.buildinfo` section, or when there is none and the places the reader scans
 * instead (the start of the first writable data segment and of `.data`) hold no magic.
 */
function goInfoStaysReadable(source: ByteSource, parsed: Parsed): boolean {
  const named = parsed.sections.find((s) => s.name === GO_BUILDINFO_SECTION);
  if (named) {
    // The reader reads this section alone: the copy keeps it whole, so only the pointer layout,
    // which reads elsewhere, is a reason to keep the file.
    if (hasNoFileBytes(named.type)) return true;
    const blob = source.read(named.offset, named.size);
    const at = findGoBuildInfo(blob);
    return at < 0 || ((blob[at + 15] as number) & GO_FLAG_INLINE) !== 0;
  }
  const regions: Array<{ offset: number; size: number }> = [];
  const data = parsed.segments.find(
    (s) => s.type === PT_LOAD && (s.flags & PF_W) !== 0 && (s.flags & PF_X) === 0,
  );
  if (data) regions.push(data);
  const dataSection = parsed.sections.find((s) => s.name === '.data' && !hasNoFileBytes(s.type));
  if (dataSection) regions.push(dataSection);
  return regions.every(
    (r) => !source.read(r.offset, Math.min(r.size, GO_DATA_SCAN)).includes(GO_BUILDINFO_MAGIC),
  );
}

function keepSection(name: string, type: number): boolean {
  return (
    type === SHT_NOTE ||
    name === GO_BUILDINFO_SECTION ||
    name === CARGO_AUDITABLE_SECTION ||
    name === PACKAGE_NOTE_SECTION
  );
}

function build(source: ByteSource, p: Parsed): Buffer | undefined {
  // The section-name string table is found by index, so it is kept by index. Section 0 is left as
  // it is (no file bytes; with extended numbering, which is refused above, it would hold counts).
  const keptSections = p.sections.filter(
    (s, i) => i > 0 && !hasNoFileBytes(s.type) && (i === p.shstrndx || keepSection(s.name, s.type)),
  );
  const keptSegments = p.segments.filter((s) => s.type === PT_NOTE);
  const headerEnd = p.headerBytes.length;
  const phoff = headerEnd;
  const shoff = phoff + p.phTable.length;
  const dataStart = shoff + p.shTable.length;
  const total = [...keptSections, ...keptSegments].reduce((n, k) => n + k.size, dataStart);
  if (total >= source.size / 2) return undefined;

  const out = Buffer.alloc(total);
  p.headerBytes.copy(out, 0);
  p.phTable.copy(out, phoff);
  p.shTable.copy(out, shoff);
  const put = (at: number, value: number) => {
    if (!p.is64) {
      if (p.le) out.writeUInt32LE(value, at);
      else out.writeUInt32BE(value, at);
    } else if (p.le) out.writeBigUInt64LE(BigInt(value), at);
    else out.writeBigUInt64BE(BigInt(value), at);
  };
  put(p.is64 ? 32 : 28, p.segments.length > 0 ? phoff : 0);
  put(p.is64 ? 40 : 32, shoff);
  // p_offset/p_filesz and sh_offset/sh_size: every header first loses its file bytes; the kept get
  // theirs back. p_memsz is left alone: it is not file data.
  const setSegment = (s: Header, offset: number, size: number) => {
    put(phoff + s.at + (p.is64 ? 8 : 4), offset);
    put(phoff + s.at + (p.is64 ? 32 : 16), size);
  };
  const setSection = (s: Header, offset: number, size: number) => {
    put(shoff + s.at + (p.is64 ? 24 : 16), offset);
    put(shoff + s.at + (p.is64 ? 32 : 20), size);
  };
  for (const s of p.segments) setSegment(s, 0, 0);
  for (const s of p.sections.slice(1)) setSection(s, 0, 0);
  let at = dataStart;
  for (const s of keptSections) {
    source.read(s.offset, s.size).copy(out, at);
    setSection(s, at, s.size);
    at += s.size;
  }
  for (const s of keptSegments) {
    source.read(s.offset, s.size).copy(out, at);
    setSegment(s, at, s.size);
    at += s.size;
  }
  return out;
}
