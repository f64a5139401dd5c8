/**
 * `docker-archive:TAR[:name:tag|:@N]`: the `docker save` format (also written by `skopeo copy …
 * docker-archive:`). `manifest.json` lists, per image, a config file, its RepoTags and its layer
 * tarballs; there is no manifest blob, so the artifact digest is the config digest (the image ID).
 *
 * The PlatformImage is synthesized: a Docker v2 schema 2 manifest whose config and layer descriptors
 * point at the archive's files. Its `descriptor` has the Docker manifest media type but carries the
 * CONFIG digest and size — there is no manifest blob to name, and the image ID is what `docker load`
 * reports. Layer digests: an uncompressed layer's digest is its diff_id; a compressed one named
 * `blobs/sha256/<hex>` (docker ≥ 25) uses that name; otherwise it is hashed once at open.
 */
import { detectCompression } from '../archive/decompress.ts';
import {
  indexTarFile,
  normalizeEntryPath,
  resolveSymlink,
  type TarIndex,
  type TarIndexEntry,
} from '../archive/tar-reader.ts';
import { WaybillError } from '../errors.ts';
import { MAX_LAYERS, parseImageConfig } from '../oci/parse.ts';
import { type Descriptor, type ImageManifest, MEDIA_TYPE } from '../oci/types.ts';
import { DigestMismatchError, sha256Digest, sha256File } from '../util/digest.ts';
import { readFileHead } from '../util/read-head.ts';
import { type BlobLocation, readLocation } from './blob-store.ts';
import { type BlobJob, hashBlobs } from './integrity.ts';
import type { LayerJob } from './layer-scan.ts';
import { walkLayers } from './layer-walk.ts';
import { choosePlatform } from './platform.ts';
import type { Artifact, ImageView, OpenOptions, PlatformImage } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

interface SaveEntry {
  config: string;
  repoTags: string[];
  layers: string[];
}

const MAX_IMAGES = 1000;

