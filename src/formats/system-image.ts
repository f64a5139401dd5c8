/**
 * System images: a root filesystem (a tarball — plain, gzip, zstd or xz — or a directory) that says
 * what it is in os-release(5), and disk images (qcow2, raw MBR/GPT) that say nothing readable
 * without mounting them, so their facts are the format alone and the release record lives beside
 * them (sidecar).
 *
 * os-release fields used (os-release(5)): the image's own identity IMAGE_ID/IMAGE_VERSION when the
 * vendor set them, else the OS's ID/VERSION_ID — a rootfs built from Debian without IMAGE_* *is*
 * Debian, as far as it says. BUG_REPORT_URL → bug tracker; SUPPORT_URL, DOCUMENTATION_URL,
 * HOME_URL (first present) → docs; VENDOR_NAME → team. The architecture is read from the ELF header
 * of a canonical binary (what /bin/sh points to, else /usr/bin/env…), because os-release has none.
 */
import { createReadStream } from 'node:fs';
import { open, readlink, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decompressHead, openDecompressed } from '../archive/decompress.ts';
import { isTarHeader, readTar, resolveSymlink, type TarHeader } from '../archive/tar-reader.ts';
import { WaybillError } from '../errors.ts';
import { openRegularFile, readRegularFile } from '../util/regular-file.ts';
import { archFromElfMachine } from './executable.ts';
import { emptyFacts, type Fact, type NativeFacts } from './facts.ts';
import type { NativeFormat } from './native.ts';
import { OS_RELEASE_PATHS, parseOsRelease } from './os-release.ts';

// ---- streaming tar scan, shared by the tarball-based formats (rootfs, sdist, Vagrant box) ---------

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
  const source = createReadStream(path);
  try {
    const { stream } = await openDecompressed(source, { input: path });
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
    source.destroy();
  }
  return scan;
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

/** Tarball names, so detection does not claim arbitrary compressed files. */
export const TARBALL_NAME = /\.(?:tar|tar\.gz|tgz|tar\.zst|tzst|tar\.xz|txz)$/i;

// ---- root filesystems -----------------------------------------------------------------------------

/** Binaries whose ELF header names the image's architecture, in order of preference. */
const CANONICAL_BINARIES = ['bin/sh', 'usr/bin/sh', 'usr/bin/env', 'bin/busybox', 'bin/true', 'usr/bin/true'];
const MAX_LINK_HOPS = 16;

/** Follow symlinks (in the path's directories too: merged /usr has `bin -> usr/bin`) to a file. */
export function resolveInTree(path: string, links: Map<string, string>): string {
  let current = path;
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    const parts = current.split('/');
    let changed = false;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const target = links.get(prefix);
      if (target !== undefined) {
        const resolved = resolveSymlink(prefix, target);
        current = [resolved, ...parts.slice(i)].filter((s) => s !== '').join('/');
        changed = true;
        break;
      }
    }
    if (!changed) return current;
  }
  return current;
}

/** Architecture from the first bytes of an ELF file; undefined when it is not one. */
export function elfHeadArchitecture(head: Buffer): string | undefined {
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const machine = le ? head.readUInt16LE(18) : head.readUInt16BE(18);
  return archFromElfMachine(machine, is64, le).native;
}

interface RootfsContent {
  osRelease?: { path: string; data: Buffer };
  architecture?: { value: string; binary: string };
}

/** Facts from os-release fields (and the architecture found beside them). */
export function osReleaseFacts(
  fields: Record<string, string>,
  where: string,
  arch?: RootfsContent['architecture'],
): NativeFacts {
  const facts = emptyFacts('os-release');
  facts.hasIdentityFields = true;
  const fact = (...keys: string[]): Fact | undefined => {
    for (const key of keys) {
      const value = fields[key]?.trim();
      if (value) return { value, field: `os-release ${key} (${where})` };
    }
    return undefined;
  };
  const name = fact('IMAGE_ID', 'ID');
  if (name) facts.name = name;
  const version = fact('IMAGE_VERSION', 'VERSION_ID');
  if (version) facts.version = version;
  const bugs = fact('BUG_REPORT_URL');
  if (bugs) facts.bugTracker = bugs;
  const docs = fact('SUPPORT_URL', 'DOCUMENTATION_URL', 'HOME_URL');
  if (docs) facts.docs = docs;
  const team = fact('VENDOR_NAME');
  if (team) facts.team = team;
  for (const key of ['NAME', 'PRETTY_NAME', 'VENDOR_NAME', 'BUILD_ID', 'SUPPORT_END']) {
    const f = fact(key);
    if (f) facts.texts.push(f);
  }
  if (arch) facts.architectures.push({ value: arch.value, field: `ELF header e_machine (${arch.binary})` });
  return facts;
}

