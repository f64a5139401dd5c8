/**
 * `publish ARTIFACT TARGET`: put an artifact, with every statement about it, where its users look —
 * a registry (images as they are, any file as an OCI artifact), an OCI layout or archive, or a
 * release directory — and record when and where in a signed publication statement.
 *
 * 1. `check` with the publisher's policy, judging the dates by the publication about to be written:
 *    a failing artifact is refused (nothing is written) unless `force`, and then the failing rules
 *    are named in the publication statement;
 * 2. the publication statement: the one already at the target for this digest and target (an
 *    interrupted or repeated publish keeps its date), else a new one dated now;
 * 3. signatures: with a signer, every statement going out that no bundle going out (or already at
 *    the target) signs — the publication statement, the record, provenance — is signed; without one,
 *    `policy.requireSignatures` refuses the publish;
 * 4. the transfer (publish/transfer.ts): blobs, manifests, attachments, the tag last; what is there
 *    already is skipped, so a second publish of the same digest changes nothing and says so.
 */

import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WaybillError } from '../errors.ts';
import { ARTIFACT_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import type { CheckReport, Policy } from '../policy/types.ts';
import {
  canonicalRegistryRef,
  type Destination,
  parseDestination,
  withGraphSink,
} from '../publish/destination.ts';
import { fileGraph } from '../publish/file-graph.ts';
import {
  attachmentParts,
  collectGraph,
  type Graph,
  type GraphSource,
  readSmallBlob,
} from '../publish/graph.ts';
import { releaseBundleFromGraph, releaseIdentity } from '../publish/graph-release-bundle.ts';
import { LayoutGraphSource } from '../publish/layout-endpoint.ts';
import { AddedGraph, type BuiltManifest, buildAttachment } from '../publish/memory-source.ts';
import { type CopySource, openCopySource } from '../publish/open-source.ts';
import {
  buildPublication,
  type ForcedRule,
  MAX_PUBLICATION_BYTES,
  PUBLICATION_ARTIFACT_TYPE,
  type PublicationStatement,
  parsePublication,
  publicationIsAbout,
  serializePublication,
  utcSeconds,
} from '../publish/publication.ts';
import { RegistryGraphSource } from '../publish/registry-target.ts';
import { publishToReleaseDirectory } from '../publish/release-dir.ts';
import { INTOTO_JSONL_ARTIFACT_TYPE } from '../publish/sidecars.ts';
import {
  type NewBundle,
  signAll,
  signedStatements,
  type UnsignedStatement,
  unsigned,
} from '../publish/signing.ts';
import { type TransferEvents, type TransferReport, transfer } from '../publish/transfer.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { DOCKER_TRANSPORT, formatReference, parseDockerReference } from '../registry/reference.ts';
import { openRepository } from '../registry/repository.ts';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION } from '../sign/bundle-files.ts';
import { INTOTO_PAYLOAD_TYPE } from '../sign/sign-statement.ts';
import type { Signer } from '../sign/signer.ts';
import { DirectoryBlobStore } from '../sources/blob-store.ts';
import { openTarBlobStore } from '../sources/oci-archive.ts';
import { openArtifact } from '../sources/open.ts';
import { sha256Digest } from '../util/digest.ts';
import { loadRecord } from './attachments.ts';
import { checkOpenedArtifact } from './check.ts';

export interface PublishOptions {
  /** The publisher's policy (the project's `waybill.yaml`), which `check` applies first. */
  policy: Policy;
  /** Signs the publication statement and every statement not yet signed. */
  signer?: Signer;
  /** Publish despite failing rules (named in the publication statement). */
  force?: boolean;
  /** The publish date (default: now). */
  now?: Date;
  registry?: RegistryOptions;
  cache?: BlobCache;
  events?: TransferEvents;
  concurrency?: number;
  /** Blobs larger than this are uploaded in chunks (default 64 MiB). */
  chunkedAbove?: number;
}

export type PublishStatus = 'published' | 'unchanged' | 'refused';

export interface PublishResult {
  artifact: string;
  target: string;
  status: PublishStatus;
  /** One line for the user. */
  message: string;
  /** The artifact's digest (what its record binds to). */
  digest: string;
  /** What is published at the target: `docker://HOST/REPO@sha256:…`, or the file in a release directory. */
  reference: string;
  /** The publish date (the publication statement's). */
  published: string;
  check: CheckReport;
  forced: ForcedRule[];
  /** The publication statement was already at the target (its date kept). */
  resumed: boolean;
  /** Statements signed in this run, and those going out unsigned (no key). */
  signed: string[];
  unsigned: string[];
  transfer?: TransferReport;
  /** Release directories: the files written. */
  written?: string[];
}

