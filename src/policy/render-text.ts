/**
 * Human-readable check report: one line per guideline, then what is wrong, where it was looked for
 * and how to fix it; a summary line at the end. Color only when asked (the CLI decides on TTY/NO_COLOR).
 * Findings quote the artifact's and the record's own words, so every value is escaped for the
 * terminal (a newline in a bug tracker URL must not start a line of its own).
 */

import { escapeForTerminal as esc } from '../util/terminal-escape.ts';
import type { CheckReport, RuleResult, RuleStatus } from './types.ts';

const MARKS: Record<RuleStatus, string> = { pass: '✔', fail: '✘', warn: '!', off: '–' };
const COLORS: Record<RuleStatus, string> = { pass: '32', fail: '31', warn: '33', off: '2' };

function paint(text: string, code: string, color: boolean): string {
  return color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** The headline of a rule: its first error/warning, or what was found when it passed. */
function headline(rule: RuleResult, policySource: string): string {
  if (rule.status === 'off') return `off (by policy ${esc(policySource)})`;
  const lead = rule.findings.find((f) => f.severity !== 'info') ?? rule.findings[0];
  return lead ? esc(lead.message) : rule.status;
}

export function renderText(report: CheckReport, options: { color: boolean }): string {
  const { color } = options;
  const lines: string[] = [`${esc(report.artifact)} ${paint(esc(report.digest), '2', color)}`];
  for (const rule of report.rules) {
    const mark = paint(MARKS[rule.status], COLORS[rule.status], color);
    lines.push(`${mark} ${rule.guideline} ${rule.id} — ${headline(rule, report.policy.source)}`);
    if (rule.status === 'pass') {
      for (const f of rule.findings.slice(1)) lines.push(`    ${paint(esc(f.message), '2', color)}`);
      continue;
    }
    const lead = rule.findings.find((f) => f.severity !== 'info');
    for (const f of rule.findings) {
      if (f.severity === 'info') continue;
      // The headline already shows the lead problem's message.
      if (f !== lead) {
        const label = f.severity === 'error' ? paint('error:', '31', color) : paint('warning:', '33', color);
        lines.push(`    ${label} ${esc(f.message)}`);
      }
      lines.push(`      ${paint('looked in:', '2', color)} ${esc(f.path)}`);
      if (f.fix) lines.push(`      ${paint('fix:', '36', color)} ${esc(f.fix)}`);
    }
  }
  const count = (s: RuleStatus) => report.rules.filter((r) => r.status === s).length;
  const parts = [`${count('pass')} passed`, `${count('fail')} failed`];
  if (count('warn')) parts.push(`${count('warn')} warned`);
  if (count('off')) parts.push(`${count('off')} off`);
  const summary = parts.join(', ');
  lines.push(paint(summary, report.passed ? '32' : '31', color));
  return `${lines.join('\n')}\n`;
}
