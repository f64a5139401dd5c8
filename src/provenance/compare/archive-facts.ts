/**
 * Reads the entries of a tar stream, a zip and an ar archive as EntryFacts (compare/entries.ts), with
 * the readers of src/archive, so a hostile rebuilt output is held to the same limits as any artifact.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { indexArFile } from '../../archive/ar.ts';
import { readTar, type TarHeader } from '../../archive/tar-reader.ts';
import { openZip } from '../../archive/zip-reader.ts';
import { rawMembers } from '../../archive/zip-writer.ts';
import { sha256File, sha256Hex } from '../../util/digest.ts';
import type { EntryFacts } from './entries.ts';

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function tarMtime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z')} (${seconds})`;
}

function tarOwner(h: TarHeader): string {
  return `${h.uid}/${h.gid}${h.uname || h.gname ? ` (${h.uname}/${h.gname})` : ''}`;
}

/** Every entry of a tar stream (already decompressed), and the SHA-256 of the whole tar. */
export async function tarFacts(
  stream: Readable,
  input: string,
): Promise<{ entries: EntryFacts[]; sha256: string }> {
  const whole = createHash('sha256');
  stream.on('data', (chunk: Buffer) => whole.update(chunk));
  const entries: EntryFacts[] = [];
  for await (const entry of readTar(stream, { input })) {
    const h = entry.header;
    const hash = createHash('sha256');
    for await (const chunk of entry.body()) hash.update(chunk);
    entries.push({
      path: h.path === '' ? '.' : h.path,
      type: h.type === 'other' ? `special (typeflag ${h.typeflag})` : h.type,
      mode: octal(h.mode),
      owner: tarOwner(h),
      mtime: tarMtime(h.mtime),
      size: h.size,
      sha256: hash.digest('hex'),
      ...(h.linkTarget !== undefined ? { link: h.linkTarget } : {}),
    });
  }
  return { entries, sha256: whole.digest('hex') };
}

/** MS-DOS date and time fields as `YYYY-MM-DD hh:mm:ss` (APPNOTE 4.4.6; two-second resolution). */
function dosTime(date: number, time: number): string {
  const y = 1980 + (date >> 9);
  const mo = (date >> 5) & 0xf;
  const d = date & 0x1f;
  const h = time >> 11;
  const mi = (time >> 5) & 0x3f;
  const s = (time & 0x1f) * 2;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${y}-${two(mo)}-${two(d)} ${two(h)}:${two(mi)}:${two(s)}`;
}

/** Every member of a zip (wheel, jar…), in central directory order. */
export function zipFacts(buf: Buffer, input: string): EntryFacts[] {
  const members = rawMembers(buf, input);
  const zip = openZip(buf, input);
  return members.map((m, i) => {
    const isDir = m.name.endsWith('/');
    const entry = zip.entries[i];
    const content = entry && !isDir ? zip.read(entry) : Buffer.alloc(0);
    // The high 16 bits of the external attributes are a Unix mode only when "made by" says Unix (3).
    const unix = m.versionMadeBy >> 8 === 3;
    return {
      path: isDir ? m.name.slice(0, -1) : m.name,
      type: isDir ? 'dir' : 'file',
      mode: unix ? octal(m.externalAttr >>> 16) : '',
      owner: '',
      mtime: dosTime(m.dosDate, m.dosTime),
      size: m.uncompressedSize,
      sha256: sha256Hex(content),
      header: `method ${m.method}, ${m.compressedSize} compressed bytes sha256:${sha256Hex(m.compressed)}`,
    };
  });
}

export type ArEntryFacts = EntryFacts & { offset: number };

/** Every member of an ar archive (a .deb), in order; member contents hashed as stored. */
export async function arFacts(path: string): Promise<ArEntryFacts[]> {
  const members = await indexArFile(path);
  const out: ArEntryFacts[] = [];
  for (const m of members) {
    const digest =
      m.size === 0
        ? sha256Hex('')
        : (await sha256File(path, { start: m.dataOffset, end: m.dataOffset + m.size - 1 })).slice(7);
    out.push({
      path: m.name,
      type: 'file',
      mode: octal(m.mode),
      owner: `${m.uid}/${m.gid}`,
      mtime: tarMtime(m.mtime),
      size: m.size,
      sha256: digest,
      offset: m.dataOffset,
    });
  }
  return out;
}
