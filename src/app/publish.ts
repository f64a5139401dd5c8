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

import { join, resolve } from 'node:path';
import { WaybillError } from '../errors.ts';
import { OCI_ANNOTATION } from '../oci/types.ts';
import type { ConsumerTrust } from '../policy/trust.ts';
import type { CheckReport, Policy } from '../policy/types.ts';
import { withGraphSink } from '../publish/destination.ts';
import { collectGraph, type Graph } from '../publish/graph.ts';
import { releaseBundleFromGraph, releaseIdentity } from '../publish/graph-release-bundle.ts';
import { AddedGraph, buildAttachment, extendGraph } from '../publish/memory-source.ts';
import { type CopySource, openCopySource } from '../publish/open-source.ts';
import { existingDestination, place, publishedReference } from '../publish/placement.ts';
import {
  buildPublication,
  type ForcedRule,
  PUBLICATION_ARTIFACT_TYPE,
  serializePublication,
  utcSeconds,
} from '../publish/publication.ts';
import { publishToReleaseDirectory } from '../publish/release-dir.ts';
import {
  type NewBundle,
  signAll,
  signedStatements,
  type UnsignedStatement,
  unsigned,
} from '../publish/signing.ts';
import {
  earlierPublication,
  graphPayloads,
  isBundleType,
  type Payload,
  recordDigest,
  statementOf,
  statementPayloads,
} from '../publish/statement-payloads.ts';
import { type TransferEvents, type TransferReport, transfer } from '../publish/transfer.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION } from '../sign/bundle-files.ts';
import { INTOTO_PAYLOAD_TYPE } from '../sign/sign-statement.ts';
import type { Signer } from '../sign/signer.ts';
import { openArtifact } from '../sources/open.ts';
import { loadRecord } from './attachments.ts';
import { checkOpenedArtifact } from './check.ts';

export interface PublishOptions {
  /** The publisher's policy (the project's `waybill.yaml`), which `check` applies first. */
  policy: Policy;
  /**
   * Whom the publisher trusts to have signed the release tag, for `check`'s re-verification of the
   * record's source evidence (default: the policy's `trust:` section).
   */
  trust?: ConsumerTrust;
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

/** The failing rules of a check, with the first error of each. */
function failingRules(report: CheckReport): ForcedRule[] {
  return report.rules
    .filter((r) => r.status === 'fail')
    .map((r) => ({
      rule: r.id,
      message: r.findings.find((f) => f.severity === 'error')?.message ?? 'failed',
    }));
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
  const reference = publishedReference(placement, graph.root.digest, releasePath);

  // 2. An earlier publication of this digest to this target (an interrupted or repeated publish).
  const there = await existingDestination(placement, { registry: options.registry, cache }, releasePath);
  const subjects = graph.manifests.map((m) => m.descriptor.digest);
  const thereAll = there ? await statementPayloads(there, subjects) : [];
  const earlier = earlierPublication(
    thereAll.filter((p) => p.subject === graph.root.digest),
    target,
    artifact.digest,
  );
  const published = earlier?.statement.predicate.published ?? utcSeconds(now);

  // A missing key under requireSignatures is a usage error, said before any work is judged.
  if (!options.signer && options.policy.requireSignatures)
    throw new WaybillError(
      'USAGE',
      ref,
      'policy.requireSignatures is set: publish signs its statements; give the key with --key FILE or WAYBILL_KEY',
    );

  // 1. check, by the publisher's policy, with the publish date about to be recorded.
  const report = await checkOpenedArtifact(artifact, {
    policy: options.policy,
    ...(options.trust ? { trust: options.trust } : {}),
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
    extendGraph(
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
  const signing = await addSignatures({
    graph,
    added,
    there: thereAll,
    publication: earlier ? (statement as unknown as Record<string, unknown>) : undefined,
    target,
    published,
    titled,
    ...(options.signer ? { signer: options.signer } : {}),
  });
  const forced = statement.predicate.forced;

  // 4. The transfer.
  if (destination.kind === 'release-dir') {
    const bundle = await releaseBundleFromGraph(graph, added, cache, published, file?.path);
    // Signatures made now are new sidecars of a release that may be there already: `force` lets the
    // directory take them (it never replaces the artifact itself, nor its first publication date).
    const outcome = await publishToReleaseDirectory(destination.root, bundle, {
      force: signing.signed.length > 0,
    });
    return {
      ...base,
      status: outcome.changed ? 'published' : 'unchanged',
      message: outcome.changed
        ? outcome.message
        : `already published at ${target} on ${published}; nothing done`,
      forced,
      signed: signing.signed,
      unsigned: signing.unsigned,
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
    signed: signing.signed,
    unsigned: signing.unsigned,
    transfer: transferred,
  };
}

interface SigningInput {
  graph: Graph;
  added: AddedGraph;
  /** Statements and bundles already at the destination. */
  there: Payload[];
  /** The publication statement when it is the earlier one (a new one is in the graph already). */
  publication: Record<string, unknown> | undefined;
  target: string;
  published: string;
  titled: (suffix: string) => Record<string, string>;
  signer?: Signer;
}

/**
 * Signs every statement going out that no bundle going out (or already there) signs, and adds each
 * bundle to the graph as an attachment of the statement's own subject. Without a signer, says which
 * go out unsigned.
 */
async function addSignatures(input: SigningInput): Promise<{ signed: string[]; unsigned: string[] }> {
  const { graph, added, signer } = input;
  const going = await graphPayloads(graph, added);
  const signed = signedStatements([...going, ...input.there].filter((p) => isBundleType(p.artifactType)));
  const statements: Array<UnsignedStatement & { subject: string }> = [];
  for (const p of going) {
    if (isBundleType(p.artifactType)) continue;
    const parsed = statementOf(p.bytes);
    if (parsed) statements.push({ statement: parsed, source: p.source, subject: p.subject });
  }
  if (input.publication)
    statements.push({ statement: input.publication, source: input.target, subject: graph.root.digest });
  const toSign = unsigned(statements, signed) as Array<UnsignedStatement & { subject: string }>;
  if (!signer) return { signed: [], unsigned: toSign.map((s) => s.source) };
  const bundles = await signAll(toSign, signer);
  toSign.forEach((s, i) => {
    const bundle = bundles[i] as NewBundle;
    const subject = graph.manifests.find((m) => m.descriptor.digest === s.subject)?.descriptor ?? graph.root;
    extendGraph(
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
          [OCI_ANNOTATION.created]: input.published,
          ...input.titled(`.${bundle.kind}.sigstore.json`),
        },
      }),
    );
  });
  return { signed: bundles.map((b) => `${b.kind} (${b.source})`), unsigned: [] };
}
