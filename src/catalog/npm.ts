/**
 * npm cataloger: installed packages (`node_modules/<name>/package.json`, scoped and nested), copies
 * vendored inside them (Next.js `dist/compiled/<pkg>/package.json`), and lockfiles
 * (`package-lock.json` / `npm-shrinkwrap.json`, lockfileVersion 1, 2 and 3; `yarn.lock` v1 and berry;
 * `pnpm-lock.yaml` 5.x, 6.x and 9.x), with the dependency edges Node itself would follow.
 *
 * Installed, not merely locked: when a project has an installed tree (anything under its
 * `node_modules`), its lockfile only adds facts (integrity hash, dev flag) to the packages installed
 * at the same path; a lockfile entry with nothing installed there — an optional build for another
 * platform (`@esbuild/*`, `@next/swc-*`), a pruned dev dependency — is not in the artifact and is
 * not a component. A lockfile whose project has no installed tree at all (a source tree) is the only
 * evidence there is: its packages are components with presence `declared`. yarn and pnpm lockfiles
 * follow the same rule; they record no install paths, so with an installed tree their facts go to the
 * installed packages of the same name and version, and their edges are the lockfile's own.
 *
 * What counts as an installed package follows npm's folder layout (see npm-paths.ts). The project's
 * own package.json (not under node_modules) and the lockfile's root entry are the project itself, not
 * a component of it.
 */
import { PackageURL } from 'packageurl-js';
import { resolveSymlink } from '../archive/tar-reader.ts';
import { isWaybillError } from '../errors.ts';
import { hasContent, type WalkedFile } from '../sources/types.ts';
import { type LockedPackage, lockedId, MAX_FLAT_LOCKFILE_BYTES } from './npm-flat-lock.ts';
import { isObject, type Json, type LockEntry, lockEntries, requiredNames, str } from './npm-lockfile.ts';
import {
  carrierOf,
  flatLockKind,
  folderOf,
  followLinks,
  isInstalledPackageJson,
  isNestedPackageJson,
  isPackageFolderLink,
  isProjectLockfile,
  isProjectPackageJson,
  joinPath,
  resolveFrom,
} from './npm-paths.ts';
import { pnpmLockPackages } from './pnpm-lockfile.ts';
import { type CatalogContext, type Cataloger, type Component, componentKey, TEXT_FILE_MAX } from './types.ts';
import { yarnLockPackages } from './yarn-lockfile.ts';

export { isInstalledPackageJson, isNestedPackageJson, isProjectLockfile } from './npm-paths.ts';

/** Property naming the node_modules link through which a linked package is installed. */
export const LINKED_FROM = 'waybill:npm:linked-from';

/** package.json files are small; a huge one inside a package is not a manifest worth reading. */
const MAX_NESTED_MANIFEST = 256 * 1024;

