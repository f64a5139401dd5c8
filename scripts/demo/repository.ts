/**
 * The demo's source repository: the project in scripts/demo/project (a script, two vendored npm
 * packages, a build recipe and waybill.yaml), committed and tagged with an SSH signature by a
 * throwaway key. Dates and identities are fixed, so the commits (and the artifacts built from them)
 * are the same on every run; only the signatures, made with a fresh key, differ.
 *
 * git runs through the test fixtures' helper (isolated from the user's git configuration), as in
 * the tests: waybill itself only ever runs git through its hardened runner.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git as fixtureGit, makeSshSigner, type SshSigner } from '../../test/helpers/git-fixtures.ts';

const PROJECT = new URL('project/', import.meta.url).pathname;
export const ORIGIN = 'https://github.com/example/hello.git';

export interface DemoRepository {
  /** The checkout, `source` in the output folder. */
  dir: string;
  signer: SshSigner;
}

function identity(date: string): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: 'Example Release Team',
    GIT_AUTHOR_EMAIL: 'release@example.org',
    GIT_COMMITTER_NAME: 'Example Release Team',
    GIT_COMMITTER_EMAIL: 'release@example.org',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
}

/** `out/source`: a new repository holding the demo project, uncommitted; `out/keys` holds the tag signing key. */
export async function makeDemoRepository(out: string): Promise<DemoRepository> {
  const signer = await makeSshSigner(out, 'release@example.org', 'keys');
  const dir = join(out, 'source');
  cpSync(PROJECT, dir, { recursive: true });
  await fixtureGit(dir, ['init', '-q', '-b', 'main']);
  await fixtureGit(dir, ['remote', 'add', 'origin', ORIGIN]);
  return { dir, signer };
}

/** Commits every change in the checkout at `date` and signs tag `tag` on it. */
export async function release(
  repo: DemoRepository,
  tag: string,
  message: string,
  date: string,
): Promise<string> {
  const git = (args: string[]) => fixtureGit(repo.dir, args, { env: identity(date) });
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', message]);
  const signing = ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${repo.signer.privateKey}`];
  await git([...signing, 'tag', '-s', '-m', message, tag]);
  return git(['log', '--oneline', '--decorate', '-n', '1']);
}

/** Replaces `from` (which must be there) with `to` in a file of the checkout. */
export function edit(repo: DemoRepository, file: string, from: string, to: string): void {
  const path = join(repo.dir, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`demo: ${file} no longer contains ${JSON.stringify(from)}`);
  writeFileSync(path, text.replace(from, to));
}
