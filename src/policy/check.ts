/**
 * runCheck: run the seven rules over one artifact and apply the policy's levels. Pure: the caller
 * has already read the artifact's facts, the record and the SBOM.
 */

import { createCommunityMatcher } from './community-wording.ts';
import { withPublicationDate } from './publication-date.ts';
import { checkDates } from './rules/dates.ts';
import { checkHelp } from './rules/help.ts';
import { checkIdentity } from './rules/identity.ts';
import { checkManifest } from './rules/manifest.ts';
import { checkSignedSource } from './rules/signed-source.ts';
import { checkSupport } from './rules/support.ts';
import { checkTeam } from './rules/team.ts';
import {
  BUILT_IN_POLICY,
  type CheckInput,
  type CheckReport,
  type Finding,
  type Level,
  RULES,
  type RuleContext,
  type RuleFn,
  type RuleId,
  type RuleResult,
  type RuleStatus,
} from './types.ts';

const RULE_FUNCTIONS: Record<RuleId, RuleFn> = {
  identity: checkIdentity,
  manifest: checkManifest,
  dates: checkDates,
  'signed-source': checkSignedSource,
  team: checkTeam,
  help: checkHelp,
  support: checkSupport,
};

function statusOf(findings: Finding[]): RuleStatus {
  if (findings.some((f) => f.severity === 'error')) return 'fail';
  if (findings.some((f) => f.severity === 'warning')) return 'warn';
  return 'pass';
}

/** At level `warn` a failing rule only warns: its errors become warnings, so SARIF says the same. */
function applyLevel(findings: Finding[], level: Level): { status: RuleStatus; findings: Finding[] } {
  if (level === 'off') return { status: 'off', findings: [] };
  if (level === 'warn') {
    const softened = findings.map(
      (f): Finding => (f.severity === 'error' ? { ...f, severity: 'warning' } : f),
    );
    return { status: statusOf(softened), findings: softened };
  }
  return { status: statusOf(findings), findings };
}

export function runCheck(input: CheckInput): CheckReport {
  const record = withPublicationDate(input.record, input.publication);
  const ctx: RuleContext = {
    ...input,
    record,
    communityMatcher: createCommunityMatcher(input.policy.communityPhrases ?? {}),
    ...(record !== input.record && input.publication ? { publishedBy: input.publication } : {}),
  };
  const rules: RuleResult[] = RULES.map((rule) => {
    const level = input.policy.levels[rule.id] ?? 'fail';
    // A rule that is off is not run at all: its findings could not change the outcome.
    const raw = level === 'off' ? [] : RULE_FUNCTIONS[rule.id](ctx);
    const { status, findings } = applyLevel(raw, level);
    return { id: rule.id, title: rule.title, guideline: rule.guideline, level, status, findings };
  });
  return {
    artifact: input.artifact,
    digest: input.digest,
    passed: rules.every((r) => r.status !== 'fail'),
    policy: { source: input.policy.source ?? BUILT_IN_POLICY },
    rules,
  };
}
