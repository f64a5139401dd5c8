/**
 * ELF notes and the package-metadata note.
 *
 * Note layout (System V gABI, "Note Section"): n_namesz, n_descsz, n_type (4 bytes each, file byte
 * order), then the owner name and the descriptor, each padded to 4 bytes. The package note is the
 * systemd "Package Metadata for Executable Files" spec: section `.note.package`, owner "FDO", type
 * 0xcafe1a7e, descriptor a NUL-terminated, 0-padded JSON object (`type`, `name`, `version`,
 * `architecture`, `os`, `osVersion`, `osCpe`, `debugInfoUrl`…). PE/COFF files carry the same JSON
 * in a plain section named `.pkgnote` (no note header).
 */
import { WaybillError } from '../../errors.ts';
import { type Executable, findSection } from './sections.ts';

export const PACKAGE_NOTE_SECTION = '.note.package';
export const PACKAGE_NOTE_PE_SECTION = '.pkgnote';
export const PACKAGE_NOTE_OWNER = 'FDO';
export const PACKAGE_NOTE_TYPE = 0xcafe1a7e;
const SHT_NOTE = 7;
const PT_NOTE = 4;
/** The spec keeps the JSON small (build tools cap it near 1 KiB); anything past this is not a note. */
const MAX_PACKAGE_JSON = 64 * 1024;

export interface ElfNote {
  owner: string;
  type: number;
  desc: Buffer;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Split a note section or PT_NOTE segment into notes. A size past the end → MALFORMED. */
export function parseNotes(data: Buffer, littleEndian: boolean, name: string): ElfNote[] {
  const notes: ElfNote[] = [];
  let off = 0;
  const u32 = (o: number) => (littleEndian ? data.readUInt32LE(o) : data.readUInt32BE(o));
  while (off + 12 <= data.length) {
    const namesz = u32(off);
    const descsz = u32(off + 4);
    const type = u32(off + 8);
    const nameStart = off + 12;
    const descStart = nameStart + align4(namesz);
    const descEnd = descStart + descsz;
    if (namesz > data.length || descsz > data.length || descEnd > data.length) {
      throw new WaybillError(
        'MALFORMED',
        name,
        `ELF note at offset ${off} declares ${namesz}+${descsz} bytes, past the end of its ${data.length}-byte section`,
      );
    }
    // The owner's length includes its NUL terminator.
    let ownerEnd = nameStart + namesz;
    while (ownerEnd > nameStart && data[ownerEnd - 1] === 0) ownerEnd--;
    notes.push({
      owner: data.toString('latin1', nameStart, ownerEnd),
      type,
      desc: data.subarray(descStart, descEnd),
    });
    off = align4(descEnd);
  }
  return notes;
}

/** Decode the JSON descriptor of a package note (NUL-terminated, 0-padded). Throws MALFORMED. */
export function decodePackageJson(desc: Buffer, name: string): Record<string, string> {
  let end = desc.length;
  const nul = desc.indexOf(0);
  if (nul >= 0) end = nul;
  if (end > MAX_PACKAGE_JSON)
    throw new WaybillError('MALFORMED', name, 'package note JSON is larger than 64 KiB');
  let value: unknown;
  try {
    value = JSON.parse(desc.toString('utf8', 0, end));
  } catch {
    throw new WaybillError('MALFORMED', name, 'package note is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WaybillError('MALFORMED', name, 'package note JSON is not an object');
  }
  // The spec leaves the key set open; keep every scalar, as text, in sorted key order.
  const out: Record<string, string> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'string') out[key] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
  }
  return out;
}

/** Find the package note among the notes of a note section; undefined when there is none. */
export function decodePackageNote(
  section: Buffer,
  littleEndian: boolean,
  name: string,
): Record<string, string> | undefined {
  for (const note of parseNotes(section, littleEndian, name)) {
    if (note.owner === PACKAGE_NOTE_OWNER && note.type === PACKAGE_NOTE_TYPE)
      return decodePackageJson(note.desc, name);
  }
  return undefined;
}

/**
 * The bytes of a `.note.package` section for `meta` (keys sorted, so the same metadata gives the same
 * bytes): header, "FDO\0", JSON + NUL, zero padding to 4 bytes. Add it to a binary with
 * `objcopy --add-section .note.package=FILE --set-section-flags .note.package=alloc,readonly`.
 */
export function encodePackageNote(meta: Record<string, string>, littleEndian = true): Buffer {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(meta).sort()) sorted[key] = meta[key]!;
  const json = Buffer.from(JSON.stringify(sorted), 'utf8');
  const owner = Buffer.from(`${PACKAGE_NOTE_OWNER}\0`, 'latin1');
  const descsz = json.length + 1;
  const out = Buffer.alloc(12 + align4(owner.length) + align4(descsz));
  const put = (v: number, o: number) => (littleEndian ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  put(owner.length, 0);
  put(descsz, 4);
  put(PACKAGE_NOTE_TYPE, 8);
  owner.copy(out, 12);
  json.copy(out, 12 + align4(owner.length));
  return out;
}

/**
 * The package note of an executable: ELF `.note.package` (or, when a linker renamed or merged it, any
 * note section or PT_NOTE segment holding an FDO/0xcafe1a7e note); PE `.pkgnote`. Throws MALFORMED.
 */
export function readPackageNote(exe: Executable, name: string): Record<string, string> | undefined {
  if (exe.format === 'pe') {
    const s = findSection(exe, PACKAGE_NOTE_PE_SECTION);
    if (!s || s.data.length === 0) return undefined;
    // Plain JSON per the spec; tolerate a tool that wrote an ELF-style note into the PE section.
    if (s.data[0] === 0x7b) return decodePackageJson(s.data, name);
    return decodePackageNote(s.data, true, name);
  }
  if (exe.format !== 'elf') return undefined;
  const named = findSection(exe, PACKAGE_NOTE_SECTION);
  if (named) return decodePackageNote(named.data, exe.littleEndian, name);
  for (const s of exe.sections) {
    if (s.type !== SHT_NOTE) continue;
    const found = decodePackageNote(s.data, exe.littleEndian, name);
    if (found) return found;
  }
  // Stripped of section headers: the notes are still reachable through PT_NOTE.
  if (exe.sections.length === 0) {
    for (const seg of exe.segments) {
      if (seg.type !== PT_NOTE) continue;
      const found = decodePackageNote(seg.data, exe.littleEndian, name);
      if (found) return found;
    }
  }
  return undefined;
}
