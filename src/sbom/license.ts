/**
 * License strings as catalogers found them → what each SBOM format can carry. CycloneDX takes a known
 * SPDX id, a free-text name, or one SPDX expression (alone: CycloneDX 1.6 `licenseChoice`); SPDX 2.3
 * takes one expression per package, with `LicenseRef-` ids for text that is no SPDX expression.
 */
import { createHash } from 'node:crypto';
import parseSpdx from 'spdx-expression-parse';
import spdxIdList from 'spdx-license-ids/index.json' with { type: 'json' };
import { memoizeString } from '../util/string-memo.ts';

const SPDX_IDS: ReadonlySet<string> = new Set(spdxIdList as string[]);
const SPDX_IDS_LOWER = new Map([...SPDX_IDS].map((id) => [id.toLowerCase(), id]));

/** The expression parsed, or undefined: spdx-expression-parse throws on anything not SPDX syntax. */
function parsed(expression: string): ReturnType<typeof parseSpdx> | undefined {
  try {
    return parseSpdx(expression);
  } catch {
    return undefined;
  }
}

/** A case-insensitive match of a bare id (`mit` → `MIT`), else the text as given. */
function fixCase(text: string): string {
  return SPDX_IDS_LOWER.get(text.toLowerCase()) ?? text;
}

/**
 * Whether `text` is one SPDX expression. Remembered (util/string-memo.ts): the same few hundred
 * license strings come back for thousands of components, and a string that is no expression costs a
 * thrown error each time it is parsed.
 */
export const isValidSpdxExpression = memoizeString((text: string): boolean => parsed(text) !== undefined);

/** The SPDX license id spelled `text` in any case (`apache-2.0` → `Apache-2.0`), if there is one. */
export function knownLicenseId(text: string): string | undefined {
  return SPDX_IDS_LOWER.get(text.toLowerCase());
}

/** A bare, current SPDX license id (no `+`, no exception, not a LicenseRef). */
export function isSpdxLicenseId(text: string): boolean {
  return SPDX_IDS.has(text);
}

function cleaned(licenses: readonly string[]): string[] {
  return [...new Set(licenses.map((l) => fixCase(l.trim())).filter((l) => l !== ''))];
}

/** `a AND b` with compound operands parenthesized (SPDX 2.3 Annex D precedence). */
function conjoin(expressions: readonly string[]): string {
  if (expressions.length === 1) return expressions[0]!;
  return expressions.map((e) => (isSpdxLicenseId(e) || !/\s/.test(e) ? e : `(${e})`)).join(' AND ');
}

export type CycloneDxLicense = { id: string } | { name: string } | { expression: string };

/**
 * CycloneDX: all bare known ids → ids; all valid but some compound → one expression (AND of all);
 * any invalid → ids where known, names for the rest (an expression cannot share the list).
 */
export function cycloneDxLicenses(licenses: readonly string[]): CycloneDxLicense[] {
  const list = cleaned(licenses);
  if (list.every(isSpdxLicenseId)) return list.map((id) => ({ id }));
  if (list.every(isValidSpdxExpression)) return [{ expression: conjoin(list) }];
  return list.map((l) => (isSpdxLicenseId(l) ? { id: l } : { name: l }));
}

/** `LicenseRef-` idstring: letters, digits, `.` and `-` (SPDX 2.3 §10.1); a hash keeps it unique. */
export function licenseRefFor(text: string): string {
  const readable = text
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `LicenseRef-${readable ? `${readable}-` : ''}${hash}`;
}

/**
 * SPDX: one expression for the package (`NOASSERTION` when none was found); text that is not an SPDX
 * expression becomes a `LicenseRef-` whose text is returned for `hasExtractedLicensingInfos`.
 */
export function spdxLicense(licenses: readonly string[]): {
  expression: string;
  extracted: Map<string, string>;
} {
  const list = cleaned(licenses);
  const extracted = new Map<string, string>();
  if (list.length === 0) return { expression: 'NOASSERTION', extracted };
  const parts = list.map((l) => {
    if (isValidSpdxExpression(l) && !/\b(DocumentRef|LicenseRef)-/.test(l)) return l;
    const ref = licenseRefFor(l);
    extracted.set(ref, l);
    return ref;
  });
  return { expression: conjoin(parts), extracted };
}
