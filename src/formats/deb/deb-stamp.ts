/**
 * Writes release facts into a .deb's control file: Homepage (docs), Bugs (bug tracker) and
 * Maintainer (`team <email>`), and rebuilds the package around it.
 *
 * What changes and what does not:
 * - `control`: only the stamped fields. An existing field is rewritten in place (its name as
 *   written); a new one goes just before Description (where dpkg-gencontrol puts Homepage), or at the
 *   end. Every other field, its order and its formatting are kept byte for byte. Built-Using stays.
 * - `control.tar`: every other control file (md5sums, postinst, conffiles…) with its mode and date,
 *   written as dpkg-deb writes it (`./` first, `./name` entries, root:root).
 *   Compression: gzip stays gzip, none stays none, zstd stays zstd; xz becomes gzip (waybill has an xz
 *   decoder, not an encoder; dpkg reads control.tar.gz everywhere).
 * - `data.tar` and `debian-binary` are copied byte for byte; ar headers keep each member's date and
 *   get dpkg-deb's fixed owner and mode (0/0, 100644).
 * - Name, Version and Architecture are never rewritten: they are the package's identity in the
 *   archive and in dpkg's database, so a mismatch is for `check` to report, not for stamp to hide.
 * - The upstream trail is kept. A field stamp replaces keeps its old value in `Original-<Field>`,
 *   just after it: `Original-Maintainer` is what Debian derivatives write when they take over a
 *   package (Ubuntu's `XSBC-Original-Maintainer` in debian/control becomes `Original-Maintainer` in
 *   the .deb, Debian Policy 5.7 user-defined fields), and `Original-Homepage` / `Original-Bugs`
 *   follow the same convention — derivatives usually leave Homepage alone, but the `help` rule asks
 *   the package and the record to name the same docs URL, so waybill moves the upstream's aside
 *   rather than losing it. An `Original-<Field>` already present (a package already re-released) is
 *   never overwritten: it holds the first upstream. The originals are also returned (`replaced`)
 *   for the release record.
 *
 * A package with debsig signature members (`_gpg…`) is refused: rewriting control would break them.
 * The new file is written next to the old one and renamed over it.
 */
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { type ArWriteMember, arChunks } from '../../archive/ar.ts';
import type { Compression } from '../../archive/decompress.ts';
import { readTar } from '../../archive/tar-reader.ts';
import { WaybillError } from '../../errors.ts';
import { AtomicFile } from '../../util/atomic-write.ts';
import type { NativeStampFacts, NativeStampResult } from '../native.ts';
import { type DebLayout, parseDebControlFile, readControlTar, readDebControl } from './deb.ts';

/** One field of the control file as raw lines (first line plus continuation lines). */
interface RawField {
  name: string;
  lines: string[];
}

/** Splits control text into fields, keeping every line exactly (comments ride with the field before). */
export function splitControlFields(text: string): { fields: RawField[]; trailing: string } {
  const lines = text.split('\n');
  // The file ends with a newline: the last split piece is '' (plus any blank lines dpkg tolerates).
  let end = lines.length;
  while (end > 0 && (lines[end - 1] as string).trim() === '') end--;
  const fields: RawField[] = [];
  for (const line of lines.slice(0, end)) {
    const continuation = line.startsWith(' ') || line.startsWith('\t') || line.startsWith('#');
    const last = fields[fields.length - 1];
    if (continuation && last) last.lines.push(line);
    else fields.push({ name: line.slice(0, Math.max(line.indexOf(':'), 0)), lines: [line] });
  }
  return { fields, trailing: '\n' };
}

/** An email address as Maintainer needs it (RFC 5322 addr-spec, simplified; `mailto:` accepted). */
function emailOf(contact: string | null | undefined): string | undefined {
  if (!contact) return undefined;
  const bare = contact.replace(/^mailto:/i, '').trim();
  return /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(bare) ? bare : undefined;
}

function singleLine(name: string, value: string): string {
  if (/[\r\n]/.test(value) || value.trim() === '') {
    throw new WaybillError('USAGE', name, `deb ${name} must be one non-empty line`);
  }
  return value.trim();
}

