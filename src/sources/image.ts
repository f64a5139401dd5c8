/**
 * Images in an OCI layout (directory or archive): resolve a reference through index.json and nested
 * indexes to platform manifests, and walk the chosen one's layers. Shared by the oci and oci-archive
 * sources; docker-archive reuses the walk.
 */
import { WaybillError } from '../errors.ts';
import { WAYBILL_REFERRER_ANNOTATION } from '../oci/layout.ts';
import {
  IMAGE_CONFIG_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
  parseOciLayoutFile,
} from '../oci/parse.ts';
import {
  type Descriptor,
  type ImageIndex,
  MEDIA_TYPE,
  OCI_ANNOTATION,
  platformString,
} from '../oci/types.ts';
import { type BlobStore, locateBlob, readLocation, readVerifiedBlob } from './blob-store.ts';
import type { LayerJob } from './layer-scan.ts';
import { walkLayers } from './layer-walk.ts';
import { choosePlatform } from './platform.ts';
import type { FileFilter, ImageView, OpenOptions, PlatformImage, WalkResult } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

/** Nested indexes deeper than this are a loop or an attack. */
const MAX_INDEX_DEPTH = 4;

/** Layer media types that hold a (possibly compressed) tar changeset; compression is sniffed anyway. */
const LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPE.ociLayer,
  MEDIA_TYPE.ociLayerGzip,
  MEDIA_TYPE.ociLayerZstd,
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  MEDIA_TYPE.dockerLayer,
  MEDIA_TYPE.dockerLayerGzip,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

/** Reads `oci-layout` and `index.json` at the root of a layout. */
export async function readLayoutIndex(store: BlobStore): Promise<ImageIndex> {
  const layoutFile = await store.locateFile('oci-layout');
  if (!layoutFile)
    throw new WaybillError('MALFORMED', store.root, 'not an OCI layout: the oci-layout file is missing');
  parseOciLayoutFile(await readLocation(layoutFile), layoutFile.name);
  const indexFile = await store.locateFile('index.json');
  if (!indexFile) throw new WaybillError('MALFORMED', store.root, 'OCI layout without index.json');
  return parseImageIndex(await readLocation(indexFile), indexFile.name);
}

function refNameOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[OCI_ANNOTATION.refName];
}

/** What `oci:DIR` without a reference can mean: names of the layout's entries, or their digests. */
function describeEntries(index: ImageIndex): string {
  return index.manifests.map((d) => refNameOf(d) ?? d.digest).join(', ');
}

/**
 * Resolves `refName` (or the only entry) in a layout to an ImageView. Every platform's manifest and
 * config is read and validated now (they are small); layers are not touched.
 */
export async function resolveLayoutImage(
  store: BlobStore,
  refName: string | undefined,
  options: OpenOptions,
  input: string,
): Promise<ImageView> {
  const index = await readLayoutIndex(store);
  let chosen: Descriptor;
  if (refName !== undefined) {
    const matches = index.manifests.filter((d) => refNameOf(d) === refName);
    if (matches.length === 0) {
      throw new WaybillError(
        'NOT_FOUND',
        input,
        `no image named ${JSON.stringify(refName)} in the layout; it has: ${describeEntries(index) || 'nothing'}`,
      );
    }
    const digests = new Set(matches.map((d) => d.digest));
    if (digests.size > 1) {
      throw new WaybillError(
        'MALFORMED',
        input,
        `the name ${JSON.stringify(refName)} is given to ${digests.size} different manifests`,
      );
    }
    chosen = matches[0] as Descriptor;
  } else {
    // waybill's own attachments (records, SBOMs: oci/attach.ts) are listed in index.json but are not
    // images: `oci:DIR` still names the one image after it was stamped.
    const images = index.manifests.filter((d) => d.annotations?.[WAYBILL_REFERRER_ANNOTATION] === undefined);
    if (images.length === 0) throw new WaybillError('MALFORMED', input, 'the layout holds no image');
    if (new Set(images.map((d) => d.digest)).size > 1) {
      throw new WaybillError(
        'USAGE',
        input,
        `the layout holds several images; add one of these after a colon: ${describeEntries({ ...index, manifests: images })}`,
      );
    }
    chosen = images[0] as Descriptor;
  }

  return resolveImage(store, chosen, refName ?? refNameOf(chosen), options, input);
}

/**
 * Resolves the manifest or index `chosen` to an ImageView: every platform's manifest and config is
 * read and validated now (they are small); layers are not touched. Shared by layouts (after the
 * reference is looked up in index.json) and registries (after the tag is resolved).
 */
