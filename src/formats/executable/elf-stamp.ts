/**
 * Writes the package note into an ELF executable with binutils' objcopy:
 *
 *   objcopy --remove-section .note.package \
 *           --add-section .note.package=NOTE \
 *           --set-section-flags .note.package=noload,readonly  IN TMP1
 *   objcopy --set-section-alignment .note.package=4 TMP1 TMP2
 *
 * Why the note is not allocated, and so not in core dumps. A reader of a core dump (systemd-coredump
 * through elfutils) sees only the memory the kernel dumped: of a file-backed mapping, by default
 * (coredump_filter 0x33, bit 4) just its first page, holding the ELF and program headers. It walks
 * those program headers and reads the PT_NOTE segments that lie in dumped memory. So a note a core
 * dump carries must be (1) allocated inside a PT_LOAD, (2) named by a PT_NOTE program header and
 * (3) in practice within the first page, right after the headers — which is where a linker puts it
 * (`ld --package-metadata`: `.note.package` at 0x39c, inside the PT_NOTE of the build-id).
 * Post-link, none of the three can be had without relinking:
 * - the program header table has no spare entry and cannot grow in place: /usr/bin/true here has 13
 *   entries at 0x40–0x318 and `.interp` starts at 0x318; adding one means moving the table (to a new
 *   PT_LOAD at the end of the file, as patchelf does), a rewrite of the load layout that a release
 *   stamp has no business doing to a program it did not build;
 * - an existing PT_NOTE covers exactly its notes (`.note.gnu.build-id`, `.note.ABI-tag`), and the
 *   bytes after them are `.gnu.hash` and the symbol tables, whose addresses the code uses: no room;
 * - the first page is full (headers, `.interp`, notes, `.gnu.hash`…); the slack before the next
 *   PT_LOAD (0x1290–0x2000 in /usr/bin/true) is in a page the kernel does not dump by default.
 * objcopy itself confirms it: an added section with `--set-section-flags …=alloc` gets address 0 and
 * "allocated section not in segment", no PT_NOTE. So the note is added *not allocated* (`noload`,
 * no SHF_ALLOC), read-only, 4-byte aligned: it is in the file — `readelf -n`,
 * `systemd-analyze inspect-elf` and waybill read it from the section table — and the loaded image is
 * byte-for-byte unchanged, so the program runs as before. Measured: a core of an aborting program
 * linked with `--package-metadata` holds the JSON, the same program stamped here does not.
 *
 * To have the note in core dumps, link it in, with the same JSON (`stampedNoteJson` below):
 * `-Xlinker --package-metadata='{"type":"generic","name":"hello","version":"1.2.3"}'` with GNU ld
 * 2.39+ or LLVM lld 15+ (gcc and clang; not `-Wl,`, which splits the JSON at its commas — binutils
 * 2.40 has no escape for them); Go: `-ldflags '-linkmode=external -extldflags "-Xlinker
 * --package-metadata=…"'`; Rust: `-C link-arg=-Xlinker -C link-arg=--package-metadata=…`. A build
 * recipe that passes it gets a note `stamp` keeps as it is: a linker-made (allocated) note is only
 * replaced when its name, version or architecture must change — then by a non-allocated one —
 * never just to add waybill's `maintainer` (the team is in the release record anyway).
 * objcopy gives the sections it adds byte alignment and ignores `--set-section-alignment` for them in
 * the same run, hence the second pass.
 *
 * The JSON keeps every key of an existing note (`osCpe`, `debugInfoUrl`…: the spec leaves the set
 * open) and sets `name`, `version`, `architecture` (default: the header's) and waybill's
 * `maintainer`. `type` ("the packaging type", namespacing name and version) is kept when present and
 * otherwise `generic` — the purl word for software outside any package ecosystem.
 */