function parseSaveManifest(bytes: Buffer, input: string): SaveEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new WaybillError(
      'MALFORMED',
      input,
      `broken JSON: ${e instanceof Error ? e.message.split('\n')[0] : ''}`,
    );
  }
  if (!Array.isArray(value)) throw new WaybillError('MALFORMED', input, 'manifest.json is not a JSON array');
  if (value.length === 0) throw new WaybillError('MALFORMED', input, 'manifest.json lists no image');
  if (value.length > MAX_IMAGES)
    throw new WaybillError('LIMIT', input, `manifest.json lists ${value.length} images`);
  return value.map((item: unknown, i) => {
    const what = `manifest.json[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new WaybillError('MALFORMED', input, `${what} is not an object`);
    }
    const obj = item as Record<string, unknown>;
    if (typeof obj.Config !== 'string')
      throw new WaybillError('MALFORMED', input, `${what}.Config is not a string`);
    const tags = obj.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
      throw new WaybillError('MALFORMED', input, `${what}.RepoTags is not a list of strings`);
    }
    if (!Array.isArray(obj.Layers) || obj.Layers.some((l) => typeof l !== 'string')) {
      throw new WaybillError('MALFORMED', input, `${what}.Layers is not a list of strings`);
    }
    if (obj.Layers.length > MAX_LAYERS) {
      throw new WaybillError(
        'LIMIT',
        input,
        `${what} lists ${obj.Layers.length} layers (limit ${MAX_LAYERS})`,
      );
    }
    return { config: obj.Config, repoTags: tags as string[], layers: obj.Layers as string[] };
  });
}

/** Follows symlinks inside the archive (docker save links repeated layers), never out of it. */
function lookup(index: TarIndex, rawName: string, input: string): TarIndexEntry {
  let name = normalizeEntryPath(rawName, input, 'manifest.json path');
  for (let hops = 0; hops < 16; hops++) {
    const entry = index.get(name);
    if (!entry)
      throw new WaybillError(
        'MALFORMED',
        input,
        `${rawName} is listed in manifest.json but not in the archive`,
      );
    if (entry.type === 'symlink') {
      name = resolveSymlink(name, entry.linkTarget ?? '');
      continue;
    }
    if (entry.type !== 'file' && entry.type !== 'hardlink') {
      throw new WaybillError('MALFORMED', input, `${rawName} in the archive is not a file`);
    }
    return entry;
  }
  throw new WaybillError('MALFORMED', input, `${rawName}: too many levels of symbolic links`);
}

/** The image selected by the `:name:tag`, `:@N` or `:N` suffix, or the only one. */
function chooseEntry(entries: SaveEntry[], selector: string | undefined, input: string): SaveEntry {
  if (selector === undefined || selector === '') {
    if (entries.length === 1) return entries[0] as SaveEntry;
    const names = entries.map((e, i) => e.repoTags[0] ?? `@${i}`).join(', ');
    throw new WaybillError(
      'USAGE',
      input,
      `the archive holds ${entries.length} images; add one of these after a colon: ${names}`,
    );
  }
  const number = /^@?(\d+)$/.exec(selector);
  if (number) {
    const entry = entries[Number(number[1])];
    if (!entry)
      throw new WaybillError(
        'NOT_FOUND',
        input,
        `no image number ${number[1]} (the archive holds ${entries.length})`,
      );
    return entry;
  }
  const candidates = [selector, selector.includes(':') ? selector : `${selector}:latest`];
  const entry = entries.find((e) =>
    e.repoTags.some(
      (t) =>
        candidates.includes(t) ||
        candidates.some((c) => t === `docker.io/library/${c}` || t === `docker.io/${c}`),
    ),
  );
  if (!entry) {
    const tags = entries.flatMap((e) => e.repoTags).join(', ') || 'no tags';
    throw new WaybillError('NOT_FOUND', input, `no image tagged ${selector} in the archive; it has: ${tags}`);
  }
  return entry;
}

function locationOf(tarPath: string, name: string, entry: TarIndexEntry): BlobLocation {
  return { file: tarPath, start: entry.offset, size: entry.size, name: `${tarPath}:${name}` };
}

export async function openDockerArchive(
  ref: string,
  tarPath: string,
  selector: string | undefined,
  options: OpenOptions = {},
): Promise<Artifact> {
  const index = await indexTarFile(tarPath);
  const manifestEntry = index.get('manifest.json');
  if (!manifestEntry)
    throw new WaybillError('MALFORMED', tarPath, 'not a docker-archive: manifest.json is missing');
  const manifestName = `${tarPath}:manifest.json`;
  const entries = parseSaveManifest(
    await readLocation(locationOf(tarPath, 'manifest.json', manifestEntry)),
    manifestName,
  );
  const chosen = chooseEntry(entries, selector, ref);

  const configEntry = lookup(index, chosen.config, manifestName);
  const configLocation = locationOf(tarPath, chosen.config, configEntry);
  const configBytes = await readLocation(configLocation);
  const configDigest = sha256Digest(configBytes);
  // Config files are named by their digest (`<hex>.json`, `blobs/sha256/<hex>`): check the name.
  const namedHex = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(chosen.config)?.[1];
  if (namedHex && `sha256:${namedHex}` !== configDigest) {
    throw new DigestMismatchError(
      configLocation.name,
      { expected: `sha256:${namedHex}`, actual: configDigest },
      { what: 'image config, named by its digest' },
    );
  }
  const config = parseImageConfig(configBytes, configLocation.name);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== chosen.layers.length) {
    throw new WaybillError(
      'MALFORMED',
      configLocation.name,
      `config lists ${diffIds.length} diff_ids for ${chosen.layers.length} layers`,
    );
  }

  const layerLocations: BlobLocation[] = [];
  const layers: Descriptor[] = [];
  const integrityJobs: BlobJob[] = [
    {
      what: 'image config',
      descriptor: { digest: configDigest, size: configBytes.length },
      locate: async () => configLocation,
    },
  ];
  for (const [i, name] of chosen.layers.entries()) {
    const entry = lookup(index, name, manifestName);
    const location = locationOf(tarPath, name, entry);
    const compression = detectCompression(await readFileHead(tarPath, Math.min(entry.size, 6), entry.offset));
    let digest: string;
    let mediaType: string;
    if (compression === 'none') {
      digest = diffIds[i] as string;
      mediaType = MEDIA_TYPE.dockerLayer;
    } else {
      const namedLayer = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(name)?.[1];
      digest = namedLayer
        ? `sha256:${namedLayer}`
        : await sha256File(tarPath, { start: entry.offset, end: entry.offset + entry.size - 1 });
      mediaType = compression === 'zstd' ? MEDIA_TYPE.ociLayerZstd : MEDIA_TYPE.dockerLayerGzip;
    }
    layerLocations.push(location);
    layers.push({ mediaType, digest, size: entry.size });
    // manifest.json names layers by path, not digest: what binds a layer to the image is its diff_id
    // in the config. An uncompressed layer's bytes hash to it directly; a compressed one must be
    // decompressed to be checked against it.
    integrityJobs.push({
      what: `layer ${i + 1} of ${chosen.layers.length}`,
      descriptor: { digest, size: entry.size },
      locate: async () => location,
      ...(compression === 'none' ? {} : { diffId: diffIds[i] as string }),
    });
  }

  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.dockerManifest,
    config: { mediaType: MEDIA_TYPE.dockerConfig, digest: configDigest, size: configBytes.length },
    layers,
  };
  const platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  const image: PlatformImage = {
    descriptor: {
      mediaType: MEDIA_TYPE.dockerManifest,
      digest: configDigest,
      size: configBytes.length,
      platform,
    },
    manifest,
    configDigest,
    config,
    platform,
  };
  if (options.platform !== undefined) choosePlatform([image], (p) => p.platform, options.platform, ref);
  const view: ImageView = { platforms: [image], selected: image, repoTags: chosen.repoTags };
  if (selector && !/^@?\d+$/.test(selector)) view.refName = selector;

  const walk = (filter: Parameters<Artifact['walk']>[0], walkOptions: SourceWalkOptions = {}) => {
    const jobs: LayerJob[] = layers.map((layer, i) => ({
      location: layerLocations[i] as BlobLocation,
      input: `${(layerLocations[i] as BlobLocation).name} (layer ${i + 1} of ${layers.length})`,
      digest: layer.digest,
      size: layer.size,
      diffId: diffIds[i],
      // FileEntry.layer is the diff_id in every transport (see image.ts).
      layer: diffIds[i] ?? layer.digest,
      image: true,
      maxFileSize: walkOptions.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
      ...(walkOptions.decompress ? { decompress: walkOptions.decompress } : {}),
    }));
    return walkLayers(jobs, filter, walkOptions, tarPath);
  };
  return {
    ref,
    kind: 'docker-archive',
    path: tarPath,
    digest: configDigest,
    image: view,
    walk,
    verifyBlobs: (integrityOptions) => hashBlobs(integrityJobs, integrityOptions),
  };
}

/** For detection: a docker save archive is a tar with manifest.json at its root. */
export function looksLikeDockerArchive(index: TarIndex): boolean {
  return index.has('manifest.json');
}
