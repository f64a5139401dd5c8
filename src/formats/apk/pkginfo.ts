/**
 * `.PKGINFO`, the metadata of an apk v2 package (apk-tools doc/apk-v2.5: "keys and values are
 * separated by ` = ` and lines beginning with `#` are comments"; the keys are abuild's: `pkgname`,
 * `pkgver`, `pkgdesc`, `url`, `builddate`, `packager`, `size`, `arch`, `origin`, `commit`,
 * `maintainer`, `license`, `datahash`, and the repeated `depend`, `provides`, `replaces`,
 * `install_if`, `triggers`). apk-tools splits a line at its first `=` and trims the blanks around
 * key and value, so this does too; a key may repeat, and every value is kept in order.
 */
import { WaybillError } from '../../errors.ts';

/** The fields of a .PKGINFO: key → values in file order. */
export type PkgInfo = ReadonlyMap<string, readonly string[]>;

/** abuild keys are lower-case identifiers; anything else on the left of `=` is not a field. */
const KEY = /^[a-z_][a-z0-9_]*$/;

/** Parses .PKGINFO text; a line that is not `key = value` (or a comment, or blank) is MALFORMED. */
export function parsePkgInfo(text: string, input: string): PkgInfo {
  const fields = new Map<string, string[]>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (!KEY.test(key)) {
      throw new WaybillError(
        'MALFORMED',
        input,
        `line ${i + 1}: expected "key = value", got ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    const value = line.slice(eq + 1).trim();
    const list = fields.get(key);
    if (list) list.push(value);
    else fields.set(key, [value]);
  }
  return fields;
}

/** The first non-empty value of a key. */
export function pkgInfoField(info: PkgInfo, key: string): string | undefined {
  return info.get(key)?.find((v) => v !== '');
}

/** Every non-empty value of a repeated key (`depend`, `provides`). */
export function pkgInfoList(info: PkgInfo, key: string): string[] {
  return (info.get(key) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}
