/**
 * A condensed copy of an ELF executable: what the embedded-metadata readers (Go build info,
 * cargo-auditable, package notes) read, without the code and data they never look at. A walk keeps
 * this copy instead of the whole file, so a 100 MiB Go program costs a few KiB of memory until the
 * catalogers run, and the same catalogers read the same answers from it.
 *
 * The copy is itself an ELF file (gABI "Object Files"): the original file header, program header
 * table and section header table, followed by the bytes of the kept sections — the section-name
 * string table, `.go.buildinfo`, `.dep-v0`, every SHT_NOTE section and `.note.package` — and of the
 * PT_NOTE segments. Every other section and segment keeps its header (name, type, address, flags)
 * with no bytes in the file (offset and size 0), which the parsers read as "no file data".
 *
 * Not condensed (undefined: keep the whole file), because a reader may then look anywhere:
 *  - PE and Mach-O files, and ELF files without section headers (notes found through PT_NOTE only);
 *  - Go build info outside a `.go.buildinfo` section (found by scanning the data segment), or in the
 *    pre-1.18 layout, whose strings are pointers into the data segment.
 */
import { containsBytes } from '../../sources/content-match.ts';
import { CARGO_AUDITABLE_SECTION } from './cargo-auditable.ts';
import { PT_NOTE, parseElf, SHT_NOTE } from './elf.ts';
import { PACKAGE_NOTE_SECTION } from './elf-note.ts';
import { GO_BUILDINFO_MAGIC } from './go-buildinfo.ts';

const GO_BUILDINFO_SECTION = '.go.buildinfo';
/** buildinfo flags byte (offset 15): bit 1 set = version and modinfo inline (Go >= 1.18). */
const GO_FLAG_INLINE = 2;
/** Below this a file is kept whole: condensing saves little and costs a parse. */
export const CONDENSE_MIN_BYTES = 256 * 1024;

interface Layout {
  is64: boolean;
  le: boolean;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  shnum: number;
}

/**
 * The condensed copy of `buf`, or undefined when it is not an ELF file this can condense (see the
 * top of this file) or would not be smaller. Never throws: a file the ELF parser rejects is returned
 * as undefined, and its readers will reject the whole file as they always did.
 */
