/**
 * Python cataloger: installed distributions, from their core metadata (PyPA "Core metadata
 * specifications"): `*.dist-info/METADATA` (wheels, PEP 376/627), `*.egg-info/PKG-INFO` and
 * `*.egg/EGG-INFO/PKG-INFO` (setuptools), and the single-file form `*.egg-info` (distutils and
 * Debian's python3-* packages). Wheels found inside the artifact are opened and their own
 * `.dist-info/METADATA` read, and so are zipped eggs installed in a Python installation (easy_install's
 * form: `site-packages/foo-1.0-py3.11.egg`, a zip put on `sys.path` by a `.pth`, which importlib.metadata
 * lists from its `EGG-INFO/PKG-INFO`).
 */
import { PackageURL } from 'packageurl-js';
import { openZip } from '../archive/zip-reader.ts';
import { WaybillError } from '../errors.ts';
import { field, fieldAll, parseDeb822, type Stanza } from '../formats/deb/deb822.ts';
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';
import { normalizePythonName } from './python-names.ts';
import { isSiteFolder, pthFolders, wantPth } from './python-pth.ts';
import { requiresDist, requiresTxt } from './python-requires.ts';
import { infoFolder, siteFolder, vendoredPlacement } from './python-vendored.ts';
import { folderSees, venvRoots, wantPyvenvCfg } from './python-venv.ts';
import { type CatalogContext, type Cataloger, type Component, componentKey, TEXT_FILE_MAX } from './types.ts';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function parentName(path: string): string {
  const end = path.lastIndexOf('/');
  return end < 0 ? '' : path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}

export function wantPython(entry: FileEntry): boolean {
  if (!hasContent(entry)) return false;
  const p = entry.path;
  // Asked of every file of an image: names are cut apart only for the three metadata names.
  if (p.endsWith('METADATA') || p.endsWith('PKG-INFO') || p.endsWith('.txt')) {
    const base = baseName(p);
    if (base === 'METADATA') return parentName(p).toLowerCase().endsWith('dist-info');
    if (base === 'PKG-INFO' || base === 'requires.txt')
      return parentName(p).toLowerCase().endsWith('egg-info');
    // The packages a distribution installs: how a copy vendored inside one finds its carrier.
    if (base === 'top_level.txt') return /[.-]info$/.test(parentName(p).toLowerCase());
  }
  if (ZIPPED_EGG.test(p)) return insidePythonInstallation(p);
  return EGG_INFO_OR_WHEEL.test(p) && !(WHEEL.test(p) && insidePythonInstallation(p));
}

/** `*.egg-info` (a file, for distutils installs) or `*.whl`, in any case. */
const EGG_INFO_OR_WHEEL = /\.(?:egg-info|whl)$/i;
const WHEEL = /\.whl$/i;
/**
 * A `*.egg` file: a zipped egg. Inside a Python installation it is an installed distribution
 * (easy_install puts it there and on `sys.path`); elsewhere it is a build output (`dist/`), as a
 * wheel lying there would be, but not one importlib or pip would see, so it is not read. An
 * unzipped egg is a folder, read through its `EGG-INFO/PKG-INFO`.
 */
const ZIPPED_EGG = /\.egg$/i;

/**
 * A path inside a Python installation's library (`lib/pythonX.Y/…`, any `site-packages` or
 * `dist-packages`). A wheel file there is data of the interpreter or of an installed package —
 * ensurepip's bundled pip and setuptools, virtualenv's seed wheels, CPython's test data — not a
 * distribution anyone installed: importlib.metadata does not list it, nor do Syft and Trivy.
 */
function insidePythonInstallation(path: string): boolean {
  const segs = path.split('/');
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i]!;
    if (isSiteFolder(s)) return true;
    if (i > 0 && (segs[i - 1] === 'lib' || segs[i - 1] === 'lib64') && /^python\d+(?:\.\d+)?t?$/.test(s))
      return true;
  }
  return false;
}

export { normalizePythonName } from './python-names.ts';

export interface PythonMetadata {
  name: string;
  version: string;
  licenses: string[];
  supplier?: string;
  summary?: string;
  homepage?: string;
  metadataVersion?: string;
  /** Normalized names of the distributions it requires (Requires-Dist; see python-requires.ts). */
  requires: string[];
}

/** Decode METADATA: UTF-8 per the spec; older PKG-INFO files may be Latin-1. */
function decode(data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return data.toString('latin1');
  }
}

/**
 * Well-known trove classifiers whose licence is unambiguous, mapped to SPDX ids. Others keep the
 * classifier's own words (e.g. "BSD License" names no single licence).
 */
