/**
 * Licenses of a Debian package from its `/usr/share/doc/<package>/copyright` file.
 *
 * Machine-readable files (DEP-5, "Machine-readable debian/copyright file", copyright-format 1.0)
 * name each license in the first line of a `License:` field of the header and `Files` paragraphs: a
 * short name, or an expression of short names with `or`, `and`, a lower-precedence `,` and
 * `with <name> exception`. Short names are mapped to SPDX ids by the spec's own table (§7.2 "Short
 * names": `GPL-2+` is GPL version 2 or later, `Expat` is MIT…); a name the table does not cover and
 * no SPDX id matches is kept as written (a CycloneDX license name, an SPDX `LicenseRef-`): never an
 * invented id.
 *
 * Other copyright files are free text; only what names a license unambiguously is used: the FSF's
 * "either version N of the License, or (at your option) any later version" notice, references to the
 * license texts Debian ships in `/usr/share/common-licenses/`, a few license titles, and the MIT and
 * BSD texts quoted whole (license-bodies.ts).
 */
import spdxExceptions from 'spdx-exceptions/index.json' with { type: 'json' };
import { isSpdxLicenseId, knownLicenseId } from '../sbom/license.ts';
import { type FileEntry, hasContent, type WalkedFile } from '../sources/types.ts';
import { memoizeString } from '../util/string-memo.ts';
import { licensesInBodies } from './license-bodies.ts';

/** DEP-5 short names that are not spelled as their SPDX id (matched case-insensitively). */
const SHORT_NAMES = new Map<string, string>(
  Object.entries({
    expat: 'MIT',
    'mit/x11': 'MIT',
    artistic: 'Artistic-1.0-Perl',
    'artistic-1': 'Artistic-1.0',
    'artistic-2': 'Artistic-2.0',
    'bsd-2-clause': 'BSD-2-Clause',
    'bsd-3-clause': 'BSD-3-Clause',
    'bsd-4-clause': 'BSD-4-Clause',
    'bsd-4-clause-uc': 'BSD-4-Clause-UC',
    cc0: 'CC0-1.0',
    'efl-1': 'EFL-1.0',
    'efl-2': 'EFL-2.0',
    perl: 'Artistic-1.0-Perl OR GPL-1.0-or-later',
    'psf-2': 'PSF-2.0',
    'python-2': 'Python-2.0',
    'apache-1': 'Apache-1.0',
    'apache-2': 'Apache-2.0',
    'zope-1.1': 'ZPL-1.1',
    'zope-2.0': 'ZPL-2.0',
    'zope-2.1': 'ZPL-2.1',
    'mpl-1.1': 'MPL-1.1',
    'mpl-2': 'MPL-2.0',
    'openldap-2.8': 'OLDAP-2.8',
    zlib: 'Zlib',
  }),
);

/**
 * The GNU family, in every spelling Debian files use: `GPL-2`, `GPL-2.0`, `GPLv2`, with `+` for "or
 * later" (DEP-5: the version with `+` is "that version or any later"). GFDL-NIV is the GFDL with no
 * invariant sections.
 */
const GNU = /^(a?gpl|lgpl|gfdl|gfdl-niv)[-v]?(\d(?:\.\d)?)(\.0)?(\+)?$/i;
const GNU_VERSIONS: Record<string, string[]> = {
  GPL: ['1.0', '2.0', '3.0'],
  LGPL: ['2.0', '2.1', '3.0'],
  AGPL: ['1.0', '3.0'],
  GFDL: ['1.1', '1.2', '1.3'],
};

function gnuId(name: string): string | undefined {
  const m = GNU.exec(name);
  if (!m) return undefined;
  const family = m[1]!.toUpperCase();
  const base = family === 'GFDL-NIV' ? 'GFDL' : family;
  const version = m[2]!.includes('.') ? m[2]! : `${m[2]}.0`;
  if (!Object.hasOwn(GNU_VERSIONS, base) || !GNU_VERSIONS[base]!.includes(version)) return undefined;
  const niv = family === 'GFDL-NIV' ? '-no-invariants' : '';
  return `${base}-${version}${niv}-${m[4] ? 'or-later' : 'only'}`;
}

