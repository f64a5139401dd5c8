/** The audit report: what `waybill audit` prints as JSON and attaches as a statement's result. */
import type { Finding } from './findings.ts';
import type { Freshness } from './freshness.ts';
import type { SeverityRating } from './severity.ts';
import type { SourceStatus } from './store.ts';
import type { VexVerdict } from './vex.ts';

export interface AuditSubject {
  /** The reference or SBOM path audited. */
  ref: string;
  name?: string;
  version?: string;
  /** `sha256:…` of the artifact, when known (from the artifact, or the SBOM's subject). */
  digest?: string;
  /** Where the component list came from. */
  sbom: {
    source: 'record' | 'generated' | 'file';
    format: 'cyclonedx-json' | 'spdx-json';
    specVersion: string;
    /** The SBOM's location (a sidecar, an attachment, the given file). */
    location?: string;
  };
}

/** The database snapshot an audit used: enough to say exactly which data gave its answers. */
export interface AuditDatabase {
  path: string;
  advisories: number;
  withdrawn: number;
  sources: SourceStatus[];
}

export type ReportedFinding = Finding & { vex?: VexVerdict };

export interface AuditSummary {
  components: number;
  evaluated: number;
  notEvaluated: Record<string, number>;
  findings: number;
  suppressed: number;
  bySeverity: Record<SeverityRating, number>;
  /** GIT ranges met and skipped: they need the repository's commit graph (out of scope). */
  gitRangesSkipped: number;
}

export interface AuditReport {
  subject: AuditSubject;
  database: AuditDatabase;
  freshness: Freshness;
  summary: AuditSummary;
  findings: ReportedFinding[];
  /** Findings a VEX statement marked not_affected or fixed. */
  suppressed: Array<Finding & { vex: VexVerdict }>;
  /** The VEX documents applied. */
  vex: string[];
  /** Data problems met (range events that are not versions of their scheme), by advisory. */
  problems: string[];
  /** What limits the answer and how to lift it (OS packages of an unknown release: `--distro`). */
  warnings: string[];
}
