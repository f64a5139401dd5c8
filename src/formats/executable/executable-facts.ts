/**
 * Native facts of compiled executables (ELF, PE/COFF, Mach-O; detected by magic):
 * - the package note (systemd "Package Metadata for Executable Files": ELF `.note.package`, PE
 *   `.pkgnote`; JSON with `type`, `name`, `version`, `architecture`, `osCpe`…, and waybill's
 *   `maintainer`) → name, version, architecture, team;
 * - Go build info → the main module path and version (when the note has none) and vcs.revision;
 * - the header's machine field → the architecture the code is really for.
 * When the note's architecture and the header's disagree both are kept, so `check` can flag it.
 *
 * Only ELF is stamped (elf-stamp.ts, with objcopy); PE and Mach-O facts go to the sidecar.
 */
import { readFile, stat } from 'node:fs/promises';
import { normalizeArchitecture } from '../../policy/architecture.ts';
import { fileSource } from '../../util/byte-source.ts';
import { readFileHead } from '../../util/read-head.ts';
import { emptyFacts, type Fact, type NativeFacts } from '../facts.ts';
import type { NativeFormat } from '../native.ts';
import { condenseElfSource } from './condense.ts';
import { readPackageNote } from './elf-note.ts';
import { stampElf } from './elf-stamp.ts';
import { detectExecutable, parseExecutable } from './executable.ts';
import { readGoBuildInfo } from './go-buildinfo.ts';
import type { ExecutableFormat } from './sections.ts';

const NOTE_FIELD: Record<ExecutableFormat, string> = {
  elf: 'ELF .note.package',
  pe: 'PE .pkgnote',
  macho: 'Mach-O package note',
};
const HEADER_FIELD: Record<ExecutableFormat, string> = {
  elf: 'ELF header e_machine',
  pe: 'PE header Machine',
  macho: 'Mach-O header cputype',
};

/** Facts of an executable already in memory. Throws WaybillError (MALFORMED, UNSUPPORTED). */
export function executableFacts(buf: Buffer, name: string): NativeFacts {
  const exe = parseExecutable(buf, name);
  const facts = emptyFacts(exe.format);
  // ELF has a place for identity that waybill can write; PE has one in the spec but nothing here
  // writes it, and Mach-O has none, so `check` does not demand native identity from them.
  facts.hasIdentityFields = exe.format === 'elf';
  const note = readPackageNote(exe, name);
  const noteField = NOTE_FIELD[exe.format];
  const go = readGoBuildInfo(exe, name);

  if (note?.name) facts.name = { value: note.name, field: `${noteField} name` };
  else if (go?.main?.path)
    facts.name = { value: go.main.path, field: 'Go build info main module path', inferred: true };
  if (note?.version) facts.version = { value: note.version, field: `${noteField} version` };
  else if (go?.main?.version && go.main.version !== '(devel)') {
    facts.version = { value: go.main.version, field: 'Go build info main module version', inferred: true };
  }
  const revision = go?.settings.find((s) => s.key === 'vcs.revision')?.value;
  if (revision) facts.revision = { value: revision, field: 'Go build info vcs.revision' };
  if (note?.maintainer) {
    facts.team = { value: note.maintainer, field: `${noteField} maintainer` };
    facts.texts.push(facts.team);
  }

  const header: Fact[] = (exe.slices ?? [exe]).map((s) => ({
    value: s.arch.native,
    field: HEADER_FIELD[exe.format],
  }));
  const seen = new Set<string>();
  const uniqueHeader = header.filter((f) => !seen.has(f.value) && seen.add(f.value));
  if (note?.architecture) {
    const agrees = uniqueHeader.some(
      (h) => normalizeArchitecture(h.value) === normalizeArchitecture(note.architecture!),
    );
    // Agreeing: the header is the stronger evidence, report it alone. Disagreeing: both.
    if (!agrees) facts.architectures.push({ value: note.architecture, field: `${noteField} architecture` });
  }
  facts.architectures.push(...uniqueHeader);
  return facts;
}

export async function readExecutableFacts(path: string): Promise<NativeFacts> {
  return executableFacts(await readFile(path), path);
}

/**
 * Refuses an executable its parser refuses (a cut or corrupt ELF, PE or Mach-O), with the error
 * `inspect` and `check` give when they read its facts. For `sbom`, whose catalogers read only files
 * with the sections they want and would describe a broken executable without a word. An ELF file
 * the condenser takes (it takes none the parser would refuse) is checked through its condensed copy,
 * a few ranges read from disk; anything else is read whole, as readExecutableFacts reads it.
 */
export async function assertReadableExecutable(path: string): Promise<void> {
  const source = fileSource(path, (await stat(path)).size);
  let condensed: Buffer | undefined;
  try {
    condensed = condenseElfSource(source, 0);
  } finally {
    source.close();
  }
  executableFacts(condensed ?? (await readFile(path)), path);
}

export const executableFormat: NativeFormat = {
  name: 'executable',
  // The ELF package note's name and version are written by the stamp (PE and Mach-O: nothing is).
  writesIdentity: true,
  detect: (head) => detectExecutable(head.subarray(0, 64)) !== undefined,
  readFacts: readExecutableFacts,
  async stamp(path, facts) {
    const head = await readFileHead(path, 64);
    if (detectExecutable(head) !== 'elf') return { changed: false, fields: [] };
    return stampElf(path, facts);
  },
};
