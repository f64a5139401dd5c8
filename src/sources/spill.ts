/**
 * Wanted files too large to read whole into memory (an image's 100 MiB Go program or native
 * module): the entry's content is streamed to a private temporary file, the filter condenses it from
 * there (reading a few ranges), and only the condensed copy is kept. A file the filter cannot
 * condense is read back whole, as a walk always did, so nothing is lost but the memory.
 */
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSource } from '../util/byte-source.ts';
import { type FileEntry, type FileFilter, keptBytes } from './types.ts';

/** Wanted files above this many bytes are condensed from disk rather than read into memory. */
export const SPILL_MIN_BYTES = 4 * 1024 * 1024;

/** `keptBytes` for content that arrives as chunks (a tar entry's body). */
export async function keptBytesSpilled(
  filter: FileFilter,
  entry: FileEntry,
  body: AsyncIterable<Buffer>,
): Promise<Buffer | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-spill-'));
  const path = join(dir, 'content');
  try {
    const handle = await open(path, 'wx', 0o600);
    let size = 0;
    try {
      for await (const chunk of body) {
        await handle.write(chunk);
        size += chunk.length;
      }
    } finally {
      await handle.close();
    }
    const condensed = condenseFromFile(filter, entry, path, size);
    if (condensed) return !filter.keep || filter.keep(entry, condensed) ? condensed : undefined;
    return keptBytes(filter, entry, await readFile(path), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The filter's condensed copy of a file on disk (a path or an open descriptor), or undefined. */
export function condenseFromFile(
  filter: FileFilter,
  entry: FileEntry,
  file: string | number,
  size: number,
): Buffer | undefined {
  if (!filter.condense) return undefined;
  const source = fileSource(file, size);
  try {
    return filter.condense(entry, source);
  } finally {
    source.close();
  }
}
