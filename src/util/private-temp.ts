/**
 * A private scratch directory for helper programs that read their input from files (ssh-keygen -Y
 * reads a signature file, gpg a detached signature and its data): a fresh `mkdtemp` directory (mode
 * 0700, unpredictable name) whose files are created exclusively, removed with everything in it when
 * the callback ends. Nothing here is published, so the one writer (atomic-write.ts) is not needed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PrivateTempDir {
  readonly path: string;
  /** Creates `name` (a plain name) with `data`, mode 0600; fails if it exists. Returns its path. */
  write(name: string, data: Buffer | string): Promise<string>;
}

export async function withPrivateTempDir<T>(
  prefix: string,
  fn: (dir: PrivateTempDir) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  try {
    return await fn({
      path: dir,
      async write(name, data) {
        if (name === '' || name.includes('/') || name === '.' || name === '..')
          throw new Error(`temp file name must be a plain name: ${JSON.stringify(name)}`);
        const file = path.join(dir, name);
        await writeFile(file, data, { flag: 'wx', mode: 0o600 });
        return file;
      },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
