/**
 * Unpacks a source archive into a fresh, private build directory. The archive may come from a rebuild
 * kit someone else wrote, so it is hostile input: the tar reader already refuses absolute paths and
 * `..`; here nothing is written through a symlink the archive made (a path whose parent is one of its
 * symlinks is refused), files are created with O_EXCL | O_NOFOLLOW (a duplicate entry cannot replace
 * or write through anything), and only regular files, directories and symlinks are accepted.
 *
 * Files are created directly rather than through the atomic writer: the directory is new and ours
 * alone, nobody reads it before extraction ends, and an fsync per file would make large trees slow
 * for no benefit. O_EXCL | O_NOFOLLOW gives the property the atomic writer exists for (never write
 * through a link).
 */
import { createReadStream, constants as fsConstants } from 'node:fs';
import { mkdir, open, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readTar } from '../../archive/tar-reader.ts';
import { WaybillError } from '../../errors.ts';

export interface ExtractResult {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

const CREATE_FLAGS = fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW;

/** Extracts the tar at `archive` into the existing empty directory `dir`. `input` names it in errors. */
export async function extractSourceArchive(
  archive: string,
  dir: string,
  input = archive,
): Promise<ExtractResult> {
  const symlinks = new Set<string>();
  const result: ExtractResult = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  for await (const entry of readTar(createReadStream(archive), { input })) {
    const { path, type } = entry.header;
    if (path === '') continue; // the archive root itself
    const segments = path.split('/');
    if (segments.some((s) => s.toLowerCase() === '.git')) {
      throw new WaybillError(
        'UNSAFE_PATH',
        input,
        `entry ${JSON.stringify(path)} is inside a .git directory`,
      );
    }
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (symlinks.has(parent)) {
        throw new WaybillError(
          'UNSAFE_PATH',
          input,
          `entry ${JSON.stringify(path)} lies under the symlink ${JSON.stringify(parent)}`,
        );
      }
    }
    const target = join(dir, path);
    if (segments.length > 1)
      await mkdir(join(dir, ...segments.slice(0, -1)), { recursive: true, mode: 0o755 });
    try {
      if (type === 'dir') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        result.directories++;
      } else if (type === 'symlink') {
        await symlink(entry.header.linkTarget ?? '', target);
        symlinks.add(path);
        result.symlinks++;
      } else if (type === 'file') {
        const handle = await open(target, CREATE_FLAGS, entry.header.mode & 0o111 ? 0o755 : 0o644);
        try {
          for await (const chunk of entry.body()) {
            for (let done = 0; done < chunk.length; ) {
              done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
            }
            result.bytes += chunk.length;
          }
        } finally {
          await handle.close();
        }
        result.files++;
      } else {
        throw new WaybillError(
          'UNSUPPORTED',
          input,
          `entry ${JSON.stringify(path)} is a ${type === 'hardlink' ? 'hard link' : 'device or other special file'}; a source archive holds only files, directories and symlinks`,
        );
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP' || code === 'ENOTDIR') {
        throw new WaybillError(
          'MALFORMED',
          input,
          `entry ${JSON.stringify(path)} collides with an earlier entry`,
          { cause: e },
        );
      }
      throw e;
    }
  }
  return result;
}
