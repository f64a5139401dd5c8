/**
 * PyPI versions: PEP 440 (the Version specifiers spec on packaging.python.org) through
 * `@renovatebot/pep440`, a port of `packaging.version`: epochs, pre (`a`/`b`/`rc`), post and dev
 * releases, local versions, and normalisation (`1.0` = `1.0.0`, `1.0RC1` = `1.0rc1`). Ordering of the
 * special cases: `1.0.dev0` < `1.0a1.dev0` < `1.0a1` < `1.0a1.post1` < `1.0b1` < `1.0rc1` < `1.0`
 * < `1.0+local` < `1.0.post1.dev0` < `1.0.post1`.
 */
import { compare, valid } from '@renovatebot/pep440';
import type { VersionScheme } from './scheme.ts';

export const pep440Scheme: VersionScheme = {
  name: 'pep440',
  valid: (v) => valid(v) !== null,
  compare: (a, b) => {
    if (valid(a) === null || valid(b) === null)
      throw new TypeError(`not a PEP 440 version: ${valid(a) === null ? a : b}`);
    return compare(a, b);
  },
};
