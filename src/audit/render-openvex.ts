/**
 * The audit as an OpenVEX document (openvex/spec v0.2.0), so a team can publish its triage: one
 * statement per finding, its product the audited artifact (by digest) with the component as a
 * subcomponent. Open findings are `affected` (with "update to …" as the action when a fix is known)
 * unless a VEX statement given to the audit said `under_investigation`; suppressed findings keep
 * the status and justification they were given. The document id is derived from its content and its
 * timestamp is the audit's time, so the same audit gives the same bytes.
 */
import { uuidV5 } from '../util/uuid.ts';
import type { Finding } from './findings.ts';
import type { AuditReport } from './report.ts';
import type { VexVerdict } from './vex.ts';

function product(report: AuditReport, f: Finding): Record<string, unknown> {
  const sub = { '@id': f.component.purl };
  const digest = report.subject.digest;
  if (digest) {
    return { '@id': digest, hashes: { 'sha-256': digest.replace(/^sha256:/, '') }, subcomponents: [sub] };
  }
  return sub;
}

function statement(report: AuditReport, f: Finding, vex: VexVerdict | undefined): Record<string, unknown> {
  const s: Record<string, unknown> = {
    vulnerability: { name: f.id, ...(f.aliases.length > 0 ? { aliases: f.aliases } : {}) },
    products: [product(report, f)],
    status: vex?.status ?? 'affected',
  };
  if (vex?.justification) s.justification = vex.justification;
  if (vex?.impactStatement) s.impact_statement = vex.impactStatement;
  const action =
    vex?.actionStatement ??
    (f.fixed.length > 0
      ? `Update ${f.component.name} to ${f.fixed[0]} or later`
      : 'No fixed version is known yet');
  if ((vex?.status ?? 'affected') === 'affected') s.action_statement = action;
  return s;
}

export function renderOpenVex(report: AuditReport, options: { author?: string } = {}): object {
  const statements = [
    ...report.findings.map((f) => statement(report, f, f.vex)),
    ...report.suppressed.map((f) => statement(report, f, f.vex)),
  ];
  const timestamp = report.freshness.now;
  const id = `urn:uuid:${uuidV5(`openvex\n${report.subject.digest ?? report.subject.ref}\n${JSON.stringify(statements)}`)}`;
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': id,
    author: options.author ?? 'waybill audit',
    timestamp,
    version: 1,
    tooling: 'waybill',
    statements,
  };
}