function pickArchitecture(
  heads: Map<string, Buffer>,
  links: Map<string, string>,
): RootfsContent['architecture'] {
  for (const candidate of CANONICAL_BINARIES) {
    const real = resolveInTree(candidate, links);
    const head = heads.get(real);
    const value = head ? elfHeadArchitecture(head) : undefined;
    if (value) return { value, binary: real };
  }
  return undefined;
}

/** Where os-release is, honouring symlinks (Debian: etc/os-release -> ../usr/lib/os-release). */
function findOsRelease(files: Map<string, Buffer>, links: Map<string, string>): RootfsContent['osRelease'] {
  for (const p of OS_RELEASE_PATHS) {
    const real = resolveInTree(p, links);
    const data = files.get(real);
    if (data) return { path: real, data };
  }
  return undefined;
}

/** Scan a rootfs tarball: os-release and the heads of executables in bin directories. */
export async function scanRootfsTarball(
  path: string,
  maxEntries?: number,
): Promise<RootfsContent & { scan: TarScan }> {
  const scan = await scanTarball(path, {
    want: (p) => p === 'etc/os-release' || p === 'usr/lib/os-release',
    // Every file in the usual bin directories: 64 bytes each, so the symlink chain can be resolved
    // at the end whatever order the archive has.
    wantHead: (p) => /^(?:usr\/)?s?bin\/[^/]+$/.test(p),
    headBytes: 64,
    maxEntries,
  });
  return {
    scan,
    osRelease: findOsRelease(scan.files, scan.links),
    architecture: pickArchitecture(scan.files, scan.links),
  };
}

/**
 * A path inside a rootfs directory with its symlinks resolved as a chroot would (absolute targets
 * start at the tree's root), refusing anything the host's realpath puts outside the tree.
 */
async function pathInTree(
  dir: string,
  root: string,
  path: string,
): Promise<{ rel: string; full: string } | undefined> {
  // Resolve every component (a directory can be the link: merged /usr's `bin -> usr/bin`).
  let rel = path;
  for (let hop = 0; hop < MAX_LINK_HOPS * 4; hop++) {
    const parts = rel.split('/');
    let changed = false;
    for (let i = 1; i <= parts.length && !changed; i++) {
      const prefix = parts.slice(0, i).join('/');
      const target = await readlink(join(dir, prefix)).catch(() => undefined);
      if (target === undefined) continue;
      rel = [resolveSymlink(prefix, target), ...parts.slice(i)].filter((x) => x !== '').join('/');
      changed = true;
    }
    if (!changed) break;
  }
  const full = await realpath(join(dir, rel)).catch(() => undefined);
  if (full === undefined || (full !== root && !full.startsWith(`${root}/`))) return undefined;
  return { rel, full };
}

async function readRootfsDir(dir: string): Promise<RootfsContent> {
  const out: RootfsContent = {};
  const root = await realpath(dir);
  for (const p of OS_RELEASE_PATHS) {
    const found = await pathInTree(dir, root, p);
    if (!found) continue;
    // A FIFO or device planted at os-release is skipped, never read (it would hang or never end).
    const data = await readRegularFile(found.full, { maxBytes: 1024 * 1024 }).catch(() => undefined);
    if (data) {
      out.osRelease = { path: found.rel, data };
      break;
    }
  }
  for (const candidate of CANONICAL_BINARIES) {
    const found = await pathInTree(dir, root, candidate);
    if (!found) continue;
    const handle = await openRegularFile(found.full).then(
      (opened) => opened.handle,
      () => undefined,
    );
    if (!handle) continue;
    try {
      const head = Buffer.alloc(64);
      const { bytesRead } = await handle.read(head, 0, 64, 0);
      const value = elfHeadArchitecture(head.subarray(0, bytesRead));
      if (value) {
        out.architecture = { value, binary: found.rel };
        break;
      }
    } catch {
      // a directory or unreadable: next candidate
    } finally {
      await handle.close();
    }
  }
  return out;
}

