/**
 * Reading a release record from untrusted JSON: in-toto Statement checks first (so a foreign statement
 * gets an in-toto message), then the waybill JSON Schema of the record's version
 * (schemas/release-record-v2.schema.json, or -v1 for records written before the evidence was
 * embedded; draft 2020-12) for the predicate. The first problem is reported with its JSON Pointer,
 * e.g. `record.json: /predicate/dates/built: must match format date-time`.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { WaybillError } from '../errors.ts';
import { checkedDepth } from '../util/json-depth.ts';
import { checkStatement, pointerToken } from './intoto.ts';
import { PREDICATE_TYPE, PREDICATE_TYPE_V1, RECORD_PREDICATE_TYPES, type ReleaseRecord } from './types.ts';
import type { ValidatorName } from './validator-source.ts';
import { precompiledValidator } from './validators.ts';

/** A record is a few kilobytes; anything this large is not one (and JSON.parse of it would be slow). */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

const require = createRequire(import.meta.url);
/** The schema of the records waybill writes (v2), for tools that want to publish or embed it. */
export const RECORD_SCHEMA: Record<string, unknown> = require('../../schemas/release-record-v2.schema.json');
/** The schema of v1 records, still read. */
export const RECORD_SCHEMA_V1: Record<
  string,
  unknown
> = require('../../schemas/release-record-v1.schema.json');

/** The compiled validator of each record version read (schemas/validators.cjs). */
const VALIDATORS: Readonly<Record<string, ValidatorName>> = {
  [PREDICATE_TYPE]: 'record_v2',
  [PREDICATE_TYPE_V1]: 'record_v1',
};

/** The validator of the record version `type` names (a key of VALIDATORS). */
function validator(type: string): ValidateFunction {
  return precompiledValidator(VALIDATORS[type] as ValidatorName);
}

/** Plain words for the schema's patterns; a regex is a poor error message. */
const PATTERN_MEANING: Readonly<Record<string, string>> = {
  Z$: 'must be in UTC (end in Z)',
  '^[0-9a-f]{64}$': 'must be 64 lowercase hex characters',
  '^([0-9a-f]{40}|[0-9a-f]{64})$': 'must be a full object id (40 or 64 lowercase hex characters)',
  '^[^/]+/[^/]+(/[^/]+)?$': 'must be os/arch or os/arch/variant',
  '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$': 'must be base64 (RFC 4648, padded)',
};

/** Turns an ajv error into `<pointer>: <reason>` naming the offending field itself. */
export function describeSchemaError(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${e.instancePath}/${pointerToken(String(params.missingProperty))}: is required (use null when not known)`;
    case 'additionalProperties':
      return `${e.instancePath}/${pointerToken(String(params.additionalProperty))}: is not a field of this record`;
    case 'format':
      return `${e.instancePath || '/'}: must match format ${String(params.format)}`;
    case 'type':
      return `${e.instancePath || '/'}: must be ${String(params.type).split(',').join(' or ')}`;
    case 'pattern': {
      const meaning = PATTERN_MEANING[String(params.pattern)];
      return `${e.instancePath || '/'}: ${meaning ?? `must match pattern ${String(params.pattern)}`}`;
    }
    case 'enum':
      return `${e.instancePath || '/'}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${e.instancePath || '/'}: must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${e.instancePath || '/'}: ${e.message ?? 'is not valid'}`;
  }
}

/**
 * Validates an already-parsed value as a release record; returns `<pointer>: <reason>` for the first
 * problem, or undefined when it is a valid record.
 */
export function recordProblem(value: unknown): string | undefined {
  const issue = checkStatement(value);
  if (issue) return `${issue.pointer || '/'}: ${issue.reason}`;
  const predicateType = (value as { predicateType?: unknown }).predicateType;
  if (typeof predicateType !== 'string' || VALIDATORS[predicateType] === undefined) {
    const known = RECORD_PREDICATE_TYPES.map((t) => JSON.stringify(t)).join(' or ');
    return `/predicateType: must be ${known} (a waybill release record)`;
  }
  const validate = validator(predicateType);
  if (validate(value)) return undefined;
  const first = validate.errors?.[0];
  return first ? describeSchemaError(first) : '/: is not a valid release record';
}

/** Type guard form of {@link recordProblem}. */
export function isReleaseRecord(value: unknown): value is ReleaseRecord {
  return recordProblem(value) === undefined;
}

/**
 * Parses and validates a release record. `source` names where the JSON came from (a file path, an
 * OCI reference) and prefixes every error. Throws MALFORMED for anything that is not a valid v1 or v2
 * record.
 */
export function parseRecord(json: string, source: string): ReleaseRecord {
  if (json.length > MAX_RECORD_BYTES) {
    throw new WaybillError('LIMIT', source, `release record is larger than ${MAX_RECORD_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new WaybillError('MALFORMED', source, `not valid JSON: ${detail}`, { cause: e });
  }
  checkedDepth(value, source);
  const problem = recordProblem(value);
  if (problem !== undefined) throw new WaybillError('MALFORMED', source, problem);
  return value as ReleaseRecord;
}