/** The control-field updates a stamp asks for, in the order they are reported. */
export function controlUpdates(
  facts: NativeStampFacts,
  currentMaintainer: string | undefined,
): Array<[string, string]> {
  const updates: Array<[string, string]> = [];
  if (facts.docs) updates.push(['Homepage', singleLine('Homepage', facts.docs)]);
  if (facts.bugTracker) updates.push(['Bugs', singleLine('Bugs', facts.bugTracker)]);
  if (facts.team) {
    // Debian Policy 5.6.2: Maintainer is "name <email>". A URL contact cannot go there; without a
    // contact, keep the address the package already has.
    const existingEmail = /<([^<>]+)>\s*$/.exec(currentMaintainer ?? '')?.[1];
    const email = emailOf(facts.contact) ?? (facts.contact ? undefined : existingEmail);
    if (email) updates.push(['Maintainer', `${singleLine('Maintainer', facts.team)} <${email}>`]);
  }
  return updates;
}

/** The fields whose replaced values are kept as `Original-<Field>` (see the top of this file). */
const KEEPS_ORIGINAL = new Set(['maintainer', 'homepage', 'bugs']);

function findField(fields: RawField[], name: string): RawField | undefined {
  return fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
}

/** A raw field's value: the first line after the colon and any continuation lines, trimmed. */
function rawValue(field: RawField): string {
  const [first = '', ...rest] = field.lines;
  return [first.slice(first.indexOf(':') + 1), ...rest]
    .map((l) => l.trim())
    .join('\n')
    .trim();
}

/**
 * Applies updates to the control text. Returns the new text, the fields that changed, and for each
 * field stamp sets that keeps its original, the upstream value as the package now records it
 * (`Original-<Field>`, whether added now or by an earlier re-release).
 */
export function editControlText(
  text: string,
  updates: Array<[string, string]>,
): { text: string; changed: string[]; originals: Array<{ name: string; value: string }> } {
  const { fields, trailing } = splitControlFields(text);
  const changed: string[] = [];
  const originals: Array<{ name: string; value: string }> = [];
  for (const [name, value] of updates) {
    const existing = findField(fields, name);
    const keeps = KEEPS_ORIGINAL.has(name.toLowerCase());
    if (existing) {
      const line = `${existing.name}: ${value}`;
      const unchanged = existing.lines.length === 1 && existing.lines[0] === line;
      const originalName = `Original-${name}`;
      if (keeps && !unchanged && !findField(fields, originalName)) {
        if (rawValue(existing) !== '') {
          // The old field's lines, renamed: its value and any continuation lines byte for byte.
          const [first = '', ...rest] = existing.lines;
          fields.splice(fields.indexOf(existing) + 1, 0, {
            name: originalName,
            lines: [`${originalName}${first.slice(first.indexOf(':'))}`, ...rest],
          });
          changed.push(originalName);
        }
      }
      const original = keeps ? findField(fields, originalName) : undefined;
      if (original) originals.push({ name, value: rawValue(original) });
      if (unchanged) continue;
      // A changed value replaces the whole field (a folded old value included).
      existing.lines = [line];
    } else {
      const at = fields.findIndex((f) => f.name.toLowerCase() === 'description');
      const field = { name, lines: [`${name}: ${value}`] };
      if (at < 0) fields.push(field);
      else fields.splice(at, 0, field);
    }
    changed.push(name);
  }
  return { text: fields.flatMap((f) => f.lines).join('\n') + trailing, changed, originals };
}

interface ControlTarEntry {
  /** Normalized relative path ('' is never stored: the root is written by the writer). */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode: number;
  mtime: number;
  data?: Buffer;
  linkTarget?: string;
}

/**
 * One ustar header (POSIX.1-1988) with dpkg-deb's conventions for control archives: names start
 * with `./`, owner root:root (uid/gid 0). Control archives hold a few short names; longer ones are
 * refused rather than written in an extension some old readers skip.
 */
