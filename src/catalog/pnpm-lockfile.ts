/**
 * pnpm-lock.yaml (pnpm's "lockfile" format), lockfileVersion 5.x, 6.x and 9.x, read with `yaml`.
 *
 * Every version keys its `packages` map by a package id; they differ in spelling:
 * - 5.x: `/name/1.0.0`, `/@scope/name/1.0.0`, peers appended as `_peer@2.0.0`;
 * - 6.x: `/name@1.0.0`, peers appended as `(peer@2.0.0)`;
 * - 9.x: `name@1.0.0` in `packages` (resolution, metadata) and the same id with peers in `snapshots`
 *   (dependencies). 9.x dropped the `dev` flag that 5.x and 6.x record per package.
 * A dependency's value is the version (with the same peer suffix), or a full id for an alias
 * (`/real/1.0.0`, `/real@1.0.0`, `real@1.0.0`); `link:` values are the project's own folders.
 * Packages that did not come from a registry (git, tarball URLs) carry their own `name` and `version`.
 */

import {
  type LockedPackage,
  LockedSet,
  lockedId,
  malformedLock,
  parseLockYaml,
  splitAtVersion,
} from './npm-flat-lock.ts';
import { isObject, type Json, str } from './npm-lockfile.ts';

type Dialect = 5 | 6 | 9;

function dialectOf(version: unknown, path: string): Dialect {
  const major = typeof version === 'string' ? Number.parseInt(version, 10) : Number.NaN;
  if (major === 5 || major === 6 || major === 9) return major;
  throw malformedLock(
    path,
    `unsupported pnpm lockfileVersion ${JSON.stringify(String(version).slice(0, 20))}`,
  );
}

/** A package id → name and version, peers dropped; undefined for ids that are no name@version. */
function parseId(id: string, dialect: Dialect): [string, string] | undefined {
  let rest = id.startsWith('/') ? id.slice(1) : id;
  if (dialect === 5) {
    // `/@scope/name/1.0.0_peer@2.0.0`: the version is the segment after the name.
    const segs = rest.split('/');
    const nameSegs = segs[0]!.startsWith('@') ? 2 : 1;
    if (segs.length !== nameSegs + 1) return undefined;
    const version = segs[nameSegs]!.split('_')[0]!;
    return version ? [segs.slice(0, nameSegs).join('/'), version] : undefined;
  }
  const paren = rest.indexOf('(');
  if (paren >= 0) rest = rest.slice(0, paren);
  const split = splitAtVersion(rest);
  return split && split[1] !== '' ? split : undefined;
}

/** A dependency's value (`2.1.2`, `2.1.2(peer@1)`, an alias id) → name@version of the package. */
function depTarget(name: string, value: string, dialect: Dialect): string | undefined {
  if (value.startsWith('link:') || value.startsWith('file:')) return undefined;
  const looksLikeId =
    dialect === 9 ? splitAtVersion(value.split('(')[0]!) !== undefined : value.startsWith('/');
  if (looksLikeId) {
    const parsed = parseId(value, dialect);
    return parsed ? lockedId(...parsed) : undefined;
  }
  const version = dialect === 5 ? value.split('_')[0]! : value.split('(')[0]!;
  return version ? lockedId(name, version) : undefined;
}

function depsOf(entry: Json, dialect: Dialect): string[] {
  const out: string[] = [];
  for (const field of ['dependencies', 'optionalDependencies']) {
    const deps = entry[field];
    if (!isObject(deps)) continue;
    for (const [name, value] of Object.entries(deps)) {
      const target = typeof value === 'string' ? depTarget(name, value, dialect) : undefined;
      if (target) out.push(target);
    }
  }
  return out;
}

function nameAndVersion(id: string, entry: Json, dialect: Dialect): [string, string] | undefined {
  const name = str(entry.name);
  const version = str(entry.version);
  if (name && version) return [name, version];
  return parseId(id, dialect);
}

/** The packages a pnpm-lock.yaml locks; throws a MALFORMED WaybillError naming `path`. */
export function pnpmLockPackages(text: string, path: string): LockedPackage[] {
  const doc = parseLockYaml(text, path);
  const dialect = dialectOf(doc.lockfileVersion, path);
  const packages = isObject(doc.packages) ? doc.packages : {};
  const set = new LockedSet();
  const add = (id: string, entry: Json, meta: Json) => {
    const nv = nameAndVersion(id, meta, dialect) ?? nameAndVersion(id, entry, dialect);
    if (!nv) return;
    const resolution = isObject(meta.resolution) ? meta.resolution : {};
    const integrity = str(resolution.integrity);
    set.add({
      name: nv[0],
      version: nv[1],
      ...(integrity ? { integrity } : {}),
      dev: entry.dev === 'true' ? true : entry.dev === 'false' ? false : undefined,
      optional: entry.optional === 'true',
      dependsOn: depsOf(entry, dialect),
    });
  };
  if (dialect === 9) {
    // Metadata lives under the id without peers; each snapshot (one per peer set) has the edges.
    const snapshots = isObject(doc.snapshots) ? doc.snapshots : {};
    for (const [id, entry] of Object.entries(snapshots)) {
      if (!isObject(entry)) continue;
      const base = id.includes('(') ? id.slice(0, id.indexOf('(')) : id;
      add(id, entry, isObject(packages[base]) ? packages[base] : entry);
    }
    // A package with no snapshot (pnpm always writes one; a hand-trimmed file might not).
    for (const [id, meta] of Object.entries(packages)) {
      const nv = isObject(meta) ? nameAndVersion(id, meta, dialect) : undefined;
      if (nv && isObject(meta) && !set.has(lockedId(...nv))) add(id, {}, meta);
    }
  } else {
    for (const [id, entry] of Object.entries(packages)) if (isObject(entry)) add(id, entry, entry);
  }
  return set.packages();
}
