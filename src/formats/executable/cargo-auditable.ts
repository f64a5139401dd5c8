/**
 * Rust dependency lists embedded by cargo-auditable: a section named `.dep-v0` (ELF, PE; Mach-O
 * `__DATA,.dep-v0`) holding zlib-compressed JSON `{"packages": [{name, version, source, kind,
 * dependencies, root}]}`. Decompression has a hard output cap: the section is attacker-controlled
 * and a few KiB of zlib can expand to gigabytes.
 */
import { inflateSync } from 'node:zlib';
import { WaybillError } from '../../errors.ts';
import { type Executable, findSection } from './sections.ts';

export const CARGO_AUDITABLE_SECTION = '.dep-v0';
/** cargo-auditable's own reader caps the JSON at 8 MiB; real lists are a few KiB. */
export const MAX_AUDIT_JSON = 8 * 1024 * 1024;

export interface CargoAuditPackage {
  name: string;
  version: string;
  /** `crates.io`, `local`, `git`, `registry`, or another string a future format adds. */
  source: string;
  /** `runtime` (default) or `build`. */
  kind: string;
  /** Indexes into `packages`. */
  dependencies: number[];
  root: boolean;
}

/** The section's bytes, or undefined when the executable has none. */
export function findAuditSection(exe: Executable): Buffer | undefined {
  for (const slice of exe.slices ?? [exe]) {
    const s =
      findSection(slice, CARGO_AUDITABLE_SECTION) ?? findSection(slice, `__DATA,${CARGO_AUDITABLE_SECTION}`);
    if (s && s.data.length > 0) return s.data;
  }
  return undefined;
}

/** Inflate with a hard output cap; a bigger result → LIMIT, broken zlib → MALFORMED. */
export function inflateCapped(data: Buffer, max: number, name: string): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: max });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (
      code === 'ERR_BUFFER_TOO_LARGE' ||
      (e instanceof RangeError && /maxOutputLength|too large/i.test(e.message))
    ) {
      throw new WaybillError('LIMIT', name, `.dep-v0 expands past ${max} bytes (a zlib bomb?)`);
    }
    throw new WaybillError('MALFORMED', name, '.dep-v0 section is not valid zlib data');
  }
}

/** Decode the compressed dependency list. Throws WaybillError (MALFORMED, LIMIT). */
export function decodeAuditData(data: Buffer, name: string, max = MAX_AUDIT_JSON): CargoAuditPackage[] {
  const json = inflateCapped(data, max, name);
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8'));
  } catch {
    throw new WaybillError('MALFORMED', name, '.dep-v0 does not hold valid JSON');
  }
  const list = (doc as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(list)) throw new WaybillError('MALFORMED', name, '.dep-v0 JSON has no "packages" array');
  return list.map((p, i) => {
    if (typeof p !== 'object' || p === null)
      throw new WaybillError('MALFORMED', name, `.dep-v0 package ${i} is not an object`);
    const o = p as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name === '' || typeof o.version !== 'string') {
      throw new WaybillError('MALFORMED', name, `.dep-v0 package ${i} has no name or version`);
    }
    const deps = Array.isArray(o.dependencies) ? o.dependencies : [];
    return {
      name: o.name,
      version: o.version,
      source: typeof o.source === 'string' ? o.source : 'crates.io',
      kind: typeof o.kind === 'string' ? o.kind : 'runtime',
      dependencies: deps.filter((d): d is number => Number.isInteger(d) && d >= 0 && d < list.length),
      root: o.root === true,
    };
  });
}

/** The dependency list of a parsed executable; undefined when it has no `.dep-v0` section. */
export function readCargoAudit(exe: Executable, name: string): CargoAuditPackage[] | undefined {
  const data = findAuditSection(exe);
  return data ? decodeAuditData(data, name) : undefined;
}
