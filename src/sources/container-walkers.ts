/**
 * What a single-file artifact contains: a plain tarball is walked entry by entry; other container
 * formats (.deb, .rpm, .whl…) plug in here with `registerContainerWalker`. A file no walker claims is
 * walked as itself.
 */
import { decompressHead, detectCompression } from '../archive/decompress.ts';
import { BLOCK_SIZE, isTarHeader, TARBALL_NAME } from '../archive/tar-reader.ts';
import { walkLayers } from './layer-walk.ts';
import type { FileFilter, WalkResult } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

/** How many leading bytes of the file `detect` sees (fewer if the file is shorter). */
export const HEAD_BYTES = 8192;

export interface ContainerWalker {
  /** Short name, e.g. `tar`, `deb`; registering a name again replaces the earlier walker. */
  name: string;
  /** Claims the file from its first bytes (raw, possibly compressed) and its path. */
  detect(head: Buffer, path: string): boolean;
  walk(path: string, filter: FileFilter, options?: SourceWalkOptions): Promise<WalkResult>;
}

const registered: ContainerWalker[] = [];

/** Later registrations are tried first, so a specific format (.deb is not a tar) wins over `tar`. */
export function registerContainerWalker(walker: ContainerWalker): void {
  const existing = registered.findIndex((w) => w.name === walker.name);
  if (existing !== -1) registered.splice(existing, 1);
  registered.unshift(walker);
}

export function findContainerWalker(head: Buffer, path: string): ContainerWalker | undefined {
  return registered.find((w) => w.detect(head, path));
}

export function registeredContainerWalkers(): string[] {
  return registered.map((w) => w.name);
}

/** A tar, uncompressed or gzip/zstd: its first header block has a valid checksum. */
export function looksLikeTarball(head: Buffer): boolean {
  const inner = decompressHead(head);
  return inner !== undefined && inner.length >= BLOCK_SIZE && isTarHeader(inner.subarray(0, BLOCK_SIZE));
}

/**
 * A tarball by its content, or by its name when its head cannot tell: a .tar.gz or .tar.zst cut
 * before its first full block (or corrupt there), or a .tar whose first header is broken, is a
 * broken tarball, walked so that the walk names what is wrong — never an opaque file described
 * without a word (found by fuzzing). An xz tarball is known by its name alone (its head cannot be
 * decoded synchronously), so a .tar.xz that holds no tar is refused by the walk.
 */
function isTarball(head: Buffer, path: string): boolean {
  if (looksLikeTarball(head)) return true;
  if (!TARBALL_NAME.test(path)) return false;
  const compression = detectCompression(head);
  if (compression === 'none') return /\.tar$/i.test(path);
  return compression === 'gzip' || compression === 'zstd' || compression === 'xz';
}

export const tarballWalker: ContainerWalker = {
  name: 'tar',
  detect: isTarball,
  async walk(path, filter, options = {}) {
    const { stat } = await import('node:fs/promises');
    const { size } = await stat(path);
    return walkLayers(
      [
        {
          location: { file: path, start: 0, size, name: path },
          input: path,
          image: false,
          maxFileSize: options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
          ...(options.decompress ? { decompress: options.decompress } : {}),
        },
      ],
      filter,
      options,
    );
  },
};

registerContainerWalker(tarballWalker);