const CLASSIFIER_SPDX: Record<string, string> = {
  'MIT License': 'MIT',
  'MIT No Attribution License (MIT-0)': 'MIT-0',
  'ISC License (ISCL)': 'ISC',
  'Apache Software License 2.0': 'Apache-2.0',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'Python Software Foundation License': 'PSF-2.0',
  'The Unlicense (Unlicense)': 'Unlicense',
  'Zope Public License': 'ZPL-2.1',
  'Boost Software License 1.0 (BSL-1.0)': 'BSL-1.0',
  'GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'GNU Affero General Public License v3 or later (AGPLv3+)': 'AGPL-3.0-or-later',
  'Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
};

/** Placeholders setuptools and distutils write when nothing was declared. */
const NO_VALUE = new Set(['', 'unknown', 'none', 'n/a']);

/**
 * Declared licences, most precise source first: License-Expression (core metadata 2.4, an SPDX
 * expression), else License (free text; skipped when it is a whole licence text rather than a name),
 * else the `License ::` trove classifiers.
 */
function licensesOf(stanza: Stanza): string[] {
  const expression = field(stanza, 'License-Expression')?.trim();
  if (expression && !NO_VALUE.has(expression.toLowerCase())) return [expression];
  const license = field(stanza, 'License')?.trim();
  if (license && !NO_VALUE.has(license.toLowerCase()) && !license.includes('\n') && license.length <= 200) {
    return [license];
  }
  const out: string[] = [];
  for (const c of fieldAll(stanza, 'Classifier')) {
    const parts = c.split('::').map((s) => s.trim());
    if (parts[0] !== 'License' || parts.length < 2) continue;
    const last = parts[parts.length - 1] as string;
    if (last === 'OSI Approved') continue;
    const id = CLASSIFIER_SPDX[last] ?? last;
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

function supplierOf(stanza: Stanza): string | undefined {
  for (const [nameField, emailField] of [
    ['Author', 'Author-email'],
    ['Maintainer', 'Maintainer-email'],
  ] as const) {
    const name = field(stanza, nameField)?.trim();
    const email = field(stanza, emailField)?.trim();
    if (name && !NO_VALUE.has(name.toLowerCase()))
      return email && !NO_VALUE.has(email.toLowerCase()) ? `${name} <${email}>` : name;
    // Core metadata 2.1+: Author-email may carry the name too: `Jane Doe <jane@example.org>`.
    if (email && !NO_VALUE.has(email.toLowerCase())) return email;
  }
  return undefined;
}

function homepageOf(stanza: Stanza): string | undefined {
  const home = field(stanza, 'Home-page')?.trim();
  if (home && !NO_VALUE.has(home.toLowerCase())) return home;
  for (const url of fieldAll(stanza, 'Project-URL')) {
    const comma = url.indexOf(',');
    // Core metadata "Well-known Project URLs": labels are compared normalized (homepage, home-page).
    if (
      comma > 0 &&
      url
        .slice(0, comma)
        .replace(/[-_.\s]/g, '')
        .toLowerCase() === 'homepage'
    )
      return url.slice(comma + 1).trim();
  }
  return undefined;
}

/** Parse one METADATA / PKG-INFO. Throws WaybillError MALFORMED when Name or Version is missing. */
export function parsePythonMetadata(data: Buffer, path: string): PythonMetadata {
  const { stanzas } = parseDeb822(decode(data), path, { headersOnly: true });
  const stanza = stanzas[0];
  if (!stanza) throw new WaybillError('MALFORMED', path, 'no metadata headers');
  const name = field(stanza, 'Name')?.trim();
  const version = field(stanza, 'Version')?.trim();
  if (!name) throw new WaybillError('MALFORMED', path, 'metadata has no Name');
  if (!version) throw new WaybillError('MALFORMED', path, `metadata of ${name} has no Version`);
  const meta: PythonMetadata = {
    name,
    version,
    licenses: licensesOf(stanza),
    requires: requiresDist(fieldAll(stanza, 'Requires-Dist')),
  };
  const supplier = supplierOf(stanza);
  if (supplier) meta.supplier = supplier;
  const summary = field(stanza, 'Summary')?.trim().split('\n')[0];
  if (summary && !NO_VALUE.has(summary.toLowerCase())) meta.summary = summary;
  const homepage = homepageOf(stanza);
  if (homepage) meta.homepage = homepage;
  const mv = field(stanza, 'Metadata-Version')?.trim();
  if (mv) meta.metadataVersion = mv;
  return meta;
}

export function pythonPurl(meta: Pick<PythonMetadata, 'name' | 'version'>): string {
  return new PackageURL(
    'pypi',
    undefined,
    normalizePythonName(meta.name),
    meta.version,
    undefined,
    undefined,
  ).toString();
}

function toComponent(meta: PythonMetadata, foundAt: string, layer: string | undefined): Component {
  const properties: Record<string, string> = {};
  if (meta.homepage) properties['waybill:homepage'] = meta.homepage;
  if (meta.metadataVersion) properties['waybill:python:metadata-version'] = meta.metadataVersion;
  const c: Component = {
    type: 'library',
    ecosystem: 'pypi',
    name: meta.name,
    version: meta.version,
    purl: pythonPurl(meta),
    licenses: meta.licenses,
    foundAt: [foundAt],
    properties,
  };
  if (meta.supplier) c.supplier = meta.supplier;
  if (meta.summary) c.description = meta.summary;
  if (layer) c.layer = layer;
  return c;
}

/**
 * A wheel's own metadata: the one top-level `{name}-{version}.dist-info/METADATA` (PEP 427). The
 * component's evidence is the wheel path plus `!/` and the member, as other SBOM tools write it.
 */
function fromWheel(file: WalkedFile): { meta: PythonMetadata; at: string } {
  const zip = openZip(file.data, file.entry.path);
  const members = zip.entries.filter((e) => !e.isDirectory && /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  if (members.length !== 1) {
    throw new WaybillError(
      'MALFORMED',
      file.entry.path,
      `wheel has ${members.length} top-level .dist-info/METADATA files, expected 1`,
    );
  }
  const member = members[0] as (typeof members)[number];
  return {
    meta: parsePythonMetadata(zip.read(member), `${file.entry.path}!/${member.name}`),
    at: file.entry.path,
  };
}

/**
 * A zipped egg's own metadata: `EGG-INFO/PKG-INFO` and, for its requirements, `EGG-INFO/requires.txt`.
 * Its path is given as the unzipped form's (`…/foo.egg/EGG-INFO/PKG-INFO`): both are the same
 * `sys.path` entry in the same site folder; the evidence is the egg file.
 */
function fromZippedEgg(file: WalkedFile): {
  meta: PythonMetadata;
  at: string;
  path: string;
  requires: string[];
} {
  const zip = openZip(file.data, file.entry.path);
  const member = (name: string) => zip.entries.find((e) => !e.isDirectory && e.name === name);
  const pkgInfo = member('EGG-INFO/PKG-INFO');
  if (!pkgInfo) throw new WaybillError('MALFORMED', file.entry.path, 'egg has no EGG-INFO/PKG-INFO');
  const requiresFile = member('EGG-INFO/requires.txt');
  return {
    meta: parsePythonMetadata(zip.read(pkgInfo), `${file.entry.path}!/${pkgInfo.name}`),
    at: file.entry.path,
    path: `${file.entry.path}/EGG-INFO/PKG-INFO`,
    requires: requiresFile ? requiresTxt(decode(zip.read(requiresFile))) : [],
  };
}

interface Installed {
  component: Component;
  folder: string;
  requires: Set<string>;
  /** A copy inside another distribution: it satisfies only requirements from its own folder. */
  vendored: boolean;
}

/**
 * Requires-Dist resolved to installed distributions: the one of that name in the same folder
 * (site-packages) first, else the only one in the folders its interpreter sees (a venv's own, the
 * system's: python-venv.ts). A folder a site folder's `.pth` names (an editable install's source
 * tree) is seen as that site folder (python-pth.ts).
 */
function resolveRequires(
  installed: readonly Installed[],
  venvs: ReadonlyMap<string, boolean>,
  pth: ReadonlyMap<string, readonly string[]>,
): void {
  const sites = (folder: string) => pth.get(folder) ?? [folder];
  const sees = (from: string, to: string) =>
    sites(from).some((f) => sites(to).some((t) => folderSees(venvs, f, t)));
  const byName = new Map<string, Installed[]>();
  for (const d of installed) {
    const key = normalizePythonName(d.component.name);
    byName.set(key, [...(byName.get(key) ?? []), d]);
  }
  for (const d of installed) {
    const deps = new Set(d.component.dependsOn ?? []);
    for (const name of d.requires) {
      const candidates = byName.get(name) ?? [];
      const visible = candidates.filter(
        (c) => c.folder === d.folder || (!c.vendored && !d.vendored && sees(d.folder, c.folder)),
      );
      const target =
        visible.find((c) => c.folder === d.folder) ?? (visible.length === 1 ? visible[0] : undefined);
      if (target && target !== d) deps.add(componentKey(target.component));
    }
    if (deps.size > 0) d.component.dependsOn = [...deps].sort();
  }
}

/** One distribution's metadata as read, before it becomes a component. */
interface Found {
  meta: PythonMetadata;
  at: string;
  path: string;
  name: string;
  layer: string | undefined;
  requires: Set<string>;
  wheel: boolean;
}

function readDistributions(files: WalkedFile[], ctx: CatalogContext): Found[] {
  // requires.txt sits next to an egg-info's PKG-INFO: read after it, whatever order the walk used.
  const requiresFiles = new Map<string, string[]>();
  for (const file of files) {
    if (file.entry.path.endsWith('/requires.txt') && hasContent(file.entry))
      requiresFiles.set(file.entry.path.slice(0, -'/requires.txt'.length), requiresTxt(decode(file.data)));
  }
  const found: Found[] = [];
  for (const file of files) {
    const path = file.entry.path;
    if (!wantPython(file.entry) || path.endsWith('.txt')) continue;
    const wheel = WHEEL.test(path);
    try {
      const read = wheel
        ? { ...fromWheel(file), path, requires: [] }
        : ZIPPED_EGG.test(path)
          ? fromZippedEgg(file)
          : { meta: parsePythonMetadata(file.data, path), at: path, path, requires: [] };
      const requires = new Set([
        ...read.meta.requires,
        ...read.requires,
        ...(requiresFiles.get(infoFolder(path)) ?? []),
      ]);
      found.push({ ...read, name: read.meta.name, layer: file.entry.layer, requires, wheel });
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
      ctx.warn(path, e.reason);
    }
  }
  return found;
}

/** `top_level.txt` of each metadata folder: the import names the distribution installs. */
function topLevelNames(files: WalkedFile[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of files) {
    if (!file.entry.path.endsWith('/top_level.txt') || !hasContent(file.entry)) continue;
    const names = decode(file.data)
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    out.set(infoFolder(file.entry.path), names);
  }
  return out;
}

function catalogPython(files: WalkedFile[], ctx: CatalogContext): Component[] {
  const found = readDistributions(files, ctx);
  const placement = vendoredPlacement(
    found.filter((f) => !f.wheel),
    topLevelNames(files),
  );
  const byKey = new Map<string, Component>();
  const componentOf = new Map<Found, Component>();
  /** Where each component was found, sorted once at the end: one METADATA hard-linked into
   * thousands of folders is thousands of finds of one distribution. */
  const foundAt = new Map<Component, Set<string>>();
  const installed: Installed[] = [];
  // Carriers first: a vendored copy's key names its carrier's.
  const ordered = [...found.filter((f) => !placement.has(f)), ...found.filter((f) => placement.has(f))];
  for (const f of ordered) {
    const carrier = placement.get(f);
    if (carrier === 'test-data') continue;
    const c = toComponent(f.meta, f.at, f.layer);
    const carrierComponent = carrier && componentOf.get(carrier);
    if (carrierComponent) c.vendoredIn = componentKey(carrierComponent);
    const key = componentKey(c);
    const seen = byKey.get(key);
    // Debian ships some distributions twice (foo.egg-info and foo-1.0.dist-info): one component.
    if (seen) for (const at of c.foundAt) foundAt.get(seen)!.add(at);
    else {
      byKey.set(key, c);
      foundAt.set(c, new Set(c.foundAt));
    }
    componentOf.set(f, seen ?? c);
    if (!f.wheel)
      installed.push({
        component: seen ?? c,
        folder: siteFolder(f.path),
        requires: f.requires,
        vendored: carrier !== undefined,
      });
  }
  // A wheel file is a package no installer has unpacked (importlib does not list it): packaged,
  // unless the same distribution is installed too.
  const unpacked = new Set(installed.map((i) => i.component));
  for (const c of componentOf.values()) if (!unpacked.has(c)) c.presence = 'packaged';
  for (const [c, at] of foundAt) c.foundAt = [...at].sort();
  resolveRequires(installed, venvRoots(files), pthFolders(files));
  return [...byKey.values()].sort((a, b) => {
    const ka = componentKey(a);
    const kb = componentKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

export const pythonCataloger: Cataloger = {
  name: 'python-package-cataloger',
  want: (entry) => wantPython(entry) || wantPyvenvCfg(entry) || wantPth(entry),
  catalog: catalogPython,
  // Metadata files are text; a wheel or a zipped egg found in a tree is a zip of any size.
  maxSize: (entry) => (WHEEL.test(entry.path) || ZIPPED_EGG.test(entry.path) ? undefined : TEXT_FILE_MAX),
};
