/**
 * The one error for a published release whose files disagree with each other: a file whose bytes
 * are not the digest SHA256SUMS lists, an index.json entry or a release record naming another
 * digest. It names the file and both digests. A DIGEST_MISMATCH like any other (util/digest.ts):
 * `check`, `sbom`, `inspect` and `audit` stop on it (exit 2: the input is not what it says it is);
 * `verify` reports it as a failed integrity verdict (exit 1).
 */
import { DigestMismatchError } from '../util/digest.ts';

export type IntegrityAuthority = 'SHA256SUMS' | 'index.json' | 'the release record';

export class ReleaseIntegrityError extends DigestMismatchError {
  /** The file whose digest is wrong, as named in the version directory. */
  readonly file: string;
  /** What `authority` says the digest is. */
  readonly expected: string;
  /** What it is (or what the other file says). */
  readonly actual: string;
  readonly authority: IntegrityAuthority;

  constructor(input: string, file: string, actual: string, expected: string, authority: IntegrityAuthority) {
    super(
      input,
      { expected, actual },
      {
        reason: `${file} is ${actual}, but ${authority} says ${expected}`,
        what: 'published file',
      },
    );
    this.name = 'ReleaseIntegrityError';
    this.file = file;
    this.expected = expected;
    this.actual = actual;
    this.authority = authority;
  }
}
