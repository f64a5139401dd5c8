/**
 * Alpine apk v2 package files (apk-tools doc/apk-v2.5; Alpine wiki "Apk spec"): three gzip streams
 * concatenated — the signature tar segment (`.SIGN.<algorithm>.<keyid>` files), the control tar
 * segment (`.PKGINFO`, install scripts), the data tarball — which gunzip as one tar archive (the two
 * segments carry no end-of-archive blocks). Facts come from `.PKGINFO`.
 *
 * No stamp: the signature covers the control stream, and `.PKGINFO`'s `datahash` the data stream,
 * so any edit breaks `apk verify`. The sidecar record carries the facts, as for rpm.
 *
 * Also registers a container walker: a .apk given as `file:` is walked like a tarball, without the
 * signature and control entries, so the catalogers see the files the package installs.
 */
import { detectCompression } from '../../archive/decompress.ts';
import { WaybillError } from '../../errors.ts';
import {
  type ContainerWalker,
  registerContainerWalker,
  tarballWalker,
} from '../../sources/container-walkers.ts';
import type { FileEntry, FileFilter } from '../../sources/types.ts';
import type { Fact, NativeFacts } from '../facts.ts';
import type { NativeFormat } from '../native.ts';
import { firstTarEntryName, scanTarball } from '../shared/tar-scan.ts';
import { type PkgInfo, parsePkgInfo, pkgInfoField } from './pkginfo.ts';

const PKGINFO = '.PKGINFO';
/** abuild writes .PKGINFO first in the control segment, after the signatures: a few entries in. */
const MAX_CONTROL_ENTRIES = 64;
/** abuild's .PKGINFO is a few KiB even with hundreds of `depend` lines. */
const MAX_PKGINFO_BYTES = 1024 * 1024;

/** The control segment's entries (apk-tools: signatures, .PKGINFO, hook scripts, triggers). */
const CONTROL_ENTRY = /^\.(?:SIGN\.[^/]+|PKGINFO|(?:pre|post)-(?:install|deinstall|upgrade)|trigger|dummy)$/;

/**
 * From the first bytes: gzip whose tar starts with a signature (`.SIGN.…`, only apk writes those),
 * or an unsigned package named `.apk` whose tar starts with `.PKGINFO` (pacman's packages start with
 * `.PKGINFO` too, but are named `.pkg.tar.*`).
 */
export function looksLikeApk(head: Buffer, path: string): boolean {
  if (detectCompression(head) !== 'gzip') return false;
  const first = firstTarEntryName(head);
  if (first === undefined) return false;
  return first.startsWith('.SIGN.') || (first === PKGINFO && /\.apk$/i.test(path));
}

/** `.PKGINFO` of an apk, from one bounded streaming pass that stops as soon as it is read. */
export async function readApkPkgInfo(path: string): Promise<PkgInfo> {
  const scan = await scanTarball(path, {
    want: (p) => p === PKGINFO,
    done: (s) => s.files.has(PKGINFO),
    maxEntries: MAX_CONTROL_ENTRIES,
    maxFileBytes: MAX_PKGINFO_BYTES,
  });
  const data = scan.files.get(PKGINFO);
  if (!data) {
    throw new WaybillError(
      'MALFORMED',
      path,
      `not an apk package: no ${PKGINFO} in its first ${MAX_CONTROL_ENTRIES} entries`,
    );
  }
  return parsePkgInfo(data.toString('utf8'), `${path}!/${PKGINFO}`);
}

/** Maps .PKGINFO onto NativeFacts (field strings: `apk .PKGINFO <key>`). */
export function apkFactsFromPkgInfo(info: PkgInfo, input: string): NativeFacts {
  const facts: NativeFacts = { format: 'apk', hasIdentityFields: true, architectures: [], texts: [] };
  const field = (key: string): Fact | undefined => {
    const value = pkgInfoField(info, key);
    return value !== undefined ? { value, field: `apk .PKGINFO ${key}` } : undefined;
  };
  const name = field('pkgname');
  const version = field('pkgver');
  if (!name || !version) {
    throw new WaybillError('MALFORMED', `${input}!/${PKGINFO}`, `no ${name ? 'pkgver' : 'pkgname'} field`);
  }
  facts.name = name;
  facts.version = version;
  const arch = field('arch');
  if (arch) facts.architectures.push(arch);
  const builddate = pkgInfoField(info, 'builddate');
  if (builddate !== undefined) {
    // abuild: seconds since the epoch (SOURCE_DATE_EPOCH when set).
    const seconds = /^\d{1,12}$/.test(builddate) ? Number(builddate) : Number.NaN;
    if (!(seconds > 0)) {
      throw new WaybillError(
        'MALFORMED',
        `${input}!/${PKGINFO}`,
        `builddate ${JSON.stringify(builddate.slice(0, 40))} is not a time`,
      );
    }
    facts.created = {
      value: new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'),
      field: 'apk .PKGINFO builddate',
    };
  }
  const team = field('maintainer') ?? field('packager');
  if (team) facts.team = team;
  const url = field('url');
  if (url) facts.docs = url;
  const license = field('license');
  if (license) facts.license = license;
  for (const key of ['pkgdesc', 'url', 'maintainer', 'packager', 'origin', 'commit']) {
    const text = field(key);
    if (text) facts.texts.push(text);
  }
  return facts;
}

export async function readApkFacts(path: string): Promise<NativeFacts> {
  return apkFactsFromPkgInfo(await readApkPkgInfo(path), path);
}

/** The walk's filter, blind to the signature and control entries (they are not installed files). */
function withoutControl(filter: FileFilter): FileFilter {
  return { ...filter, want: (entry: FileEntry) => !CONTROL_ENTRY.test(entry.path) && filter.want(entry) };
}

export const apkFormat: NativeFormat = {
  name: 'apk',
  detect: looksLikeApk,
  readFacts: readApkFacts,
  // No stamp: the signature and datahash cover what a stamp would rewrite; the sidecar record carries the facts.
};

export const apkWalker: ContainerWalker = {
  name: 'apk',
  detect: looksLikeApk,
  // In process: a worker rebuilds the engine's filter from its module and would not skip the control entries.
  walk: (path, filter, options = {}) => {
    const { filterModule: _inWorkers, ...inProcess } = options;
    return tarballWalker.walk(path, withoutControl(filter), inProcess);
  },
};

registerContainerWalker(apkWalker);
