/**
 * What the end-to-end tests need for a release that passes all seven rules: a repository with a
 * signed tag, real content for an image, and the `stamp` flags naming them (`hello 1.2.3` by a named
 * team, with help, license and the signed source).
 */
import { existsSync, readFileSync } from 'node:fs';
import { makeRepo, type SshSigner, signedTag } from './git-fixtures.ts';

/** A repository whose HEAD is at `v1.2.3`, signed by `signer`, with a public-looking origin. */
export async function signedHelloRepo(tmp: string, signer: SshSigner): Promise<string> {
  const repo = await makeRepo(
    tmp,
    { 'build.sh': '#!/bin/sh\necho build\n' },
    { name: 'signed', origin: 'https://git.example.org/hello.git' },
  );
  await signedTag(repo, 'v1.2.3', signer);
  return repo;
}

/** Real content from this machine: its os-release, its dpkg database, a real executable. */
export function realFiles(): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {
    'usr/bin/true': readFileSync('/usr/bin/true'),
    'etc/os-release': readFileSync('/etc/os-release'),
  };
  if (existsSync('/var/lib/dpkg/status')) files['var/lib/dpkg/status'] = readFileSync('/var/lib/dpkg/status');
  return files;
}

/** The `stamp` flags of the complete release of `repo`, trusted through `allowedSignersFile`. */
export function helloStampFlags(repo: string, allowedSignersFile: string): string[] {
  return [
    '--name',
    'hello',
    '--version',
    '1.2.3',
    '--team',
    'Example Release Team',
    '--contact',
    'release@example.org',
    '--bug-tracker',
    'https://bugs.example.org/hello',
    '--license',
    'Apache-2.0',
    '--source',
    repo,
    '--allowed-signers',
    allowedSignersFile,
    '--quiet',
  ];
}