const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;

/** The failing rules of a check, with the first error of each. */
function failingRules(report: CheckReport): ForcedRule[] {
  return report.rules
    .filter((r) => r.status === 'fail')
    .map((r) => ({
      rule: r.id,
      message: r.findings.find((f) => f.severity === 'error')?.message ?? 'failed',
    }));
}

/** Where the artifact lands and how the publication statement names it. */
interface Placement {
  destination: Destination;
  /** The target as the statement records it (`docker://HOST/REPO:TAG`, `oci:DIR:TAG`, `dir:ROOT`). */
  target: string;
  /** The registry reference with its tag resolved. */
  registryRef?: string;
  tag?: string;
}

async function place(targetRef: string, defaultTag: string): Promise<Placement> {
  const destination = await parseDestination(targetRef);
  switch (destination.kind) {
    case 'registry': {
      const registryRef = destination.explicit ? destination.ref : `${destination.ref}:${defaultTag}`;
      const reference = parseDockerReference(registryRef);
      if (reference.digest !== undefined)
        throw new WaybillError(
          'USAGE',
          targetRef,
          'publish to a tag (docker://HOST/REPO:TAG): a digest cannot be chosen, it is what the artifact hashes to',
        );
      return { destination, target: canonicalRegistryRef(registryRef), registryRef };
    }
    case 'oci':
    case 'oci-archive': {
      const tag = destination.tag ?? defaultTag;
      return { destination, target: `${destination.kind}:${resolve(destination.path)}:${tag}`, tag };
    }
    case 'release-dir':
      return { destination, target: `dir:${resolve(destination.root)}` };
  }
}

/** The destination as a graph source, when it exists: to find what an earlier publish left there. */
async function existingDestination(
  placement: Placement,
  options: { registry?: RegistryOptions; cache: BlobCache },
  releasePath: string | undefined,
): Promise<GraphSource | undefined> {
  const { destination } = placement;
  const present = async (path: string) => (await lstat(path).catch(() => undefined)) !== undefined;
  switch (destination.kind) {
    case 'registry':
      return new RegistryGraphSource(
        openRepository(placement.registryRef ?? destination.ref, options.registry),
        options.cache,
      );
    case 'oci':
      return (await present(join(destination.path, 'index.json')))
        ? new LayoutGraphSource(destination.ref, new DirectoryBlobStore(destination.path), placement.tag)
        : undefined;
    case 'oci-archive':
      return (await present(destination.path))
        ? new LayoutGraphSource(destination.ref, await openTarBlobStore(destination.path), placement.tag)
        : undefined;
    case 'release-dir':
      return releasePath && (await present(releasePath))
        ? (await fileGraph(releasePath, releasePath)).source
        : undefined;
  }
}

interface Payload {
  artifactType: string;
  subject: string;
  bytes: Buffer;
  source: string;
}

/** Payloads of the statement and bundle attachments of `subjects` at `source` (subjects checked by each manifest). */
async function statementPayloads(source: GraphSource, subjects: string[]): Promise<Payload[]> {
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

function isBundleType(artifactType: string): boolean {
  return artifactType === BUNDLE_MEDIA_TYPE || artifactType === INTOTO_JSONL_ARTIFACT_TYPE;
}

function isStatementOrBundle(artifactType: string, payloadMediaType: string): boolean {
  return isBundleType(artifactType) || payloadMediaType === INTOTO_PAYLOAD_TYPE;
}

/** The same payloads read from the graph about to be published (source side). */
async function graphPayloads(graph: Graph, source: GraphSource): Promise<Payload[]> {
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
function statementOf(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'predicateType' in value)
      return value as Record<string, unknown>;
  } catch {
    // not JSON: not a statement
  }
  return undefined;
}

/** Adds an attachment made here to the graph (and to the source that serves its bytes). */
function addToGraph(graph: Graph, added: AddedGraph, subject: Graph['root'], built: BuiltManifest): void {
  added.addReferrer(subject.digest, built);
  if (graph.referrers.some((r) => r.descriptor.digest === built.descriptor.digest)) return;
  graph.referrers.push({ subject, descriptor: built.descriptor, bytes: built.bytes });
  for (const blob of built.blobs)
    if (!graph.referrerBlobs.some((d) => d.digest === blob.descriptor.digest))
      graph.referrerBlobs.push(blob.descriptor);
}

