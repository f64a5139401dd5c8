/**
 * Folders that `.pth` files add to an interpreter's `sys.path` (CPython's site.py, `addpackage`):
 * each line of a `*.pth` file directly in a site folder names a folder, relative to the site folder
 * or absolute; `#` lines are comments and `import` lines are code, not folders. This is how
 * `pip install -e` of a setup.py project (`easy-install.pth` + `*.egg-link`), Poetry, PDM and
 * setuptools' PEP 660 "lenient" editable installs (`__editable__.*.pth`) make a source tree's
 * `foo.egg-info` or `src/` importable by exactly that interpreter: the folder's distributions are
 * seen as if they sat in the site folder (python-venv.ts).
 */
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';

/** A `.pth` file is a few lines; a big one is not site.py's. */
const MAX_PTH = 64 * 1024;

/** A folder name pip and Debian's Python install distributions into. */
export function isSiteFolder(name: string): boolean {
  return name === 'site-packages' || name === 'dist-packages';
}

export function wantPth(entry: FileEntry): boolean {
  const p = entry.path;
  if (!p.endsWith('.pth') || !hasContent(entry) || entry.size > MAX_PTH) return false;
  const end = p.lastIndexOf('/');
  return end > 0 && isSiteFolder(p.slice(p.lastIndexOf('/', end - 1) + 1, end));
}

/** `a/b/../c/.` → `a/c`; undefined when it climbs above the root. Paths have no leading `/`. */
function normalize(path: string): string | undefined {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

/** Each folder a `.pth` names → the site folders whose `.pth` files name it (sorted). */
export function pthFolders(files: readonly WalkedFile[]): Map<string, string[]> {
  // Sets, sorted once at the end: thousands of site folders may name one folder.
  const sitesOf = new Map<string, Set<string>>();
  for (const file of files) {
    if (!wantPth(file.entry)) continue;
    const site = file.entry.path.slice(0, file.entry.path.lastIndexOf('/'));
    for (const raw of file.data.toString('utf8').split(/\r?\n/)) {
      const line = raw.trimEnd();
      if (line === '' || line.startsWith('#') || /^import[ \t]/.test(line)) continue;
      const folder = normalize(line.startsWith('/') ? line : `${site}/${line}`);
      // The root itself holds no distributions; the site folder is already on the path.
      if (!folder || folder === site) continue;
      const sites = sitesOf.get(folder);
      if (sites) sites.add(site);
      else sitesOf.set(folder, new Set([site]));
    }
  }
  return new Map([...sitesOf].map(([folder, sites]) => [folder, [...sites].sort()]));
}
