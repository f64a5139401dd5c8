/**
 * dpkg cataloger: the packages dpkg considers installed, from `var/lib/dpkg/status` (dpkg(1),
 * deb822(5) stanzas) and from `var/lib/dpkg/status.d/*` (distroless images: one control file per
 * package, written only for installed packages, usually without a Status field), plus the
 * `*.md5sums` lists that say which files each package owns, the `usr/share/doc/<pkg>/copyright`
 * files that give its licenses (deb-copyright.ts), and `Depends` / `Pre-Depends` resolved to the
 * installed packages that satisfy them (dpkg-depends.ts).
 */
import { PackageURL } from 'packageurl-js';
import { distroQualifier } from '../formats/system-image/os-release.ts';
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';
import { licensesByDocName, wantDocCopyright } from './deb-copyright.ts';
import { parseProvides, parseRelationships, type Relationship, resolveDepends } from './dpkg-depends.ts';
import { readStatusStanzas } from './dpkg-status.ts';
import { type CatalogContext, type Cataloger, type Component, type Distro, TEXT_FILE_MAX } from './types.ts';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';
const INFO = 'var/lib/dpkg/info/';
/**
 * Maintainer scripts and control members that sit next to package files in status.d; of these only
 * md5sums carries something we use.
 */
const CONTROL_MEMBER =
  /\.(md5sums|preinst|postinst|prerm|postrm|conffiles|config|templates|triggers|shlibs|symbols|list)$/;

function directChild(path: string, dir: string): boolean {
  return path.startsWith(dir) && path.length > dir.length && path.indexOf('/', dir.length) < 0;
}

export function wantDpkg(entry: FileEntry): boolean {
  const p = entry.path;
  if (p === STATUS) return true;
  if (wantDocCopyright(entry)) return true;
  if (directChild(p, STATUS_D)) return !CONTROL_MEMBER.test(p) || p.endsWith('.md5sums');
  return directChild(p, INFO) && p.endsWith('.md5sums');
}

/** One installed binary package as dpkg records it. */
export interface DpkgPackage {
  name: string;
  version: string;
  arch: string;
  sourceName?: string;
  sourceVersion?: string;
  maintainer?: string;
  description?: string;
  homepage?: string;
  multiArch?: string;
  /** Depends and Pre-Depends, parsed (dpkg-depends.ts). */
  depends: Relationship[][];
  /** Names this package Provides (virtual packages). */
  provides: string[];
  /** Where the stanza was read. */
  path: string;
}

/**
 * dpkg(1) "INFORMATION ABOUT PACKAGES": Status is `want flag status`; only the status `installed`
 * means the package's files are unpacked and configured. `half-configured`, `unpacked`,
 * `config-files` and friends are not installed software.
 */
function isInstalled(status: string | undefined, fromStatusD: boolean): boolean {
  if (status === undefined) return fromStatusD;
  const words = status.split(/\s+/);
  return words.length === 3 && words[2] === 'installed';
}

/** `Source: name` or `Source: name (version)` (deb-control(5)). */
export function parseSource(value: string): { name: string; version?: string } | undefined {
  const m = /^([^\s(]+)(?:\s*\(([^)]*)\))?\s*$/.exec(value);
  if (!m) return undefined;
  const version = m[2]?.trim();
  return version ? { name: m[1] as string, version } : { name: m[1] as string };
}

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*$/;

/** The fields a component is made of; every other field of a stanza is skipped unread. */
const STATUS_FIELDS: ReadonlySet<string> = new Set([
  'package',
  'status',
  'version',
  'architecture',
  'source',
  'maintainer',
  'description',
  'homepage',
  'multi-arch',
  // The dependency graph (dpkg-depends.ts).
  'pre-depends',
  'depends',
  'provides',
]);
/** Only a Description's synopsis (its first line) is used. */
const FIRST_LINE_ONLY: ReadonlySet<string> = new Set(['description']);
/**
 * Limits on one status file. A real system has a few thousand packages (Debian's whole archive has
 * about 65 000 per architecture); a kept value is a name, a version, a URL, one line of text or a
 * relationship list. Relationship lists are the long ones: in Debian trixie, Provides reaches
 * 20 755 bytes (node-lodash-packages, which Debian's npm pulls in) and 75 649 bytes
 * (librust-winapi-dev), so a field may hold 1 MiB; a longer one skips its stanza. Memory still
 * follows the file: a value is never longer than the bytes it was read from.
 */
