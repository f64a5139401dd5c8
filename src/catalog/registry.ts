/**
 * Every cataloger waybill knows, in one list. Adding an ecosystem is one import and one entry here.
 * The order is the merge order: when two catalogers report the same purl, the first one's fields win
 * (the engine merges evidence paths and keeps the earliest layer).
 */
import { WaybillError } from '../errors.ts';
import { readOsRelease } from '../formats/system-image/os-release.ts';
import { apkCataloger } from './apk.ts';
import { dpkgCataloger } from './dpkg.ts';
import { elfPackageNoteCataloger } from './elf-package-note.ts';
import type { DistroReader } from './engine.ts';
import { goCataloger } from './go.ts';
import { javaCataloger } from './java.ts';
import { npmCataloger } from './npm.ts';
import { pythonCataloger } from './python.ts';
import { rpmCataloger } from './rpm.ts';
import { rustCataloger } from './rust.ts';
import type { Cataloger } from './types.ts';

const ALL: readonly Cataloger[] = [
  // OS package databases first: their purls carry the distro and their records are the most complete.
  dpkgCataloger,
  apkCataloger,
  rpmCataloger,
  // Language ecosystems.
  pythonCataloger,
  npmCataloger,
  goCataloger,
  rustCataloger,
  javaCataloger,
  // Binaries that describe themselves.
  elfPackageNoteCataloger,
];

/** The os-release reader the engine uses to find the distro. */
export const defaultDistroReader: DistroReader = { read: readOsRelease };

export function defaultCatalogers(): Cataloger[] {
  return [...ALL];
}

export function catalogerNames(): string[] {
  return ALL.map((c) => c.name);
}

/** The catalogers with the given names, in registry order; an unknown name is a usage error. */
export function selectCatalogers(names: readonly string[]): Cataloger[] {
  const known = new Set(catalogerNames());
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new WaybillError(
      'USAGE',
      unknown.join(', '),
      `unknown cataloger; known: ${catalogerNames().join(', ')}`,
    );
  }
  return ALL.filter((c) => names.includes(c.name));
}
