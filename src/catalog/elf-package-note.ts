/**
 * Package-note cataloger: executables and shared libraries that say which package built them, in
 * the systemd package-metadata note (ELF `.note.package`, PE `.pkgnote`). A `deb`/`rpm`/`apk`/`alpm`
 * note names a distro package (purl with the OS as namespace); any other type becomes generic.
 */
import { PackageURL } from 'packageurl-js';
import { isWaybillError } from '../errors.ts';
import { condenseExecutable } from '../formats/executable/condense.ts';
import {
  PACKAGE_NOTE_OWNER,
  PACKAGE_NOTE_PE_SECTION,
  PACKAGE_NOTE_SECTION,
  PACKAGE_NOTE_TYPE,
  readPackageNote,
} from '../formats/executable/elf-note.ts';
import { parseExecutable, sniffExecutable, wantExecutable } from '../formats/executable/executable.ts';
import { containsAnyBytes } from '../sources/content-match.ts';
import type { FileEntry } from '../sources/types.ts';
import type { CatalogContext, Cataloger, Component, Ecosystem } from './types.ts';

const DISTRO_TYPES: Record<string, Ecosystem | undefined> = { deb: 'deb', rpm: 'rpm', apk: 'apk' };

/**
 * Byte patterns without which `readPackageNote` finds nothing: the ELF section name, the PE section
 * name, and an FDO package note itself — the note type (either byte order) directly followed by the
 * owner "FDO\0", which is how every note is laid out (n_namesz, n_descsz, n_type, name), so notes in
 * renamed or merged note sections and in PT_NOTE segments are kept too.
 */
function notePatterns(): Buffer[] {
  const owner = Buffer.from(`${PACKAGE_NOTE_OWNER}\0`, 'latin1');
  const typeLE = Buffer.alloc(4);
  typeLE.writeUInt32LE(PACKAGE_NOTE_TYPE);
  const typeBE = Buffer.alloc(4);
  typeBE.writeUInt32BE(PACKAGE_NOTE_TYPE);
  return [
    Buffer.from(PACKAGE_NOTE_SECTION, 'latin1'),
    Buffer.from(PACKAGE_NOTE_PE_SECTION, 'latin1'),
    Buffer.concat([typeLE, owner]),
    Buffer.concat([typeBE, owner]),
  ];
}
const NOTE_PATTERNS = notePatterns();

export const elfPackageNoteCataloger: Required<Pick<Cataloger, 'keep'>> & Cataloger = {
  name: 'elf-package-note',
  want: wantExecutable,
  sniff: (_entry, head) => sniffExecutable(head),
  keep: (_entry, data) => containsAnyBytes(data, NOTE_PATTERNS),
  condense: condenseExecutable,
  catalog(files, ctx) {
    const out: Component[] = [];
    for (const file of files) {
      try {
        const note = readPackageNote(parseExecutable(file.data, file.entry.path), file.entry.path);
        if (!note) continue;
        const c = componentFromNote(note, file.entry, ctx);
        if (c) out.push(c);
        else ctx.warn(file.entry.path, 'package note has no "name"');
      } catch (e) {
        if (!isWaybillError(e)) throw e;
        ctx.warn(file.entry.path, e.reason);
      }
    }
    return out;
  },
};

export function componentFromNote(
  note: Record<string, string>,
  entry: FileEntry,
  ctx: Pick<CatalogContext, 'distro'>,
): Component | undefined {
  const name = note.name?.trim();
  if (!name) return undefined;
  const version = note.version?.trim() ?? '';
  const type = (note.type ?? '').toLowerCase();
  const os = (note.os ?? ctx.distro?.id ?? '').toLowerCase();
  const osVersion = note.osVersion ?? (note.os ? undefined : ctx.distro?.versionId);
  const qualifiers: Record<string, string> = {};
  if (note.architecture) qualifiers.arch = note.architecture;
  if (os && osVersion) qualifiers.distro = `${os}-${osVersion}`;

  const ecosystem = DISTRO_TYPES[type] ?? 'generic';
  let purl: string;
  if (ecosystem !== 'generic' || type === 'alpm') {
    purl = new PackageURL(type, os || undefined, name, version || undefined, qualifiers).toString();
  } else {
    purl = new PackageURL('generic', undefined, name, version || undefined, qualifiers).toString();
  }
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(note)) properties[`waybill:package-note:${k}`] = v;
  // Distro notes carry the source package name (dh_package_notes, Fedora's package-notes).
  if (ecosystem !== 'generic') properties['waybill:source-package'] = name;
  const isLibrary = /\.so(\.[0-9.]+)?$/.test(entry.path) || /\.dll$/i.test(entry.path);
  return {
    type: isLibrary ? 'library' : 'application',
    ecosystem,
    name,
    version,
    purl,
    licenses: [],
    foundAt: [entry.path],
    properties,
    ...(entry.layer !== undefined ? { layer: entry.layer } : {}),
  };
}