import { execFile } from 'node:child_process';
import { chmod, readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { WaybillError } from '../../errors.ts';
import { StagingArea } from '../../util/staging.ts';
import type { NativeStampFacts, NativeStampResult } from '../native.ts';
import { encodePackageNote, PACKAGE_NOTE_SECTION, readPackageNote } from './elf-note.ts';
import { parseExecutable } from './executable.ts';
import { findSection } from './sections.ts';

const exec = promisify(execFile);

export const DEFAULT_PACKAGE_TYPE = 'generic';

/** The spec: "Strings shall not contain any control characters". */
function noteValue(value: string, key: string, input: string): string {
  if (/[\x00-\x1f\x7f]/.test(value)) {
    throw new WaybillError('USAGE', input, `package note ${key} must not contain control characters`);
  }
  return value;
}

/** The note JSON after stamping: the existing keys, with waybill's facts over them. */
export function stampedNoteJson(
  existing: Record<string, string> | undefined,
  facts: NativeStampFacts,
  headerArch: string,
  input: string,
): Record<string, string> {
  const meta: Record<string, string> = { ...(existing ?? {}) };
  meta.type = existing?.type ?? DEFAULT_PACKAGE_TYPE;
  if (facts.name) meta.name = noteValue(facts.name, 'name', input);
  if (facts.version) meta.version = noteValue(facts.version, 'version', input);
  meta.architecture = noteValue(
    facts.architecture ?? existing?.architecture ?? headerArch,
    'architecture',
    input,
  );
  if (facts.team) meta.maintainer = noteValue(facts.team, 'maintainer', input);
  return meta;
}

/** ELF section flag: occupies memory during execution (the note is in a PT_LOAD, and in core dumps). */
const SHF_ALLOC = 0x2;

/**
 * A linker-made note after stamping: only name, version and (when given) architecture, so a note
 * that already says them stays allocated; nothing is added to it.
 */
export function linkedNoteJson(
  existing: Record<string, string>,
  facts: NativeStampFacts,
  input: string,
): Record<string, string> {
  const meta: Record<string, string> = { ...existing };
  if (facts.name) meta.name = noteValue(facts.name, 'name', input);
  if (facts.version) meta.version = noteValue(facts.version, 'version', input);
  if (facts.architecture) meta.architecture = noteValue(facts.architecture, 'architecture', input);
  return meta;
}

async function objcopy(args: string[], input: string, objcopyPath: string): Promise<void> {
  try {
    await exec(objcopyPath, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new WaybillError('UNSUPPORTED', input, `${objcopyPath} (binutils) is needed to stamp ELF files`);
    const stderr = String((e as { stderr?: string }).stderr ?? '')
      .trim()
      .split('\n')[0];
    throw new WaybillError('MALFORMED', input, `objcopy refused the file: ${stderr || String(e)}`);
  }
}

export interface ElfStampOptions {
  /** The objcopy to run (a cross binutils' for foreign files, if the host one does not know them). */
  objcopy?: string;
}

/** Add or replace `.note.package` in place (temp files + rename). Throws WaybillError. */
export async function stampElf(
  path: string,
  facts: NativeStampFacts,
  options: ElfStampOptions = {},
): Promise<NativeStampResult> {
  const buf = await readFile(path);
  const exe = parseExecutable(buf, path);
  if (exe.format !== 'elf')
    throw new WaybillError('UNSUPPORTED', path, 'only ELF files are stamped with a package note');
  const existing = readPackageNote(exe, path);
  const linked = ((findSection(exe, PACKAGE_NOTE_SECTION)?.flags ?? 0) & SHF_ALLOC) !== 0;
  const meta =
    linked && existing
      ? linkedNoteJson(existing, facts, path)
      : stampedNoteJson(existing, facts, exe.arch.native, path);
  const tool = options.objcopy ?? 'objcopy';
  if (existing && JSON.stringify(sorted(existing)) === JSON.stringify(sorted(meta))) {
    return { changed: false, fields: [], tool };
  }
  const note = encodePackageNote(meta, exe.littleEndian);
  // objcopy writes only into a private directory of ours (mode 0700, fresh unpredictable name) next
  // to the target, whose result replaces the target by one rename (util/staging.ts).
  const work = await StagingArea.create(dirname(path), basename(path));
  try {
    const notePath = await work.write('note', note);
    const added = work.file('added');
    const stage = work.file('stamped');
    await objcopy(
      [
        '--remove-section',
        PACKAGE_NOTE_SECTION,
        '--add-section',
        `${PACKAGE_NOTE_SECTION}=${notePath}`,
        '--set-section-flags',
        `${PACKAGE_NOTE_SECTION}=noload,readonly`,
        path,
        added,
      ],
      path,
      tool,
    );
    await objcopy(['--set-section-alignment', `${PACKAGE_NOTE_SECTION}=4`, added, stage], path, tool);
    // Check what objcopy wrote before it replaces the original.
    const written = readPackageNote(parseExecutable(await readFile(stage), path), path);
    if (JSON.stringify(sorted(written ?? {})) !== JSON.stringify(sorted(meta))) {
      throw new WaybillError(
        'MALFORMED',
        path,
        'objcopy output does not carry the package note that was written',
      );
    }
    await chmod(stage, (await stat(path)).mode & 0o7777);
    work.publish('stamped', basename(path));
    await work.commit();
  } finally {
    await work.discard();
  }
  const fields = ['name', 'version', 'architecture', 'maintainer']
    .filter((k) => meta[k] !== undefined && meta[k] !== existing?.[k])
    .map((k) => `ELF .note.package ${k}`);
  if (!existing?.type) fields.unshift('ELF .note.package type');
  return { changed: true, fields, tool };
}

function sorted(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
