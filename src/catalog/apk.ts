/**
 * apk cataloger: Alpine's installed database `lib/apk/db/installed` (apk-tools "Installed Database
 * V2" in the Alpine wiki "Apk spec"). Stanzas separated by blank lines; each line is `X:value` with a
 * one-letter key: P name, V version, A arch, L license, o origin (source package), m maintainer,
 * T description, U url, C checksum of the control segment (`Q1` + base64 SHA-1), t build time,
 * c commit; F a directory and the R lines after it the files in it that the package owns.
 */
import { PackageURL } from 'packageurl-js';
import { distroQualifier } from '../formats/system-image/os-release.ts';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import type { CatalogContext, Cataloger, Component, Distro } from './types.ts';

const INSTALLED = 'lib/apk/db/installed';

export function wantApk(entry: FileEntry): boolean {
  return entry.path === INSTALLED;
}

export interface ApkPackage {
  name: string;
  version: string;
  arch?: string;
  license?: string;
  origin?: string;
  maintainer?: string;
  description?: string;
  url?: string;
  checksum?: string;
  buildTime?: string;
  commit?: string;
  files: string[];
  line: number;
}

/** Installed packages of the database text; bad stanzas are warned about and skipped. */
export function parseApkInstalled(
  text: string,
  path: string,
  ctx: Pick<CatalogContext, 'warn'>,
): ApkPackage[] {
  const out: ApkPackage[] = [];
  const lines = text.split('\n');
  let fields: Array<[string, string]> = [];
  let start = 1;
  let bad: string | undefined;
  const flush = (): void => {
    if (bad) ctx.warn(path, bad);
    else if (fields.length > 0) {
      const pkg = toPackage(fields, start, path, ctx);
      if (pkg) out.push(pkg);
    }
    fields = [];
    bad = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line === '') {
      flush();
      start = i + 2;
      continue;
    }
    if (line.length < 2 || line[1] !== ':') {
      bad ??= `line ${i + 1}: expected "X:value", got ${JSON.stringify(line.slice(0, 60))}`;
      continue;
    }
    fields.push([line[0] as string, line.slice(2)]);
  }
  flush();
  return out;
}

function toPackage(
  fields: Array<[string, string]>,
  line: number,
  path: string,
  ctx: Pick<CatalogContext, 'warn'>,
): ApkPackage | undefined {
  const first = (key: string): string | undefined => fields.find(([k]) => k === key)?.[1];
  const name = first('P');
  const version = first('V');
  if (!name || !version) {
    ctx.warn(path, `line ${line}: package stanza without ${name ? 'V (version)' : 'P (name)'}`);
    return undefined;
  }
  const pkg: ApkPackage = { name, version, files: [], line };
  const optional: Array<[keyof ApkPackage, string]> = [
    ['arch', 'A'],
    ['license', 'L'],
    ['origin', 'o'],
    ['maintainer', 'm'],
    ['description', 'T'],
    ['url', 'U'],
    ['checksum', 'C'],
    ['buildTime', 't'],
    ['commit', 'c'],
  ];
  for (const [prop, key] of optional) {
    const v = first(key);
    if (v) (pkg as unknown as Record<string, unknown>)[prop] = v;
  }
  // R lines name files inside the directory of the last F line (the root when none came before).
  let dir = '';
  for (const [k, v] of fields) {
    if (k === 'F') dir = v.replace(/^\/+|\/+$/g, '');
    else if (k === 'R') pkg.files.push(dir ? `${dir}/${v}` : v);
  }
  return pkg;
}

/** purl-spec types/apk: namespace is the vendor (`alpine`, `wolfi`…); arch and distro as qualifiers. */
export function apkPurl(
  pkg: Pick<ApkPackage, 'name' | 'version' | 'arch'>,
  distro: Distro | undefined,
): string {
  const qualifiers: Record<string, string> = {};
  if (pkg.arch) qualifiers.arch = pkg.arch;
  if (distro) qualifiers.distro = distroQualifier(distro);
  return new PackageURL(
    'apk',
    distro?.id ?? 'alpine',
    pkg.name,
    pkg.version,
    qualifiers,
    undefined,
  ).toString();
}

function toComponent(pkg: ApkPackage, path: string, distro: Distro | undefined): Component {
  const properties: Record<string, string> = {};
  if (pkg.arch) properties['waybill:arch'] = pkg.arch;
  if (pkg.origin) properties['waybill:source-package'] = pkg.origin;
  if (pkg.checksum) properties['waybill:apk:checksum'] = pkg.checksum;
  if (pkg.commit) properties['waybill:apk:commit'] = pkg.commit;
  if (pkg.buildTime) properties['waybill:apk:build-time'] = pkg.buildTime;
  if (pkg.url) properties['waybill:homepage'] = pkg.url;
  properties['waybill:owned-files'] = String(pkg.files.length);
  const component: Component = {
    type: 'library',
    ecosystem: 'apk',
    name: pkg.name,
    version: pkg.version,
    purl: apkPurl(pkg, distro),
    licenses: pkg.license ? [pkg.license] : [],
    foundAt: [path],
    properties,
  };
  if (pkg.maintainer) component.supplier = pkg.maintainer;
  if (pkg.description) component.description = pkg.description;
  return component;
}

function read(
  files: WalkedFile[],
  ctx: Pick<CatalogContext, 'warn'>,
): Array<{ pkg: ApkPackage; file: WalkedFile }> {
  const out: Array<{ pkg: ApkPackage; file: WalkedFile }> = [];
  for (const file of files) {
    if (file.entry.path !== INSTALLED || file.entry.type !== 'file') continue;
    for (const pkg of parseApkInstalled(file.data.toString('utf8'), file.entry.path, ctx))
      out.push({ pkg, file });
  }
  return out;
}

function catalogApk(files: WalkedFile[], ctx: CatalogContext): Component[] {
  const byPurl = new Map<string, Component>();
  for (const { pkg, file } of read(files, ctx)) {
    const c = toComponent(pkg, file.entry.path, ctx.distro);
    if (byPurl.has(c.purl)) continue;
    // The engine refines `layer` to the first layer a package appeared in, from the file's history.
    if (file.entry.layer) c.layer = file.entry.layer;
    byPurl.set(c.purl, c);
  }
  return [...byPurl.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
}

/** Files owned by installed apk packages: path inside the artifact → the owning component's purl. */
export function apkOwnedFiles(files: WalkedFile[], ctx: CatalogContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const { pkg } of read(files, { warn: () => {} })) {
    const purl = apkPurl(pkg, ctx.distro);
    for (const f of pkg.files) out.set(f, purl);
  }
  return out;
}

export const apkCataloger: Cataloger = {
  name: 'apk-db-cataloger',
  want: wantApk,
  catalog: catalogApk,
};
