/**
 * Debian binary packages (deb(5)): an ar archive of `debian-binary` ("2.0\n"), `control.tar[.gz|.xz|
 * .zst]` and `data.tar[.gz|.xz|.zst]`, in that order; members named `_…` (debsig signatures) may
 * follow. The control archive's `control` file is one deb822 stanza (deb-control(5)) whose fields
 * give the package's native facts: Package, Version, Architecture, Maintainer, Homepage, Bugs.
 *
 * Also registers a container walker so a .deb given as `file:` is walked through its data.tar (the
 * files the package installs), not as one opaque file.
 */
import { Readable } from 'node:stream';
import { type ArMember, indexArFile, readArMember } from '../../archive/ar.ts';
import { type Compression, detectCompression } from '../../archive/decompress.ts';
import { readTar } from '../../archive/tar-reader.ts';
import { decompressFileRange, decompressPackageBuffer } from '../../archive/xz.ts';
import { WaybillError } from '../../errors.ts';
import { type ContainerWalker, registerContainerWalker } from '../../sources/container-walkers.ts';
import type { FileEntry, FileFilter, WalkResult } from '../../sources/types.ts';
import type { SourceWalkOptions } from '../../sources/walk-options.ts';
import type { Fact, NativeFacts } from '../facts.ts';
import { collectPayload, type PayloadEntry } from '../shared/collect-payload.ts';
import { parseDeb822 } from './deb822.ts';

/** The control archive holds a handful of small scripts; 64 MiB decompressed is already absurd. */
export const MAX_CONTROL_TAR_BYTES = 64 * 1024 * 1024;
/** Compressed size of the control member we are willing to read into memory. */
const MAX_CONTROL_MEMBER_BYTES = 16 * 1024 * 1024;
/** The `control` file itself (dpkg has no limit; skopeo's, with 60 Built-Using entries, is 3 KiB). */
const MAX_CONTROL_FILE_BYTES = 4 * 1024 * 1024;

const DEB_HEAD = Buffer.from('!<arch>\ndebian-binary', 'latin1');

export interface DebLayout {
  members: ArMember[];
  debianBinary: ArMember;
  control: ArMember;
  controlCompression: Compression;
  data: ArMember;
  dataCompression: Compression;
}

export interface DebControlField {
  /** As written (case preserved). */
  name: string;
  /** Continuation lines joined with `\n`, each trimmed (deb822 parser), ` .` lines as empty lines. */
  value: string;
}

export interface DebControl {
  layout: DebLayout;
  /** The raw `control` file text (valid UTF-8). */
  text: string;
  fields: DebControlField[];
}

export interface BuiltUsing {
  name: string;
  /** The version after `=` (Built-Using requires exact versions, deb-control(5)). */
  version?: string;
}

export function looksLikeDeb(head: Uint8Array): boolean {
  return head.length >= DEB_HEAD.length && DEB_HEAD.equals(head.subarray(0, DEB_HEAD.length));
}

const MEMBER_SUFFIX: Record<string, Compression> = {
  '': 'none',
  '.gz': 'gzip',
  '.xz': 'xz',
  '.zst': 'zstd',
  '.bz2': 'bzip2',
};

function memberCompression(path: string, member: ArMember, base: string): Compression {
  const suffix = member.name.slice(base.length);
  const compression = MEMBER_SUFFIX[suffix];
  if (compression === undefined) {
    // dpkg also knows .lzma (deprecated); anything else is not a deb member.
    throw new WaybillError('UNSUPPORTED', path, `deb member ${member.name}: unsupported compression`);
  }
  if (compression === 'bzip2') {
    throw new WaybillError(
      'UNSUPPORTED',
      path,
      `deb member ${member.name}: bzip2 compression is not supported`,
    );
  }
  return compression;
}

/** Finds and checks the three required members (deb(5) "FORMAT"). */
export async function readDebLayout(path: string): Promise<DebLayout> {
  const members = await indexArFile(path);
  const first = members[0];
  if (first?.name !== 'debian-binary') {
    throw new WaybillError(
      'MALFORMED',
      path,
      'not a Debian package: the first ar member is not debian-binary',
    );
  }
  const version = (await readArMember(path, first, 64)).toString('latin1');
  // deb(5): the format version is "2.0"; dpkg accepts any 2.x and reads only the first line.
  if (!/^2\.[0-9]+\n/.test(version)) {
    throw new WaybillError(
      'UNSUPPORTED',
      path,
      `deb format version ${JSON.stringify(version.trim())} (want 2.x)`,
    );
  }
  const controlIndex = members.findIndex((m) => m.name.startsWith('control.tar'));
  const dataIndex = members.findIndex((m) => m.name.startsWith('data.tar'));
  if (controlIndex < 0) throw new WaybillError('MALFORMED', path, 'deb has no control.tar member');
  if (dataIndex < 0) throw new WaybillError('MALFORMED', path, 'deb has no data.tar member');
  if (dataIndex < controlIndex)
    throw new WaybillError('MALFORMED', path, 'deb data.tar member comes before control.tar');
  for (const m of members.slice(1, dataIndex)) {
    if (m !== members[controlIndex] && !m.name.startsWith('_')) {
      throw new WaybillError(
        'MALFORMED',
        path,
        `deb has an unexpected member ${JSON.stringify(m.name)} before data.tar`,
      );
    }
  }
  const control = members[controlIndex] as ArMember;
  const data = members[dataIndex] as ArMember;
  return {
    members,
    debianBinary: first,
    control,
    controlCompression: memberCompression(path, control, 'control.tar'),
    data,
    dataCompression: memberCompression(path, data, 'data.tar'),
  };
}

