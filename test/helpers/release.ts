/** What a release is stamped from in the end-to-end tests: a repository with an SSH-signed tag. */
import { makeRepo, makeSshSigner, type SshSigner, signedTag } from './git-fixtures.ts';

export interface SignedSource {
  signer: SshSigner;
  /** A repository whose HEAD is at the SSH-signed tag v1.2.3, origin https://git.example.org/hello.git. */
  repo: string;
}

export async function makeSignedSource(tmp: string): Promise<SignedSource> {
  const signer = await makeSshSigner(tmp);
  const repo = await makeRepo(
    tmp,
    { 'build.sh': '#!/bin/sh\necho build\n' },
    { name: 'signed', origin: 'https://git.example.org/hello.git' },
  );
  await signedTag(repo, 'v1.2.3', signer);
  return { signer, repo };
}

/**
 * `waybill stamp` flags for a release that meets every guideline: name, version, the example team
 * and contact, a bug tracker, Apache-2.0, built from `repo`'s signed tag trusted through
 * `allowedSigners`; no progress bar.
 */
export function releaseFlags(repo: string, allowedSigners: string): string[] {
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
    allowedSigners,
    '--quiet',
  ];
}
