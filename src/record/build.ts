/**
 * Building a release record from the facts gathered by `publish`, and writing it as canonical JSON:
 * the same facts always give the same bytes, so a record can be diffed, hashed and signed.
 */
import { WaybillError } from '../errors.ts';
import { toolVersion } from '../version.ts';
import type { RecordInput } from './input.ts';
import { recordProblem } from './schema.ts';
import {
  PREDICATE_TYPE,
  type ReleasePredicate,
  type ReleaseRecord,
  type ResourceDescriptor,
  type SourceFact,
  STATEMENT_TYPE,
} from './types.ts';
import { assertRecordTexts } from './written-text.ts';

export type { RecordInput } from './input.ts';

type Text = string | null | undefined;

/** Empty or blank text is "not provided": the record says null rather than "". */
function text(v: Text): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareCodeUnits);
}

/** Plain code-unit order: locale independent, so every machine sorts the same way. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** UTC, seconds precision unless the input had sub-second digits: `2024-05-01T12:00:00Z`. */
export function utcTimestamp(value: string | Date | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  const date = typeof value === 'string' ? (RFC3339.test(value) ? new Date(value) : undefined) : value;
  // Not RFC 3339 (or a leap second Date cannot hold): keep it, so validation names the bad value.
  if (date === undefined || Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace('.000Z', 'Z');
}

/** Orders subjects by name then digest, so the order facts were gathered in does not matter. */
function sortSubjects(subject: readonly ResourceDescriptor[]): ResourceDescriptor[] {
  return [...subject].sort(
    (a, b) => compareCodeUnits(a.name, b.name) || compareCodeUnits(a.digest.sha256, b.digest.sha256),
  );
}

/**
 * A v2 source always has `tree` and `evidence` (null where there is nothing to embed): a record says
 * explicitly that it carries no tag object rather than leaving the reader to guess.
 */
function sourceWithEvidence(source: SourceFact | null | undefined): SourceFact | null {
  if (!source) return null;
  return {
    ...source,
    tree: source.tree ?? null,
    evidence: {
      rawTag: source.evidence?.rawTag ?? null,
      rawCommit: source.evidence?.rawCommit ?? null,
    },
  };
}

/**
 * Assembles a record, fills defaults, and checks it against the schema before anyone writes it. A
 * name, version or URL with a control character is refused (written-text.ts).
 */
export function buildRecord(input: RecordInput): ReleaseRecord {
  assertRecordTexts(input);
  const identity: ReleasePredicate['identity'] = {
    name: text(input.identity?.name),
    version: text(input.identity?.version),
    architectures: sortedUnique(input.identity?.architectures ?? []),
  };
  if (input.identity?.platforms && input.identity.platforms.length > 0) {
    identity.platforms = sortedUnique(input.identity.platforms);
  }
  const record: ReleaseRecord = {
    _type: STATEMENT_TYPE,
    subject: sortSubjects(input.subject),
    predicateType: PREDICATE_TYPE,
    predicate: {
      identity,
      manifest: input.manifest ?? null,
      dates: { built: utcTimestamp(input.dates?.built), published: utcTimestamp(input.dates?.published) },
      source: sourceWithEvidence(input.source),
      team: { name: text(input.team?.name), contact: text(input.team?.contact) },
      help: { bugTracker: text(input.help?.bugTracker), docs: text(input.help?.docs) },
      support: {
        license: text(input.support?.license),
        disclaimer: text(input.support?.disclaimer),
        statement: text(input.support?.statement),
      },
      generator: { name: 'waybill', version: toolVersion() },
    },
  };
  if (input.upstream && input.upstream.length > 0) {
    record.predicate.upstream = [...input.upstream]
      .map((u) => ({ field: u.field, value: u.value }))
      .sort((a, b) => compareCodeUnits(a.field, b.field) || compareCodeUnits(a.value, b.value));
  }
  // A record that its own schema rejects must never be written: readers would refuse it later.
  const problem = recordProblem(JSON.parse(JSON.stringify(record)));
  if (problem !== undefined) throw new WaybillError('USAGE', 'release record', problem);
  return record;
}

/**
 * Key order of the canonical form: the Statement fields in the order of the in-toto spec, then the
 * predicate facts in guideline order (identity … support, generator), then each object's fields in the
 * order docs/record.md lists them. Keys not listed (custom digest algorithms, annotations) follow,
 * sorted by code unit.
 */
const KEY_ORDER: readonly string[] = [
  '_type',
  'subject',
  'predicateType',
  'predicate',
  'identity',
  'manifest',
  'dates',
  'source',
  'team',
  'help',
  'support',
  'upstream',
  'generator',
  'name',
  'version',
  'architectures',
  'platforms',
  'format',
  'uri',
  'digest',
  'sha256',
  'location',
  'forced',
  'downloadLocation',
  'mediaType',
  'built',
  'published',
  'repository',
  'tag',
  'commit',
  'tree',
  'tagObject',
  'signature',
  'verified',
  'signer',
  'reason',
  'evidence',
  'rawTag',
  'rawCommit',
  'contact',
  'bugTracker',
  'docs',
  'license',
  'disclaimer',
  'statement',
  'field',
  'value',
];
const KEY_RANK = new Map(KEY_ORDER.map((k, i) => [k, i]));

function compareKeys(a: string, b: string): number {
  const ra = KEY_RANK.get(a) ?? Number.MAX_SAFE_INTEGER;
  const rb = KEY_RANK.get(b) ?? Number.MAX_SAFE_INTEGER;
  return ra - rb || compareCodeUnits(a, b);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    // No prototype: a `__proto__` key (possible in free-form annotations) stays an ordinary key.
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value).sort(compareKeys)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/** Canonical JSON: fixed key order (see KEY_ORDER), 2-space indent, LF, one trailing newline. */
export function serializeRecord(record: ReleaseRecord): string {
  return `${JSON.stringify(canonical(record), null, 2)}\n`;
}