/** The decompressed control.tar, checked against the compression its member name declares. */
export async function readControlTar(path: string, layout: DebLayout): Promise<Buffer> {
  const raw = await readArMember(path, layout.control, MAX_CONTROL_MEMBER_BYTES);
  checkMagic(path, layout.control, layout.controlCompression, raw);
  return decompressPackageBuffer(layout.controlCompression, raw, {
    input: `${path} (${layout.control.name})`,
    maxOutputBytes: MAX_CONTROL_TAR_BYTES,
  });
}

function checkMagic(path: string, member: ArMember, declared: Compression, head: Buffer): void {
  const actual = detectCompression(head);
  if (actual !== declared) {
    throw new WaybillError(
      'MALFORMED',
      path,
      `deb member ${member.name} is not ${declared} data (starts as ${actual})`,
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the control file, naming the field when a line is not UTF-8 (deb-control(5): "The values
 * of fields... UTF-8"), and parses it as exactly one stanza without repeated fields.
 */
export function parseDebControlFile(bytes: Buffer, input: string): DebControlField[] {
  let fieldName = '(start of file)';
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.subarray(start, end);
    if (line.length > 0 && line[0] !== 0x20 && line[0] !== 0x09) {
      const colon = line.indexOf(0x3a);
      if (colon > 0) fieldName = line.toString('latin1', 0, colon);
    }
    try {
      utf8.decode(line);
    } catch {
      throw new WaybillError(
        'MALFORMED',
        input,
        `deb control field ${JSON.stringify(fieldName)}: value is not valid UTF-8`,
      );
    }
    start = end + 1;
  }
  const text = bytes.toString('utf8');
  const { stanzas } = parseDeb822(text, input);
  if (stanzas.length !== 1) {
    throw new WaybillError(
      'MALFORMED',
      input,
      `deb control file has ${stanzas.length} stanzas (want exactly one)`,
    );
  }
  const fields = (stanzas[0] as { fields: DebControlField[] }).fields;
  const seen = new Set<string>();
  for (const f of fields) {
    const key = f.name.toLowerCase();
    // deb822(5): "a field name must not appear more than once in a paragraph"; dpkg rejects it too.
    if (seen.has(key))
      throw new WaybillError('MALFORMED', input, `deb control field ${JSON.stringify(f.name)} appears twice`);
    seen.add(key);
  }
  return fields;
}

/** Reads the `control` file of a .deb (a `./control` or `control` entry of control.tar). */
export async function readDebControl(path: string): Promise<DebControl> {
  const layout = await readDebLayout(path);
  const tar = await readControlTar(path, layout);
  const input = `${path} (${layout.control.name})`;
  let bytes: Buffer | undefined;
  for await (const entry of readTar(Readable.from([tar]), { input })) {
    if (entry.header.path === 'control' && entry.header.type === 'file') {
      if (entry.header.size > MAX_CONTROL_FILE_BYTES) {
        throw new WaybillError('LIMIT', input, `control file of ${entry.header.size} bytes`);
      }
      bytes = await entry.readAll();
    }
  }
  if (!bytes) throw new WaybillError('MALFORMED', path, 'deb control.tar has no control file');
  const fields = parseDebControlFile(bytes, path);
  return { layout, text: bytes.toString('utf8'), fields };
}

export function controlField(fields: DebControlField[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === wanted)?.value;
}

/** `Built-Using: a (= 1.0-1), b (= 2)` → entries (deb-control(5) "Built-Using"). */
export function parseBuiltUsing(value: string): BuiltUsing[] {
  const out: BuiltUsing[] = [];
  for (const part of value.split(',')) {
    const m = /^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*(?:\(\s*=\s*([^)\s]+)\s*\))?\s*$/.exec(
      part.replace(/\n/g, ' '),
    );
    if (!m) continue;
    const entry: BuiltUsing = { name: m[1] as string };
    if (m[2]) entry.version = m[2];
    out.push(entry);
  }
  return out;
}

function fact(value: string, name: string): Fact {
  return { value, field: `deb ${name} field` };
}

/** Maps a parsed control stanza (and the package's own build date, see `debBuildDate`) onto NativeFacts. */
export function debFactsFromControl(fields: DebControlField[], created?: Fact): NativeFacts {
  const facts: NativeFacts = { format: 'deb', hasIdentityFields: true, architectures: [], texts: [] };
  const get = (name: string): Fact | undefined => {
    const f = fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    return f && f.value !== '' ? fact(f.value, f.name) : undefined;
  };
  const assign = <K extends 'name' | 'version' | 'team' | 'docs' | 'bugTracker' | 'sourceRepository'>(
    key: K,
    value: Fact | undefined,
  ) => {
    if (value) facts[key] = value;
  };
  assign('name', get('Package'));
  assign('version', get('Version'));
  const arch = get('Architecture');
  if (arch) facts.architectures.push(arch);
  assign('team', get('Maintainer'));
  assign('docs', get('Homepage'));
  // A `debbugs://host` URL is kept as written: it names the tracker, reportbug knows how to use it.
  assign('bugTracker', get('Bugs'));
  assign('sourceRepository', get('Vcs-Git') ?? get('Vcs-Browser'));
  if (created) facts.created = created;
  const description = get('Description');
  if (description) {
    const synopsis = description.value.split('\n')[0] as string;
    facts.texts.push({ value: synopsis, field: 'deb Description field (synopsis)' });
  }
  // Every field for the team rule: community wording can hide in Maintainer, Original-Maintainer, …
  for (const f of fields) if (f.value !== '') facts.texts.push(fact(f.value, f.name));
  return facts;
}

export async function readDebFacts(path: string): Promise<NativeFacts> {
  const control = await readDebControl(path);
  for (const required of ['Package', 'Version']) {
    if (!controlField(control.fields, required)) {
      throw new WaybillError('MALFORMED', path, `deb control has no ${required} field`);
    }
  }
  return debFactsFromControl(control.fields, await debBuildDate(path, control.layout));
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * When the package was built, from the package itself. dpkg-deb dates every ar member with
 * SOURCE_DATE_EPOCH when the build sets it (every Debian build since reproducible builds does) and
 * with the time it assembled the package otherwise, and clamps the files' mtimes in data.tar to
 * the same value: so the data member's ar date is the build date, read without decompressing
 * anything. Tools that write deterministic ar archives (`ar D`) date members 0; then the newest
 * mtime in data.tar is the evidence left (one pass over its headers). Undefined when both are 0.
 */
export async function debBuildDate(path: string, layout: DebLayout): Promise<Fact | undefined> {
  if (layout.data.mtime > 0)
    return { value: isoSeconds(layout.data.mtime), field: `deb ${layout.data.name} member date` };
  const newest = await newestDataMtime(path, layout);
  return newest > 0
    ? { value: isoSeconds(newest), field: `deb ${layout.data.name} newest file date` }
    : undefined;
}

async function newestDataMtime(path: string, layout: DebLayout): Promise<number> {
  const { data } = layout;
  const input = `${path} (${data.name})`;
  const stream = await decompressFileRange(
    path,
    data.dataOffset,
    data.dataOffset + data.size,
    layout.dataCompression,
    { input },
  );
  let newest = 0;
  try {
    for await (const entry of readTar(stream, { input })) newest = Math.max(newest, entry.header.mtime);
  } finally {
    stream.destroy();
  }
  return newest;
}

// ---------------------------------------------------------------------------------------------
// Walking the installed files.

/** The files a .deb installs: its data.tar, decompressed under limits and read once. */
export async function walkDebData(
  path: string,
  filter: FileFilter,
  options: SourceWalkOptions = {},
): Promise<WalkResult> {
  options.signal?.throwIfAborted();
  const layout = await readDebLayout(path);
  const input = `${path} (${layout.data.name})`;
  const { data } = layout;
  let done = 0;
  const stream = await decompressFileRange(
    path,
    data.dataOffset,
    data.dataOffset + data.size,
    layout.dataCompression,
    { ...options.decompress, input },
    (n) => {
      done += n;
      options.onProgress?.(done, data.size);
    },
  );
  async function* entries(): AsyncGenerator<PayloadEntry> {
    for await (const tarEntry of readTar(stream, { input })) {
      const h = tarEntry.header;
      const entry: FileEntry = { path: h.path, type: h.type, size: h.size, mode: h.mode };
      if (h.linkTarget !== undefined) entry.linkTarget = h.linkTarget;
      yield { entry, peek: (n) => tarEntry.peek(n), readAll: () => tarEntry.readAll() };
    }
  }
  try {
    return await collectPayload(entries(), filter, options);
  } finally {
    stream.destroy();
  }
}

export const debWalker: ContainerWalker = {
  name: 'deb',
  detect: (head) => looksLikeDeb(head),
  walk: walkDebData,
};

registerContainerWalker(debWalker);
