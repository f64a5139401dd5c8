/**
 * Whether the record's license is the one the package declares for itself. A third-party package
 * (a Debian .deb re-released as is) carries its own licenses — its copyright file, its POM — and
 * the release record's `license` comes from waybill.yaml, written by `init` with a default. When
 * they differ the record may be claiming a license the package was never under: `stamp` and
 * `check` say so, without failing, since a team may rightly relicense its own code.
 */
import { evaluateAllowed, parseLicenseExpression, type SpdxNode, sameLicense } from './spdx-license.ts';

/** Where `check` read the package's own licenses: its SBOM's subject (the finding's path). */
export const DECLARED_LICENSE_PATH = 'sbom:subject/licenses';

export interface LicenseDisagreement {
  /** One line naming both licenses. */
  message: string;
  /** What to change: the key in waybill.yaml (or the flag) and the policy's allowed list. */
  fix: string;
  /** The package's own licenses as one text (an SPDX expression when they all are). */
  declared: string;
}

/** The declared licenses as one SPDX expression (AND of them), or undefined when one is no SPDX. */
function declaredExpression(declared: readonly string[]): SpdxNode | undefined {
  const parts = declared.map((d) => parseLicenseExpression(d));
  if (parts.some((p) => p === undefined)) return undefined;
  return parts.reduce((left, right) => ({ left: left!, conjunction: 'and' as const, right: right! }));
}

/**
 * Undefined when the record's license is the package's own: the same expression, or one choice the
 * package's expression offers (`MIT OR Apache-2.0` re-released under `Apache-2.0`). Else what
 * differs, and how to say the package's license instead.
 */
export function licenseDisagreement(
  recordLicense: string,
  declared: readonly string[],
): LicenseDisagreement | undefined {
  const list = [...new Set(declared.map((d) => d.trim()).filter((d) => d !== ''))];
  if (list.length === 0) return undefined;
  const record = parseLicenseExpression(recordLicense);
  const own = declaredExpression(list);
  if (record && own) {
    if (sameLicense(record, own)) return undefined;
    if ('license' in record && evaluateAllowed(own, [recordLicense.trim()]).allowed) return undefined;
  } else if (list.length === 1 && list[0] === recordLicense.trim()) return undefined;
  const text = own
    ? list.map((l) => (list.length > 1 && /\s(AND|OR)\s/i.test(l) ? `(${l})` : l)).join(' AND ')
    : list.join('; ');
  return {
    declared: text,
    message: `the package declares its own license ${text}, but the record says ${recordLicense.trim()} (license in waybill.yaml)`,
    fix: own
      ? `if the package is not yours to relicense, set license: ${JSON.stringify(text)} in waybill.yaml (or pass --license), and allow its licenses in policy.allowedLicenses`
      : 'if the package is not yours to relicense, set license in waybill.yaml (or pass --license) to its license as an SPDX expression (LicenseRef-<name> for one with no SPDX id), and allow its licenses in policy.allowedLicenses',
  };
}