export function condenseElf(buf: Buffer, minBytes = CONDENSE_MIN_BYTES): Buffer | undefined {
  if (buf.length < Math.max(minBytes, 64) || buf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  let exe: ReturnType<typeof parseElf>;
  try {
    exe = parseElf(buf, 'executable');
  } catch {
    return undefined;
  }
  if (exe.sections.length === 0) return undefined;
  const buildinfo = exe.sections.find((s) => s.name === GO_BUILDINFO_SECTION);
  if (buildinfo) {
    const flags = buildinfo.data[15];
    if (buildinfo.data.length < 32 || flags === undefined || (flags & GO_FLAG_INLINE) === 0) return undefined;
  } else if (containsBytes(buf, GO_BUILDINFO_MAGIC, 2)) return undefined;

  const layout = readLayout(buf);
  if (!layout) return undefined;
  const keepSection = (name: string, type: number | undefined) =>
    type === SHT_NOTE ||
    name === GO_BUILDINFO_SECTION ||
    name === CARGO_AUDITABLE_SECTION ||
    name === PACKAGE_NOTE_SECTION;

  // The section-name string table is found by index, so it is kept by index.
  const shstrndx = sectionNameTableIndex(buf, layout);
  const keptSections: Array<{ index: number; data: Buffer }> = [];
  exe.sections.forEach((s, index) => {
    if (index === 0) return;
    if (index === shstrndx || keepSection(s.name, s.type)) keptSections.push({ index, data: s.data });
  });
  const keptSegments: Array<{ index: number; data: Buffer }> = [];
  exe.segments.forEach((s, index) => {
    if (s.type === PT_NOTE) keptSegments.push({ index, data: s.data });
  });

  const headerEnd = layout.is64 ? 64 : 52;
  const phBytes = layout.phnum * layout.phentsize;
  const shBytes = layout.shnum * layout.shentsize;
  const dataBytes = [...keptSections, ...keptSegments].reduce((n, k) => n + k.data.length, 0);
  const total = headerEnd + phBytes + shBytes + dataBytes;
  if (total >= buf.length / 2) return undefined;

  const out = Buffer.alloc(total);
  buf.copy(out, 0, 0, headerEnd);
  const phoff = headerEnd;
  const shoff = phoff + phBytes;
  if (phBytes > 0) buf.copy(out, phoff, layout.phoff, layout.phoff + phBytes);
  buf.copy(out, shoff, layout.shoff, layout.shoff + shBytes);
  const w = writer(out, layout);
  w.offset(layout.is64 ? 32 : 28, layout.phnum > 0 ? phoff : 0);
  w.offset(layout.is64 ? 40 : 32, shoff);

  // Every program and section header first loses its file bytes; kept ones get theirs back below.
  for (let i = 0; i < layout.phnum; i++) setSegmentBytes(w, layout, phoff + i * layout.phentsize, 0, 0);
  // Section 0 is left as it is: with extended numbering its size and link fields hold the counts.
  for (let i = 1; i < layout.shnum; i++) setSectionBytes(w, layout, shoff + i * layout.shentsize, 0, 0);
  let at = shoff + shBytes;
  for (const { index, data } of keptSections) {
    data.copy(out, at);
    setSectionBytes(w, layout, shoff + index * layout.shentsize, at, data.length);
    at += data.length;
  }
  for (const { index, data } of keptSegments) {
    data.copy(out, at);
    setSegmentBytes(w, layout, phoff + index * layout.phentsize, at, data.length);
    at += data.length;
  }
  return out;
}

/** `condenseElf` as a cataloger's `condense`: the Go, Rust and package-note catalogers share it. */
export function condenseExecutable(_entry: unknown, data: Buffer): Buffer | undefined {
  return condenseElf(data);
}

/** Header fields already validated by parseElf; read again raw to copy and patch them. */
function readLayout(buf: Buffer): Layout | undefined {
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const word = (o: number) =>
    is64
      ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o))
      : le
        ? buf.readUInt32LE(o)
        : buf.readUInt32BE(o);
  const hdr = is64 ? 52 : 40;
  const layout: Layout = {
    is64,
    le,
    phoff: word(is64 ? 32 : 28),
    shoff: word(is64 ? 40 : 32),
    phentsize: u16(hdr + 2),
    phnum: u16(hdr + 4),
    shentsize: u16(hdr + 6),
    shnum: u16(hdr + 8),
  };
  // Extended numbering (counts kept in section 0) is rare enough to keep such files whole.
  if (layout.shnum === 0 || layout.phnum === 0xffff || u16(hdr + 10) === 0xffff) return undefined;
  if (layout.phoff === 0) layout.phnum = 0;
  return layout;
}

function sectionNameTableIndex(buf: Buffer, layout: Layout): number {
  const o = (layout.is64 ? 52 : 40) + 10;
  return layout.le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
}

interface Writer {
  offset(at: number, value: number): void;
}

function writer(out: Buffer, layout: Layout): Writer {
  return {
    offset(at, value) {
      if (layout.is64) {
        if (layout.le) out.writeBigUInt64LE(BigInt(value), at);
        else out.writeBigUInt64BE(BigInt(value), at);
      } else if (layout.le) out.writeUInt32LE(value, at);
      else out.writeUInt32BE(value, at);
    },
  };
}

/** sh_offset and sh_size of the section header at `at`. */
function setSectionBytes(w: Writer, layout: Layout, at: number, offset: number, size: number): void {
  w.offset(at + (layout.is64 ? 24 : 16), offset);
  w.offset(at + (layout.is64 ? 32 : 20), size);
}

/** p_offset and p_filesz of the program header at `at` (p_memsz is left: it is not file data). */
function setSegmentBytes(w: Writer, layout: Layout, at: number, offset: number, size: number): void {
  w.offset(at + (layout.is64 ? 8 : 4), offset);
  w.offset(at + (layout.is64 ? 32 : 16), size);
}
