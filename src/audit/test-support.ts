/** Shared by the audit tests: where the real OSV data is, and an independent count of it. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const OSV = join(SHARED, 'osv');
export const GO_DB = join(OSV, 'go-vulndb', 'osv');
export const PYPA_DB = join(OSV, 'pypa-advisory-db', 'json');
export const RUSTSEC_DB = join(OSV, 'rustsec-osv', 'crates');
export const GHSA_SAMPLE = join(OSV, 'github-advisory-database-sample');
export const DISTRO = join(OSV, 'distro-osv-samples');
export const OSV_SCHEMA = join(SHARED, 'schemas', 'osv', 'schema.json');

export function haveShared(...paths: string[]): boolean {
  return paths.every((p) => existsSync(p));
}

/** Every `*.json` under a directory, sorted (the same walk `find -name '*.json'` does). */
export function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}
