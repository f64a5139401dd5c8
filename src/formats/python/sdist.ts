/**
 * Python source distributions (PyPA "Source distribution format"): a gzip tarball
 * `{name}-{version}.tar.gz` with one top directory `{name}-{version}/` holding PKG-INFO (core
 * metadata 2.2+; older sdists are read the same way). A tarball without `<top>/PKG-INFO` is a plain
 * tarball, not an sdist. Nothing is stamped: PKG-INFO sits inside a tarball whose hash pip and PyPI
 * check, so the facts go to the sidecar record.
 */
import { basename } from 'node:path';
import { WaybillError } from '../../errors.ts';
import type { NativeFacts } from '../facts.ts';
import { type ConfirmableNativeFormat, confirmedBy } from '../native.ts';
import { firstTarEntryName, scanTarball } from '../shared/tar-scan.ts';
import { parseCoreMetadata } from './core-metadata.ts';
import { pythonMetadataFacts } from './wheel.ts';

const SDIST_NAME = /\.(?:tar\.gz|tgz)$/i;

/** The top directory a path lies in; undefined for a top-level file. */
function topDir(path: string): string | undefined {
  const parts = path.replace(/^(?:\.\/)+/, '').split('/');
  return parts.length > 1 || path.endsWith('/') ? parts[0] : undefined;
}

/** Read `<top>/PKG-INFO` in one streaming pass (stops as soon as it is found). */
export async function readSdistPkgInfo(path: string): Promise<{ top: string; data: Buffer } | undefined> {
  const topOf = (first: string | undefined) => (first === undefined ? undefined : (topDir(first) ?? ''));
  const scan = await scanTarball(path, {
    want: (p) => /^[^/]+\/PKG-INFO$/.test(p),
    done: (s) => {
      const top = topOf(s.first?.type === 'dir' ? `${s.first.path}/` : s.first?.path);
      return top === '' || (top !== undefined && s.files.has(`${top}/PKG-INFO`));
    },
  });
  const top = topOf(scan.first?.type === 'dir' ? `${scan.first.path}/` : scan.first?.path);
  if (!top) return undefined;
  const data = scan.files.get(`${top}/PKG-INFO`);
  return data ? { top, data } : undefined;
}

export async function readSdistFacts(path: string): Promise<NativeFacts> {
  const found = await readSdistPkgInfo(path);
  if (!found) throw new WaybillError('MALFORMED', path, 'not an sdist: no PKG-INFO in the top directory');
  const meta = parseCoreMetadata(found.data, `${path}!/${found.top}/PKG-INFO`);
  const facts = pythonMetadataFacts(meta, 'sdist', 'sdist PKG-INFO');
  // A source distribution holds no machine code: its architecture is "any", as the wheel tag `any`
  // and rpm's `noarch` say, so the record and the artifact can agree on it.
  if (facts.architectures.length === 0) {
    facts.architectures.push({ value: 'noarch', field: 'sdist (source: architecture-independent)' });
  }
  return facts;
}

export const sdistFormat: ConfirmableNativeFormat = {
  name: 'sdist',
  /**
   * From the first bytes: a .tar.gz whose first entry lies in (or is) a `{name}-{version}` directory.
   * That is only a candidate; `confirm` checks PKG-INFO is there.
   */
  detect(head, path) {
    if (!SDIST_NAME.test(path)) return false;
    const first = firstTarEntryName(head);
    if (first === undefined) return false;
    const top = topDir(first) ?? '';
    return /^[A-Za-z0-9][A-Za-z0-9._+-]*-\d[^/]*$/.test(top) || basename(path).startsWith(`${top}.`);
  },
  readFacts: readSdistFacts,
  confirm: (path) => confirmedBy(async () => (await readSdistPkgInfo(path)) !== undefined),
};
