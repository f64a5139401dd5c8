/**
 * Guideline 5, team: the team that produced the release names itself, and no metadata says or implies
 * that a whole community produced, owns or supports it. Every free-text field is scanned: the
 * artifact's own (vendor, authors, description… as `facts.texts`, and its team field) and the record's
 * team name, contact, support statement and disclaimer.
 */

import type { Fact } from '../../formats/facts.ts';
import type { Finding, RuleContext } from '../types.ts';
import { error, factValue, info, nonEmpty, quote, recordPath } from './findings.ts';

/** The texts the team rule scans, each with the field it came from; duplicates (same field and text) once. */
export function textsToScan(ctx: RuleContext): Fact[] {
  const { record, facts } = ctx;
  const texts: Fact[] = [...facts.texts];
  if (facts.team) texts.push(facts.team);
  if (record) {
    const p = record.predicate;
    const add = (value: string | null | undefined, pointer: string) => {
      if (nonEmpty(value)) texts.push({ value, field: recordPath(pointer) });
    };
    add(p.team.name, 'team/name');
    add(p.team.contact, 'team/contact');
    add(p.support.statement, 'support/statement');
    add(p.support.disclaimer, 'support/disclaimer');
  }
  const seen = new Set<string>();
  return texts.filter((t) => {
    const key = `${t.field}\u0000${t.value}`;
    if (seen.has(key) || !nonEmpty(t.value)) return false;
    seen.add(key);
    return true;
  });
}

export function communityWordingFindings(ctx: RuleContext, texts: Fact[]): Finding[] {
  const findings: Finding[] = [];
  for (const text of texts) {
    for (const m of ctx.communityMatcher.find(text.value)) {
      findings.push(
        error(
          `${text.field} says ${quote(m.quote)}, which presents the release as the work of a whole community, not of a team: ${quote(text.value)}`,
          text.field,
          'name the team that made the release instead (e.g. "Kolla team"), in this field and in team.name of waybill.yaml (or --team)',
        ),
      );
    }
  }
  return findings;
}

export function checkTeam(ctx: RuleContext): Finding[] {
  const { record, facts } = ctx;
  const findings: Finding[] = [];
  const recordTeam = record?.predicate.team.name;
  const nativeTeam = factValue(facts.team);
  if (!nonEmpty(recordTeam) && !nativeTeam) {
    findings.push(
      error(
        'no team name: the release does not say which team produced it',
        record ? recordPath('team/name') : 'record',
        'set team.name in waybill.yaml or pass --team "<Your team>"',
      ),
    );
  }
  findings.push(...communityWordingFindings(ctx, textsToScan(ctx)));
  if (findings.length === 0) {
    const places = [nonEmpty(recordTeam) ? 'record' : '', facts.team?.field ?? ''].filter(Boolean);
    const name = nonEmpty(recordTeam) ? recordTeam : nativeTeam!;
    findings.push(
      info(
        `team ${quote(name)} (${places.join('; ')}); no community wording in ${textsToScan(ctx).length} text fields`,
        recordPath('team/name'),
      ),
    );
  }
  return findings;
}