/** One short name → an SPDX id (or a small expression, for `Perl`), or undefined when none fits. */
export function spdxForShortName(name: string): string | undefined {
  const lower = name.toLowerCase();
  const mapped = SHORT_NAMES.get(lower) ?? gnuId(name) ?? knownLicenseId(name);
  if (mapped && (isSpdxLicenseId(mapped) || mapped.includes(' OR '))) return mapped;
  // `Apache-2.0+`: an SPDX id with DEP-5's "or later".
  if (name.endsWith('+')) {
    const id = knownLicenseId(name.slice(0, -1));
    if (id) return `${id}+`;
  }
  return undefined;
}

const EXCEPTIONS_LOWER = new Map((spdxExceptions as string[]).map((e) => [e.toLowerCase(), e]));

/** `Bison-2.2` (from "with Bison-2.2 exception") → the SPDX exception id, when exactly one fits. */
function spdxException(name: string): string | undefined {
  const lower = name.toLowerCase();
  const exact = EXCEPTIONS_LOWER.get(`${lower}-exception`) ?? EXCEPTIONS_LOWER.get(lower);
  if (exact) return exact;
  const prefixed = [...EXCEPTIONS_LOWER.keys()].filter((e) => e.startsWith(`${lower}-exception-`));
  return prefixed.length === 1 ? EXCEPTIONS_LOWER.get(prefixed[0]!) : undefined;
}

/** A short name, optionally `with X exception`: no other whitespace is allowed in one. */
const LEAF = /^(\S+)(?:\s+with\s+(\S+)\s+exception)?$/i;

/** One leaf → SPDX, or undefined when it cannot be said in SPDX ids. */
function spdxLeaf(leaf: string): string | undefined {
  const m = LEAF.exec(leaf.trim());
  if (!m) return undefined;
  const license = spdxForShortName(m[1]!);
  if (!license || license.includes(' ')) return m[2] ? undefined : license && `(${license})`;
  if (!m[2]) return license;
  const exception = spdxException(m[2]);
  return exception ? `${license} WITH ${exception}` : undefined;
}

function isShortNameExpression(synopsis: string): boolean {
  const leaves = synopsis.split(/\s*,\s*(?:(?:or|and)\s+)?|\s+(?:or|and)\s+/i).filter((p) => p !== '');
  // A synopsis of separators alone (`,`) names no license.
  return leaves.length > 0 && leaves.every((leaf) => LEAF.test(leaf) && leaf.length <= 80);
}

/**
 * A DEP-5 license synopsis → one SPDX expression when every name in it maps, else the synopsis as
 * written. `,` binds loosest (DEP-5 §7.2: "A or B, and C" is "(A or B) and C"), then `or`, then
 * `and` (SPDX precedence: AND binds tighter than OR). Undefined for a line that is not a synopsis.
 * Remembered (util/string-memo.ts): a root file system's copyright files repeat a few hundred
 * synopses thousands of times.
 */
export const licenseFromSynopsis = memoizeString(synopsisLicense);

function synopsisLicense(synopsis: string): string | undefined {
  const text = synopsis.trim();
  if (text === '' || !isShortNameExpression(text)) return undefined;
  const groups = text.split(/\s*,\s*(?:and\s+|or\s+)?/i).filter((g) => g !== '');
  const joiners = [...text.matchAll(/,\s*(and|or)?\s*/gi)].map((m) =>
    m[1]?.toLowerCase() === 'or' ? 'OR' : 'AND',
  );
  const spdxGroups: string[] = [];
  for (const group of groups) {
    const alternatives = group.split(/\s+or\s+/i).map((alt) => {
      const parts = alt.split(/\s+and\s+/i).map(spdxLeaf);
      return parts.every((p) => p !== undefined) ? parts.join(' AND ') : undefined;
    });
    if (alternatives.some((a) => a === undefined)) return text;
    spdxGroups.push(
      alternatives.length > 1
        ? alternatives.map((a) => (a!.includes(' AND ') ? `(${a})` : a)).join(' OR ')
        : alternatives[0]!,
    );
  }
  if (spdxGroups.length === 1) return unwrapped(spdxGroups[0]!);
  const wrap = (g: string) => (/\s/.test(g) && !isWrapped(g) ? `(${g})` : g);
  return spdxGroups.map((g, i) => `${i > 0 ? ` ${joiners[i - 1]} ` : ''}${wrap(g)}`).join('');
}

