/**
 * `compareOutputs(published, rebuilt)`: where two builds of the same output differ. Tar (plain or
 * compressed with gzip, zstd or xz), zip (wheels, jars), ar (deb: its members, then the control and
 * data tars inside them) and OCI image layouts (index, manifest and config fields, then each layer's
 * tar) are opened and compared entry by entry; anything else byte by byte (the first differing
 * offset). Both sides are untrusted: they go through the same readers and limits as any artifact.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isArArchive } from '../../archive/ar.ts';
import { type Compression, decompressHead, detectCompression } from '../../archive/decompress.ts';
import { isTarHeader } from '../../archive/tar-reader.ts';
import { decompressFileRange } from '../../archive/xz.ts';
import { isZipHead } from '../../archive/zip-reader.ts';
import { sha256File } from '../../util/digest.ts';
import { readFileHead } from '../../util/read-head.ts';
import { arFacts, tarFacts, zipFacts } from './archive-facts.ts';
import { compareEntries, type EntryFacts } from './entries.ts';
import { compareOciLayouts } from './oci-compare.ts';
import { type CompareOptions, DEFAULT_MAX_DIFFERENCES, type Difference, DifferenceList } from './types.ts';

type FileKind =
  | { kind: 'oci-layout' }
  | { kind: 'tar'; compression: Compression }
  | { kind: 'zip' }
  | { kind: 'ar' }
  | { kind: 'compressed'; compression: Compression }
  | { kind: 'bytes' }
  | { kind: 'directory' };

/** Zips are read whole (the reader is in-memory); past this they are compared as bytes. */
const MAX_ZIP_BYTES = 512 * 1024 * 1024;

async function kindOf(path: string): Promise<FileKind> {
  const info = await stat(path);
  if (info.isDirectory()) {
    const layout = await stat(join(path, 'oci-layout')).catch(() => undefined);
    return layout?.isFile() ? { kind: 'oci-layout' } : { kind: 'directory' };
  }
  const head = await readFileHead(path, 64 * 1024);
  if (isArArchive(head)) return { kind: 'ar' };
  if (isZipHead(head) && info.size <= MAX_ZIP_BYTES) return { kind: 'zip' };
  const compression = detectCompression(head);
  if (compression === 'none') return isTarHeader(head) ? { kind: 'tar', compression } : { kind: 'bytes' };
  const inner = decompressHead(head);
  if (compression === 'xz' || (inner && isTarHeader(inner))) {
    // xz heads cannot be sniffed without a full decoder; a .tar.xz is by far the common case, and a
    // stream that is not a tar is caught by the reader and compared as compressed bytes instead.
    return { kind: 'tar', compression };
  }
  return { kind: 'compressed', compression };
}

async function decompressed(path: string, compression: Compression, input: string): Promise<Readable> {
  const { size } = await stat(path);
  return decompressFileRange(path, 0, size, compression, { input });
}

async function fileDigest(path: string): Promise<string> {
  return sha256File(path);
}

/** Offset of the first differing byte of two files (or of the shorter one's end). */
async function firstDifferentByte(a: string, b: string): Promise<number> {
  const [ha, hb] = [await open(a, 'r'), await open(b, 'r')];
  try {
    const size = 1024 * 1024;
    const [ba, bb] = [Buffer.alloc(size), Buffer.alloc(size)];
    for (let offset = 0; ; offset += size) {
      const [ra, rb] = [await ha.read(ba, 0, size, offset), await hb.read(bb, 0, size, offset)];
      const n = Math.min(ra.bytesRead, rb.bytesRead);
      for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return offset + i;
      if (ra.bytesRead !== rb.bytesRead || n === 0) return offset + n;
    }
  } finally {
    await ha.close();
    await hb.close();
  }
}

async function compareBytes(
  expected: string,
  actual: string,
  label: string,
  out: DifferenceList,
): Promise<void> {
  const [de, da] = [await fileDigest(expected), await fileDigest(actual)];
  if (de === da) return;
  const [se, sa] = [(await stat(expected)).size, (await stat(actual)).size];
  out.add({
    path: label,
    aspect: 'content',
    expected: `${se} bytes, ${de}`,
    actual: `${sa} bytes, ${da}; first different byte at offset ${await firstDifferentByte(expected, actual)}`,
  });
}

/** gzip member header fields (RFC 1952 §2.3.1) a reproducible build has to pin. */
function gzipHeader(head: Buffer): string {
  if (head.length < 10) return 'truncated';
  const flags = head[3] ?? 0;
  const mtime = head.readUInt32LE(4);
  let name = '';
  if (flags & 0x08) {
    let at = 10;
    if (flags & 0x04) at += 2 + head.readUInt16LE(10);
    const end = head.indexOf(0, at);
    name = head.toString('latin1', at, end === -1 ? at : end);
  }
  return `mtime ${mtime}, xfl ${head[8]}, os ${head[9]}${name ? `, name ${JSON.stringify(name)}` : ''}`;
}

