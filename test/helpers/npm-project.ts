/**
 * Real npm projects for tests, installed once with the real npm into test/fixtures/cache/npm-projects
 * (from the shared npm cache) and reused: unpacking a package like Next.js takes tens of seconds on a
 * busy machine, reading it back takes well under one. A project is installed into `NAME.partial` and
 * renamed when done, so an interrupted install is redone and a finished one never is; concurrent
 * test processes wait on one lock (scripts/cache-lock.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withCacheLock } from '../../scripts/cache-lock.ts';

const run = promisify(execFile);
const CACHE = fileURLToPath(new URL('../fixtures/cache', import.meta.url));
export const NPM_CACHE = join(CACHE, 'npm');

/**
 * The folder of an npm project named `name` with `packages` installed (`npm install --ignore-scripts`),
 * or `{ skip }` with the reason when npm cannot install them here (no registry, no cache).
 */
export async function ensureNpmProject(
  name: string,
  packages: string[],
): Promise<{ dir: string } | { skip: string }> {
  const root = join(CACHE, 'npm-projects');
  const dir = join(root, name);
  if (existsSync(dir)) return { dir };
  await mkdir(root, { recursive: true });
  return withCacheLock(`${dir}.lock`, async () => {
    try {
      if (existsSync(dir)) return { dir };
      const partial = `${dir}.partial`;
      await rm(partial, { recursive: true, force: true });
      await mkdir(partial);
      await writeFile(
        join(partial, 'package.json'),
        JSON.stringify({ name, version: '1.0.0', private: true }),
      );
      await run(
        'npm',
        [
          'install',
          '--cache',
          NPM_CACHE,
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
          '--loglevel=error',
          ...packages,
        ],
        { cwd: partial, timeout: 600_000 },
      );
      await rename(partial, dir);
      return { dir };
    } catch (e) {
      return {
        skip: `npm install ${packages.join(' ')} failed (offline?): ${(e as Error).message.split('\n')[0]}`,
      };
    }
  });
}