export const MAX_STATUS_STANZAS = 50_000;
export const MAX_STATUS_FIELD_BYTES = 1024 * 1024;

/**
 * Installed packages of one status file; bad stanzas are warned about and skipped. The bytes are
 * read in place (dpkg-status.ts): memory follows the packages kept, not the file's size.
 */
export function parseDpkgStatus(
  data: Buffer | string,
  path: string,
  fromStatusD: boolean,
  ctx: Pick<CatalogContext, 'warn'>,
): DpkgPackage[] {
  const out: DpkgPackage[] = [];
  const stanzas = readStatusStanzas(typeof data === 'string' ? Buffer.from(data) : data, {
    fields: STATUS_FIELDS,
    firstLineOnly: FIRST_LINE_ONLY,
    maxStanzas: MAX_STATUS_STANZAS,
    maxFieldBytes: MAX_STATUS_FIELD_BYTES,
    onProblem: (reason) => ctx.warn(path, reason),
  });
  for (const { line, fields } of stanzas) {
    const name = fields.get('package');
    if (!name) {
      ctx.warn(path, `line ${line}: stanza has no Package name`);
      continue;
    }
    if (!isInstalled(fields.get('status'), fromStatusD)) continue;
    if (!PACKAGE_NAME.test(name)) {
      ctx.warn(path, `line ${line}: invalid package name ${JSON.stringify(name.slice(0, 60))}`);
      continue;
    }
    const version = fields.get('version');
    if (!version) {
      ctx.warn(path, `line ${line}: package ${name} has no Version`);
      continue;
    }
    const pkg: DpkgPackage = {
      name,
      version,
      arch: fields.get('architecture') || 'all',
      depends: ['pre-depends', 'depends'].flatMap((f) => parseRelationships(fields.get(f) ?? '')),
      provides: parseProvides(fields.get('provides') ?? ''),
      path,
    };
    const source = fields.get('source');
    if (source) {
      const parsed = parseSource(source);
      if (parsed) {
        pkg.sourceName = parsed.name;
        // dpkg-query ${source:Version}: the binary version unless Source names its own.
        pkg.sourceVersion = parsed.version ?? version;
      } else ctx.warn(path, `line ${line}: cannot parse Source ${JSON.stringify(source.slice(0, 60))}`);
    }
    const maintainer = fields.get('maintainer');
    if (maintainer) pkg.maintainer = maintainer;
    const description = fields.get('description');
    if (description) pkg.description = description;
    const homepage = fields.get('homepage');
    if (homepage) pkg.homepage = homepage;
    const multiArch = fields.get('multi-arch');
    if (multiArch) pkg.multiArch = multiArch;
    out.push(pkg);
  }
  return out;
}

/**
 * Paths listed in an md5sums file (`<md5>  <path>` per line), without leading `/`. A line is 32 hex
 * digits, a space, an optional second space or `*` (binary mode) and a non-empty path; a line ending
 * in CR is read without it, and any other CR (or U+2028/U+2029) makes the line no entry. Read by
 * hand, not with a regular expression: a root file system's md5sums are ~100 000 lines.
 */
export function parseMd5sums(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const path = md5sumsPath(raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw);
    if (path !== undefined) out.push(path);
  }
  return out;
}