async function compareTar(
  expected: string,
  actual: string,
  compression: Compression,
  label: string,
  out: DifferenceList,
): Promise<void> {
  const e = await tarFacts(await decompressed(expected, compression, expected), expected);
  const a = await tarFacts(await decompressed(actual, compression, actual), actual);
  const before = out.items.length;
  await compareEntries(e.entries, a.entries, label, out);
  if (out.items.length > before) return;
  if (e.sha256 !== a.sha256) {
    // Same entries, same facts, different tar bytes: headers waybill does not show (pax records,
    // uname padding, end-of-archive blocks) differ.
    out.add({
      path: label,
      aspect: 'header',
      expected: `tar sha256:${e.sha256}`,
      actual: `tar sha256:${a.sha256}`,
    });
    return;
  }
  // The same tar, compressed differently.
  if (compression === 'gzip') {
    out.field(
      label,
      'header',
      `gzip ${gzipHeader(await readFileHead(expected, 4096))}`,
      `gzip ${gzipHeader(await readFileHead(actual, 4096))}`,
    );
  }
  if (!out.full && out.items.length === before) {
    out.add({
      path: label,
      aspect: 'header',
      expected: `${compression} stream ${await fileDigest(expected)}`,
      actual: `${compression} stream ${await fileDigest(actual)} (same tar, compressed differently)`,
    });
  }
}

/** Members of a deb (or any ar) compared as entries; members that are tars are opened when they differ. */
async function compareAr(
  expected: string,
  actual: string,
  label: string,
  out: DifferenceList,
): Promise<void> {
  const e = await arFacts(expected);
  const a = await arFacts(actual);
  const byPath = (list: typeof e) => new Map(list.map((m) => [m.path, m]));
  const [em, am] = [byPath(e), byPath(a)];
  await compareEntries(e, a, label, out, async (ef: EntryFacts, af: EntryFacts, path: string) => {
    const [x, y] = [em.get(ef.path), am.get(af.path)];
    const compression = memberCompression(ef.path);
    if (!x || !y || compression === undefined || out.full) return;
    const ex = await tarFacts(
      await decompressFileRange(expected, x.offset, x.offset + x.size, compression, { input: path }),
      path,
    );
    const ac = await tarFacts(
      await decompressFileRange(actual, y.offset, y.offset + y.size, compression, { input: path }),
      path,
    );
    await compareEntries(ex.entries, ac.entries, path, out);
  });
}

/** dpkg's member names (deb(5)): control.tar[.gz|.xz|.zst], data.tar[.gz|.xz|.zst|.bz2]. */
function memberCompression(name: string): Compression | undefined {
  const m = /^(?:control|data)\.tar(?:\.(gz|xz|zst|bz2))?$/.exec(name);
  if (!m) return undefined;
  return (
    ({ gz: 'gzip', xz: 'xz', zst: 'zstd', bz2: 'bzip2' } as const)[m[1] as 'gz' | 'xz' | 'zst' | 'bz2'] ??
    'none'
  );
}

async function compareZip(
  expected: string,
  actual: string,
  label: string,
  out: DifferenceList,
): Promise<void> {
  const e = zipFacts(await readFile(expected), expected);
  const a = zipFacts(await readFile(actual), actual);
  await compareEntries(e, a, label, out);
}

function describeKind(k: FileKind): string {
  if (k.kind === 'tar') return k.compression === 'none' ? 'tar' : `${k.compression}-compressed tar`;
  if (k.kind === 'compressed') return `${k.compression}-compressed data`;
  return k.kind === 'bytes' ? 'plain file' : k.kind;
}

/**
 * The first differences between the published output and the rebuilt one (empty when they are the
 * same bytes). `label` names the output in the paths reported.
 */
export async function compareOutputs(
  published: string,
  rebuilt: string,
  label: string,
  options: CompareOptions = {},
): Promise<Difference[]> {
  const out = new DifferenceList(options.maxDifferences ?? DEFAULT_MAX_DIFFERENCES);
  const [ke, ka] = [await kindOf(published), await kindOf(rebuilt)];
  if (ke.kind !== ka.kind || (ke.kind === 'tar' && ka.kind === 'tar' && ke.compression !== ka.compression)) {
    out.add({ path: label, aspect: 'format', expected: describeKind(ke), actual: describeKind(ka) });
    return out.items;
  }
  switch (ke.kind) {
    case 'oci-layout':
      await compareOciLayouts(published, rebuilt, label, out);
      break;
    case 'directory':
      out.add({
        path: label,
        aspect: 'format',
        expected: 'directory',
        actual: 'directory (only OCI layouts are compared)',
      });
      break;
    case 'tar':
      if ((await fileDigest(published)) !== (await fileDigest(rebuilt)))
        await compareTar(published, rebuilt, ke.compression, label, out);
      break;
    case 'zip':
      if ((await fileDigest(published)) !== (await fileDigest(rebuilt)))
        await compareZip(published, rebuilt, label, out);
      break;
    case 'ar':
      if ((await fileDigest(published)) !== (await fileDigest(rebuilt)))
        await compareAr(published, rebuilt, label, out);
      break;
    default:
      await compareBytes(published, rebuilt, label, out);
  }
  // An archive whose entries all agree but whose bytes do not still differs somewhere: say where.
  if (out.items.length === 0 && ke.kind !== 'oci-layout' && ke.kind !== 'directory')
    await compareBytes(published, rebuilt, label, out);
  return out.items;
}
