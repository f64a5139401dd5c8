/**
 * npm lockfiles (`package-lock.json`, `npm-shrinkwrap.json`; npm docs "package-lock.json"), every
 * lockfileVersion, read into one flat list of entries keyed by install path relative to the
 * lockfile's folder (`node_modules/a/node_modules/b`), each with the names it requires, so the
 * cataloger can match them with the installed tree and resolve dependencies the way Node does.
 */
import type { CatalogContext } from './types.ts';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export interface LockEntry {
  /** Install path relative to the lockfile's folder: `node_modules/a/node_modules/@s/b`. */
  key: string;
  /** Folder Node resolves this package's dependencies from: the key, or a link's target folder. */
  resolveKey: string;
  /** The folder name it is installed under (an alias differs from the real name). */
  installedName: string;
  /** The real package name (`name` of an aliased entry, else the installed name). */
  name: string;
  version: string;
  dev: boolean;
  optional: boolean;
  license: unknown;
  licenses: unknown;
  integrity: unknown;
  /** Names this package requires: dependencies, optionalDependencies and peerDependencies. */
  requires: string[];
  /** Reached through a symlink (a workspace or `file:` folder), not installed under node_modules. */
  link: boolean;
}

/** The installed name from a lockfile `packages` key: whatever follows the last `node_modules/`. */
function nameFromKey(key: string): string | undefined {
  const i = key.lastIndexOf('node_modules/');
  if (i < 0 || (i > 0 && key[i - 1] !== '/')) return undefined;
  return key.slice(i + 'node_modules/'.length) || undefined;
}

/** Names required by a package.json-shaped object (also what lockfile v2/v3 entries carry). */
export function requiredNames(pkg: Json): string[] {
  const names = new Set<string>();
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    const deps = pkg[field];
    if (isObject(deps)) for (const name of Object.keys(deps)) names.add(name);
  }
  return [...names].sort();
}

function entryOf(
  raw: Json,
  key: string,
  installedName: string,
  resolveKey: string,
  link: boolean,
): LockEntry | undefined {
  const version = str(raw.version);
  if (!version) return undefined;
  return {
    key,
    resolveKey,
    installedName,
    // `name` is present when the install folder is an alias (`"foo": "npm:bar@1"`): the real package.
    name: str(raw.name) ?? installedName,
    version,
    dev: raw.dev === true,
    optional: raw.optional === true,
    license: raw.license,
    licenses: raw.licenses,
    integrity: raw.integrity,
    requires: requiredNames(raw),
    link,
  };
}

/** lockfileVersion 2 and 3: the flat `packages` map keyed by install path. */
function fromPackagesMap(packages: Json): LockEntry[] {
  const out: LockEntry[] = [];
  for (const [key, raw] of Object.entries(packages)) {
    if (key === '' || !isObject(raw)) continue; // "" is the root project itself
    const installedName = nameFromKey(key);
    if (!installedName) continue; // a workspace folder: reached through its node_modules link
    if (raw.link === true) {
      // A symlink (workspaces, `file:` deps): the package is the folder it resolves to, if listed.
      const target = str(raw.resolved);
      const resolved = target !== undefined ? packages[target] : undefined;
      if (target === undefined || !isObject(resolved)) continue;
      const merged = {
        ...resolved,
        dev: raw.dev ?? resolved.dev,
        optional: raw.optional ?? resolved.optional,
      };
      const entry = entryOf(merged, key, installedName, target, true);
      if (entry) out.push(entry);
      continue;
    }
    const entry = entryOf(raw, key, installedName, key, false);
    if (entry) out.push(entry);
  }
  return out;
}

/**
 * lockfileVersion 1: nested `dependencies` objects keyed by package name; a nested object is
 * installed under its parent's node_modules, and `requires` names what the package requires.
 */
function fromV1Dependencies(deps: Json, parentKey: string, out: LockEntry[], depth = 0): void {
  if (depth > 200) return; // hostile nesting; npm's own trees are far shallower
  for (const [name, raw] of Object.entries(deps)) {
    if (!isObject(raw)) continue;
    const key = parentKey === '' ? `node_modules/${name}` : `${parentKey}/node_modules/${name}`;
    const version = str(raw.version);
    // v1 `version` of a `file:`/`link:` dependency is the path, not a version: not resolvable here.
    if (version && !/^(file|link):/.test(version)) {
      // Alias installs record `npm:real@1.2.3` as the version.
      const alias = /^npm:((?:@[^/@]+\/)?[^@]+)@(.+)$/.exec(version);
      const entry = entryOf(
        alias ? { ...raw, name: alias[1], version: alias[2] } : raw,
        key,
        name,
        key,
        false,
      );
      if (entry) {
        entry.requires = isObject(raw.requires) ? Object.keys(raw.requires).sort() : [];
        out.push(entry);
      }
    }
    if (isObject(raw.dependencies)) fromV1Dependencies(raw.dependencies, key, out, depth + 1);
  }
}

/** Entries of one lockfile's JSON; a file that is no npm lockfile is a warning and no entries. */
export function lockEntries(lock: Json, path: string, ctx: Pick<CatalogContext, 'warn'>): LockEntry[] {
  if (isObject(lock.packages)) return fromPackagesMap(lock.packages);
  if (isObject(lock.dependencies)) {
    const out: LockEntry[] = [];
    fromV1Dependencies(lock.dependencies, '', out);
    return out;
  }
  if (lock.lockfileVersion === undefined)
    ctx.warn(path, 'no lockfileVersion, packages or dependencies: not an npm lockfile');
  return [];
}
