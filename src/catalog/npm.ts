/**
 * npm cataloger: installed packages (`node_modules/<name>/package.json`, scoped and nested) and
 * lockfiles (`package-lock.json` / `npm-shrinkwrap.json`, lockfileVersion 1, 2 and 3).
 *
 * What counts as an installed package follows npm's folder layout (npm docs "folders"): a package
 * lives directly under a `node_modules` folder, or under `node_modules/@scope`. A package.json deeper
 * inside a package (`node_modules/a/lib/package.json`, often a `{"type":"module"}` marker) is not a
 * package. The project's own package.json (not under node_modules) and the lockfile's root entry are
 * the project itself, not a component of it.
 */
import { PackageURL } from 'packageurl-js';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import type { CatalogContext, Cataloger, Component } from './types.ts';

const LOCKFILE_NAMES = new Set(['package-lock.json', 'npm-shrinkwrap.json']);

/** `node_modules/<name>/package.json` or `node_modules/@scope/<name>/package.json`, at any depth. */
export function isInstalledPackageJson(path: string): boolean {
  const segs = path.split('/');
  const n = segs.length;
  if (n < 3 || segs[n - 1] !== 'package.json') return false;
  const dir = segs[n - 2]!;
  if (dir.startsWith('.') || dir.startsWith('@')) return false;
  if (segs[n - 3] === 'node_modules') return true;
  return n >= 4 && segs[n - 4] === 'node_modules' && segs[n - 3]!.startsWith('@') && segs[n - 3]!.length > 1;
}

/**
 * A project lockfile. One shipped inside an installed package is ignored by npm (only the root
 * project's lockfile is honoured), so it says nothing about what is installed.
 */
export function isProjectLockfile(path: string): boolean {
  const segs = path.split('/');
  return LOCKFILE_NAMES.has(segs[segs.length - 1]!) && !segs.includes('node_modules');
}