export async function resolveImage(
  store: BlobStore,
  chosen: Descriptor,
  refName: string | undefined,
  options: OpenOptions,
  input: string,
): Promise<ImageView> {
  const view: ImageView = { platforms: [] };
  if (refName !== undefined) view.refName = refName;

  if (INDEX_MEDIA_TYPES.has(chosen.mediaType)) {
    const { bytes, name } = await readVerifiedBlob(store, chosen, 'image index');
    const nested = parseImageIndex(bytes, name);
    view.index = { digest: chosen.digest, index: nested, descriptor: chosen };
    await collectPlatforms(store, nested, 1, view.platforms);
    if (view.platforms.length === 0)
      throw new WaybillError('UNSUPPORTED', input, 'the index holds no container image');
  } else if (MANIFEST_MEDIA_TYPES.has(chosen.mediaType)) {
    const image = await readPlatformImage(store, chosen, true);
    if (image) view.platforms.push(image);
  } else {
    throw new WaybillError(
      'UNSUPPORTED',
      input,
      `the reference names a ${chosen.mediaType}, not an image or index`,
    );
  }
  selectPlatform(view, options, input);
  return view;
}

async function collectPlatforms(
  store: BlobStore,
  index: ImageIndex,
  depth: number,
  out: PlatformImage[],
): Promise<void> {
  for (const descriptor of index.manifests) {
    if (INDEX_MEDIA_TYPES.has(descriptor.mediaType)) {
      if (depth >= MAX_INDEX_DEPTH) {
        throw new WaybillError('LIMIT', store.root, `image indexes nested deeper than ${MAX_INDEX_DEPTH}`);
      }
      const { bytes, name } = await readVerifiedBlob(store, descriptor, 'image index');
      await collectPlatforms(store, parseImageIndex(bytes, name), depth + 1, out);
    } else if (MANIFEST_MEDIA_TYPES.has(descriptor.mediaType)) {
      // BuildKit stores attestations as manifests for platform unknown/unknown: not images to run.
      if (descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
      if (descriptor.platform?.os === 'unknown') continue;
      const image = await readPlatformImage(store, descriptor, false);
      if (image) out.push(image);
    }
  }
}

/** Reads a manifest and its config. Non-image manifests (artifacts) are skipped unless `required`. */
async function readPlatformImage(
  store: BlobStore,
  descriptor: Descriptor,
  required: boolean,
): Promise<PlatformImage | undefined> {
  const { bytes, name } = await readVerifiedBlob(store, descriptor, 'image manifest');
  const manifest = parseImageManifest(bytes, name);
  if (!IMAGE_CONFIG_MEDIA_TYPES.has(manifest.config.mediaType)) {
    if (!required) return undefined;
    throw new WaybillError(
      'UNSUPPORTED',
      name,
      `not a container image: config mediaType is ${manifest.config.mediaType}`,
    );
  }
  const configBlob = await readVerifiedBlob(store, manifest.config, 'image config');
  const config = parseImageConfig(configBlob.bytes, configBlob.name);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new WaybillError(
      'MALFORMED',
      configBlob.name,
      `config lists ${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`,
    );
  }
  const platform = descriptor.platform ?? {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  return { descriptor, manifest, configDigest: manifest.config.digest, config, platform };
}

/** Sets `selected`: the platform asked for, or the only one. */
export function selectPlatform(view: ImageView, options: OpenOptions, input: string): void {
  if (options.platform !== undefined) {
    view.selected = choosePlatform(view.platforms, (p) => p.platform, options.platform, input);
  } else if (view.platforms.length === 1) {
    view.selected = view.platforms[0];
  }
}

/** The digest an image artifact binds to: the selected manifest, else the index. */
export function imageDigest(view: ImageView, input: string): string {
  if (view.selected) return view.selected.descriptor.digest;
  if (view.index) return view.index.digest;
  throw new WaybillError('USAGE', input, 'no image selected');
}

export function requireSelected(view: ImageView, input: string): PlatformImage {
  if (view.selected) return view.selected;
  const names = view.platforms.map((p) => platformString(p.platform)).join(', ');
  throw new WaybillError('USAGE', input, `several platforms: ${names}; choose one with --platform`);
}

/** Walks the selected image's layers from the store. */
export async function walkImage(
  store: BlobStore,
  view: ImageView,
  input: string,
  filter: FileFilter,
  options: SourceWalkOptions = {},
): Promise<WalkResult> {
  const image = requireSelected(view, input);
  const layers = image.manifest.layers;
  const jobs: LayerJob[] = [];
  for (const [i, layer] of layers.entries()) {
    if (layer.mediaType.includes('+encrypted')) {
      throw new WaybillError('UNSUPPORTED', input, `layer ${i + 1} is encrypted (${layer.mediaType})`);
    }
    if (!LAYER_MEDIA_TYPES.has(layer.mediaType)) {
      throw new WaybillError(
        'UNSUPPORTED',
        input,
        `layer ${i + 1} has mediaType ${layer.mediaType}, not a filesystem layer`,
      );
    }
    const location = await locateBlob(store, layer);
    jobs.push({
      location,
      input: `${location.name} (layer ${i + 1} of ${layers.length})`,
      digest: layer.digest,
      size: layer.size,
      diffId: image.config.rootfs.diff_ids[i],
      // The diff_id names the layer's content whatever its compression or transport, so a component
      // found in this layer carries the same layer id from an OCI layout and from a docker-archive.
      layer: image.config.rootfs.diff_ids[i] ?? layer.digest,
      image: true,
      maxFileSize: options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
      ...(options.decompress ? { decompress: options.decompress } : {}),
    });
  }
  return walkLayers(jobs, filter, options, input);
}