export async function publishArtifact(
  ref: string,
  targetRef: string,
  options: PublishOptions,
): Promise<PublishResult> {
  const cache = options.cache ?? new BlobCache();
  const now = options.now ?? new Date();
  const opened: CopySource = await openCopySource(ref, { registry: options.registry, cache });
  const artifact = await openArtifact(ref, options.registry ? { registry: options.registry } : {});
  const record = (await loadRecord(artifact))?.record;
  const graph = await collectGraph(opened.source);
  const file = opened.file;
  const name =
    record?.predicate.identity.name ?? file?.name ?? graph.tag ?? artifact.digest.slice('sha256:'.length, 19);
  const placement = await place(targetRef, record?.predicate.identity.version ?? graph.tag ?? 'latest');
  const { destination, target } = placement;

  // Where a release directory would put the file: NAME/VERSION/FILE (to find an earlier publication there).
  let releasePath: string | undefined;
  if (destination.kind === 'release-dir') {
    if (!file && !opened.registry)
      throw new WaybillError(
        'UNSUPPORTED',
        ref,
        'a release directory holds files: publish an image to a registry or an OCI layout',
      );
    const identity = releaseIdentity(record, ref);
    releasePath = join(resolve(destination.root), identity.name, identity.version, file?.name ?? name);
  }
  const reference =
    destination.kind === 'registry'
      ? `${DOCKER_TRANSPORT}${formatReference({ ...parseDockerReference(placement.registryRef as string), tag: undefined, digest: graph.root.digest })}`
      : (releasePath ?? `${target}@${graph.root.digest}`);

  // 2. An earlier publication of this digest to this target (an interrupted or repeated publish).
  const there = await existingDestination(placement, { registry: options.registry, cache }, releasePath);
  const subjects = graph.manifests.map((m) => m.descriptor.digest);
  const thereAll = there ? await statementPayloads(there, subjects) : [];
  const therePayloads = thereAll.filter((p) => p.subject === graph.root.digest);
  let earlier: { statement: PublicationStatement; bytes: Buffer } | undefined;
  for (const p of therePayloads) {
    if (p.artifactType !== PUBLICATION_ARTIFACT_TYPE || p.bytes.length > MAX_PUBLICATION_BYTES) continue;
    let statement: PublicationStatement;
    try {
      statement = parsePublication(p.bytes, p.source);
    } catch {
      continue;
    }
    if (statement.predicate.target !== target || !publicationIsAbout(statement, artifact.digest)) continue;
    if (!earlier || statement.predicate.published < earlier.statement.predicate.published)
      earlier = { statement, bytes: p.bytes };
  }
  const published = earlier?.statement.predicate.published ?? utcSeconds(now);

  // 1. check, by the publisher's policy, with the publish date about to be recorded.
  const report = await checkOpenedArtifact(artifact, {
    policy: options.policy,
    now,
    published: true,
    publication: { published, target, location: 'this publish' },
  });
  const failing = failingRules(report);
  const base = {
    artifact: ref,
    target,
    digest: artifact.digest,
    reference,
    published,
    check: report,
    resumed: earlier !== undefined,
    signed: [] as string[],
    unsigned: [] as string[],
  };
  if (failing.length > 0 && !options.force) {
    return {
      ...base,
      status: 'refused',
      forced: [],
      message: `not published: ${failing.map((f) => f.rule).join(', ')} failed (fix them, or publish with --force to record them in the publication statement)`,
    };
  }
  if (!options.signer && options.policy.requireSignatures)
    throw new WaybillError(
      'USAGE',
      ref,
      'policy.requireSignatures is set: publish signs its statements; give the key with --key FILE or WAYBILL_KEY',
    );

  // The publication statement, new or the earlier one.
  const statement =
    earlier?.statement ??
    buildPublication({
      name,
      digest: artifact.digest,
      published,
      target,
      reference,
      ...(record ? { recordDigest: await recordDigest(graph, opened.source) } : {}),
      forced: failing,
    });
  const added = new AddedGraph(opened.source.name, opened.source);
  const titled = (suffix: string): Record<string, string> =>
    file ? { [OCI_ANNOTATION.title]: `${file.name}${suffix}` } : {};
  if (!earlier) {
    addToGraph(
      graph,
      added,
      graph.root,
      buildAttachment({
        subject: graph.root,
        artifactType: PUBLICATION_ARTIFACT_TYPE,
        payload: serializePublication(statement),
        mediaType: INTOTO_PAYLOAD_TYPE,
        annotations: { [OCI_ANNOTATION.created]: published, ...titled('.publication.json') },
      }),
    );
  }

  // 3. Signatures for every statement no bundle signs yet.
  const sourcePayloads = await graphPayloads(graph, added);
  const signed = signedStatements(
    [...sourcePayloads, ...thereAll].filter((p) => isBundleType(p.artifactType)),
  );
  const statements: Array<UnsignedStatement & { subject: string }> = [];
  for (const p of sourcePayloads) {
    if (isBundleType(p.artifactType)) continue;
    const parsed = statementOf(p.bytes);
    if (parsed) statements.push({ statement: parsed, source: p.source, subject: p.subject });
  }
  if (earlier)
    statements.push({
      statement: statement as unknown as Record<string, unknown>,
      source: target,
      subject: graph.root.digest,
    });
  const toSign = unsigned(statements, signed) as Array<UnsignedStatement & { subject: string }>;
  let bundles: NewBundle[] = [];
  if (options.signer) bundles = await signAll(toSign, options.signer);
  toSign.forEach((s, i) => {
    const bundle = bundles[i];
    if (!bundle) return;
    const subject = graph.manifests.find((m) => m.descriptor.digest === s.subject)?.descriptor ?? graph.root;
    addToGraph(
      graph,
      added,
      subject,
      buildAttachment({
        subject,
        artifactType: BUNDLE_MEDIA_TYPE,
        payload: Buffer.from(bundle.json, 'utf8'),
        mediaType: BUNDLE_MEDIA_TYPE,
        annotations: {
          [BUNDLE_PREDICATE_ANNOTATION]: bundle.predicateType,
          [OCI_ANNOTATION.created]: published,
          ...titled(`.${bundle.kind}.sigstore.json`),
        },
      }),
    );
  });
  const signedNow = bundles.map((b) => `${b.kind} (${b.source})`);
  const unsignedNow = options.signer ? [] : toSign.map((s) => s.source);
  const forced = statement.predicate.forced;

  // 4. The transfer.
  if (destination.kind === 'release-dir') {
    const bundle = await releaseBundleFromGraph(graph, added, cache, published, file?.path);
    // Signatures made now are new sidecars of a release that may be there already: `force` lets the
    // directory take them (it never replaces the artifact itself, nor its first publication date).
    const outcome = await publishToReleaseDirectory(destination.root, bundle, { force: bundles.length > 0 });
    return {
      ...base,
      status: outcome.changed ? 'published' : 'unchanged',
      message: outcome.changed
        ? outcome.message
        : `already published at ${target} on ${published}; nothing done`,
      forced,
      signed: signedNow,
      unsigned: unsignedNow,
      written: outcome.written,
    };
  }
  const transferred = await withGraphSink(
    destination,
    {
      registry: options.registry,
      cache,
      ...(placement.tag !== undefined ? { tag: placement.tag } : {}),
      ...(placement.registryRef !== undefined ? { registryRef: placement.registryRef } : {}),
      ...(options.chunkedAbove !== undefined ? { chunkedAbove: options.chunkedAbove } : {}),
    },
    (sink) =>
      transfer(graph, added, sink, {
        ...(options.events ? { events: options.events } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      }),
  );
  return {
    ...base,
    status: transferred.changed ? 'published' : 'unchanged',
    message: transferred.changed
      ? `published ${graph.root.digest} to ${target}`
      : `already published at ${target} on ${published}; nothing done`,
    forced,
    signed: signedNow,
    unsigned: unsignedNow,
    transfer: transferred,
  };
}

/** `sha256:…` of the record attachment's payload (the record as published). */
async function recordDigest(graph: Graph, source: GraphSource): Promise<string | undefined> {
  for (const referrer of graph.referrers) {
    if (referrer.subject.digest !== graph.root.digest) continue;
    const parts = attachmentParts(referrer, source.name);
    if (parts.artifactType !== ARTIFACT_TYPE.record || !parts.payload) continue;
    return sha256Digest(await readSmallBlob(source, parts.payload, MAX_STATEMENT_BYTES));
  }
  return undefined;
}