/** `(…)` whose opening parenthesis closes at the very end. */
function isWrapped(expression: string): boolean {
  if (!expression.startsWith('(')) return false;
  let depth = 0;
  for (let i = 0; i < expression.length; i++) {
    if (expression[i] === '(') depth++;
    else if (expression[i] === ')' && --depth === 0) return i === expression.length - 1;
  }
  return false;
}

function unwrapped(expression: string): string {
  return isWrapped(expression) ? expression.slice(1, -1) : expression;
}

/** DEP-5: the first paragraph carries `Format:` (the URI of the copyright-format spec). */
export function isMachineReadable(text: string): boolean {
  return /^Format:\s*\S/i.test(text.replace(/^\uFEFF/, '').trimStart());
}

/**
 * The `License:` synopses of a DEP-5 file's header and Files paragraphs, in order of first use.
 * Stand-alone License paragraphs (no Files field) only give the text of a name used elsewhere.
 */
function dep5Synopses(text: string): string[] {
  const used: string[] = [];
  const standalone: string[] = [];
  for (const paragraph of text.split(/\r?\n[ \t]*\r?\n/)) {
    const license = /^License:[ \t]*(.*)$/im.exec(paragraph)?.[1]?.trim();
    if (!license) continue;
    const target = /^Files:/im.test(paragraph) || /^Format:/im.test(paragraph) ? used : standalone;
    if (!target.includes(license)) target.push(license);
  }
  return used.length > 0 ? used : standalone;
}

/** `/usr/share/common-licenses/<name>` → SPDX, for the texts base-files ships. */
const COMMON_LICENSES = new Map<string, string>(
  Object.entries({
    'Apache-2.0': 'Apache-2.0',
    Artistic: 'Artistic-1.0-Perl',
    BSD: 'BSD-3-Clause',
    'CC0-1.0': 'CC0-1.0',
    'MPL-1.1': 'MPL-1.1',
    'MPL-2.0': 'MPL-2.0',
  }),
);

const LATER = /or\s+\(at\s+your\s+option\)\s+any\s+later\s+version/i;

/** The FSF notice: "GNU [Lesser|Library|Affero] General Public License … either version N … or … later". */
const FSF_NOTICE =
  /GNU\s+(Lesser\s+|Library\s+|Affero\s+)?General\s+Public\s+License[\s\S]{0,200}?version\s+(\d(?:\.\d)?)(?:\s+of\s+the\s+License)?,?\s+(or\s+\(at\s+your\s+option\)\s+any\s+later\s+version)?/gi;

/** Titles that name one license and nothing else. */
const TITLES: Array<[RegExp, string]> = [
  [/PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2/, 'PSF-2.0'],
  [/Apache License,?\s+Version 2\.0/i, 'Apache-2.0'],
  [/Mozilla Public License,?\s+v(?:ersion|\.)\s*2\.0/i, 'MPL-2.0'],
];

