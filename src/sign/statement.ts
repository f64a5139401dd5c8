/**
 * Reading the statement inside a verified DSSE payload: in-toto Statement v1 and v0.1 (cosign, trivy
 * and older slsa-github-generator still write v0.1), its subjects, and which kind of statement it is.
 * The kind also names its sidecar: `NAME.<kind>.sigstore.json`.
 */
import { PREDICATE_TYPE } from '../record/types.ts';
import { tooDeepReason } from '../util/json-depth.ts';

export const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

/** waybill's own statements have sidecar kinds; other predicates are `attestation`. */
export type StatementKind =
  | 'record'
  | 'sbom'
  | 'provenance'
  | 'rebuild'
  | 'vsa'
  | 'publication'
  | 'attestation';

export interface Subject {
  name?: string;
  digest: Record<string, string>;
}

export interface ParsedStatement {
  type: string;
  predicateType: string;
  kind: StatementKind;
  subjects: Subject[];
  predicate: unknown;
  /** The statement as parsed, for callers comparing it with another copy (the record sidecar). */
  raw: Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const KIND_BY_PREFIX: Array<[string, StatementKind]> = [
  ['https://waybill.dev/release-record/', 'record'],
  ['https://waybill.dev/rebuild', 'rebuild'],
  ['https://waybill.dev/publication/', 'publication'],
  ['https://slsa.dev/provenance/', 'provenance'],
  ['https://slsa.dev/verification_summary/', 'vsa'],
  ['https://cyclonedx.org/bom', 'sbom'],
  ['https://spdx.dev/Document', 'sbom'],
  ['https://syft.dev/bom', 'sbom'],
];

export function statementKindOf(predicateType: string): StatementKind {
  if (predicateType === PREDICATE_TYPE) return 'record';
  for (const [prefix, kind] of KIND_BY_PREFIX) if (predicateType.startsWith(prefix)) return kind;
  return 'attestation';
}

/** Parses the payload of an in-toto DSSE envelope; a string is the reason it is not a statement. */
export function parseStatement(payloadType: string, payload: Buffer): ParsedStatement | string {
  if (payloadType !== 'application/vnd.in-toto+json') {
    return `payload type ${payloadType} is not an in-toto statement (application/vnd.in-toto+json)`;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (e) {
    return `the signed payload is not JSON: ${(e as Error).message}`;
  }
  if (!isPlainObject(raw)) return 'the signed payload is not a JSON object';
  const tooDeep = tooDeepReason(raw);
  if (tooDeep !== undefined) return `the signed payload is ${tooDeep}`;
  if (typeof raw._type !== 'string' || !STATEMENT_TYPES.includes(raw._type)) {
    return `the signed payload is not an in-toto Statement (_type ${JSON.stringify(raw._type ?? null)})`;
  }
  if (typeof raw.predicateType !== 'string' || raw.predicateType === '') {
    return 'the statement has no predicateType';
  }
  if (!Array.isArray(raw.subject) || raw.subject.length === 0) return 'the statement has no subject';
  const subjects: Subject[] = [];
  for (const [i, s] of raw.subject.entries()) {
    if (!isPlainObject(s) || !isPlainObject(s.digest)) return `subject[${i}] has no digest`;
    const digest: Record<string, string> = {};
    for (const [alg, value] of Object.entries(s.digest)) {
      if (typeof value === 'string') digest[alg] = value.toLowerCase();
    }
    subjects.push({ ...(typeof s.name === 'string' ? { name: s.name } : {}), digest });
  }
  return {
    type: raw._type,
    predicateType: raw.predicateType,
    kind: statementKindOf(raw.predicateType),
    subjects,
    predicate: raw.predicate,
    raw,
  };
}
