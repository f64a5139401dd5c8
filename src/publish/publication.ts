/**
 * The publication statement: the publish date no artifact format has a field for (guideline 3),
 * written by `publish` as an in-toto Statement v1 with waybill's predicate
 * `https://waybill.dev/publication/v1` (schemas/publication-v1.schema.json, docs/publish.md):
 *
 *   predicate.published   when the artifact became visible at the target (RFC 3339, UTC)
 *   predicate.target      where: `docker://HOST/REPO:TAG`, `dir:ROOT`, `oci:DIR:TAG`
 *   predicate.reference   the immutable name of what is there (`docker://HOST/REPO@sha256:…`)
 *   predicate.record      the SHA-256 of the release record published with it, or null
 *   predicate.forced      the rules that failed `check` and were published anyway (`--force`)
 *
 * It is stored with the artifact like the record: an OCI attachment (artifactType below) or the
 * sidecar `NAME.publication.json`, and signed like any statement (`NAME.publication.sigstore.json`).
 */
import { WaybillError } from '../errors.ts';
import type { RuleId } from '../policy/types.ts';
import { checkStatement } from '../record/intoto.ts';
import { describeSchemaError } from '../record/schema.ts';
import { STATEMENT_TYPE } from '../record/types.ts';
import { precompiledValidator } from '../record/validators.ts';
import { toolVersion } from '../version.ts';

export const PUBLICATION_PREDICATE_TYPE = 'https://waybill.dev/publication/v1';
/** OCI artifactType of an attached publication statement (its payload is `application/vnd.in-toto+json`). */
export const PUBLICATION_ARTIFACT_TYPE = 'application/vnd.waybill.publication.v1+json';
export const PUBLICATION_SIDECAR_SUFFIX = '.publication.json';
/** A statement of a few hundred bytes; anything this large is not one. */
export const MAX_PUBLICATION_BYTES = 1024 * 1024;

export interface ForcedRule {
  rule: RuleId;
  message: string;
}

export interface PublicationPredicate {
  published: string;
  target: string;
  reference: string;
  record: { digest: { sha256: string } } | null;
  forced: ForcedRule[];
  publisher: { name: 'waybill'; version: string };
}

export interface PublicationStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof PUBLICATION_PREDICATE_TYPE;
  predicate: PublicationPredicate;
}

export interface PublicationInput {
  /** The artifact's name (the record's subject name) and digest (`sha256:…`). */
  name: string;
  digest: string;
  published: Date | string;
  target: string;
  reference: string;
  /** `sha256:…` of the record bytes, when a record is published with it. */
  recordDigest?: string;
  forced?: ForcedRule[];
}

/** RFC 3339 in UTC, whole seconds (what every other waybill date looks like). */
export function utcSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function hex(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

export function buildPublication(input: PublicationInput): PublicationStatement {
  const published = typeof input.published === 'string' ? input.published : utcSeconds(input.published);
  const statement: PublicationStatement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: input.name, digest: { sha256: hex(input.digest) } }],
    predicateType: PUBLICATION_PREDICATE_TYPE,
    predicate: {
      published,
      target: input.target,
      reference: input.reference,
      record: input.recordDigest ? { digest: { sha256: hex(input.recordDigest) } } : null,
      forced: input.forced ?? [],
      publisher: { name: 'waybill', version: toolVersion() },
    },
  };
  const problem = publicationProblem(statement);
  if (problem)
    throw new WaybillError(
      'USAGE',
      input.target,
      `refusing to write an invalid publication statement: ${problem}`,
    );
  return statement;
}

/** The bytes stored: compact JSON, keys in the order above (the same statement, the same bytes). */
export function serializePublication(statement: PublicationStatement): Buffer {
  return Buffer.from(`${JSON.stringify(statement)}\n`, 'utf8');
}

/** `<pointer>: <reason>` for the first problem, or undefined when `value` is a valid publication statement. */
export function publicationProblem(value: unknown): string | undefined {
  const issue = checkStatement(value);
  if (issue) return `${issue.pointer || '/'}: ${issue.reason}`;
  const validate = precompiledValidator('publication_v1');
  if (validate(value)) return undefined;
  const first = validate.errors?.[0];
  return first ? describeSchemaError(first) : '/: is not a publication statement';
}

/** Parses a stored publication statement; MALFORMED (naming `source`) when it is not one. */
export function parsePublication(bytes: Uint8Array, source: string): PublicationStatement {
  if (bytes.length > MAX_PUBLICATION_BYTES)
    throw new WaybillError(
      'LIMIT',
      source,
      `publication statement is larger than ${MAX_PUBLICATION_BYTES} bytes`,
    );
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new WaybillError('MALFORMED', source, 'publication statement is not JSON', { cause: e });
  }
  const problem = publicationProblem(value);
  if (problem) throw new WaybillError('MALFORMED', source, problem);
  return value as PublicationStatement;
}

/** Whether the statement is about the artifact `digest` (`sha256:…`). */
export function publicationIsAbout(statement: PublicationStatement, digest: string): boolean {
  return statement.subject.some((s) => s.digest.sha256 === hex(digest));
}
