/**
 * SARIF 2.1.0 (OASIS, sarif-v2.1.0-os) for code-scanning UIs: one run, tool.driver `waybill` with the
 * seven rules as reportingDescriptors (§3.49), and one result (§3.27) per error or warning finding.
 * Info findings are not results: they describe what passed.
 */

import { type CheckReport, RULES, ruleHelpUri } from './types.ts';

export const SARIF_SCHEMA =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export interface SarifOptions {
  /** waybill's version, for tool.driver.version. */
  toolVersion?: string;
}

/**
 * artifactLocation.uri must be a URI reference (§3.4.3): keep references that already have a scheme
 * (`docker://…`, `oci:…`), percent-encode plain paths.
 */
export function artifactUri(ref: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) {
    return encodeURI(decodeURISafe(ref));
  }
  return encodeURI(ref.replace(/\\/g, '/'));
}

function decodeURISafe(s: string): string {
  try {
    return decodeURI(s);
  } catch {
    return s;
  }
}

export function renderSarif(report: CheckReport, options: SarifOptions = {}): object {
  const uri = artifactUri(report.artifact);
  const results: object[] = [];
  for (const rule of report.rules) {
    const ruleIndex = RULES.findIndex((r) => r.id === rule.id);
    for (const f of rule.findings) {
      if (f.severity === 'info') continue;
      results.push({
        ruleId: rule.id,
        ruleIndex,
        level: f.severity === 'error' ? 'error' : 'warning',
        message: { text: f.fix ? `${f.message}. Fix: ${f.fix}` : f.message },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri, index: 0 } },
            logicalLocations: [{ fullyQualifiedName: f.path }],
          },
        ],
        properties: { guideline: rule.guideline, path: f.path },
      });
    }
  }
  const hex = report.digest.replace(/^sha256:/, '');
  const driver: Record<string, unknown> = {
    name: 'waybill',
    informationUri: 'https://waybill.dev/',
    rules: RULES.map((r) => ({
      id: r.id,
      name: r.title.replace(/\s+(\w)/g, (_m, c: string) => c.toUpperCase()),
      shortDescription: { text: r.summary },
      helpUri: ruleHelpUri(r.id),
      defaultConfiguration: { level: 'error' },
      properties: { guideline: r.guideline },
    })),
  };
  if (options.toolVersion) driver.version = options.toolVersion;
  // The consumer's policy may lower or switch off rules: said per rule as configuration overrides of
  // the invocation (§3.20.5, §3.51), so a SARIF viewer sees that a rule was off, not that it passed.
  const overrides = report.rules
    .filter((r) => r.level !== 'fail')
    .map((r) => ({
      descriptor: { id: r.id, index: RULES.findIndex((d) => d.id === r.id) },
      configuration: r.level === 'off' ? { enabled: false, level: 'none' } : { level: 'warning' },
    }));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        invocations: [
          {
            executionSuccessful: true,
            ...(overrides.length > 0 ? { ruleConfigurationOverrides: overrides } : {}),
          },
        ],
        artifacts: [
          {
            location: { uri },
            ...(/^[0-9a-f]{64}$/.test(hex) ? { hashes: { 'sha-256': hex } } : {}),
          },
        ],
        results,
        properties: { passed: report.passed, policySource: report.policy.source },
      },
    ],
  };
}
