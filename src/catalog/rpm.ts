/**
 * RPM cataloger: the installed-package database of an rpm-based root filesystem, in whichever
 * backend it uses: SQLite (`rpmdb.sqlite`, rpm ≥ 4.16), NDB (`Packages.db`, SUSE), or Berkeley DB
 * hash (`Packages`, older RHEL/CentOS/Fedora). Fedora ≥ 36 and SUSE keep it in /usr/lib/sysimage/rpm
 * (with /var/lib/rpm a symlink), so both directories are matched.
 */
import { PackageURL } from 'packageurl-js';
import { WaybillError } from '../errors.ts';
import { parseRpmHeaderBlob, type RpmPackageInfo, rpmPackageInfo } from '../formats/rpm/rpm-header.ts';
import { readBdbHash } from '../formats/rpm/rpmdb-bdb.ts';
import { readNdbBlobs } from '../formats/rpm/rpmdb-ndb.ts';
import { readSqliteBlobs } from '../formats/rpm/rpmdb-sqlite.ts';
import { distroQualifier } from '../formats/system-image/os-release.ts';
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';
import { richDependencyNames } from './rpm-rich-deps.ts';
import type { CatalogContext, Cataloger, Component, Distro } from './types.ts';

const RPM_DIRS = ['var/lib/rpm/', 'usr/lib/sysimage/rpm/'];
/** Backends in the order rpm itself prefers them when several are present (newest first). */
const BACKENDS = ['rpmdb.sqlite', 'Packages.db', 'Packages'] as const;
type Backend = (typeof BACKENDS)[number];
const WANTED = new Set<string>([...BACKENDS, 'rpmdb.sqlite-wal']);

function splitRpmPath(path: string): { dir: string; base: string } | undefined {
  for (const dir of RPM_DIRS) {
    if (path.startsWith(dir) && path.indexOf('/', dir.length) < 0)
      return { dir, base: path.slice(dir.length) };
  }
  return undefined;
}

export function wantRpmDb(entry: FileEntry): boolean {
  const split = splitRpmPath(entry.path);
  return split !== undefined && WANTED.has(split.base);
}

/** Header blobs of one rpmdb file, by backend. Throws WaybillError for an unreadable database. */
export function rpmdbBlobs(
  backend: Backend,
  data: Buffer,
  path: string,
  wal: Buffer | undefined,
  warn: (reason: string) => void,
): Buffer[] {
  switch (backend) {
    case 'rpmdb.sqlite':
      return readSqliteBlobs(data, path, wal).map((r) => r.blob);
    case 'Packages.db':
      return readNdbBlobs(data, path, warn).map((r) => r.blob);
    case 'Packages':
      // Key 0 of the Packages hash is rpm's instance counter, not a header (4-byte value).
      return readBdbHash(data, path, warn)
        .filter((r) => !(r.key.length === 4 && r.key.readUInt32LE(0) === 0 && r.key.readUInt32BE(0) === 0))
        .map((r) => r.value);
  }
}

/** `[epoch:]version-release`, rpm's EVR as `rpm -q --qf '%{EVR}'` prints it. */
export function rpmEvr(info: Pick<RpmPackageInfo, 'epoch' | 'version' | 'release'>): string {
  const vr = `${info.version}-${info.release}`;
  return info.epoch !== undefined ? `${info.epoch}:${vr}` : vr;
}

/**
 * purl-spec (types/rpm): namespace is the vendor/distro, version is `version-release`, the epoch
 * goes in the `epoch` qualifier; `arch` and `distro` are qualifiers too.
 */
export function rpmPurl(info: RpmPackageInfo, distro: Distro | undefined): string {
  const qualifiers: Record<string, string> = {};
  if (info.arch) qualifiers.arch = info.arch;
  if (info.epoch !== undefined) qualifiers.epoch = String(info.epoch);
  if (distro) qualifiers.distro = distroQualifier(distro);
  const namespace = distro?.id ?? 'rpm';
  return new PackageURL(
    'rpm',
    namespace,
    info.name,
    `${info.version}-${info.release}`,
    qualifiers,
    undefined,
  ).toString();
}

export function rpmComponent(info: RpmPackageInfo, foundAt: string, distro: Distro | undefined): Component {
  const properties: Record<string, string> = {};
  if (info.sourceRpm) {
    properties['waybill:source-rpm'] = info.sourceRpm;
    // NAME-VERSION-RELEASE.src.rpm: the source package name is what is left after the last two dashes.
    const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(info.sourceRpm);
    if (m) {
      properties['waybill:source-package'] = m[1] as string;
      properties['waybill:source-version'] = `${m[2]}-${m[3]}`;
    }
  }
  if (info.arch) properties['waybill:arch'] = info.arch;
  if (info.modularityLabel) properties['waybill:rpm:modularitylabel'] = info.modularityLabel;
  if (info.sigmd5) properties['waybill:rpm:sigmd5'] = info.sigmd5;
  if (info.files.length > 0) properties['waybill:owned-files'] = String(info.files.length);
  if (info.url) properties['waybill:homepage'] = info.url;
  if (info.bugUrl) properties['waybill:bug-tracker'] = info.bugUrl;
  const component: Component = {
    type: 'library',
    ecosystem: 'rpm',
    name: info.name,
    version: rpmEvr(info),
    purl: rpmPurl(info, distro),
    licenses: info.license ? [info.license] : [],
    foundAt: [foundAt],
    properties,
  };
  const supplier = info.vendor ?? info.packager;
  if (supplier) component.supplier = supplier;
  if (info.summary) component.description = info.summary;
  return component;
}

