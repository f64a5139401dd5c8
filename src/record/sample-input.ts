/**
 * A complete, realistic release-record input for tests (here and in other modules' tests, e.g. policy):
 * two deb subjects given out of order, duplicate architectures, a date with an offset.
 */
import type { RecordInput } from './build.ts';
import { defaultDisclaimer, defaultSupportStatement } from './disclaimer.ts';

export const DIGEST_A = 'a'.repeat(64);
export const DIGEST_B = '0123456789abcdef'.repeat(4);

export function sampleRecordInput(): RecordInput {
  return {
    subject: [
      { name: 'hello_1.2.3_arm64.deb', digest: { sha256: DIGEST_B } },
      {
        name: 'hello_1.2.3_amd64.deb',
        digest: { sha256: DIGEST_A },
        mediaType: 'application/vnd.debian.binary-package',
      },
    ],
    identity: { name: 'hello', version: '1.2.3', architectures: ['arm64', 'amd64', 'arm64'] },
    manifest: { format: 'cyclonedx-json', digest: { sha256: DIGEST_B }, location: 'hello.cdx.json' },
    dates: { built: '2024-05-01T14:00:00+02:00', published: new Date(Date.UTC(2024, 4, 2, 9, 30)) },
    source: {
      repository: 'https://git.example.org/hello.git',
      tag: 'v1.2.3',
      commit: 'c'.repeat(40),
      tree: 'e'.repeat(40),
      tagObject: 'd'.repeat(40),
      signature: { verified: true, format: 'openpgp', signer: 'ABCDEF0123456789', reason: 'good signature' },
      // Shaped like git objects; they do not hash to the ids above (schema tests only).
      evidence: {
        rawTag: Buffer.from(`object ${'c'.repeat(40)}\ntype commit\ntag v1.2.3\n\nrelease 1.2.3\n`).toString(
          'base64',
        ),
        rawCommit: Buffer.from(`tree ${'e'.repeat(40)}\n\ninitial\n`).toString('base64'),
      },
    },
    team: { name: 'Example Release Team', contact: 'release@example.org' },
    help: { bugTracker: 'https://bugs.example.org/hello', docs: 'https://docs.example.org/hello' },
    support: {
      license: 'Apache-2.0',
      disclaimer: defaultDisclaimer('Apache-2.0'),
      statement: defaultSupportStatement('Example Release Team', 'https://bugs.example.org/hello'),
    },
  };
}
