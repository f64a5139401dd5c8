/**
 * Human-readable `verify` report: the artifact and its digest, the trusted root, then one verdict line
 * per statement with what it claims (builder, source, ref, commit for provenance) and, when it failed,
 * why. Everything that came from an artifact, bundle or certificate passes through the shared escaper.
 */
import type { StatementVerdict, VerifyReport } from '../app/verify.ts';
import { escapeForTerminal as terminalSafe } from '../util/terminal-escape.ts';

function paint(text: string, code: string, color: boolean): string {
  return color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function verdictLine(v: StatementVerdict, color: boolean): string[] {
  const mark = v.passed ? paint('✔', '32', color) : paint('✘', '31', color);
  const what = v.predicateType ? `${v.kind} (${v.predicateType})` : v.kind;
  const lines = [`${mark} ${terminalSafe(what)} — ${terminalSafe(v.source)}`];
  const detail = (text: string) => lines.push(`    ${terminalSafe(text)}`);
  if (v.passed) {
    for (const c of v.checks) detail(c.detail);
  } else {
    const failed = v.checks.filter((c) => !c.passed).map((c) => c.detail);
    for (const reason of failed.length > 0 ? failed : [v.reason ?? 'not verified'])
      lines.push(`    ${paint('failed:', '31', color)} ${terminalSafe(reason)}`);
    if (v.fix) lines.push(`    fix: ${terminalSafe(v.fix)}`);
  }
  for (const claim of v.claims ?? []) detail(`claim (not verified): ${claim}`);
  const cert = v.signature?.certificate;
  if (cert && !v.passed) {
    detail(
      `certificate identity ${cert.subjectAlternativeName ?? '(none)'}, issuer ${cert.issuer ?? '(none)'}`,
    );
  }
  const p = v.provenance;
  if (p) {
    const claim = v.passed ? '' : ' (unverified claim)';
    detail(`builder ${p.builderId ?? '(none)'}${claim}`);
    detail(
      `source ${p.repository ?? '(none)'}${p.ref ? ` ref ${p.ref}` : ''}${p.commit ? ` commit ${p.commit}` : ''}${p.entryPoint ? ` via ${p.entryPoint}` : ''}`,
    );
  }
  return lines;
}

export function renderVerifyText(report: VerifyReport, options: { color: boolean }): string {
  const { color } = options;
  const lines = [`${terminalSafe(report.artifact)} ${paint(report.digest ?? '(not opened)', '2', color)}`];
  lines.push(paint(`trusted root: ${terminalSafe(report.trustedRoot.description)}`, '2', color));
  for (const note of report.notes) lines.push(terminalSafe(note));
  for (const verdict of report.statements) lines.push(...verdictLine(verdict, color));
  const failed = report.statements.filter((s) => s.required && !s.passed).length;
  lines.push(
    report.passed
      ? paint(`verified: ${report.statements.length} statement(s)`, '32', color)
      : paint(`NOT verified: ${failed} of ${report.statements.length} statement(s) failed`, '31', color),
  );
  return `${lines.join('\n')}\n`;
}