function free(text: string): string[] {
  const out: string[] = [];
  const add = (id: string | undefined) => {
    if (id && !out.includes(id)) out.push(id);
  };
  for (const m of text.matchAll(FSF_NOTICE)) {
    const kind = m[1]?.trim().toLowerCase();
    const family = kind === 'affero' ? 'AGPL' : kind === 'lesser' || kind === 'library' ? 'LGPL' : 'GPL';
    add(gnuId(`${family}-${m[2]}${m[3] ? '+' : ''}`));
  }
  const later = LATER.test(text);
  for (const m of text.matchAll(/\/usr\/share\/common-licenses\/([A-Za-z0-9.+-]*[A-Za-z0-9+])/g)) {
    const name = m[1]!;
    const gnu = GNU.test(name) ? gnuId(later && !name.endsWith('+') ? `${name}+` : name) : undefined;
    // A bare `GPL`/`LGPL` reference names no version: only the notice above can say which.
    add(gnu ?? COMMON_LICENSES.get(name));
  }
  for (const [title, id] of TITLES) if (title.test(text)) add(id);
  for (const id of licensesInBodies(text)) add(id);
  return out;
}

/**
 * The licenses a copyright file declares: SPDX expressions where the names map, else the names as
 * written; empty when nothing in it names a license.
 */
export function debCopyrightLicenses(text: string): string[] {
  if (!isMachineReadable(text)) return free(text);
  const out: string[] = [];
  for (const synopsis of dep5Synopses(text)) {
    const license = licenseFromSynopsis(synopsis);
    if (license !== undefined && !out.includes(license)) out.push(license);
  }
  return out.length > 0 ? out : free(text);
}

const DOC = 'usr/share/doc/';
/**
 * Copyright files are read whole by the walk; real ones are at most a few hundred KiB (perl's is
 * 110 KiB), so a bigger one is skipped rather than held in memory: its package gets no license.
 */
export const MAX_COPYRIGHT_BYTES = 512 * 1024;

/** `usr/share/doc/<pkg>/copyright`, and `usr/share/doc/<pkg>` when it is a symlink to another package's. */
export function wantDocCopyright(entry: FileEntry): boolean {
  const p = entry.path;
  if (!p.startsWith(DOC)) return false;
  const rest = p.slice(DOC.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return entry.type === 'symlink' && rest !== '';
  if (rest.slice(slash) !== '/copyright' || slash === 0) return false;
  if (entry.type === 'symlink') return true;
  return hasContent(entry) && entry.size <= MAX_COPYRIGHT_BYTES;
}

/** A symlink's target as a path inside the artifact (relative to the link's folder, or absolute). */
function resolveLink(linkPath: string, target: string): string {
  const parts = target.startsWith('/') ? [] : linkPath.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

/**
 * Licenses per package name, from the copyright files of a walk: `usr/share/doc/<pkg>/copyright`,
 * following symlinks to another package's file or folder (`libgcc-s1 -> gcc-12-base`), as dpkg's
 * `--path-include=usr/share/doc/*\/copyright` images keep them.
 */
export function licensesByDocName(files: readonly WalkedFile[]): (name: string) => string[] {
  const byPath = new Map(files.filter((f) => f.entry.path.startsWith(DOC)).map((f) => [f.entry.path, f]));
  const parsed = new Map<string, string[]>();
  const licensesAt = (path: string, hops = 0): string[] => {
    if (hops > 8) return [];
    const file = byPath.get(path);
    if (file?.entry.type === 'symlink' && file.entry.linkTarget !== undefined)
      return licensesAt(resolveLink(path, file.entry.linkTarget), hops + 1);
    if (file && hasContent(file.entry)) {
      let found = parsed.get(path);
      if (!found) {
        found = debCopyrightLicenses(file.data.toString('utf8'));
        parsed.set(path, found);
      }
      return found;
    }
    // The package's doc folder itself may be the symlink.
    const dir = path.slice(0, path.lastIndexOf('/'));
    const link = byPath.get(dir);
    if (link?.entry.type === 'symlink' && link.entry.linkTarget !== undefined)
      return licensesAt(`${resolveLink(dir, link.entry.linkTarget)}/copyright`, hops + 1);
    return [];
  };
  return (name) => licensesAt(`${DOC}${name}/copyright`);
}
