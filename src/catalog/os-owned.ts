/**
 * Files that an installed OS package owns (dpkg md5sums lists, apk's installed database, the rpmdb),
 * and what the engine drops because of them: evidence an OS package shipped is accounted for by that
 * package, not by a second component of its own.
 */

import type { WalkedFile } from '../sources/types.ts';
import { apkCataloger, apkOwnedFiles } from './apk.ts';
import { dpkgCataloger, dpkgOwnedFiles } from './dpkg.ts';
import { rpmCataloger, rpmOwnedFiles } from './rpm.ts';
import type { CatalogContext, Cataloger, Component } from './types.ts';

const OWNERS: ReadonlyArray<
  readonly [Cataloger, (files: WalkedFile[], ctx: CatalogContext) => Map<string, string>]
> = [
  [dpkgCataloger, dpkgOwnedFiles],
  [apkCataloger, apkOwnedFiles],
  [rpmCataloger, rpmOwnedFiles],
];

/** Path inside the artifact (no leading `/`) → the purl of the installed OS package that owns it. */
export function osOwnedFiles(files: WalkedFile[], ctx: CatalogContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const [cataloger, owned] of OWNERS) {
    // The package databases are chosen by path alone (no sniffing).
    const db = files.filter((f) => cataloger.want(f.entry) === true);
    if (db.length === 0) continue;
    for (const [path, purl] of owned(db, { ...ctx, warn: () => {} })) out.set(path, purl);
  }
  return out;
}

/** Debian's merged /usr: dpkg may list `lib/x.so` while the walk sees `usr/lib/x.so`, or the reverse. */
const MERGED_USR = /^(bin|sbin|lib|lib32|lib64|libx32)\//;

export function usrAliases(path: string): string[] {
  if (MERGED_USR.test(path)) return [path, `usr/${path}`];
  if (path.startsWith('usr/') && MERGED_USR.test(path.slice(4))) return [path, path.slice(4)];
  return [path];
}

/** Every evidence file of the component is owned by an installed OS package. */
export function ownedByOsPackage(c: Component, owned: ReadonlyMap<string, string>): boolean {
  return c.foundAt.length > 0 && c.foundAt.every((p) => usrAliases(p).some((alias) => owned.has(alias)));
}

/**
 * A lockfile that an OS package ships inside a package it installs (Debian's
 * `/usr/share/nodejs/lodash-cli/npm-shrinkwrap.json`) is the upstream project's record of its own
 * build, not a source tree of the artifact: the distro packages those dependencies separately
 * (node-* debs), and what the lockfile names is not installed. Its declared-only components are
 * dropped, as Trivy and Syft read lockfiles only when scanning a source tree, never in an OS image.
 */
export function isDeclaredByOsPackage(c: Component, owned: ReadonlyMap<string, string>): boolean {
  return c.presence === 'declared' && ownedByOsPackage(c, owned);
}
