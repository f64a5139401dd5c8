/**
 * Atomic file writes: the bytes go to a temp file in the same directory (same filesystem, so rename is
 * atomic), are fsync'd, and the temp file is renamed over the target, so neither a reader nor a crash
 * ever sees a half-written file: there is the old file or the new one.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, link, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A fresh hidden name next to `path`, so a rename onto `path` stays within one filesystem. The pid and
 * random part keep concurrent writers (threads, processes) from ever sharing a temp file.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` atomically (see above). `mode` is for the new file, before the umask; an
 * existing file's mode is not kept.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  // A device or pipe (`-o /dev/null`, `-o /dev/stdout`, a FIFO) is written through: renaming a
  // regular file over it would replace the device itself, which as root is possible and harmful.
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isFile() && !existing.isDirectory()) {
    await writeFile(path, data);
    return;
  }
  await throughTempFile(path, mode, (handle) => handle.writeFile(data));
}

/** Fills a fresh temp file next to `path` with `fill`, syncs it and renames it over `path`. */
async function throughTempFile(path: string, mode: number, fill: (handle: FileHandle) => Promise<void>) {
  const temp = tempPathFor(path);
  // O_EXCL: never write through a file (or symlink) someone else put at the temp name.
  const handle = await open(temp, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, mode);
  try {
    try {
      await fill(handle);
      // Durable before the rename publishes it; otherwise a crash can leave an empty file in place.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/**
 * `writeFileAtomic` for data that arrives in pieces (archives, copied artifacts): the same temp file,
 * O_EXCL, fsync and rename, without holding the whole content in memory. A source that throws
 * leaves the target as it was.
 */
export async function writeStreamAtomic(
  path: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  mode = 0o644,
): Promise<void> {
  await throughTempFile(path, mode, async (handle) => {
    for await (const chunk of chunks) {
      // write(2) may take less than asked; a regular file normally takes it all, but loop anyway.
      for (let done = 0; done < chunk.byteLength; ) {
        done += (await handle.write(chunk, done, chunk.byteLength - done)).bytesWritten;
      }
    }
  });
}

/**
 * Writes a file that must not exist yet (a new private key): the bytes go to a temp file with `mode`,
 * are fsync'd, and are published with link(2), which fails with EEXIST when anything — a file, a
 * directory, a dangling symlink — is already at `path`. So an existing file is never replaced, a link
 * planted at `path` is never followed, and no reader sees a half-written file.
 */
export async function writeNewFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  const temp = tempPathFor(path);
  const handle = await open(temp, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, mode);
  try {
    try {
      // The umask may have removed bits; a key file gets exactly `mode`, never more.
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}