function ustarHeader(name: string, entry: ControlTarEntry, size: number, input: string): Buffer {
  const typeflag = { file: '0', hardlink: '1', symlink: '2', dir: '5' }[entry.type];
  const link = entry.linkTarget ?? '';
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(link) > 100) {
    throw new WaybillError(
      'UNSUPPORTED',
      input,
      `control archive name over 100 bytes: ${JSON.stringify(name.slice(0, 60))}`,
    );
  }
  const h = Buffer.alloc(512);
  const octal = (offset: number, width: number, value: number) =>
    h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
  h.write(name, 0, 100, 'utf8');
  octal(100, 8, entry.mode & 0o7777);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, entry.mtime);
  h.write(typeflag, 156, 1, 'latin1');
  h.write(link, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  h.write('root', 265, 32, 'latin1');
  h.write('root', 297, 32, 'latin1');
  octal(329, 8, 0);
  octal(337, 8, 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** A control archive as dpkg-deb lays it out: `./` first, then `./name` entries in the given order. */
export function controlTarBuffer(entries: ControlTarEntry[], rootMtime: number, input: string): Buffer {
  const parts: Buffer[] = [
    ustarHeader('./', { path: '', type: 'dir', mode: 0o755, mtime: rootMtime }, 0, input),
  ];
  for (const entry of entries) {
    const name = entry.type === 'dir' ? `./${entry.path}/` : `./${entry.path}`;
    const data = entry.type === 'file' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const linkTarget = entry.type === 'hardlink' ? `./${entry.linkTarget}` : entry.linkTarget;
    parts.push(
      ustarHeader(
        name,
        { ...entry, ...(linkTarget !== undefined ? { linkTarget } : {}) },
        data.length,
        input,
      ),
    );
    parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  // End of archive: two zero blocks; GNU tar pads to a 10 KiB record, which readers do not need.
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Rebuilds control.tar with a new `control` file and every other entry as it was. */
async function rebuildControlTar(path: string, layout: DebLayout, control: Buffer): Promise<Buffer> {
  const tar = await readControlTar(path, layout);
  const input = `${path} (${layout.control.name})`;
  const entries: ControlTarEntry[] = [];
  let controlMtime: number | undefined;
  for await (const entry of readTar(Readable.from([tar]), { input })) {
    const h = entry.header;
    const base = { path: h.path, mode: h.mode, mtime: h.mtime };
    if (h.type === 'file') {
      const isControl = h.path === 'control';
      if (isControl) controlMtime = h.mtime;
      entries.push({ ...base, type: 'file', data: isControl ? control : await entry.readAll() });
    } else if (h.type === 'dir' || h.type === 'symlink' || h.type === 'hardlink') {
      entries.push({
        ...base,
        type: h.type,
        ...(h.linkTarget !== undefined ? { linkTarget: h.linkTarget } : {}),
      });
    } else {
      throw new WaybillError(
        'UNSUPPORTED',
        input,
        `control archive entry ${JSON.stringify(h.path)} is a special file`,
      );
    }
  }
  if (controlMtime === undefined)
    throw new WaybillError('MALFORMED', path, 'deb control.tar has no control file');
  return controlTarBuffer(entries, controlMtime, input);
}

function compressControl(tar: Buffer, original: Compression): { suffix: string; data: Buffer } {
  if (original === 'none') return { suffix: '', data: tar };
  if (original === 'zstd') {
    return {
      suffix: '.zst',
      data: zlib.zstdCompressSync(tar, { params: { [zlib.constants.ZSTD_c_compressionLevel]: 19 } }),
    };
  }
  // gzip from node:zlib writes mtime 0 and no name: the same tar gives the same bytes.
  return { suffix: '.gz', data: zlib.gzipSync(tar, { level: 9 }) };
}

export async function stampDeb(path: string, facts: NativeStampFacts): Promise<NativeStampResult> {
  const control = await readDebControl(path);
  const { layout } = control;
  const signed = layout.members.find((m) => m.name.startsWith('_gpg'));
  if (signed) {
    throw new WaybillError(
      'UNSUPPORTED',
      path,
      `deb is signed (${signed.name} member): stamping would break the signature`,
    );
  }
  const maintainer = control.fields.find((f) => f.name.toLowerCase() === 'maintainer')?.value;
  const { text, changed, originals } = editControlText(control.text, controlUpdates(facts, maintainer));
  const replaced = originals.map((o) => ({ field: `deb ${o.name}`, value: o.value }));
  if (changed.length === 0) return { changed: false, fields: [], ...(replaced.length ? { replaced } : {}) };
  // The edited file must still be a valid control file (one stanza, no duplicates).
  const controlBytes = Buffer.from(text, 'utf8');
  parseDebControlFile(controlBytes, path);

  const tar = await rebuildControlTar(path, layout, controlBytes);
  const packed = compressControl(tar, layout.controlCompression);
  const members: ArWriteMember[] = layout.members.map((m) => {
    if (m === layout.control)
      return { name: `control.tar${packed.suffix}`, mtime: m.mtime, data: packed.data };
    return { name: m.name, mtime: m.mtime, data: { path, offset: m.dataOffset, size: m.size } };
  });
  // The new package goes to a temp file beside it (exclusive, no links followed), fsync'd, then
  // replaces the original by one rename: a crash leaves the old package or the new one.
  const file = await AtomicFile.create(path, { mode: (await stat(path)).mode & 0o7777 });
  try {
    await file.writeAll(arChunks(members));
  } catch (error) {
    await file.abort();
    throw error;
  }
  await file.commit();
  return {
    changed: true,
    fields: changed.map((name) => `deb ${name}`),
    ...(replaced.length ? { replaced } : {}),
  };
}
