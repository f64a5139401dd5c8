/**
 * The shape yarn and pnpm lockfiles are read into: one entry per locked package (name and version),
 * with the packages it depends on as the lockfile resolved them. Unlike package-lock.json these
 * lockfiles record no install paths, so their edges are name@version pairs, not folders to resolve.
 */
import { createRequire } from 'node:module';
import type { parse as YamlParse } from 'yaml';
import { WaybillError } from '../errors.ts';
import { isObject, type Json } from './npm-lockfile.ts';

/** Lockfiles past this size are not read (a large monorepo's yarn.lock is a few MB). */
export const MAX_FLAT_LOCKFILE_BYTES = 64 * 1024 * 1024;

export interface LockedPackage {
  /** The real package name (an alias install is recorded under the aliased package). */
  name: string;
  version: string;
  /** The lockfile's SRI `integrity` (`sha512-…`), when it records one. */
  integrity?: string;
  /** pnpm v5/v6 `dev`; undefined where the lockfile does not say (pnpm v9, yarn). */
  dev?: boolean;
  optional: boolean;
  /** `name@version` of each locked package this one depends on, sorted. */
  dependsOn: string[];
}

export const lockedId = (name: string, version: string): string => `${name}@${version}`;

/** One line naming the lockfile and what is wrong with it; the cataloger warns and skips the file. */
export function malformedLock(path: string, reason: string): WaybillError {
  return new WaybillError('MALFORMED', path, reason);
}

/**
 * Collects entries by name@version: one lockfile may list the same package more than once (pnpm
 * snapshots per peer set, yarn berry's patched copies). Edges are united; a package is dev only when
 * every occurrence is; the first integrity stays.
 */
export class LockedSet {
  private readonly byId = new Map<string, LockedPackage & { devVotes: Array<boolean | undefined> }>();

  add(pkg: LockedPackage): void {
    const id = lockedId(pkg.name, pkg.version);
    const seen = this.byId.get(id);
    if (!seen) {
      this.byId.set(id, { ...pkg, dependsOn: [...pkg.dependsOn], devVotes: [pkg.dev] });
      return;
    }
    seen.integrity ??= pkg.integrity;
    seen.optional &&= pkg.optional;
    seen.devVotes.push(pkg.dev);
    seen.dependsOn = [...new Set([...seen.dependsOn, ...pkg.dependsOn])];
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The packages, sorted by id; edges to packages the lockfile does not list are dropped. */
  packages(): LockedPackage[] {
    const out: LockedPackage[] = [];
    for (const [id, { devVotes, ...pkg }] of [...this.byId].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )) {
      const dev = devVotes.some((v) => v === undefined) ? undefined : devVotes.every(Boolean);
      const dependsOn = pkg.dependsOn.filter((d) => d !== id && this.byId.has(d)).sort();
      out.push({ ...pkg, dev, dependsOn });
    }
    return out;
  }
}

/**
 * `name@range` (a yarn key or pnpm id) split at the `@` that ends the name: the first one after a
 * scope's leading `@`. Undefined when there is no such `@`.
 */
export function splitAtVersion(spec: string): [string, string] | undefined {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return [spec.slice(0, at), spec.slice(at + 1)];
}

let parseYaml: typeof YamlParse | undefined;

/**
 * `yaml`, loaded when the first YAML lockfile is read: 70 modules and 20-40 ms of start-up that every
 * `sbom` run paid on the main thread and in each walk worker (they load the catalogers' filters),
 * though most artifacts hold no pnpm or yarn berry lockfile. The package is CommonJS under Node, so a
 * synchronous require keeps the catalogers synchronous.
 */
function yamlParser(): typeof YamlParse {
  parseYaml ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return parseYaml;
}

/**
 * A YAML lockfile (pnpm-lock.yaml, yarn berry) → its top map. The failsafe schema keeps every scalar
 * a string (`lockfileVersion: 5.4`, a version `1.10` stay as written); lockfiles use no aliases, so
 * none are expanded; YAML warnings (unknown tags) are not printed. Duplicate keys are not checked:
 * `yaml`'s check compares every key with every other (20 000 packages: 8 s instead of 0.5 s), and a
 * repeated key keeps its last value, as JSON.parse does for package-lock.json.
 */
export function parseLockYaml(text: string, path: string): Json {
  let doc: unknown;
  try {
    doc = yamlParser()(text, { schema: 'failsafe', maxAliasCount: 0, uniqueKeys: false, logLevel: 'error' });
  } catch (e) {
    throw malformedLock(path, `not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isObject(doc)) throw malformedLock(path, 'not a YAML map');
  return doc;
}