export async function readRootfsFacts(path: string): Promise<NativeFacts> {
  const info = await stat(path);
  const content = info.isDirectory() ? await readRootfsDir(path) : await scanRootfsTarball(path);
  if (!content.osRelease) {
    throw new WaybillError(
      'MALFORMED',
      path,
      'no etc/os-release or usr/lib/os-release: not a root filesystem',
    );
  }
  const where = content.osRelease.path;
  const fields = parseOsRelease(content.osRelease.data.toString('utf8'), `${path}!/${where}`);
  return osReleaseFacts(fields, where, content.architecture);
}

/** Top-level directories a root filesystem tarball starts with (FHS), after an optional `./`. */
const ROOTFS_TOP = new Set(
  'bin boot dev etc home lib lib32 lib64 libx32 media mnt opt proc root run sbin srv sys tmp usr var'.split(
    ' ',
  ),
);

/** Exact detection: the tarball (whole header list) or directory has an os-release file. */
export async function isRootfs(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return (await readRootfsDir(path)).osRelease !== undefined;
    const { osRelease } = await scanRootfsTarball(path);
    return osRelease !== undefined;
  } catch {
    return false;
  }
}

/** A format whose `confirm` is required (see NativeFormat.confirm). */
export type ConfirmableNativeFormat = NativeFormat & Required<Pick<NativeFormat, 'confirm'>>;

export const rootfsFormat: ConfirmableNativeFormat = {
  name: 'rootfs',
  /** A tarball whose first entry is `./` or a top-level FHS directory; `confirm` finds os-release. */
  detect(head, path) {
    if (!TARBALL_NAME.test(path)) return false;
    const first = firstTarEntryName(head);
    if (first === undefined) return false;
    const top = first.replace(/^(?:\.\/)+/, '').split('/')[0] ?? '';
    return first === './' || first === '.' || ROOTFS_TOP.has(top);
  },
  readFacts: readRootfsFacts,
  confirm: isRootfs,
};

// ---- disk images --------------------------------------------------------------------------------

export type DiskImageKind = 'qcow2' | 'raw-gpt' | 'raw-mbr';

/** QEMU's qcow2 spec: magic "QFI\xfb", version 2 or 3, big-endian. */
const QCOW2_MAGIC = 0x514649fb;
const DISK_NAME = /\.(?:img|raw|bin|disk|iso)$/i;

/**
 * qcow2 by magic; GPT by the "EFI PART" header signature at LBA 1 (UEFI spec §5.3.2); MBR by the
 * 0x55AA boot signature — only for disk-image file names, because that signature alone is common.
 */
export function detectDiskImage(head: Buffer, path: string): DiskImageKind | undefined {
  if (head.length >= 8 && head.readUInt32BE(0) === QCOW2_MAGIC) {
    const version = head.readUInt32BE(4);
    if (version === 2 || version === 3) return 'qcow2';
  }
  if (head.length >= 520 && head.toString('latin1', 512, 520) === 'EFI PART') return 'raw-gpt';
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa && DISK_NAME.test(path))
    return 'raw-mbr';
  return undefined;
}

export const diskImageFormat: NativeFormat = {
  name: 'disk-image',
  detect: (head, path) => detectDiskImage(head, path) !== undefined,
  async readFacts(path) {
    const handle = await open(path, 'r');
    let head: Buffer;
    try {
      head = Buffer.alloc(1024);
      const { bytesRead } = await handle.read(head, 0, 1024, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    const kind = detectDiskImage(head, path);
    if (!kind) throw new WaybillError('MALFORMED', path, 'not a qcow2 or raw (MBR/GPT) disk image');
    // No identity readable without mounting: the record is the sidecar.
    const facts = emptyFacts(kind);
    if (kind === 'qcow2')
      facts.texts.push({ value: `qcow2 version ${head.readUInt32BE(4)}`, field: 'qcow2 header' });
    return facts;
  },
};