/** Packages of one database file; bad headers are warned about and skipped. */
export function catalogRpmDb(
  backend: Backend,
  file: WalkedFile,
  wal: Buffer | undefined,
  ctx: CatalogContext,
): { components: Component[]; files: Map<string, string> } {
  const path = file.entry.path;
  const components: Component[] = [];
  const owned = new Map<string, string>();
  // Every installed package that provides a capability or owns a path: a multilib pair (x86_64 and
  // i686 of one name) both provide its name, and both own the files they share.
  const providers = new Map<string, Set<string>>();
  const owners = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, purl: string) => {
    const set = map.get(key);
    if (set) set.add(purl);
    else map.set(key, new Set([purl]));
  };
  const requirements: Array<{ component: Component; requires: string[] }> = [];
  let blobs: Buffer[];
  try {
    blobs = rpmdbBlobs(backend, file.data, path, wal, (reason) => ctx.warn(path, reason));
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
    ctx.warn(path, e.reason);
    return { components, files: owned };
  }
  for (const blob of blobs) {
    let info: RpmPackageInfo;
    try {
      info = rpmPackageInfo(parseRpmHeaderBlob(blob, path), path);
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
      ctx.warn(path, e.reason);
      continue;
    }
    // gpg-pubkey "packages" are imported signing keys, not software (rpm --import).
    if (info.name === 'gpg-pubkey') continue;
    const component = rpmComponent(info, path, ctx.distro);
    if (file.entry.layer) component.layer = file.entry.layer;
    components.push(component);
    requirements.push({ component, requires: info.requires });
    for (const f of info.files) {
      const path = f.replace(/^\/+/, '');
      owned.set(path, component.purl);
      add(owners, path, component.purl);
    }
    for (const p of [info.name, ...info.provides]) add(providers, p, component.purl);
  }
  // rpm resolves a Requires by name through what installed packages Provide, or, for a file path,
  // through the packages that own the file; any of them satisfies it, so each is linked (as a
  // dpkg alternative is). `rpmlib(…)` requires name rpm itself.
  for (const { component, requires } of requirements) {
    const deps = new Set<string>();
    // A rich dependency (`(a or b)`) links every installed package that may satisfy it.
    for (const r of requires.flatMap((req) => richDependencyNames(req) ?? [req])) {
      if (r.startsWith('rpmlib(')) continue;
      for (const target of (r.startsWith('/') ? owners.get(r.slice(1)) : providers.get(r)) ?? [])
        if (target !== component.purl) deps.add(target);
    }
    if (deps.size > 0) component.dependsOn = [...deps].sort();
  }
  return { components, files: owned };
}

/** The database rpm would use: the newest backend present, the first directory that has one. */
function chooseDatabase(
  files: WalkedFile[],
): { backend: Backend; file: WalkedFile; wal?: Buffer } | undefined {
  for (const backend of BACKENDS) {
    for (const dir of RPM_DIRS) {
      const file = files.find((f) => f.entry.path === dir + backend && hasContent(f.entry));
      if (!file) continue;
      const wal =
        backend === 'rpmdb.sqlite'
          ? files.find((f) => f.entry.path === `${dir}rpmdb.sqlite-wal`)?.data
          : undefined;
      return wal ? { backend, file, wal } : { backend, file };
    }
  }
  return undefined;
}

function catalogRpm(
  files: WalkedFile[],
  ctx: CatalogContext,
): { components: Component[]; files: Map<string, string> } {
  const chosen = chooseDatabase(files);
  if (!chosen) return { components: [], files: new Map() };
  const result = catalogRpmDb(chosen.backend, chosen.file, chosen.wal, ctx);
  // One component per purl: a database can hold the same NEVRA twice after an interrupted upgrade.
  const byPurl = new Map<string, Component>();
  for (const c of result.components) if (!byPurl.has(c.purl)) byPurl.set(c.purl, c);
  return {
    components: [...byPurl.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0)),
    files: result.files,
  };
}

/** Files owned by rpm packages: path inside the artifact (no leading `/`) → component purl. */
export function rpmOwnedFiles(files: WalkedFile[], ctx: CatalogContext): Map<string, string> {
  return catalogRpm(files, ctx).files;
}

export const rpmCataloger: Cataloger = {
  name: 'rpm-db-cataloger',
  want: wantRpmDb,
  catalog: (files, ctx) => catalogRpm(files, ctx).components,
};
