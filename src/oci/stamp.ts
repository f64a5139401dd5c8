/**
 * Stamps an image in an OCI layout with the guideline facts: the pre-defined
 * `org.opencontainers.image.*` keys (image-spec annotations.md) go into the MANIFEST annotations and
 * into the CONFIG labels (`config.Labels`), because tools read one or the other: registries and
 * `skopeo inspect --raw` show annotations, `docker inspect` and `skopeo inspect` show labels.
 *
 * Editing a config or manifest changes its digest, so stamping writes new blobs bottom-up (config,
 * manifest, index) and finally moves the tag in index.json to the new top descriptor, keeping every
 * other entry. The old blobs stay in the layout: nothing references them once the tag moved, they
 * are harmless, and other tags or referrers may still point at them (a later `umoci gc` or
 * registry push drops them). Waybill attachments made BEFORE stamping point at the old digest:
 * stamp first, attach after.
 *
 * Documents are edited as parsed JSON objects, so fields waybill does not know are kept as they are.
 * Labels and annotations are written with sorted keys, so the same input and facts always give the
 * same digests, and stamping twice with the same facts changes nothing the second time.
 *
 * Docker schema 2 manifests and manifest lists have no annotations field: they get labels only.
 */
import { WaybillError } from '../errors.ts';
import { PREDICATE_TYPE as RECORD_PREDICATE_TYPE } from '../record/types.ts';
import {
  isIndexMediaType,
  isManifestMediaType,
  jsonBytes,
  type LayoutStore,
  OciLayout,
  readDescribedBlob,
  resolveRefInIndex,
} from './layout.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest } from './parse.ts';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE,
  OCI_ANNOTATION,
  platformString,
  WAYBILL_RECORD_ANNOTATION,
} from './types.ts';

/**
 * The facts to stamp. A missing, null or empty value is skipped: the key is neither written nor
 * removed, so stamping fills in what is known without erasing what the image already says.
 */
export interface StampFacts {
  name?: string | null;
  version?: string | null;
  /** RFC 3339 date-time of the release. */
  created?: string | null;
  /** Written as `vendor`. */
  team?: string | null;
  authors?: string | null;
  /** Where users get help or report bugs. */
  url?: string | null;
  documentation?: string | null;
  /** Source repository URL. */
  source?: string | null;
  /** Source revision (commit). */
  revision?: string | null;
  /** SPDX license expression. */
  licenses?: string | null;
  /** Written as `title`; defaults to `name`. */
  title?: string | null;
  description?: string | null;
}

export interface StampedManifest {
  platform?: string;
  oldDigest: string;
  newDigest: string;
  oldConfigDigest: string;
  newConfigDigest: string;
}

export interface StampResult {
  /** The reference's descriptor before and after (a manifest, or the index for multi-platform). */
  oldDigest: string;
  newDigest: string;
  mediaType: string;
  /** Every image manifest stamped, in index order. */
  manifests: StampedManifest[];
}