function md5sumsPath(line: string): string | undefined {
  if (line.length < 34 || line.charCodeAt(32) !== 0x20) return undefined;
  for (let i = 0; i < 32; i++) if (!isHexDigit(line.charCodeAt(i))) return undefined;
  if (LINE_BREAK.test(line)) return undefined;
  const mark = line.charCodeAt(33);
  // The path is what follows the mark; a line with nothing after it is that one character's path.
  let start = line.length > 34 && (mark === 0x20 || mark === 0x2a) ? 34 : 33;
  while (start < line.length && line.charCodeAt(start) === 0x2f) start++;
  return line.slice(start);
}

/** What a regular expression's `.` does not match, other than the LF lines are split on. */
const LINE_BREAK = /[\r\u2028\u2029]/;

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** purl-spec types/deb: namespace is the vendor (distro ID); arch and distro as qualifiers. */
export function dpkgPurl(
  pkg: Pick<DpkgPackage, 'name' | 'version' | 'arch'>,
  distro: Distro | undefined,
): string {
  const qualifiers: Record<string, string> = { arch: pkg.arch };
  if (distro) qualifiers.distro = distroQualifier(distro);
  return new PackageURL(
    'deb',
    distro?.id ?? 'debian',
    pkg.name,
    pkg.version,
    qualifiers,
    undefined,
  ).toString();
}

interface DpkgView {
  packages: DpkgPackage[];
  /** key `name:arch` → owned paths. */
  owned: Map<string, readonly string[]>;
}

function dpkgKey(pkg: Pick<DpkgPackage, 'name' | 'arch'>): string {
  return `${pkg.name}:${pkg.arch}`;
}

/**
 * Parsed status files by their bytes: the cataloger and `dpkgOwnedFiles` read the same database,
 * and the second reading would double the time and the garbage. Dropped with the walk's buffers.
 */
const parsedCache = new WeakMap<Buffer, { packages: DpkgPackage[]; warnings: string[] }>();

/**
 * Parsed md5sums lists by their bytes, for the same reason: a root filesystem's lists hold ~100 000
 * lines, read by the cataloger and again by `dpkgOwnedFiles`. The lists are only read, never changed.
 */
const md5sumsCache = new WeakMap<Buffer, readonly string[]>();

function parsedMd5sums(data: Buffer): readonly string[] {
  let paths = md5sumsCache.get(data);
  if (!paths) {
    paths = parseMd5sums(data.toString('utf8'));
    md5sumsCache.set(data, paths);
  }
  return paths;
}

function parsedStatus(
  data: Buffer,
  path: string,
  fromStatusD: boolean,
  ctx: Pick<CatalogContext, 'warn'>,
): DpkgPackage[] {
  let parsed = parsedCache.get(data);
  if (!parsed || parsed.packages[0]?.path !== path) {
    const warnings: string[] = [];
    const packages = parseDpkgStatus(data, path, fromStatusD, {
      warn: (_p, reason) => warnings.push(reason),
    });
    parsed = { packages, warnings };
    parsedCache.set(data, parsed);
  }
  for (const reason of parsed.warnings) ctx.warn(path, reason);
  return parsed.packages;
}

function readView(files: WalkedFile[], ctx: Pick<CatalogContext, 'warn'>): DpkgView {
  const packages: DpkgPackage[] = [];
  const seen = new Set<string>();
  const md5sums = new Map<string, readonly string[]>();
  const sorted = [...files].sort((a, b) =>
    a.entry.path < b.entry.path ? -1 : a.entry.path > b.entry.path ? 1 : 0,
  );
  for (const file of sorted) {
    const p = file.entry.path;
    if (!hasContent(file.entry)) continue;
    if (p.endsWith('.md5sums')) {
      const base = p.slice(p.lastIndexOf('/') + 1, -'.md5sums'.length);
      // status.d and info/ both name lists after the package (or package:arch for Multi-Arch: same).
      md5sums.set(`${p.startsWith(STATUS_D) ? 'd' : 'i'}/${base}`, parsedMd5sums(file.data));
      continue;
    }
    const fromStatusD = p.startsWith(STATUS_D);
    if (!fromStatusD && p !== STATUS) continue;
    for (const pkg of parsedStatus(file.data, p, fromStatusD, ctx)) {
      const key = dpkgKey(pkg);
      if (seen.has(key)) continue; // status first (sorted before status.d), then the first status.d file
      seen.add(key);
      packages.push(pkg);
    }
  }
  const owned = new Map<string, readonly string[]>();
  for (const pkg of packages) {
    const prefix = pkg.path.startsWith(STATUS_D) ? 'd/' : 'i/';
    const list = md5sums.get(`${prefix}${pkg.name}:${pkg.arch}`) ?? md5sums.get(`${prefix}${pkg.name}`);
    if (list) owned.set(dpkgKey(pkg), list);
  }
  return { packages, owned };
}

