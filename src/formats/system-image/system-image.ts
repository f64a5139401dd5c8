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
import { open, readlink, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { COMPRESSION_MAGIC_BYTES, detectCompression } from '../../archive/decompress.ts';
import { resolveSymlink, TARBALL_NAME } from '../../archive/tar-reader.ts';
import { WaybillError } from '../../errors.ts';
import { readFileHead } from '../../util/read-head.ts';
import { openRegularFile, readRegularFile, statRegularFile } from '../../util/regular-file.ts';
import { archFromElfMachine } from '../executable/arch-names.ts';
import { emptyFacts, type Fact, type NativeFacts } from '../facts.ts';
import { type ConfirmableNativeFormat, confirmedBy, type NativeFormat } from '../native.ts';
import { firstTarEntryName, scanTarball, type TarScan, xzTarballHead } from '../shared/tar-scan.ts';
import { OS_RELEASE_PATHS, parseOsRelease } from './os-release.ts';

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

type RootfsScan = RootfsContent & { scan: TarScan };

/**
 * The last whole scan, keyed by the file's identity: `confirm` and `readFacts` each need it, and one
 * scan of a large rootfs tarball takes seconds (an xz one decodes at ~50 MB/s), so `inspect` and
 * `check` read it once. The key changes when the file is replaced or rewritten.
 */
let lastScan: { key: string; result: Promise<RootfsScan> } | undefined;

/** Scan a rootfs tarball: os-release and the heads of executables in bin directories. */
export async function scanRootfsTarball(path: string, maxEntries?: number): Promise<RootfsScan> {
  if (maxEntries !== undefined) return scanRootfsEntries(path, maxEntries);
  const info = await statRegularFile(path);
  const key = [resolve(path), info.dev, info.ino, info.size, info.mtimeMs, info.ctimeMs].join('\0');
  if (lastScan?.key !== key) lastScan = { key, result: scanRootfsEntries(path) };
  return lastScan.result;
}

async function scanRootfsEntries(path: string, maxEntries?: number): Promise<RootfsScan> {
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

/** A tar whose first entry is `./` or a top-level FHS directory (head raw, gzip or zstd). */
function startsLikeRootfs(head: Buffer): boolean {
  const first = firstTarEntryName(head);
  if (first === undefined) return false;
  const top = first.replace(/^(?:\.\/)+/, '').split('/')[0] ?? '';
  return first === './' || first === '.' || ROOTFS_TOP.has(top);
}

/** xz cannot be decoded synchronously, so an xz tarball's first entry is read in `confirm`. */
function isXzTarball(head: Buffer, path: string): boolean {
  return TARBALL_NAME.test(path) && detectCompression(head) === 'xz';
}

/** How much of an xz tarball's decoded start the first-entry test reads (pax headers come first). */
const XZ_HEAD_BYTES = 8192;

/** Exact detection: the tarball (whole header list) or directory has an os-release file. */
export function isRootfs(path: string): Promise<boolean> {
  return confirmedBy(async () => {
    const info = await stat(path);
    if (info.isDirectory()) return (await readRootfsDir(path)).osRelease !== undefined;
    if (isXzTarball(await readFileHead(path, COMPRESSION_MAGIC_BYTES), path)) {
      if (!startsLikeRootfs(await xzTarballHead(path, XZ_HEAD_BYTES))) return false;
    }
    const { osRelease } = await scanRootfsTarball(path);
    return osRelease !== undefined;
  });
}

export const rootfsFormat: ConfirmableNativeFormat = {
  name: 'rootfs',
  /**
   * A tarball whose first entry is `./` or a top-level FHS directory, or any xz tarball (its first
   * entry is read by `confirm`); `confirm` finds os-release.
   */
  detect(head, path) {
    if (!TARBALL_NAME.test(path)) return false;
    return startsLikeRootfs(head) || isXzTarball(head, path);
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
