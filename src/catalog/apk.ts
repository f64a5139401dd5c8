/**
 * apk cataloger: Alpine's installed database `lib/apk/db/installed` (apk-tools "Installed Database
 * V2" in the Alpine wiki "Apk spec"), or `usr/lib/apk/db/installed` where `/lib` is merged into
 * `/usr` (Wolfi and Chainguard images since 2025, apko, apk-tools 3: `/lib` is then a symlink, so
 * an image layer holds the database only under `usr/`). Stanzas separated by blank lines; each line is `X:value` with a
 * one-letter key: P name, V version, A arch, L license, o origin (source package), m maintainer,
 * T description, U url, C checksum of the control segment (`Q1` + base64 SHA-1), t build time,
 * c commit; D dependencies and p provides (space-separated); F a directory and the R lines after it
 * the files in it that the package owns.
 */
import { PackageURL } from 'packageurl-js';
import { distroQualifier } from '../formats/system-image/os-release.ts';
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';
import { type CatalogContext, type Cataloger, type Component, type Distro, TEXT_FILE_MAX } from './types.ts';

/** Where apk keeps its database, the historical place first (an unmerged root has only that one). */
const INSTALLED = ['lib/apk/db/installed', 'usr/lib/apk/db/installed'] as const;

export function wantApk(entry: FileEntry): boolean {
  return (INSTALLED as readonly string[]).includes(entry.path);
}

/** The database apk would read: `lib/apk/db/installed` if the artifact has one, else the `usr/` one. */
function chooseDatabase(files: WalkedFile[]): WalkedFile | undefined {
  for (const path of INSTALLED) {
    const file = files.find((f) => f.entry.path === path && hasContent(f.entry));
    if (file) return file;
  }
  return undefined;
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
  /** `D:` tokens: `name`, `name>=1.2`, `so:libc.musl-x86_64.so.1`, `cmd:sh`, `/bin/sh`, `!conflict`. */
  depends: string[];
  /** `p:` tokens: `so:libcrypto.so.3=3.3.2-r0`, `cmd:openssl=…`, virtual names. */
  provides: string[];
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
  const tokens = (key: string) => (first(key) ?? '').split(/\s+/).filter(Boolean);
  const pkg: ApkPackage = { name, version, files: [], depends: tokens('D'), provides: tokens('p'), line };
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

/** An apk package as a component (also the subject of a .apk file's own SBOM: app/package-subject.ts). */
export function apkComponent(pkg: ApkPackage, path: string, distro: Distro | undefined): Component {
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
  const file = chooseDatabase(files);
  if (!file) return [];
  return parseApkInstalled(file.data.toString('utf8'), file.entry.path, ctx).map((pkg) => ({ pkg, file }));
}

/** A dependency or provides token without its version constraint: `so:libz.so.1=1.3` → `so:libz.so.1`. */
function capability(token: string): string {
  return token.replace(/[<>=~].*$/, '');
}

/**
 * apk's resolution of `D:` against what is installed: a package of that name, else a package that
 * provides it (`p:`), else, for a path, the package that owns the file; `!name` is a conflict, not
 * a dependency.
 */
function resolveDepends(packages: Array<{ pkg: ApkPackage; component: Component }>): void {
  const providers = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const { pkg, component } of packages) {
    if (!providers.has(pkg.name)) providers.set(pkg.name, component.purl);
    for (const f of pkg.files) if (!owners.has(f)) owners.set(f, component.purl);
  }
  for (const { pkg, component } of packages)
    for (const p of pkg.provides)
      if (!providers.has(capability(p))) providers.set(capability(p), component.purl);
  for (const { pkg, component } of packages) {
    const deps = new Set<string>();
    for (const token of pkg.depends) {
      if (token.startsWith('!')) continue;
      const cap = capability(token);
      const target = providers.get(cap) ?? (cap.startsWith('/') ? owners.get(cap.slice(1)) : undefined);
      if (target !== undefined && target !== component.purl) deps.add(target);
    }
    if (deps.size > 0) component.dependsOn = [...deps].sort();
  }
}

function catalogApk(files: WalkedFile[], ctx: CatalogContext): Component[] {
  const byPurl = new Map<string, Component>();
  const packages: Array<{ pkg: ApkPackage; component: Component }> = [];
  for (const { pkg, file } of read(files, ctx)) {
    const c = apkComponent(pkg, file.entry.path, ctx.distro);
    if (byPurl.has(c.purl)) continue;
    // The engine refines `layer` to the first layer a package appeared in, from the file's history.
    if (file.entry.layer) c.layer = file.entry.layer;
    byPurl.set(c.purl, c);
    packages.push({ pkg, component: c });
  }
  resolveDepends(packages);
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
  maxSize: () => TEXT_FILE_MAX,
};