function toComponent(
  pkg: DpkgPackage,
  owned: readonly string[] | undefined,
  distro: Distro | undefined,
): Component {
  const properties: Record<string, string> = { 'waybill:arch': pkg.arch };
  if (pkg.sourceName) properties['waybill:source-package'] = pkg.sourceName;
  if (pkg.sourceVersion) properties['waybill:source-version'] = pkg.sourceVersion;
  if (owned) properties['waybill:owned-files'] = String(owned.length);
  if (pkg.homepage) properties['waybill:homepage'] = pkg.homepage;
  const component: Component = {
    type: 'library',
    ecosystem: 'deb',
    name: pkg.name,
    version: pkg.version,
    purl: dpkgPurl(pkg, distro),
    licenses: [],
    foundAt: [pkg.path],
    properties,
  };
  if (pkg.maintainer) component.supplier = pkg.maintainer;
  if (pkg.description) component.description = pkg.description;
  return component;
}

function catalogDpkg(files: WalkedFile[], ctx: CatalogContext): Component[] {
  const view = readView(files, ctx);
  const layerOf = new Map(files.map((f) => [f.entry.path, f.entry.layer]));
  const licensesOf = licensesByDocName(files);
  // A .deb's own files: no database, but the package's copyright file is in its data.
  if (view.packages.length === 0 && ctx.subject?.ecosystem === 'deb') {
    const licenses = licensesOf(ctx.subject.name);
    return licenses.length > 0 ? [{ ...ctx.subject, licenses, properties: {} }] : [];
  }
  const components = view.packages.map((pkg) => {
    const c = toComponent(pkg, view.owned.get(dpkgKey(pkg)), ctx.distro);
    c.licenses = licensesOf(pkg.name);
    // The engine refines `layer` to the first layer a package appeared in, from the file's history.
    const layer = layerOf.get(pkg.path);
    if (layer) c.layer = layer;
    return c;
  });
  const edges = resolveDepends(
    view.packages.map((pkg, i) => ({
      key: components[i]!.purl,
      name: pkg.name,
      arch: pkg.arch,
      ...(pkg.multiArch ? { multiArch: pkg.multiArch } : {}),
      provides: pkg.provides,
      depends: pkg.depends,
    })),
  );
  for (const c of components) {
    const deps = edges.get(c.purl) ?? [];
    if (deps.length > 0) c.dependsOn = deps;
  }
  return components.sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
}

/**
 * Files owned by installed dpkg packages, from their md5sums lists: path inside the artifact (no
 * leading `/`) → the owning component's purl. Lets the engine skip files already accounted for.
 */
export function dpkgOwnedFiles(files: WalkedFile[], ctx: CatalogContext): Map<string, string> {
  const view = readView(files, { warn: () => {} });
  const out = new Map<string, string>();
  for (const pkg of view.packages) {
    const purl = dpkgPurl(pkg, ctx.distro);
    for (const path of view.owned.get(dpkgKey(pkg)) ?? []) out.set(path, purl);
  }
  return out;
}

export const dpkgCataloger: Cataloger = {
  name: 'dpkg-db-cataloger',
  want: wantDpkg,
  catalog: catalogDpkg,
  maxSize: () => TEXT_FILE_MAX,
};
