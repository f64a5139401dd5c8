/**
 * The audit as SARIF 2.1.0 (OASIS sarif-v2.1.0-os) for code-scanning UIs: one rule per
 * vulnerability (§3.49, with the `security-severity` score property code-scanning services sort by),
 * one result per finding (§3.27) located at the file the component was found in (or the artifact),
 * with the component's purl as the logical location and a stable partial fingerprint.
 */
import { artifactUri, SARIF_SCHEMA } from '../policy/render-sarif.ts';
import type { AuditReport, ReportedFinding } from './report.ts';

function level(f: ReportedFinding): 'error' | 'warning' | 'note' {
  const r = f.severity.rating;
  if (r === 'critical' || r === 'high') return 'error';
  if (r === 'medium' || r === 'unknown') return 'warning';
  return 'note';
}

export function renderAuditSarif(report: AuditReport, options: { toolVersion?: string } = {}): object {
  const ruleIds = [...new Set(report.findings.map((f) => f.id))].sort();
  const rules = ruleIds.map((id) => {
    const f = report.findings.find((x) => x.id === id) as ReportedFinding;
    const rule: Record<string, unknown> = {
      id,
      shortDescription: { text: f.summary ?? id },
      properties: {
        tags: ['security', 'vulnerability'],
        ...(f.severity.score !== undefined ? { 'security-severity': f.severity.score.toFixed(1) } : {}),
        aliases: f.aliases,
      },
    };
    if (f.url) rule.helpUri = f.url;
    return rule;
  });
  const subjectUri = artifactUri(report.subject.ref);
  const results = report.findings.map((f) => {
    const paths = f.locations.flatMap((l) => (l.path ? [l.path] : []));
    const fixed = f.fixed.length > 0 ? ` Fixed in ${f.fixed.join(', ')}.` : ' No fixed version known.';
    return {
      ruleId: f.id,
      ruleIndex: ruleIds.indexOf(f.id),
      level: level(f),
      message: {
        text: `${f.component.name} ${f.component.version} is affected by ${f.id}${f.summary ? `: ${f.summary}` : ''}.${fixed}`,
      },
      locations: (paths.length > 0 ? paths : [undefined]).slice(0, 10).map((p) => ({
        physicalLocation: { artifactLocation: { uri: p ? artifactUri(p) : subjectUri } },
        logicalLocations: [{ fullyQualifiedName: f.component.purl, kind: 'package' }],
      })),
      partialFingerprints: { 'waybill/v1': `${f.id}|${f.component.purl}` },
      properties: {
        severity: f.severity.rating,
        ...(f.severity.score !== undefined ? { score: f.severity.score } : {}),
        fixed: f.fixed,
        package: f.package,
        ...(f.vex ? { vex: f.vex.status } : {}),
      },
    };
  });
  const driver: Record<string, unknown> = { name: 'waybill', informationUri: 'https://waybill.dev/', rules };
  if (options.toolVersion) driver.version = options.toolVersion;
  const hex = report.subject.digest?.replace(/^sha256:/, '');
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        artifacts: [
          {
            location: { uri: subjectUri },
            ...(hex && /^[0-9a-f]{64}$/.test(hex) ? { hashes: { 'sha-256': hex } } : {}),
          },
        ],
        results,
        properties: { database: report.database.sources.map((s) => ({ name: s.name, digest: s.digest })) },
      },
    ],
  };
}
