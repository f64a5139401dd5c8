/**
 * Guideline 7, support: the record states the license (a valid SPDX expression the policy allows, and
 * the same as the artifact's own license field), carries a warranty disclaimer, and its support
 * statement speaks only for the team — not for a community, a foundation or another company.
 */

import { DECLARED_LICENSE_PATH, licenseDisagreement } from '../declared-license.ts';
import {
  canonicalExpression,
  evaluateAllowed,
  parseLicenseExpression,
  sameLicense,
} from '../spdx-license.ts';
import { findForeignSupportClaims } from '../support-wording.ts';
import type { Finding, RuleContext } from '../types.ts';
import { error, factValue, info, nonEmpty, noRecord, quote, recordPath, warning } from './findings.ts';

/** A disclaimer must actually disclaim: the usual forms say "WITHOUT WARRANTY" or "AS IS". */
const DISCLAIMS = /warrant|\bas[\s-]+is\b/i;

function checkLicense(ctx: RuleContext, findings: Finding[]): string | undefined {
  const license = ctx.record?.predicate.support.license;
  const path = recordPath('support/license');
  const native = ctx.facts.license;
  const nativeValue = factValue(native);
  if (!nonEmpty(license)) {
    const hint = nativeValue ? ` (the artifact's ${native!.field} says "${nativeValue}")` : '';
    findings.push(
      error(
        `no license in the record${hint}`,
        path,
        'set license in waybill.yaml (an SPDX expression) or pass --license',
      ),
    );
    return undefined;
  }
  const parsed = parseLicenseExpression(license);
  if (!parsed) {
    findings.push(
      error(
        `license "${license}" is not a valid SPDX license expression`,
        path,
        'use SPDX identifiers from https://spdx.org/licenses/ (e.g. Apache-2.0), or LicenseRef-<name> for others',
      ),
    );
    return undefined;
  }
  const verdict = evaluateAllowed(parsed, ctx.policy.allowedLicenses);
  if (!verdict.allowed) {
    findings.push(
      error(
        `license ${license.trim()} is not allowed by the policy: ${verdict.explanation}`,
        path,
        'relicense the release (license in waybill.yaml or --license), or allow the license: policy.allowedLicenses in waybill.yaml, or allowedLicenses in your policy file',
      ),
    );
  }
  if (nativeValue) {
    const nativeParsed = parseLicenseExpression(nativeValue);
    if (!nativeParsed) {
      findings.push(
        warning(
          `the artifact's ${native!.field} "${nativeValue}" is not an SPDX expression, so it cannot be compared with the record's ${license}`,
          native!.field,
          `write ${native!.field} as an SPDX expression`,
        ),
      );
    } else if (!sameLicense(parsed, nativeParsed)) {
      findings.push(
        error(
          `license differs: record says ${license.trim()}, ${native!.field} says ${nativeValue}`,
          native!.field,
          'state the same license in both: license in waybill.yaml (or --license) and the artifact’s own license field',
        ),
      );
    }
  }
  if (!nativeValue) checkDeclaredLicense(ctx, license, findings);
  checkUpstreamLicense(ctx, license, findings);
  return `license ${canonicalExpression(parsed)} (record${nativeValue ? `; ${native!.field}` : ''}): ${verdict.explanation}`;
}

/**
 * A package with no license field (a .deb) still declares its licenses (its copyright file), and the
 * SBOM names them for its subject. A record saying another license is a warning, never a failure:
 * the release team may hold the rights, but a third-party package re-released with waybill.yaml's
 * default license would otherwise claim a license silently.
 */
function checkDeclaredLicense(ctx: RuleContext, license: string, findings: Finding[]): void {
  const sbom = ctx.sbom;
  const declared = sbom && 'format' in sbom ? sbom.subjectLicenses : undefined;
  const differs = declared ? licenseDisagreement(license, declared) : undefined;
  if (differs) findings.push(warning(differs.message, DECLARED_LICENSE_PATH, differs.fix));
}

