/**
 * The audit as a terminal table: a short freshness summary, then one line per finding, worst first
 * (id, severity, component, fixed in), the dependency path under it when the SBOM has one, then what
 * VEX suppressed and which database answered. Every value from an SBOM or an advisory is escaped.
 */

import { escapeForTerminal as esc } from '../util/terminal-escape.ts';
import type { Freshness } from './freshness.ts';
import type { AuditReport, ReportedFinding } from './report.ts';
import { ratingRank } from './severity.ts';

const COLORS: Record<string, string> = {
  critical: '31;1',
  high: '31',
  medium: '33',
  low: '36',
  none: '2',
  unknown: '2',
};

function paint(text: string, code: string | undefined, color: boolean): string {
  return color && code ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function age(days: number): string {
  if (days < 60) return `${days} days`;
  if (days < 730) return `${Math.floor(days / 30.44)} months`;
  return `${(days / 365.25).toFixed(1)} years`;
}

function freshnessLines(f: Freshness): string[] {
  const lines: string[] = [];
  const ages: string[] = [];
  if (f.daysSinceBuilt !== undefined) ages.push(`built ${age(f.daysSinceBuilt)} ago (${esc(f.built ?? '')})`);
  if (f.daysSincePublished !== undefined)
    ages.push(`published ${age(f.daysSincePublished)} ago (${esc(f.published ?? '')})`);
  lines.push(`age:        ${ages.length > 0 ? ages.join(', ') : 'unknown (no release record with dates)'}`);
  if (f.newerRelease) {
    const n = f.newerRelease;
    lines.push(
      `releases:   ${n.newer.length > 0 ? `${n.newer.length} newer (latest ${esc(n.latest ?? '')})` : 'this is the latest'} in ${esc(n.source)}`,
    );
  }
  if (f.os) {
    const o = f.os;
    const name = `${esc(o.distro)} ${esc(o.release)}${o.codename ? ` (${esc(o.codename)})` : ''}`;
    const status: Record<string, string> = {
      supported: `supported until ${o.eol}`,
      extended: `past regular support (${o.eol}); extended support until ${o.eolExtended}`,
      'end-of-life': `END OF LIFE since ${o.eolExtended ?? o.eol}`,
      unknown: 'end of life not known (add it with db import)',
    };
    lines.push(`os:         ${name}: ${status[o.status]}`);
  }
  lines.push(`fixes:      ${f.componentsWithFixes} component(s) have a fixed version available`);
  if (f.libyear)
    lines.push(`libyear:    ${f.libyear.years} years behind over ${f.libyear.components} component(s)`);
  return lines;
}

function findingLine(f: ReportedFinding, color: boolean): string[] {
  const sev = f.severity.score !== undefined ? `${f.severity.rating} ${f.severity.score}` : f.severity.rating;
  const fixed = f.fixed.length > 0 ? `fixed in ${f.fixed.map(esc).join(', ')}` : 'no fix';
  const head = `${paint(sev.padEnd(13), COLORS[f.severity.rating], color)} ${esc(f.id).padEnd(20)} ${esc(f.component.name)} ${esc(f.component.version)}  ${fixed}`;
  const lines = [head];
  if (f.summary) lines.push(`    ${esc(f.summary)}`);
  if (f.aliases.length > 0)
    lines.push(`    ${paint('aliases:', '2', color)} ${f.aliases.map(esc).join(', ')}`);
  for (const l of f.locations.slice(0, 3)) {
    const where = [l.layer ? `layer ${esc(l.layer)}` : '', l.path ? esc(l.path) : '']
      .filter(Boolean)
      .join(' ');
    const path = l.dependencyPath && l.dependencyPath.length > 1 ? l.dependencyPath.map(esc).join(' > ') : '';
    if (where || path)
      lines.push(`    ${paint('at:', '2', color)} ${[where, path].filter(Boolean).join('  via ')}`);
  }
  if (f.locations.length > 3)
    lines.push(`    ${paint(`… and ${f.locations.length - 3} more locations`, '2', color)}`);
  if (f.vex) lines.push(`    ${paint('vex:', '2', color)} ${f.vex.status} (${esc(f.vex.source)})`);
  return lines;
}

export function renderAuditText(report: AuditReport, options: { color: boolean }): string {
  const { color } = options;
  const s = report.subject;
  const title = `${esc(s.name ?? s.ref)}${s.version ? ` ${esc(s.version)}` : ''}`;
  const lines = [`${paint(title, '1', color)}${s.digest ? ` ${paint(s.digest, '2', color)}` : ''}`];
  lines.push(...freshnessLines(report.freshness), '');
  const sorted = [...report.findings].sort(
    (a, b) =>
      ratingRank(b.severity.rating) - ratingRank(a.severity.rating) ||
      (b.severity.score ?? -1) - (a.severity.score ?? -1),
  );
  for (const f of sorted) lines.push(...findingLine(f, color));
  if (report.findings.length > 0) lines.push('');
  for (const f of report.suppressed) {
    lines.push(
      `${paint('suppressed', '2', color)} ${esc(f.id)} ${esc(f.component.name)} ${esc(f.component.version)}: ${f.vex.status}${f.vex.justification ? ` (${esc(f.vex.justification)})` : ''} by ${esc(f.vex.source)}`,
    );
  }
  const sum = report.summary;
  const counts = (['critical', 'high', 'medium', 'low', 'none', 'unknown'] as const)
    .filter((r) => sum.bySeverity[r] > 0)
    .map((r) => `${sum.bySeverity[r]} ${r}`);
  lines.push(
    `${sum.findings} finding(s)${counts.length > 0 ? ` (${counts.join(', ')})` : ''}, ${sum.suppressed} suppressed by VEX; ${sum.evaluated} of ${sum.components} components checked`,
  );
  const skipped = Object.entries(sum.notEvaluated);
  if (skipped.length > 0)
    lines.push(`not checked: ${skipped.map(([why, n]) => `${n} (${esc(why)})`).join(', ')}`);
  for (const w of report.warnings) lines.push(`${paint('warning:', '33', color)} ${esc(w)}`);
  if (sum.gitRangesSkipped > 0)
    lines.push(`GIT ranges skipped (commit ranges are not evaluated): ${sum.gitRangesSkipped}`);
  const db = report.database;
  lines.push(`database:   ${esc(db.path)}: ${db.advisories} advisories from ${db.sources.length} source(s)`);
  for (const src of db.sources) {
    lines.push(
      `    ${esc(src.name)} ${paint(src.digest, '2', color)} ${src.advisories} advisories, newest modified ${src.newestModified ?? '-'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
