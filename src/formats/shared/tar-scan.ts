/**
 * A streaming tar scan shared by the formats recognised by what a tarball holds (rootfs, sdist,
 * Vagrant box): one pass over the (possibly compressed) headers, keeping only the files asked for,
 * and the first entry's name read from the first bytes alone.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  COMPRESSION_MAGIC_BYTES,
  decompressHead,
  detectCompression,
  openDecompressed,
} from '../../archive/decompress.ts';
import { isTarHeader, readTar, type TarHeader } from '../../archive/tar-reader.ts';
import { decompressFileRange } from '../../archive/xz.ts';
import { WaybillError } from '../../errors.ts';
import { readFileHead } from '../../util/read-head.ts';
import { statRegularFile } from '../../util/regular-file.ts';

export interface TarScan {
  /** Entries seen. */
  entries: number;
  /** The first entry's header (what a tarball's layout is judged by). */
  first?: TarHeader;
  /** Content of the wanted regular files (up to `maxFileBytes` each; the first `headBytes` for heads). */
  files: Map<string, Buffer>;
  /** Symlink targets of every symlink seen (path → target as written); small, needed to resolve. */
  links: Map<string, string>;
}

export interface TarScanOptions {
  /** Whole content of these regular files is kept. */
  want?: (path: string) => boolean;
  /** Only the first `headBytes` of these regular files are kept (architecture sniffing). */
  wantHead?: (path: string) => boolean;
  headBytes?: number;
  /** Stop after this many entries (undefined: the whole header list). */
  maxEntries?: number;
  /** Stop as soon as this says the scan has what it needs. */
  done?: (scan: TarScan) => boolean;
  /** A wanted file larger than this is LIMIT (default 1 MiB: os-release, PKG-INFO, metadata.json). */
  maxFileBytes?: number;
}

/**
 * Stream a (possibly compressed) tarball once, keeping only the files asked for. Nothing else is
 * buffered: bodies not wanted are skipped as they stream by. Throws WaybillError.
 */
export async function scanTarball(path: string, options: TarScanOptions): Promise<TarScan> {
  const scan: TarScan = { entries: 0, files: new Map(), links: new Map() };
  const maxFile = options.maxFileBytes ?? 1024 * 1024;
  const opened: Readable[] = [];
  try {
    const stream = await openTarball(path, opened);
    for await (const entry of readTar(stream, { input: path })) {
      const h = entry.header;
      scan.entries++;
      if (!scan.first) scan.first = h;
      if (h.type === 'symlink' && h.linkTarget !== undefined) scan.links.set(h.path, h.linkTarget);
      if (h.type === 'file' && options.want?.(h.path)) {
        if (h.size > maxFile)
          throw new WaybillError('LIMIT', `${path}!/${h.path}`, `larger than ${maxFile} bytes`);
        scan.files.set(h.path, await entry.readAll());
      } else if (h.type === 'file' && options.wantHead?.(h.path)) {
        scan.files.set(h.path, await entry.peek(options.headBytes ?? 64));
      }
      if (options.done?.(scan)) break;
      if (options.maxEntries !== undefined && scan.entries >= options.maxEntries) break;
    }
  } catch (e) {
    if (e instanceof WaybillError) throw e;
    throw new WaybillError(
      'MALFORMED',
      path,
      `cannot read as a tarball: ${e instanceof Error ? e.message : String(e)}`,
    );
  } finally {
    for (const stream of opened) stream.destroy();
  }
  return scan;
}

/**
 * The tar inside a tarball, decompressed. xz (a .tar.xz rootfs, as Debian's own image builds ship
 * them) is decoded from the file itself by archive/xz.ts, which reads every check type xz-utils
 * writes; the other compressions stream through archive/decompress.ts.
 */
async function openTarball(path: string, opened: Readable[]): Promise<Readable> {
  if (detectCompression(await readFileHead(path, COMPRESSION_MAGIC_BYTES)) === 'xz') {
    const stream = await decodeXzFile(path);
    opened.push(stream);
    return stream;
  }
  const source = createReadStream(path);
  opened.push(source);
  return (await openDecompressed(source, { input: path })).stream;
}

/** The whole xz file at `path`, decoded (archive/xz.ts: every check type xz-utils writes). */
async function decodeXzFile(path: string): Promise<Readable> {
  const { size } = await statRegularFile(path);
  return decompressFileRange(path, 0, size, 'xz', { input: path });
}

/**
 * The first `length` bytes of the tar inside an xz tarball (fewer if it is shorter), for what a
 * synchronous sniff of the raw head cannot see. A stream that does not decode that far is a broken
 * xz file (the decoder's MALFORMED, naming it), not one that is no tarball.
 */
export async function xzTarballHead(path: string, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  let stream: Readable | undefined;
  try {
    stream = await decodeXzFile(path);
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      have += (chunk as Buffer).length;
      if (have >= length) break;
    }
  } finally {
    stream?.destroy();
  }
  return Buffer.concat(chunks).subarray(0, length);
}

/**
 * The first entry's name in the (decompressed) first bytes of a tarball, if they are one. Pax
 * extended headers (`x`, with a `path` record, and global `g`) and GNU long names (`L`) before the
 * entry are read through, as Python's tarfile writes a pax header first.
 */
export function firstTarEntryName(head: Buffer): string | undefined {
  const tar = decompressHead(head);
  if (!tar) return undefined;
  let off = 0;
  let override: string | undefined;
  for (let hop = 0; hop < 4 && off + 512 <= tar.length; hop++) {
    const block = tar.subarray(off, off + 512);
    if (!isTarHeader(block)) return undefined;
    const field = (o: number, len: number) => {
      const raw = block.subarray(o, o + len);
      const nul = raw.indexOf(0);
      return raw.toString('utf8', 0, nul < 0 ? len : nul);
    };
    const type = String.fromCharCode(block[156] ?? 0);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    if (type === 'x' || type === 'g' || type === 'L') {
      if (!Number.isSafeInteger(size) || size < 0) return undefined;
      const body = tar.subarray(off + 512, Math.min(tar.length, off + 512 + size));
      if (type === 'L') override = body.toString('utf8').replace(/\0+$/, '');
      if (type === 'x') {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
        if (m) override = m[1];
      }
      off += 512 + Math.ceil(size / 512) * 512;
      continue;
    }
    if (override !== undefined) return override;
    const name = field(0, 100);
    const prefix = block.toString('latin1', 257, 262) === 'ustar' ? field(345, 155) : '';
    return prefix ? `${prefix}/${name}` : name;
  }
  return undefined;
}
