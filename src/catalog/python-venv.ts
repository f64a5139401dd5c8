/**
 * Which site-packages folders a Python installation sees, for resolving Requires-Dist. A virtual
 * environment (PEP 405) is marked by `pyvenv.cfg` in its root: its interpreter imports from its own
 * site-packages only, plus the system's when the file says `include-system-site-packages = true`
 * (CPython's site.py reads the key case-insensitively and compares the value with "true"). No
 * interpreter outside a venv sees the venv's packages.
 */
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';

/** pyvenv.cfg files are a few lines; a big one is not a venv's. */
const MAX_PYVENV_CFG = 64 * 1024;

export function wantPyvenvCfg(entry: FileEntry): boolean {
  return (
    hasContent(entry) &&
    entry.size <= MAX_PYVENV_CFG &&
    (entry.path === 'pyvenv.cfg' || entry.path.endsWith('/pyvenv.cfg'))
  );
}

/** The venvs of a walk: root folder → whether it includes the system site-packages. */
export function venvRoots(files: readonly WalkedFile[]): Map<string, boolean> {
  const roots = new Map<string, boolean>();
  for (const file of files) {
    if (!wantPyvenvCfg(file.entry)) continue;
    const path = file.entry.path;
    const root = path.slice(0, Math.max(0, path.length - '/pyvenv.cfg'.length));
    let system = false;
    for (const line of file.data.toString('utf8').split(/\r?\n/)) {
      const eq = line.indexOf('=');
      if (eq < 0 || line.slice(0, eq).trim().toLowerCase() !== 'include-system-site-packages') continue;
      system =
        line
          .slice(eq + 1)
          .trim()
          .toLowerCase() === 'true';
    }
    roots.set(root, system);
  }
  return roots;
}

/** The venv root a site-packages folder belongs to (the deepest root above it), if any. */
function venvOf(roots: ReadonlyMap<string, boolean>, folder: string): string | undefined {
  let best: string | undefined;
  for (const root of roots.keys()) {
    const inside = root === '' || folder.startsWith(`${root}/`);
    if (inside && (best === undefined || root.length > best.length)) best = root;
  }
  return best;
}

/** Whether an interpreter importing from site-packages folder `from` can import what `to` holds. */
export function folderSees(roots: ReadonlyMap<string, boolean>, from: string, to: string): boolean {
  if (from === to) return true;
  const fromVenv = venvOf(roots, from);
  const toVenv = venvOf(roots, to);
  if (toVenv !== undefined) return toVenv === fromVenv;
  return fromVenv === undefined || roots.get(fromVenv) === true;
}
