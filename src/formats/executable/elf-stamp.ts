/**
 * Writes the package note into an ELF executable with binutils' objcopy:
 *
 *   objcopy --remove-section .note.package \
 *           --add-section .note.package=NOTE \
 *           --set-section-flags .note.package=noload,readonly  IN TMP1
 *   objcopy --set-section-alignment .note.package=4 TMP1 TMP2
 *
 * Why these flags: the systemd spec asks for an allocated, read-only, 4-byte-aligned note, which a
 * linker can place (`ld --package-metadata`) because it lays out the segments. objcopy cannot add an
 * allocated section to a linked executable without a segment to put it in, so the note is added
 * *not allocated* (`noload`, no SHF_ALLOC) and read-only: it is in the file — `readelf -n`,
 * `systemd-analyze inspect-elf` and waybill read it from the section table — and the loaded image
 * is byte-for-byte unchanged, so the program runs as before. The cost: a non-allocated note is not
 * in core dumps. objcopy gives the sections it adds byte alignment and ignores
 * `--set-section-alignment` for them in the same run, hence the second pass. A linker-made
 * (allocated) note is removed and replaced the same way; objcopy shrinks its PT_NOTE segment.
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
  const meta = stampedNoteJson(existing, facts, exe.arch.native, path);
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
