/**
 * The statements and signatures going out with an artifact, or already at its destination: the
 * payloads of its in-toto statement attachments (record, publication statement, provenance, audit)
 * and of its bundle attachments (Sigstore bundles, `.intoto.jsonl`), read whole and verified, each
 * trusted only for the subject its own manifest names. What `publish` signs, and what it finds already
 * signed, comes from here.
 */
import { WaybillError } from '../errors.ts';
import { ARTIFACT_TYPE } from '../oci/types.ts';
import { BUNDLE_MEDIA_TYPE } from '../sign/bundle-files.ts';
import { INTOTO_PAYLOAD_TYPE } from '../sign/sign-statement.ts';
import { sha256Digest } from '../util/digest.ts';
import { attachmentParts, type Graph, type GraphSource, readSmallBlob } from './graph.ts';
import {
  MAX_PUBLICATION_BYTES,
  PUBLICATION_ARTIFACT_TYPE,
  type PublicationStatement,
  parsePublication,
  publicationIsAbout,
} from './publication.ts';
import { INTOTO_JSONL_ARTIFACT_TYPE } from './sidecars.ts';

/** A statement or bundle read whole: statements are small (SBOM attestations of big images excepted). */
const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;

export interface Payload {
  artifactType: string;
  subject: string;
  bytes: Buffer;
  source: string;
}

/** Payloads of the statement and bundle attachments of `subjects` at `source` (subjects checked by each manifest). */
export async function statementPayloads(source: GraphSource, subjects: string[]): Promise<Payload[]> {
  const out: Payload[] = [];
  for (const subject of subjects) {
    for (const d of await source.referrers(subject)) {
      const bytes = await source.manifest(d).catch((e: unknown) => {
        // Listed but gone (deleted from the registry since): nothing to read.
        if (e instanceof WaybillError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      });
      if (!bytes) continue;
      const parts = attachmentParts({ descriptor: d, bytes }, source.name);
      const manifest = JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: string } };
      if (manifest.subject?.digest !== subject || !parts.payload) continue;
      if (!isStatementOrBundle(parts.artifactType, parts.payload.mediaType)) continue;
      out.push({
        artifactType: parts.artifactType,
        subject,
        bytes: await readSmallBlob(source, parts.payload, MAX_STATEMENT_BYTES),
        source: `${source.name}@${d.digest}`,
      });
    }
  }
  return out;
}

export function isBundleType(artifactType: string): boolean {
  return artifactType === BUNDLE_MEDIA_TYPE || artifactType === INTOTO_JSONL_ARTIFACT_TYPE;
}

function isStatementOrBundle(artifactType: string, payloadMediaType: string): boolean {
  return isBundleType(artifactType) || payloadMediaType === INTOTO_PAYLOAD_TYPE;
}

/** The same payloads read from the graph about to be published (source side). */
export async function graphPayloads(graph: Graph, source: GraphSource): Promise<Payload[]> {
  const out: Payload[] = [];
  for (const referrer of graph.referrers) {
    const parts = attachmentParts(referrer, source.name);
    if (!parts.payload || !isStatementOrBundle(parts.artifactType, parts.payload.mediaType)) continue;
    out.push({
      artifactType: parts.artifactType,
      subject: referrer.subject.digest,
      bytes: await readSmallBlob(source, parts.payload, MAX_STATEMENT_BYTES),
      source: `${source.name}@${referrer.descriptor.digest}`,
    });
  }
  return out;
}

/** Parses an in-toto statement payload; undefined when it is not one. */
export function statementOf(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'predicateType' in value)
      return value as Record<string, unknown>;
  } catch {
    // not JSON: not a statement
  }
  return undefined;
}

/** `sha256:…` of the record attachment's payload (the record as published). */
export async function recordDigest(graph: Graph, source: GraphSource): Promise<string | undefined> {
  for (const referrer of graph.referrers) {
    if (referrer.subject.digest !== graph.root.digest) continue;
    const parts = attachmentParts(referrer, source.name);
    if (parts.artifactType !== ARTIFACT_TYPE.record || !parts.payload) continue;
    return sha256Digest(await readSmallBlob(source, parts.payload, MAX_STATEMENT_BYTES));
  }
  return undefined;
}

/**
 * The earliest valid publication statement among `payloads` that is about `digest` and names
 * `target`: what an earlier (or interrupted) publish of the same digest there wrote. Its date is
 * kept, so publishing again changes nothing.
 */
export function earlierPublication(
  payloads: Payload[],
  target: string,
  digest: string,
): { statement: PublicationStatement; bytes: Buffer } | undefined {
  let earliest: { statement: PublicationStatement; bytes: Buffer } | undefined;
  for (const p of payloads) {
    if (p.artifactType !== PUBLICATION_ARTIFACT_TYPE || p.bytes.length > MAX_PUBLICATION_BYTES) continue;
    let statement: PublicationStatement;
    try {
      statement = parsePublication(p.bytes, p.source);
    } catch {
      continue;
    }
    if (statement.predicate.target !== target || !publicationIsAbout(statement, digest)) continue;
    if (!earliest || statement.predicate.published < earliest.statement.predicate.published)
      earliest = { statement, bytes: p.bytes };
  }
  return earliest;
}
