/**
 * Where npm puts things (npm docs "folders"), as path rules over the artifact's POSIX paths: which
 * package.json is an installed package, which is a copy vendored inside one, which lockfile belongs
 * to a project, and how Node finds a dependency from a package's folder (Node.js "Loading from
 * node_modules folders": the nearest `node_modules/<name>` walking up the tree).
 */
import { isNotBundledFolder } from './bundled-folders.ts';

const PACKAGE_JSON = 'package.json';

/*
 * The rules below run on every entry of every walk (the npm cataloger's filter: 144 000 entries on
 * the large bench tree, and again in each walk worker), so they read the path where they need to,
 * from its end, instead of splitting it into segments: a split per entry was a third of the filter's
 * time and garbage for the collector.
 */

/** Whether the last segment of `path` is `name`. */
function hasBaseName(path: string, name: string): boolean {
  return path.endsWith(name) && (path.length === name.length || path[path.length - name.length - 1] === '/');
}

/** Whether a segment of `path` before its last is `node_modules`. */
function underNodeModules(path: string): boolean {
  return path.startsWith('node_modules/') || path.includes('/node_modules/');
}

/** The segment of `path` that ends just before index `end` (a `/`, or the path's length). */
function segmentStart(path: string, end: number): number {
  return end <= 0 ? 0 : path.lastIndexOf('/', end - 1) + 1;
}

/** `node_modules/<name>/package.json` or `node_modules/@scope/<name>/package.json`, at any depth. */
export function isInstalledPackageJson(path: string): boolean {
  if (!hasBaseName(path, PACKAGE_JSON)) return false;
  // The folder holding it: at least two segments must come before the file.
  const dirEnd = path.length - PACKAGE_JSON.length - 1;
  if (dirEnd < 0) return false;
  const dirStart = segmentStart(path, dirEnd);
  if (dirStart === 0) return false;
  if (path[dirStart] === '.' || path[dirStart] === '@') return false;
  const upStart = segmentStart(path, dirStart - 1);
  const up = path.slice(upStart, dirStart - 1);
  if (up === 'node_modules') return true;
  if (upStart === 0 || !up.startsWith('@') || up.length < 2) return false;
  return path.slice(segmentStart(path, upStart - 1), upStart - 1) === 'node_modules';
}

/**
 * A symlink standing where Node looks for a package (`node_modules/<name>`, `node_modules/@scope/<name>`):
 * pnpm installs each package once in its virtual store (`node_modules/.pnpm/<name>@<version>/node_modules/<name>`)
 * and links it into every folder that requires it; npm links workspaces and `file:` folders the same way.
 */
export function isPackageFolderLink(path: string): boolean {
  return isInstalledPackageJson(`${path}/package.json`);
}

/**
 * A package.json outside any `node_modules` folder: a project's own manifest. It is a package of
 * the artifact only when a package-folder link points at its folder (an npm, pnpm or yarn workspace
 * linked into `node_modules`).
 */
export function isProjectPackageJson(path: string): boolean {
  return (
    (path === 'package.json' || path.endsWith('/package.json')) && !path.split('/').includes('node_modules')
  );
}

/**
 * A project lockfile. One shipped inside an installed package is ignored by npm (only the root
 * project's lockfile is honoured), so it says nothing about what is installed.
 */
export function isProjectLockfile(path: string): boolean {
  return (
    (hasBaseName(path, 'package-lock.json') || hasBaseName(path, 'npm-shrinkwrap.json')) &&
    !underNodeModules(path)
  );
}

/**
 * A yarn or pnpm project lockfile (`yarn.lock`, `pnpm-lock.yaml`), by the same rule: one inside
 * node_modules (pnpm's own `node_modules/.pnpm/lock.yaml`, a package's shipped yarn.lock) is not the
 * project's.
 */
export function flatLockKind(path: string): 'yarn' | 'pnpm' | undefined {
  const kind = hasBaseName(path, 'yarn.lock')
    ? 'yarn'
    : hasBaseName(path, 'pnpm-lock.yaml')
      ? 'pnpm'
      : undefined;
  return kind !== undefined && !underNodeModules(path) ? kind : undefined;
}

/**
 * A package.json inside an installed package but not itself installed: a candidate for a vendored
 * copy (Next.js `dist/compiled/<pkg>/package.json`). Returns false for paths under a folder that
 * holds no bundled code (see bundled-folders.ts) and for the package's own manifest.
 */
export function isNestedPackageJson(path: string): boolean {
  const segs = path.split('/');
  const n = segs.length;
  if (segs[n - 1] !== 'package.json' || isInstalledPackageJson(path)) return false;
  const last = segs.lastIndexOf('node_modules');
  if (last < 0) return false;
  // The installed package's own folder: `node_modules/<name>` or `node_modules/@scope/<name>`.
  const pkgEnd = segs[last + 1]?.startsWith('@') ? last + 3 : last + 2;
  if (n - 1 <= pkgEnd) return false;
  for (let i = pkgEnd; i < n - 1; i++) if (isNotBundledFolder(segs[i]!)) return false;
  return true;
}

/** The folder of a package.json: `a/node_modules/x/package.json` → `a/node_modules/x`. */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** `a/b` + `c` → `a/b/c`; the artifact root is ''. */
export function joinPath(dir: string, rest: string): string {
  return dir === '' ? rest : rest === '' ? dir : `${dir}/${rest}`;
}

/**
 * Node's lookup of `name` required from a package in `fromDir`: `fromDir/node_modules/name`, then
 * the same in each parent folder that is not itself a `node_modules` folder, up to the root. Returns
 * the first folder `installed` has, else undefined (the dependency is not installed).
 */
export function resolveFrom(
  installed: { has(dir: string): boolean },
  fromDir: string,
  name: string,
): string | undefined {
  let dir = fromDir;
  for (;;) {
    const base = dir.slice(dir.lastIndexOf('/') + 1);
    if (base !== 'node_modules') {
      const candidate = joinPath(dir, `node_modules/${name}`);
      if (installed.has(candidate)) return candidate;
    }
    if (dir === '') return undefined;
    dir = folderOf(dir);
  }
}

/**
 * The installed package folder `dir` stands for: itself when installed, else the folder its symlink
 * chain (`links`: link path → resolved target) ends at, when that is installed. A chain longer than
 * a few hops is a loop, not a layout.
 */
export function followLinks(
  installed: { has(dir: string): boolean },
  links: ReadonlyMap<string, string>,
  dir: string,
): string | undefined {
  let at = dir;
  for (let hops = 0; hops <= 8; hops++) {
    if (installed.has(at)) return at;
    const next = links.get(at);
    if (next === undefined) return undefined;
    at = next;
  }
  return undefined;
}

/** The installed package folder that holds `path` most closely (longest prefix), if any. */
export function carrierOf(installedDirs: ReadonlySet<string>, path: string): string | undefined {
  let dir = folderOf(path);
  while (dir !== '') {
    if (installedDirs.has(dir)) return dir;
    dir = folderOf(dir);
  }
  return undefined;
}