/** Upstream-trail fields that held a license: `wheel METADATA License-Expression`. */
const UPSTREAM_LICENSE_FIELD = /\sLicense(?:-Expression)?$/;

/**
 * A package whose own license field `stamp` replaced (a wheel's License-Expression: core metadata
 * has one field, so waybill.yaml's license took its place) agrees with the record afterwards; the
 * record's upstream trail still holds what the package said, and a different license there gets the
 * same warning as a .deb's copyright file.
 */
function checkUpstreamLicense(ctx: RuleContext, license: string, findings: Finding[]): void {
  const upstream = (ctx.record?.predicate.upstream ?? [])
    .filter((f) => UPSTREAM_LICENSE_FIELD.test(f.field))
    .map((f) => f.value);
  const differs = upstream.length > 0 ? licenseDisagreement(license, upstream) : undefined;
  if (differs) findings.push(warning(differs.message, recordPath('upstream'), differs.fix));
}

export function checkSupport(ctx: RuleContext): Finding[] {
  const { record } = ctx;
  if (!record) return [noRecord('license, disclaimer or support statement', ctx.missingRecord)];
  const { disclaimer, statement } = record.predicate.support;
  const teamName = record.predicate.team.name;
  const findings: Finding[] = [];

  const licenseSummary = checkLicense(ctx, findings);

  if (!nonEmpty(disclaimer)) {
    findings.push(
      error(
        'no warranty disclaimer in the record',
        recordPath('support/disclaimer'),
        'set disclaimer in waybill.yaml or pass --disclaimer, e.g. "Provided AS IS, WITHOUT WARRANTY OF ANY KIND"',
      ),
    );
  } else if (!DISCLAIMS.test(disclaimer)) {
    findings.push(
      error(
        `the disclaimer ${quote(disclaimer)} does not disclaim warranty (no "warranty" or "AS IS")`,
        recordPath('support/disclaimer'),
        'say that the release comes "AS IS", WITHOUT WARRANTY OF ANY KIND',
      ),
    );
  }

  const statementPath = recordPath('support/statement');
  if (nonEmpty(statement)) {
    // The statement names the team as the supporter; whether the team's own name is community
    // wording is the team rule's finding, so the name is set aside here and one altered fact fails
    // one rule.
    const community = ctx.communityMatcher.find(withoutTeamName(statement, teamName));
    for (const m of community) {
      findings.push(
        error(
          `the support statement offers support on behalf of a community: ${quote(m.quote)}`,
          statementPath,
          'only the team can promise support: say what support the team itself gives',
        ),
      );
    }
    for (const claim of findForeignSupportClaims(statement, teamName)) {
      // Already reported as community wording: one finding per claim.
      if (community.some((m) => claim.quote.includes(m.quote) || m.quote.includes(claim.quote))) continue;
      findings.push(
        error(
          `the support statement offers support on behalf of ${quote(claim.supporter)}, not the team${nonEmpty(teamName) ? ` ${quote(teamName)}` : ''}: ${quote(claim.quote)}`,
          statementPath,
          'a release team can only promise its own support: name the team, or drop the promise',
        ),
      );
    }
  }

  if (!findings.some((f) => f.severity === 'error')) {
    if (licenseSummary) findings.push(info(licenseSummary, recordPath('support/license')));
    findings.push(
      info(`disclaimer ${quote(disclaimer ?? '', 60)} (record)`, recordPath('support/disclaimer')),
    );
    findings.push(
      nonEmpty(statement)
        ? info(`support statement ${quote(statement, 80)} speaks for the team (record)`, statementPath)
        : info('no support statement (optional)', statementPath),
    );
  }
  return findings;
}

/** The statement with each occurrence of the team's name replaced by a neutral word. */
function withoutTeamName(statement: string, teamName: string | null): string {
  if (!nonEmpty(teamName)) return statement;
  const escaped = teamName.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return statement.replace(new RegExp(escaped, 'gi'), 'the team');
}
