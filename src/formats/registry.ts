/**
 * Every native metadata format for single-file artifacts, in detection order: the most specific
 * signatures first (ar, rpm lead, apk's signed gzip tar, zip, executables), tarball-content formats after them, disk images
 * last. Importing this module also registers the deb, rpm and apk payload walkers with the sources, so
 * the manifest engine sees the files inside packages.
 */
import { stat } from 'node:fs/promises';
import { readFileHead } from '../util/read-head.ts';
import { apkFormat } from './apk/apk-package.ts';
import { debFormat } from './deb/deb-format.ts';
import { executableFormat } from './executable/executable-facts.ts';
import type { NativeFormat } from './native.ts';
import { sdistFormat } from './python/sdist.ts';
import { wheelFormat } from './python/wheel-format.ts';
import { rpmFormat } from './rpm/rpm-package.ts';
import { diskImageFormat, rootfsFormat } from './system-image/system-image.ts';
import { vagrantBoxFormat, vagrantCatalogFormat } from './vagrant/vagrant.ts';

export const NATIVE_FORMATS: readonly NativeFormat[] = [
  debFormat,
  rpmFormat,
  apkFormat,
  wheelFormat,
  executableFormat,
  vagrantCatalogFormat,
  vagrantBoxFormat,
  sdistFormat,
  rootfsFormat,
  diskImageFormat,
];

/** Enough for every format's signature (the GPT header sits at byte 512, tar headers at 0 and 512). */
const HEAD_BYTES = 8192;

/** The native format of a file, or undefined for a file with no metadata of its own. */
export async function detectNativeFormat(path: string): Promise<NativeFormat | undefined> {
  const info = await stat(path);
  if (info.isDirectory()) {
    return (await rootfsFormat.confirm(path)) ? rootfsFormat : undefined;
  }
  const head = await readFileHead(path, HEAD_BYTES);
  for (const format of NATIVE_FORMATS) {
    if (!format.detect(head, path)) continue;
    if (format.confirm && !(await format.confirm(path))) continue;
    return format;
  }
  return undefined;
}