// RFC 3339 section 5.6 date-time (the `T` and `Z` may be lower case; seconds fraction optional).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The annotation/label key-value pairs for some facts, plus waybill's record mark; keys sorted. */
export function stampAnnotations(facts: StampFacts): Record<string, string> {
  const pairs: Array<[string, string | null | undefined]> = [
    [OCI_ANNOTATION.created, facts.created],
    [OCI_ANNOTATION.authors, facts.authors],
    [OCI_ANNOTATION.url, facts.url],
    [OCI_ANNOTATION.documentation, facts.documentation],
    [OCI_ANNOTATION.source, facts.source],
    [OCI_ANNOTATION.version, facts.version],
    [OCI_ANNOTATION.revision, facts.revision],
    [OCI_ANNOTATION.vendor, facts.team],
    [OCI_ANNOTATION.licenses, facts.licenses],
    [OCI_ANNOTATION.title, facts.title ?? facts.name],
    [OCI_ANNOTATION.description, facts.description],
  ];
  const out: Record<string, string> = { [WAYBILL_RECORD_ANNOTATION]: RECORD_PREDICATE_TYPE };
  for (const [key, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string')
      throw new WaybillError('USAGE', key, `stamp value must be a string, got ${typeof value}`);
    out[key] = value;
  }
  const created = out[OCI_ANNOTATION.created];
  if (created !== undefined && (!RFC3339.test(created) || Number.isNaN(Date.parse(created)))) {
    throw new WaybillError('USAGE', 'created', `not an RFC 3339 date-time: ${created}`);
  }
  return sortedMap(out);
}

/** Stamps the image `ref` (tag, digest, or the only image) in the layout directory `layoutDir`. */
export async function stampImage(
  layoutDir: string,
  ref: string | undefined,
  facts: StampFacts,
): Promise<StampResult> {
  return stampLayout(await OciLayout.open(layoutDir), ref, facts);
}

/** Same as `stampImage` on any `LayoutStore` (a directory or an oci-archive being rewritten). */
export async function stampLayout(
  store: LayoutStore,
  ref: string | undefined,
  facts: StampFacts,
): Promise<StampResult> {
  const values = stampAnnotations(facts);
  const index = await store.readIndex();
  const { descriptor, position } = resolveRefInIndex(index, ref, store.name);
  const manifests: StampedManifest[] = [];
  const stamped = await stampDescriptor({ store, values, manifests }, descriptor, true, 0);
  // Move the tag: same entry, same annotations (ref.name), new digest and size.
  const entry: Descriptor = { ...descriptor, digest: stamped.digest, size: stamped.size };
  const newIndex: ImageIndex = {
    ...index,
    manifests: index.manifests.map((d, i) => (i === position ? entry : d)),
  };
  await store.writeIndex(newIndex);
  return {
    oldDigest: descriptor.digest,
    newDigest: stamped.digest,
    mediaType: descriptor.mediaType,
    manifests,
  };
}

interface StampContext {
  store: LayoutStore;
  values: Record<string, string>;
  manifests: StampedManifest[];
}

/** Nested indexes deeper than this are not images anyone builds; stop rather than loop. */
const MAX_INDEX_DEPTH = 4;

async function stampDescriptor(
  ctx: StampContext,
  d: Descriptor,
  topLevel: boolean,
  depth: number,
): Promise<Descriptor> {
  if (isManifestMediaType(d.mediaType)) return stampManifest(ctx, d, topLevel);
  if (isIndexMediaType(d.mediaType)) {
    if (depth >= MAX_INDEX_DEPTH)
      throw new WaybillError('LIMIT', ctx.store.name, `image indexes nested over ${MAX_INDEX_DEPTH} deep`);
    return stampIndex(ctx, d, depth);
  }
  throw new WaybillError('UNSUPPORTED', `${ctx.store.name}@${d.digest}`, `cannot stamp a ${d.mediaType}`);
}

/** An image manifest (not an artifact, attestation or signature) has an image config. */
function isImageManifest(m: ImageManifest): boolean {
  return m.config.mediaType === MEDIA_TYPE.ociConfig || m.config.mediaType === MEDIA_TYPE.dockerConfig;
}

async function stampManifest(ctx: StampContext, d: Descriptor, topLevel: boolean): Promise<Descriptor> {
  const where = `${ctx.store.name}@${d.digest}`;
  const manifest = parseImageManifest(await readDescribedBlob(ctx.store, d), where);
  if (!isImageManifest(manifest)) {
    if (topLevel)
      throw new WaybillError(
        'UNSUPPORTED',
        where,
        `not an image manifest (config is ${manifest.config.mediaType})`,
      );
    return d; // an artifact or attestation inside an index: not an image, left alone
  }
  const configWhere = `${ctx.store.name}@${manifest.config.digest}`;
  const config = parseImageConfig(await readDescribedBlob(ctx.store, manifest.config), configWhere);
  const newConfig = withLabels(config, ctx.values);
  const configBlob = await ctx.store.writeBlob(jsonBytes(newConfig), manifest.config.mediaType);
  const newManifest: ImageManifest = {
    ...manifest,
    config: { ...manifest.config, digest: configBlob.digest, size: configBlob.size },
  };
  if (d.mediaType !== MEDIA_TYPE.dockerManifest)
    newManifest.annotations = sortedMap({ ...manifest.annotations, ...ctx.values });
  const manifestBlob = await ctx.store.writeBlob(jsonBytes(newManifest), d.mediaType);
  ctx.manifests.push({
    platform: platformString(
      d.platform ?? { os: config.os, architecture: config.architecture, variant: config.variant },
    ),
    oldDigest: d.digest,
    newDigest: manifestBlob.digest,
    oldConfigDigest: manifest.config.digest,
    newConfigDigest: configBlob.digest,
  });
  return { ...d, digest: manifestBlob.digest, size: manifestBlob.size };
}

/** docker buildx stores provenance as manifests pointing at their image with this annotation. */
const DOCKER_REFERENCE_DIGEST = 'vnd.docker.reference.digest';

async function stampIndex(ctx: StampContext, d: Descriptor, depth: number): Promise<Descriptor> {
  const where = `${ctx.store.name}@${d.digest}`;
  const index = parseImageIndex(await readDescribedBlob(ctx.store, d), where);
  const renamed = new Map<string, string>();
  const children: Descriptor[] = [];
  for (const child of index.manifests) {
    const isImage = isManifestMediaType(child.mediaType) || isIndexMediaType(child.mediaType);
    const stamped = isImage ? await stampDescriptor(ctx, child, false, depth + 1) : child;
    if (stamped.digest !== child.digest) renamed.set(child.digest, stamped.digest);
    children.push(stamped);
  }
  // Keep attestation manifests pointing at the image they describe, now that its digest changed.
  const manifests = children.map((c) => {
    const target = c.annotations?.[DOCKER_REFERENCE_DIGEST];
    const moved = target === undefined ? undefined : renamed.get(target);
    return moved ? { ...c, annotations: { ...c.annotations, [DOCKER_REFERENCE_DIGEST]: moved } } : c;
  });
  const newIndex: ImageIndex = { ...index, manifests };
  if (d.mediaType !== MEDIA_TYPE.dockerManifestList)
    newIndex.annotations = sortedMap({ ...index.annotations, ...ctx.values });
  const blob = await ctx.store.writeBlob(jsonBytes(newIndex), d.mediaType);
  return { ...d, digest: blob.digest, size: blob.size };
}

/** The config with `values` merged into `config.Labels` (null or missing `config`/`Labels` created). */
export function withLabels(config: ImageConfig, values: Record<string, string>): ImageConfig {
  const inner = config.config ?? {};
  return { ...config, config: { ...inner, Labels: sortedMap({ ...(inner.Labels ?? {}), ...values }) } };
}

export function sortedMap(map: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  // defineProperty, not assignment: a `__proto__` key must stay a key, not set the prototype.
  for (const key of Object.keys(map).sort()) {
    Object.defineProperty(out, key, {
      value: map[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
