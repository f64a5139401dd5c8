/**
 * What a single-file artifact contains: a plain tarball is walked entry by entry; other container
 * formats (.deb, .rpm, .whl…) plug in here with `registerContainerWalker`. A file no walker claims is
 * walked as itself.
 */
import { decompressHead } from '../archive/decompress.ts';
import { BLOCK_SIZE, isTarHeader } from '../archive/tar-reader.ts';
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

export const tarballWalker: ContainerWalker = {
  name: 'tar',
  detect: (head) => looksLikeTarball(head),
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
