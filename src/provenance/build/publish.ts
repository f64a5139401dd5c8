/**
 * Copies a build output from the private build directory into the output folder: a file through the
 * atomic writer, an OCI layout directory file by file into a fresh hidden directory that is renamed
 * into place at the end (a previous build's layout of the same name is replaced whole). Symlinks and
 * special files inside a layout are refused: a layout holds only blobs and JSON.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WaybillError } from '../../errors.ts';
import { tempPathFor, writeStreamAtomic } from '../../util/atomic-write.ts';

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { mode: 0o755 });
  for (const entry of (await readdir(from, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) await copyTree(source, target);
    else if (entry.isFile())
      await writeStreamAtomic(target, createReadStream(source), { mode: (await lstat(source)).mode & 0o777 });
    else
      throw new WaybillError(
        'UNSAFE_PATH',
        source,
        'an OCI layout output holds something other than files and directories',
      );
  }
}

/** Copies `source` (a file or an OCI layout directory) to `target`; returns `target`. */
export async function publishOutput(
  source: string,
  target: string,
  kind: 'file' | 'oci-layout',
): Promise<string> {
  if (kind === 'file') {
    await writeStreamAtomic(target, createReadStream(source), {
      mode: 0o644 | ((await lstat(source)).mode & 0o111),
    });
    return target;
  }
  const temp = tempPathFor(target);
  try {
    await copyTree(source, temp);
    const existing = await lstat(target).catch(() => undefined);
    if (existing?.isDirectory()) await rm(target, { recursive: true });
    else if (existing)
      throw new WaybillError(
        'USAGE',
        target,
        'exists and is not a directory; not replacing it with an image layout',
      );
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  return target;
}

/** The published name of an output: its file name (`dist/hello.tar.gz` → `hello.tar.gz`). */
export function publishedName(outputPath: string): string {
  return basename(outputPath);
}
