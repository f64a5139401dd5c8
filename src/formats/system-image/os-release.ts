/**
 * os-release(5): the operating system identification file of a root filesystem. The engine reads it
 * before any OS package cataloger, because the distro qualifies deb/apk/rpm purls.
 *
 * Format (os-release(5) "Description"): newline-separated `KEY=VALUE` assignments compatible with
 * shell syntax but without expansion; values may be enclosed in double or single quotes; in double
 * quotes `\\`, `\"`, `\$` and `` \` `` are escapes; `#` starts a comment line; blank lines are ignored.
 */

import type { Distro } from '../../catalog/types.ts';
import { WaybillError } from '../../errors.ts';
import { type FileEntry, hasContent } from '../../sources/types.ts';

/** Paths in the order os-release(5) reads them: /etc/os-release wins over /usr/lib/os-release. */
export const OS_RELEASE_PATHS = ['etc/os-release', 'usr/lib/os-release'] as const;

/** Cheap matcher for the walker: exactly the two os-release locations. */
export function wantOsRelease(entry: FileEntry): boolean {
  return entry.path === 'etc/os-release' || entry.path === 'usr/lib/os-release';
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse os-release text into all its keys. Malformed lines throw WaybillError MALFORMED. */
export function parseOsRelease(text: string, input = 'os-release'): Record<string, string> {
  if (text.length > 1024 * 1024) throw new WaybillError('LIMIT', input, 'os-release larger than 1 MiB');
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq) : '';
    if (!KEY.test(key)) throw new WaybillError('MALFORMED', input, `line ${i + 1}: expected KEY=VALUE`);
    out[key] = unquote(line.slice(eq + 1), input, i + 1);
  }
  return out;
}

/** Shell-style value: sequences of bare words and quoted strings, concatenated (as `sh` would). */
function unquote(raw: string, input: string, lineNo: number): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i] as string;
    if (c === '"') {
      i++;
      let closed = false;
      while (i < raw.length) {
        const d = raw[i] as string;
        if (d === '\\' && i + 1 < raw.length && '\\"$`'.includes(raw[i + 1] as string)) {
          out += raw[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          closed = true;
          break;
        } else {
          out += d;
          i++;
        }
      }
      if (!closed) throw new WaybillError('MALFORMED', input, `line ${lineNo}: unterminated double quote`);
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) throw new WaybillError('MALFORMED', input, `line ${lineNo}: unterminated single quote`);
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1] as string))) {
      break; // an unquoted '#' after whitespace starts a comment in shell syntax
    } else if (/\s/.test(c)) {
      // Unquoted whitespace would end the assignment in sh; tolerate trailing spaces only.
      if (raw.slice(i).trim() === '' || raw.slice(i).trim().startsWith('#')) break;
      throw new WaybillError('MALFORMED', input, `line ${lineNo}: unquoted whitespace in value`);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The Distro a purl is qualified with, or undefined when the file has no ID. */
export function distroFromOsRelease(fields: Record<string, string>): Distro | undefined {
  // os-release(5): ID defaults to "linux" when absent; an absent ID tells us nothing useful.
  const id = fields.ID?.trim().toLowerCase();
  // os-release(5): ID is limited to 0–9, a–z, ".", "_" and "-"; anything else would not be a safe
  // purl namespace (a "/" would split it), so such a file names no distro.
  if (!id || !/^[a-z0-9._-]+$/.test(id)) return undefined;
  const distro: Distro = { id };
  if (fields.VERSION_ID) distro.versionId = fields.VERSION_ID;
  if (fields.VERSION_CODENAME) distro.versionCodename = fields.VERSION_CODENAME;
  if (fields.NAME) distro.name = fields.NAME;
  if (fields.PRETTY_NAME) distro.prettyName = fields.PRETTY_NAME;
  return distro;
}

/**
 * Find the distro among walked files: etc/os-release first, then usr/lib/os-release. A file that
 * does not parse is reported through `warn` and the next one is tried.
 */
export function distroFromFiles(
  files: Array<{ entry: FileEntry; data: Buffer }>,
  warn: (path: string, reason: string) => void = () => {},
): Distro | undefined {
  for (const path of OS_RELEASE_PATHS) {
    const file = files.find((f) => f.entry.path === path && hasContent(f.entry));
    if (!file) continue;
    try {
      const distro = distroFromOsRelease(parseOsRelease(file.data.toString('utf8'), path));
      if (distro) return distro;
      warn(path, 'os-release has no usable ID');
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
      warn(path, e.reason);
    }
  }
  return undefined;
}

/** The purl `distro` qualifier: `<id>-<version_id>`, else `<id>-<codename>`, else `<id>`. */
export function distroQualifier(distro: Distro): string {
  const version = distro.versionId ?? distro.versionCodename;
  return version ? `${distro.id}-${version}` : distro.id;
}

/** The engine's distro reader: os-release bytes → Distro (undefined without ID). Throws WaybillError. */
export function readOsRelease(data: Buffer, path: string): Distro | undefined {
  return distroFromOsRelease(parseOsRelease(data.toString('utf8'), path));
}