function isRegularFile(entry: FileEntry): boolean {
  return entry.type === 'file' || entry.type === 'hardlink';
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function parseJson(file: WalkedFile, ctx: CatalogContext): Json | undefined {
  let value: unknown;
  try {
    value = JSON.parse(file.data.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    ctx.warn(file.entry.path, `not JSON: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
  if (!isObject(value)) {
    ctx.warn(file.entry.path, 'not a JSON object');
    return undefined;
  }
  return value;
}

/** `@scope/name` → namespace `@scope`, name `name`; packageurl-js percent-encodes the `@`. */
export function npmPurl(fullName: string, version: string): string {
  const slash = fullName.startsWith('@') ? fullName.indexOf('/') : -1;
  const namespace = slash > 0 ? fullName.slice(0, slash) : undefined;
  const name = slash > 0 ? fullName.slice(slash + 1) : fullName;
  return new PackageURL('npm', namespace, name, version, undefined, undefined).toString();
}

/** npm package names: at most 214 chars, optional `@scope/`, no spaces or path tricks. */
const NPM_NAME = /^(@[a-z0-9][\w.~-]*\/)?[a-z0-9_.~-][\w.~-]*$/i;

/** SRI `sha512-<base64>` (lockfile `integrity`) → the tarball hash in hex; other algorithms dropped. */
function integrityHashes(integrity: unknown): Component['hashes'] {
  const text = str(integrity);
  if (!text) return undefined;
  const hashes: NonNullable<Component['hashes']> = [];
  for (const token of text.split(/\s+/)) {
    const m = /^(sha512|sha1)-([A-Za-z0-9+/]+=*)$/.exec(token);
    if (!m) continue;
    const hex = Buffer.from(m[2]!, 'base64').toString('hex');
    const alg = m[1] === 'sha512' ? 'SHA-512' : 'SHA-1';
    if (hex.length !== (alg === 'SHA-512' ? 128 : 40)) continue;
    hashes.push({ alg, content: hex });
  }
  return hashes.length > 0 ? hashes : undefined;
}

/**
 * Declared licenses: `license` (an SPDX expression, or legacy `{type, url}`), or the deprecated
 * `licenses` array of `{type, url}` / strings. Kept as written; the SBOM writers decide what is a
 * valid SPDX expression.
 */
export function declaredLicenses(license: unknown, licenses: unknown): string[] {
  const one = (v: unknown): string | undefined => str(v) ?? (isObject(v) ? str(v.type) : undefined);
  const single = one(license);
  if (single) return [single];
  const list = Array.isArray(licenses) ? licenses : licenses !== undefined ? [licenses] : [];
  return [...new Set(list.map(one).filter((l): l is string => l !== undefined))];
}

interface Found {
  component: Component;
  /** Lockfile only: true/false per occurrence, so a package is dev only when every occurrence is. */
  dev: boolean[];
}

function makeComponent(name: string, version: string, path: string): Component | undefined {
  if (name.length > 214 || !NPM_NAME.test(name)) return undefined;
  let purl: string;
  try {
    purl = npmPurl(name, version);
  } catch {
    return undefined;
  }
  return {
    type: 'library',
    ecosystem: 'npm',
    name,
    version,
    purl,
    licenses: [],
    foundAt: [path],
    properties: {},
  };
}

function fromInstalledPackageJson(file: WalkedFile, ctx: CatalogContext): Component | undefined {
  const pkg = parseJson(file, ctx);
  if (!pkg) return undefined;
  const name = str(pkg.name);
  const version = str(pkg.version);
  if (!name || !version) {
    ctx.warn(file.entry.path, 'package.json without name or version');
    return undefined;
  }
  const component = makeComponent(name, version, file.entry.path);
  if (!component) {
    ctx.warn(file.entry.path, `not a valid npm package name: ${JSON.stringify(name.slice(0, 100))}`);
    return undefined;
  }
  component.licenses = declaredLicenses(pkg.license, pkg.licenses);
  const description = str(pkg.description);
  if (description) component.description = description;
  return component;
}

/** The installed name from a lockfile `packages` key: whatever follows the last `node_modules/`. */
function nameFromKey(key: string): string | undefined {
  const i = key.lastIndexOf('node_modules/');
  if (i < 0 || (i > 0 && key[i - 1] !== '/')) return undefined;
  return key.slice(i + 'node_modules/'.length) || undefined;
}

function lockEntryComponent(
  entry: Json,
  installedName: string,
  path: string,
  ctx: CatalogContext,
): { component: Component; dev: boolean } | undefined {
  const version = str(entry.version);
  if (!version) return undefined;
  // `name` is present when the install folder is an alias (`"foo": "npm:bar@1"`): the real package.
  const name = str(entry.name) ?? installedName;
  const component = makeComponent(name, version, path);
  if (!component) {
    ctx.warn(path, `lockfile entry with an invalid npm package name: ${JSON.stringify(name.slice(0, 100))}`);
    return undefined;
  }
  component.licenses = declaredLicenses(entry.license, entry.licenses);
  const hashes = integrityHashes(entry.integrity);
  if (hashes) component.hashes = hashes;
  if (entry.optional === true) component.properties['waybill:npm:optional'] = 'true';
  return { component, dev: entry.dev === true };
}

/** lockfileVersion 2 and 3: the flat `packages` map keyed by install path. */
function fromPackagesMap(
  packages: Json,
  path: string,
  ctx: CatalogContext,
): Array<{ component: Component; dev: boolean }> {
  const out: Array<{ component: Component; dev: boolean }> = [];
  for (const [key, raw] of Object.entries(packages)) {
    if (key === '' || !isObject(raw)) continue; // "" is the root project itself
    const installedName = nameFromKey(key);
    if (!installedName) continue; // a workspace folder: reached through its node_modules link
    let entry = raw;
    if (raw.link === true) {
      // A symlink (workspaces, `file:` deps): the package is the folder it resolves to, if listed.
      const target = str(raw.resolved);
      const resolved = target !== undefined ? packages[target] : undefined;
      if (!isObject(resolved)) continue;
      entry = { ...resolved, dev: raw.dev ?? resolved.dev, optional: raw.optional ?? resolved.optional };
    }
    const found = lockEntryComponent(entry, installedName, path, ctx);
    if (found) out.push(found);
  }
  return out;
}

/** lockfileVersion 1: nested `dependencies` objects keyed by package name. */
function fromV1Dependencies(
  deps: Json,
  path: string,
  ctx: CatalogContext,
  depth = 0,
): Array<{ component: Component; dev: boolean }> {
  const out: Array<{ component: Component; dev: boolean }> = [];
  if (depth > 200) return out; // hostile nesting; npm's own trees are far shallower
  for (const [name, raw] of Object.entries(deps)) {
    if (!isObject(raw)) continue;
    const version = str(raw.version);
    // v1 `version` of a `file:`/`link:` dependency is the path, not a version: not resolvable here.
    if (version && !/^(file|link):/.test(version)) {
      // Alias installs record `npm:real@1.2.3` as the version.
      const alias = /^npm:((?:@[^/@]+\/)?[^@]+)@(.+)$/.exec(version);
      const entry = alias ? { ...raw, name: alias[1], version: alias[2] } : raw;
      const found = lockEntryComponent(entry, name, path, ctx);
      if (found) out.push(found);
    }
    if (isObject(raw.dependencies)) out.push(...fromV1Dependencies(raw.dependencies, path, ctx, depth + 1));
  }
  return out;
}

function fromLockfile(file: WalkedFile, ctx: CatalogContext): Array<{ component: Component; dev: boolean }> {
  const lock = parseJson(file, ctx);
  if (!lock) return [];
  const version = lock.lockfileVersion;
  if (isObject(lock.packages)) return fromPackagesMap(lock.packages, file.entry.path, ctx);
  if (isObject(lock.dependencies)) return fromV1Dependencies(lock.dependencies, file.entry.path, ctx);
  if (version === undefined)
    ctx.warn(file.entry.path, 'no lockfileVersion, packages or dependencies: not an npm lockfile');
  return [];
}

function merge(into: Found, other: Component, dev: boolean | undefined): void {
  const c = into.component;
  c.foundAt = [...new Set([...c.foundAt, ...other.foundAt])].sort();
  if (c.licenses.length === 0) c.licenses = other.licenses;
  c.description ??= other.description;
  c.hashes ??= other.hashes;
  for (const [k, v] of Object.entries(other.properties)) c.properties[k] ??= v;
  if (dev !== undefined) into.dev.push(dev);
}

export const npmCataloger: Cataloger = {
  name: 'npm',
  want(entry) {
    return isRegularFile(entry) && (isInstalledPackageJson(entry.path) || isProjectLockfile(entry.path));
  },
  catalog(files, ctx) {
    const byPurl = new Map<string, Found>();
    const add = (component: Component, dev: boolean | undefined) => {
      const seen = byPurl.get(component.purl);
      if (seen) merge(seen, component, dev);
      else byPurl.set(component.purl, { component, dev: dev === undefined ? [] : [dev] });
    };
    // Sorted input → the same merge order (and so the same fields) whatever order the walk used.
    const sorted = [...files].sort((a, b) =>
      a.entry.path < b.entry.path ? -1 : a.entry.path > b.entry.path ? 1 : 0,
    );
    for (const file of sorted) {
      if (isProjectLockfile(file.entry.path)) {
        for (const { component, dev } of fromLockfile(file, ctx)) add(component, dev);
      } else if (isInstalledPackageJson(file.entry.path)) {
        const component = fromInstalledPackageJson(file, ctx);
        if (component) add(component, undefined);
      }
    }
    const out: Component[] = [];
    for (const { component, dev } of byPurl.values()) {
      if (dev.length > 0 && dev.every(Boolean)) component.properties['waybill:npm:dev'] = 'true';
      out.push(component);
    }
    return out.sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
  },
};