function parseJson(file: WalkedFile, ctx: CatalogContext, quiet = false): Json | undefined {
  let value: unknown;
  try {
    value = JSON.parse(file.data.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    if (!quiet) ctx.warn(file.entry.path, `not JSON: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
  if (!isObject(value)) {
    if (!quiet) ctx.warn(file.entry.path, 'not a JSON object');
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

/** Semantic Versioning 2.0.0, the regular expression the specification itself suggests. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

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

/** One package in a tree: where it sits, what it is, and the names it requires. */
interface TreeNode {
  /** The package's folder in the artifact (its install path). */
  dir: string;
  /** The folder Node resolves its requires from (a link's target for workspace packages). */
  resolveDir: string;
  component: Component;
  requires: string[];
  /** Lockfile only: whether the lockfile marks this occurrence dev. */
  dev?: boolean;
  /** yarn/pnpm lockfile only: the tree keys of the packages it depends on, as the lockfile resolved them. */
  lockedDeps?: string[];
}

function installedNode(file: WalkedFile, ctx: CatalogContext): TreeNode | undefined {
  const pkg = parseJson(file, ctx);
  if (!pkg) return undefined;
  const name = str(pkg.name);
  if (!name) {
    ctx.warn(file.entry.path, 'package.json without a name');
    return undefined;
  }
  // npm installs and lists a package whose package.json states no version (`npm ls` shows
  // `name@`): a private workspace package, a `file:` folder. It is there, so it is a component; its
  // version is unknown, and its purl and SBOM entry carry none rather than an invented one.
  const version = str(pkg.version) ?? '';
  const component = makeComponent(name, version, file.entry.path);
  if (!component) {
    ctx.warn(file.entry.path, `not a valid npm package name: ${JSON.stringify(name.slice(0, 100))}`);
    return undefined;
  }
  component.licenses = declaredLicenses(pkg.license, pkg.licenses);
  const description = str(pkg.description);
  if (description) component.description = description;
  const dir = folderOf(file.entry.path);
  return { dir, resolveDir: dir, component, requires: requiredNames(pkg) };
}

/** A lockfile's record of a package as a component: name checked, license and tarball hash kept. */
function lockedComponent(
  entry: Pick<LockEntry, 'name' | 'version' | 'license' | 'licenses' | 'integrity' | 'optional'>,
  path: string,
  ctx: CatalogContext,
): Component | undefined {
  const component = makeComponent(entry.name, entry.version, path);
  if (!component) {
    ctx.warn(
      path,
      `lockfile entry with an invalid npm package name: ${JSON.stringify(entry.name.slice(0, 100))}`,
    );
    return undefined;
  }
  component.licenses = declaredLicenses(entry.license, entry.licenses);
  const hashes = integrityHashes(entry.integrity);
  if (hashes) component.hashes = hashes;
  if (entry.optional) component.properties['waybill:npm:optional'] = 'true';
  return component;
}

function lockNode(
  entry: LockEntry,
  lockDir: string,
  path: string,
  ctx: CatalogContext,
): TreeNode | undefined {
  const component = lockedComponent(entry, path, ctx);
  if (!component) return undefined;
  return {
    dir: joinPath(lockDir, entry.key),
    resolveDir: joinPath(lockDir, entry.resolveKey),
    component,
    requires: entry.requires,
    dev: entry.dev,
  };
}

/**
 * A package.json inside an installed package that describes a bundled copy of another package: it
 * names a valid npm package with a semver version, is not `"private"`, and is not the carrier's own
 * manifest again (`dist/package.json` copies). Anything else is a build marker (`{"type":"module"}`),
 * a subpath stub or a fixture.
 */
function vendoredCopy(file: WalkedFile, carrier: TreeNode, ctx: CatalogContext): Component | undefined {
  if (file.data.length > MAX_NESTED_MANIFEST) return undefined;
  const pkg = parseJson(file, ctx, true);
  if (!pkg || pkg.private === true) return undefined;
  const name = str(pkg.name);
  const version = str(pkg.version);
  if (!name || !version || !SEMVER.test(version) || name === carrier.component.name) return undefined;
  const component = makeComponent(name, version, file.entry.path);
  if (!component) return undefined;
  component.licenses = declaredLicenses(pkg.license, pkg.licenses);
  const description = str(pkg.description);
  if (description) component.description = description;
  component.vendoredIn = componentKey(carrier.component);
  return component;
}

/** A yarn or pnpm lockfile's package as a tree node (it has no folder: see flatLockDir). */
function flatLockNode(pkg: LockedPackage, lockPath: string, ctx: CatalogContext): TreeNode | undefined {
  const locked = { ...pkg, integrity: pkg.integrity, license: undefined, licenses: undefined };
  const component = lockedComponent(locked, lockPath, ctx);
  if (!component) return undefined;
  const dir = flatLockDir(lockPath, lockedId(pkg.name, pkg.version));
  const lockedDeps = pkg.dependsOn.map((id) => flatLockDir(lockPath, id));
  return { dir, resolveDir: dir, component, requires: [], dev: pkg.dev, lockedDeps };
}

/** The tree key of a yarn/pnpm lockfile's package: NUL never occurs in a path, so no folder collides. */
function flatLockDir(lockPath: string, id: string): string {
  return `${lockPath}\0${id}`;
}

function readFlatLock(file: WalkedFile, kind: 'yarn' | 'pnpm', ctx: CatalogContext): LockedPackage[] {
  const path = file.entry.path;
  if (file.data.length > MAX_FLAT_LOCKFILE_BYTES) {
    ctx.warn(path, `lockfile larger than ${MAX_FLAT_LOCKFILE_BYTES} bytes: not read`);
    return [];
  }
  const text = file.data.toString('utf8');
  try {
    return kind === 'yarn' ? yarnLockPackages(text, path) : pnpmLockPackages(text, path);
  } catch (e) {
    if (!isWaybillError(e)) throw e;
    ctx.warn(path, e.reason);
    return [];
  }
}

interface Gathered {
  installed: TreeNode[];
  locks: Array<{ dir: string; path: string; entries: LockEntry[] }>;
  /** yarn.lock and pnpm-lock.yaml files: packages by name@version, no install paths. */
  flatLocks: Array<{ dir: string; path: string; packages: LockedPackage[] }>;
  nested: WalkedFile[];
  /** Package-folder symlinks (pnpm's layout, workspace links): link path → resolved target. */
  links: Map<string, string>;
  /** package.json files outside node_modules, by folder: workspace packages when a link names them. */
  projects: Map<string, WalkedFile>;
}

function gather(files: WalkedFile[], ctx: CatalogContext): Gathered {
  const out: Gathered = {
    installed: [],
    locks: [],
    flatLocks: [],
    nested: [],
    links: new Map(),
    projects: new Map(),
  };
  // Sorted input → the same merge order (and so the same fields) whatever order the walk used.
  const sorted = [...files].sort((a, b) =>
    a.entry.path < b.entry.path ? -1 : a.entry.path > b.entry.path ? 1 : 0,
  );
  for (const file of sorted) {
    const path = file.entry.path;
    if (file.entry.type === 'symlink') {
      if (file.entry.linkTarget !== undefined)
        out.links.set(path, resolveSymlink(path, file.entry.linkTarget));
    } else if (isProjectLockfile(path)) {
      const lock = parseJson(file, ctx);
      if (lock) out.locks.push({ dir: folderOf(path), path, entries: lockEntries(lock, path, ctx) });
    } else if (flatLockKind(path) !== undefined) {
      const packages = readFlatLock(file, flatLockKind(path)!, ctx);
      out.flatLocks.push({ dir: folderOf(path), path, packages });
    } else if (isInstalledPackageJson(path)) {
      const node = installedNode(file, ctx);
      if (node) out.installed.push(node);
    } else if (isNestedPackageJson(path)) out.nested.push(file);
    else if (isProjectPackageJson(path)) out.projects.set(folderOf(path), file);
  }
  return out;
}

/**
 * Linked packages: a folder holding a package.json that a package-folder link in some
 * `node_modules` names is installed there, as `npm ls` lists it — a workspace
 * (`node_modules/@app/ui -> ../../packages/ui`, as npm, pnpm and yarn install them) or a `file:`
 * folder dependency, which npm links wherever the folder is (`node_modules/lib -> ../../lib`, a
 * sibling of the project). Node resolves its dependencies from its real folder. The component
 * records the link (`waybill:npm:linked-from`); one whose package.json an installed OS package owns
 * (a Debian module in /usr/share/nodejs that another links to) is that OS package's, and the
 * engine drops it (os-owned.ts).
 */
function linkedProjects(gathered: Gathered, ctx: CatalogContext): TreeNode[] {
  const out: TreeNode[] = [];
  const seen = new Set<string>();
  for (const [link, target] of gathered.links) {
    const file = gathered.projects.get(target);
    // A link up to its own project (or a folder above it) names the project, not a package of it.
    if (!file || seen.has(target) || link.startsWith(`${target}/`)) continue;
    seen.add(target);
    const node = installedNode(file, ctx);
    if (!node) continue;
    node.component.properties[LINKED_FROM] = link;
    out.push(node);
  }
  return out;
}

/**
 * The tree the artifact holds: installed packages, plus the lockfile entries of projects with no
 * installed tree (declared). Lockfile facts enrich the installed package at the same path.
 */
function buildTree(gathered: Gathered, ctx: CatalogContext): Map<string, TreeNode> {
  const tree = new Map<string, TreeNode>();
  for (const node of [...gathered.installed, ...linkedProjects(gathered, ctx)])
    if (!tree.has(node.dir)) tree.set(node.dir, node);
  const installedDirs = [...tree.keys()];
  for (const lock of gathered.locks) {
    const modules = joinPath(lock.dir, 'node_modules/');
    const hasTree = installedDirs.some((d) => d.startsWith(modules));
    for (const entry of lock.entries) {
      const node = lockNode(entry, lock.dir, lock.path, ctx);
      if (!node) continue;
      const installed = tree.get(node.dir);
      if (installed) {
        enrich(installed, node);
        continue;
      }
      // A workspace package is a folder of the project, linked rather than installed: present
      // whenever the project's tree is.
      if (hasTree && !entry.link) continue;
      if (!hasTree) node.component.presence = 'declared';
      tree.set(node.dir, node);
    }
  }
  for (const lock of gathered.flatLocks) addFlatLock(tree, installedDirs, lock, ctx);
  return tree;
}

/**
 * A yarn or pnpm lockfile: with no installed tree in its project, each package is a declared node;
 * with one, it only enriches the installed packages of the same name and version under the project's
 * node_modules (pnpm's `.pnpm` store included).
 */
function addFlatLock(
  tree: Map<string, TreeNode>,
  installedDirs: string[],
  lock: Gathered['flatLocks'][number],
  ctx: CatalogContext,
): void {
  const modules = joinPath(lock.dir, 'node_modules/');
  const inProject = installedDirs.filter((d) => d.startsWith(modules));
  const installedById = new Map<string, TreeNode[]>();
  for (const dir of inProject) {
    const node = tree.get(dir)!;
    const id = lockedId(node.component.name, node.component.version);
    installedById.set(id, [...(installedById.get(id) ?? []), node]);
  }
  for (const pkg of lock.packages) {
    const node = flatLockNode(pkg, lock.path, ctx);
    if (!node) continue;
    if (inProject.length > 0) {
      for (const installed of installedById.get(lockedId(pkg.name, pkg.version)) ?? [])
        enrich(installed, node);
      continue;
    }
    node.component.presence = 'declared';
    tree.set(node.dir, node);
  }
}

/** Lockfile facts about the package installed at the same path (when it is the same version). */
function enrich(installed: TreeNode, fromLock: TreeNode): void {
  const c = installed.component;
  const l = fromLock.component;
  installed.dev = fromLock.dev;
  if (c.name !== l.name || c.version !== l.version) return;
  c.foundAt = [...new Set([...c.foundAt, ...l.foundAt])].sort();
  if (c.licenses.length === 0) c.licenses = l.licenses;
  c.hashes ??= l.hashes;
  for (const [k, v] of Object.entries(l.properties)) c.properties[k] ??= v;
}

interface Found {
  component: Component;
  /** true/false per lockfile occurrence: a package is dev only when every occurrence is. */
  dev: boolean[];
  dependsOn: Set<string>;
  /** Every place the package was found, sorted once at the end (a tree can hold thousands of copies). */
  foundAt: Set<string>;
}

function add(byKey: Map<string, Found>, component: Component, dev: boolean | undefined, deps: string[]) {
  const key = componentKey(component);
  const seen = byKey.get(key);
  if (!seen) {
    byKey.set(key, {
      component,
      dev: dev === undefined ? [] : [dev],
      dependsOn: new Set(deps),
      foundAt: new Set(component.foundAt),
    });
    return;
  }
  const c = seen.component;
  for (const at of component.foundAt) seen.foundAt.add(at);
  if (c.licenses.length === 0) c.licenses = component.licenses;
  c.description ??= component.description;
  c.hashes ??= component.hashes;
  for (const [k, v] of Object.entries(component.properties)) c.properties[k] ??= v;
  // Installed somewhere wins over declared elsewhere.
  if (component.presence === undefined) delete c.presence;
  if (dev !== undefined) seen.dev.push(dev);
  for (const d of deps) seen.dependsOn.add(d);
}

function catalogNpm(files: WalkedFile[], ctx: CatalogContext): Component[] {
  const gathered = gather(files, ctx);
  const tree = buildTree(gathered, ctx);
  const byKey = new Map<string, Found>();
  // Node finds a dependency at `node_modules/<name>` whether that is the package's folder or a
  // symlink to it (pnpm links every dependency beside the package that requires it).
  const installedOrLinked = { has: (dir: string) => followLinks(tree, gathered.links, dir) !== undefined };
  for (const node of tree.values()) {
    const deps: string[] = [];
    for (const dir of node.lockedDeps ?? []) {
      const target = tree.get(dir);
      if (target) deps.push(componentKey(target.component));
    }
    for (const name of node.requires) {
      const found = resolveFrom(installedOrLinked, node.resolveDir, name);
      const target = found === undefined ? undefined : followLinks(tree, gathered.links, found);
      if (target !== undefined) deps.push(componentKey(tree.get(target)!.component));
    }
    // An installed copy that no lockfile describes (yarn, pnpm, `npm install -g`) is not known to
    // be dev: it votes "not dev", so another project's lockfile cannot mark it dev on its own.
    add(byKey, node.component, node.dev ?? false, deps);
  }
  const installedDirs = new Set(gathered.installed.map((n) => n.dir));
  for (const file of gathered.nested) {
    const carrierDir = carrierOf(installedDirs, file.entry.path);
    const carrier = carrierDir !== undefined ? tree.get(carrierDir) : undefined;
    if (!carrier) continue;
    const copy = vendoredCopy(file, carrier, ctx);
    if (copy) add(byKey, copy, undefined, []);
  }
  const out: Component[] = [];
  for (const { component, dev, dependsOn, foundAt } of byKey.values()) {
    component.foundAt = [...foundAt].sort();
    if (dev.length > 0 && dev.every(Boolean)) component.properties['waybill:npm:dev'] = 'true';
    dependsOn.delete(componentKey(component));
    if (dependsOn.size > 0) component.dependsOn = [...dependsOn].sort();
    out.push(component);
  }
  return out.sort((a, b) => {
    const ka = componentKey(a);
    const kb = componentKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

export const npmCataloger: Cataloger = {
  name: 'npm',
  want(entry) {
    if (entry.type === 'symlink') return isPackageFolderLink(entry.path);
    if (!hasContent(entry)) return false;
    const p = entry.path;
    // Every name below ends in .json: most entries of an image are out after one comparison.
    if (!p.endsWith('.json')) return flatLockKind(p) !== undefined;
    if (isInstalledPackageJson(p) || isProjectLockfile(p) || isProjectPackageJson(p)) return true;
    return isNestedPackageJson(p) && entry.size <= MAX_NESTED_MANIFEST;
  },
  maxSize: () => TEXT_FILE_MAX,
  catalog: catalogNpm,
};
