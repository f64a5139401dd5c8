/**
 * Python distributions vendored inside another one. importlib.metadata finds a distribution only in
 * a folder on `sys.path`: a `*.dist-info` or `*.egg-info` deeper inside a package's own folder
 * (setuptools' `setuptools/_vendor/packaging-24.2.dist-info`) is a copy that package carries, not an
 * installed distribution. Such a copy is nested under its carrier (as npm's `dist/compiled/*`
 * copies are); one under a folder of tests, fixtures or docs (setuptools'
 * `pkg_resources/tests/data/…/EGG-INFO`) is test data and no component at all.
 */
import { isNotBundledFolder } from './bundled-folders.ts';
import { normalizePythonName } from './python-names.ts';

/** What placement needs of one distribution found installed. */
export interface FoundDistribution {
  /** Its METADATA / PKG-INFO path (or the single-file `*.egg-info`). */
  path: string;
  name: string;
}

/** The folder importlib would have to search to find this distribution (its site folder). */
export function siteFolder(metadataPath: string): string {
  const segs = metadataPath.split('/');
  const info = segs.findLastIndex((s) => /\.(dist|egg)-info$/i.test(s));
  if (info >= 0) return segs.slice(0, info).join('/');
  // `foo-1.0.egg/EGG-INFO/PKG-INFO`: the .egg folder is the sys.path entry; its folder holds it.
  const egg = segs.findLastIndex((s) => /\.egg$/i.test(s));
  return segs.slice(0, Math.max(0, egg)).join('/');
}

/** The metadata folder of a distribution (`…/foo-1.0.dist-info`), where `top_level.txt` sits. */
export function infoFolder(metadataPath: string): string {
  return metadataPath.slice(0, Math.max(0, metadataPath.lastIndexOf('/')));
}

/**
 * For each distribution inside another one's package folder: its carrier, or `'test-data'`. The
 * carrier is the distribution installed in the nearest enclosing site folder whose name, or one of
 * whose top-level packages (`top_level.txt`, keyed by metadata folder), is the first folder below
 * that site. A distribution with no such carrier keeps its place (a `--target` folder above a
 * venv is not a package).
 */
export function vendoredPlacement<T extends FoundDistribution>(
  found: readonly T[],
  topLevel: ReadonlyMap<string, readonly string[]>,
): Map<T, T | 'test-data'> {
  const bySite = new Map<string, T[]>();
  for (const d of found) {
    const site = siteFolder(d.path);
    bySite.set(site, [...(bySite.get(site) ?? []), d]);
  }
  const out = new Map<T, T | 'test-data'>();
  for (const d of found) {
    const site = siteFolder(d.path);
    const segs = site === '' ? [] : site.split('/');
    for (let depth = segs.length - 1; depth >= 0; depth--) {
      const host = segs.slice(0, depth).join('/');
      const hosted = bySite.get(host);
      if (!hosted) continue;
      const inside = segs.slice(depth);
      const top = inside[0]!;
      const carrier = hosted.find(
        (c) =>
          normalizePythonName(c.name) === normalizePythonName(top) ||
          (topLevel.get(infoFolder(c.path)) ?? []).includes(top),
      );
      if (carrier) out.set(d, inside.some(isNotBundledFolder) ? 'test-data' : carrier);
      break;
    }
  }
  return out;
}
