/**
 * Statement-level checks of the in-toto Attestation Framework v1, independent of the predicate:
 * spec/v1/statement.md (the `_type` URI, a non-empty subject, a digest on every subject) and
 * spec/v1/digest_set.md (the named standard algorithms are lowercase hex of a fixed length; unknown
 * algorithms are allowed and not checked). The waybill predicate itself is checked by the JSON Schema.
 */
import { STATEMENT_TYPE } from './types.ts';

/** Digest length in hex characters of every algorithm the DigestSet spec names with a fixed size. */
const HEX_DIGEST_LENGTHS: Readonly<Record<string, readonly number[]>> = {
  md5: [32],
  sha1: [40],
  ripemd160: [40],
  sha224: [56],
  sha512_224: [56],
  sha3_224: [56],
  sha256: [64],
  sha512_256: [64],
  sha3_256: [64],
  sm3: [64],
  dirHash: [64],
  sha384: [96],
  sha3_384: [96],
  sha512: [128],
  sha3_512: [128],
  // Git object ids are SHA-1 or, in SHA-256 repositories, SHA-256 (digest_set.md, "gitCommit…").
  gitCommit: [40, 64],
  gitTree: [40, 64],
  gitBlob: [40, 64],
  gitTag: [40, 64],
};

/** A problem found in a statement: a JSON Pointer to the field and a one-line reason. */
export interface StatementIssue {
  pointer: string;
  reason: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON Pointer escaping (RFC 6901 section 3): `~` → `~0`, `/` → `~1`. */
export function pointerToken(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Checks one DigestSet value; returns the first issue or undefined. */
export function checkDigestSet(digest: unknown, pointer: string): StatementIssue | undefined {
  if (!isPlainObject(digest)) return { pointer, reason: 'must be an object mapping algorithm to digest' };
  for (const [alg, value] of Object.entries(digest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const at = `${pointer}/${pointerToken(alg)}`;
    if (typeof value !== 'string') return { pointer: at, reason: 'must be a string' };
    const lengths = HEX_DIGEST_LENGTHS[alg];
    if (lengths === undefined) continue; // custom algorithm: encoding is up to its definer
    if (!/^[0-9a-f]*$/.test(value)) return { pointer: at, reason: `must be lowercase hex (${alg})` };
    if (!lengths.includes(value.length)) {
      const want = lengths.join(' or ');
      return { pointer: at, reason: `must be ${want} hex characters for ${alg}, got ${value.length}` };
    }
  }
  return undefined;
}

/**
 * Checks a ResourceDescriptor (resource_descriptor.md): at least one of name, uri or digest, and a
 * well-formed DigestSet when present.
 */
export function checkResourceDescriptor(rd: unknown, pointer: string): StatementIssue | undefined {
  if (!isPlainObject(rd)) return { pointer, reason: 'must be an object (ResourceDescriptor)' };
  for (const key of ['name', 'uri', 'downloadLocation', 'mediaType', 'content'] as const) {
    if (rd[key] !== undefined && typeof rd[key] !== 'string') {
      return { pointer: `${pointer}/${key}`, reason: 'must be a string' };
    }
  }
  const hasDigest = isPlainObject(rd.digest) && Object.keys(rd.digest).length > 0;
  if (!rd.name && !rd.uri && !hasDigest) {
    return { pointer, reason: 'must have at least one of name, uri or digest' };
  }
  if (rd.digest !== undefined) return checkDigestSet(rd.digest, `${pointer}/digest`);
  return undefined;
}

/** Checks the Statement layer (statement.md); returns the first issue or undefined. */
export function checkStatement(statement: unknown): StatementIssue | undefined {
  if (!isPlainObject(statement)) return { pointer: '', reason: 'must be a JSON object (in-toto Statement)' };
  if (statement._type !== STATEMENT_TYPE) {
    return { pointer: '/_type', reason: `must be ${STATEMENT_TYPE}, got ${describe(statement._type)}` };
  }
  const subject = statement.subject;
  if (!Array.isArray(subject) || subject.length === 0) {
    return { pointer: '/subject', reason: 'must be a non-empty array' };
  }
  for (const [i, rd] of subject.entries()) {
    const issue = checkResourceDescriptor(rd, `/subject/${i}`);
    if (issue) return issue;
    // Statement v1 requires a digest on every subject, unlike a bare ResourceDescriptor.
    const digest = (rd as Record<string, unknown>).digest;
    if (!isPlainObject(digest) || Object.keys(digest).length === 0) {
      return { pointer: `/subject/${i}/digest`, reason: 'is required: a subject is matched by its digest' };
    }
  }
  if (typeof statement.predicateType !== 'string' || statement.predicateType === '') {
    return { pointer: '/predicateType', reason: 'must be a non-empty type URI' };
  }
  if (statement.predicate !== undefined && !isPlainObject(statement.predicate)) {
    return { pointer: '/predicate', reason: 'must be an object' };
  }
  return undefined;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (v === undefined) return 'nothing';
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v;
}
