/**
 * Guideline 3, dates: the build date is recorded as strict RFC 3339 and is not in the future; the
 * publication date, when present (required when publishing), is too and is not before the build; the
 * artifact's own creation date, if the format has one, agrees with the recorded build date.
 */

import { publishedFrom } from '../publication-date.ts';
import { parseLooseDate, parseRfc3339 } from '../rfc3339.ts';
import type { Finding, RuleContext } from '../types.ts';
import { error, info, nonEmpty, noRecord, recordPath, warning } from './findings.ts';

/** Clock skew tolerated between the build machine and the checking machine. */
export const CLOCK_SKEW_MS = 5 * 60_000;

const RFC3339_HINT = 'use RFC 3339 in UTC, e.g. 2024-05-01T12:00:00Z';

export function checkDates(ctx: RuleContext): Finding[] {
  const { record, facts, now } = ctx;
  if (!record) return [noRecord('build date', ctx.missingRecord)];
  const { built, published } = record.predicate.dates;
  const findings: Finding[] = [];
  const latest = now.getTime() + CLOCK_SKEW_MS;

  let builtAt: Date | undefined;
  if (!nonEmpty(built)) {
    findings.push(
      error(
        'no build date in the record',
        recordPath('dates/built'),
        'stamp again: waybill takes the build date from the artifact, SOURCE_DATE_EPOCH or the commit date; or give it with --built DATE',
      ),
    );
  } else {
    builtAt = parseRfc3339(built);
    if (!builtAt) {
      findings.push(
        error(`build date "${built}" is not an RFC 3339 date-time`, recordPath('dates/built'), RFC3339_HINT),
      );
    } else if (builtAt.getTime() > latest) {
      findings.push(
        error(
          `build date ${built} is in the future (now ${now.toISOString()})`,
          recordPath('dates/built'),
          'check the build machine clock and SOURCE_DATE_EPOCH, then stamp again (or give --built DATE)',
        ),
      );
      builtAt = undefined;
    }
  }

  if (!nonEmpty(published)) {
    if (ctx.published) {
      findings.push(
        error(
          'the artifact is published but the record has no publication date',
          recordPath('dates/published'),
          'publish with `waybill publish`, which records the publication date',
        ),
      );
    }
  } else {
    const publishedAt = parseRfc3339(published);
    if (!publishedAt) {
      findings.push(
        error(
          `publication date "${published}" is not an RFC 3339 date-time`,
          recordPath('dates/published'),
          RFC3339_HINT,
        ),
      );
    } else if (publishedAt.getTime() > latest) {
      findings.push(
        error(
          `publication date ${published} is in the future (now ${now.toISOString()})`,
          recordPath('dates/published'),
          'check the publishing machine clock, then record the publication again',
        ),
      );
    } else if (builtAt && publishedAt.getTime() < builtAt.getTime()) {
      findings.push(
        error(
          `publication date ${published} is before the build date ${built}`,
          recordPath('dates/published'),
          'an artifact cannot be published before it is built: stamp again with the right --built DATE, then record the publication',
        ),
      );
    }
  }

  const created = facts.created;
  if (created && nonEmpty(created.value) && builtAt) {
    const createdAt = parseLooseDate(created.value);
    if (!createdAt) {
      findings.push(
        warning(
          `cannot read the artifact's own creation date "${created.value}"`,
          created.field,
          `write ${created.field} as RFC 3339`,
        ),
      );
    } else if (Math.floor(createdAt.getTime() / 1000) !== Math.floor(builtAt.getTime() / 1000)) {
      findings.push(
        warning(
          `${created.field} says ${createdAt.toISOString()}, the record says built ${built}`,
          created.field,
          'stamp again without --built (stamp records the artifact’s own build date), or build with SOURCE_DATE_EPOCH set to the release date',
        ),
      );
    }
  }

  if (!findings.some((f) => f.severity !== 'info')) {
    const places = created && nonEmpty(created.value) ? `record; ${created.field}` : 'record';
    findings.push(info(`built ${built} (${places})`, recordPath('dates/built')));
    if (nonEmpty(published))
      findings.push(
        info(
          `published ${published} (${publishedFrom(ctx.publishedBy).label})`,
          publishedFrom(ctx.publishedBy).path,
        ),
      );
  }
  return findings;
}
