/**
 * Parsers for the OCI image-layout documents (image-spec v1.1: image-layout.md, image-index.md,
 * manifest.md, config.md, descriptor.md). Untrusted bytes in, typed values out: every field waybill
 * relies on is checked here so the rest of the code can trust its types. Unknown fields are kept, in
 * their order, so a document that is parsed, edited and serialized again changes only what was edited.
 *
 * The one set of parsers for both sides: the reader (src/sources) and the stamping/attaching writer
 * (src/oci), so whatever waybill writes it can read back.
 */
import { WaybillError } from '../errors.ts';
import { parseSha256Digest } from '../util/digest.ts';
import { checkedDepth } from '../util/json-depth.ts';
import { jsonKind } from '../util/json-kind.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from './types.ts';
import { MEDIA_TYPE } from './types.ts';

/**
 * JSON documents (index.json, manifests, configs, docker-archive manifest.json) larger than this are
 * refused before they are read or parsed. 4 MiB is the cap containers/image (skopeo, Podman, CRI-O)
 * reads manifests and configs under (`iolimits.MaxManifestBodySize`, `MaxConfigBodySize`) and the
 * common registry limit, so no image those tools accept is refused here.
 */
export const MAX_JSON_BLOB_BYTES = 4 * 1024 * 1024;
/** More layers than this is not an image anyone builds (Docker caps at 127 for overlay). */
export const MAX_LAYERS = 10_000;
/** Index entries, same reasoning. */
export const MAX_INDEX_ENTRIES = 10_000;

export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.dockerManifestList,
]);
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifest,
]);
export const IMAGE_CONFIG_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPE.ociConfig,
  MEDIA_TYPE.dockerConfig,
]);

type Json = Record<string, unknown>;

/** JSON.parse with the size cap, turning syntax errors into MALFORMED naming the blob. Any JSON value. */
export function parseJsonValue(bytes: Uint8Array, input: string): unknown {
  if (bytes.length > MAX_JSON_BLOB_BYTES) {
    throw new WaybillError(
      'LIMIT',
      input,
      `JSON document of ${bytes.length} bytes is larger than ${MAX_JSON_BLOB_BYTES}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    const reason = e instanceof Error ? e.message.split('\n')[0] : 'syntax error';
    throw new WaybillError('MALFORMED', input, `broken JSON: ${reason}`);
  }
  return checkedDepth(value, input);
}

/** `parseJsonValue` for documents that must be a JSON object (every OCI document is). */
export function parseJsonBlob(bytes: Uint8Array, input: string): Json {
  return asObject(parseJsonValue(bytes, input), input, 'document');
}

function asObject(value: unknown, input: string, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WaybillError('MALFORMED', input, `${what} is not a JSON object`);
  }
  return value as Json;
}

function optionalString(obj: Json, key: string, input: string, what: string): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new WaybillError('MALFORMED', input, `${what}.${key} is not a string`);
  return value;
}

function requiredString(obj: Json, key: string, input: string, what: string): string {
  const value = optionalString(obj, key, input, what);
  if (value === undefined) throw new WaybillError('MALFORMED', input, `${what}.${key} is missing`);
  return value;
}

function stringMap(value: unknown, input: string, what: string): Record<string, string> {
  const obj = asObject(value, input, what);
  for (const [key, v] of Object.entries(obj)) {
    if (typeof v !== 'string')
      throw new WaybillError('MALFORMED', input, `${what}[${JSON.stringify(key)}] is not a string`);
  }
  return obj as Record<string, string>;
}

export function parsePlatform(value: unknown, input: string, what = 'platform'): Platform {
  const obj = asObject(value, input, what);
  const platform: Platform = {
    ...obj,
    architecture: requiredString(obj, 'architecture', input, what),
    os: requiredString(obj, 'os', input, what),
  };
  optionalString(obj, 'variant', input, what);
  return platform;
}

/** descriptor.md: mediaType, digest (sha256 only here) and a non-negative integer size. */
export function parseDescriptor(value: unknown, input: string, what = 'descriptor'): Descriptor {
  const obj = asObject(value, input, what);
  const mediaType = requiredString(obj, 'mediaType', input, what);
  const digest = parseSha256Digest(obj.digest, input, `${what}.digest`);
  const size = obj.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new WaybillError('MALFORMED', input, `${what}.size is not a non-negative integer`);
  }
  const descriptor: Descriptor = { ...obj, mediaType, digest, size };
  if (obj.annotations !== undefined)
    descriptor.annotations = stringMap(obj.annotations, input, `${what}.annotations`);
  if (obj.platform !== undefined)
    descriptor.platform = parsePlatform(obj.platform, input, `${what}.platform`);
  optionalString(obj, 'artifactType', input, what);
  return descriptor;
}

function schemaVersion2(obj: Json, input: string): void {
  const version = obj.schemaVersion;
  if (version === 2) return;
  // Quoted only when it is a number: any other value from the document is named by its type.
  if (version === undefined || version === null)
    throw new WaybillError('MALFORMED', input, 'schemaVersion is missing');
  if (typeof version !== 'number')
    throw new WaybillError('MALFORMED', input, `schemaVersion is not a number: ${jsonKind(version)}`);
  throw new WaybillError('UNSUPPORTED', input, `schemaVersion ${version}: only 2 is supported`);
}

/** image-layout.md: the `oci-layout` file, `{"imageLayoutVersion": "1.0.0"}`. */
export function parseOciLayoutFile(bytes: Uint8Array, input: string): { imageLayoutVersion: string } {
  const obj = parseJsonBlob(bytes, input);
  const version = requiredString(obj, 'imageLayoutVersion', input, 'oci-layout');
  if (!/^1\.\d+\.\d+$/.test(version)) {
    throw new WaybillError(
      'UNSUPPORTED',
      input,
      `imageLayoutVersion ${JSON.stringify(version)}: only 1.x is supported`,
    );
  }
  return { imageLayoutVersion: version };
}

export function parseImageIndex(bytes: Uint8Array, input: string): ImageIndex {
  const obj = parseJsonBlob(bytes, input);
  schemaVersion2(obj, input);
  const mediaType = optionalString(obj, 'mediaType', input, 'index');
  if (mediaType !== undefined && !INDEX_MEDIA_TYPES.has(mediaType)) {
    throw new WaybillError('MALFORMED', input, `index has mediaType ${mediaType}`);
  }
  if (!Array.isArray(obj.manifests))
    throw new WaybillError('MALFORMED', input, 'index.manifests is not an array');
  if (obj.manifests.length > MAX_INDEX_ENTRIES) {
    throw new WaybillError(
      'LIMIT',
      input,
      `index lists ${obj.manifests.length} manifests (limit ${MAX_INDEX_ENTRIES})`,
    );
  }
  const manifests = obj.manifests.map((d, i) => parseDescriptor(d, input, `manifests[${i}]`));
  const index: ImageIndex = { ...obj, schemaVersion: 2, manifests };
  if (obj.annotations !== undefined)
    index.annotations = stringMap(obj.annotations, input, 'index.annotations');
  if (obj.subject !== undefined) index.subject = parseDescriptor(obj.subject, input, 'subject');
  return index;
}

export function parseImageManifest(bytes: Uint8Array, input: string): ImageManifest {
  const obj = parseJsonBlob(bytes, input);
  schemaVersion2(obj, input);
  const mediaType = optionalString(obj, 'mediaType', input, 'manifest');
  if (mediaType !== undefined && !MANIFEST_MEDIA_TYPES.has(mediaType)) {
    throw new WaybillError('MALFORMED', input, `manifest has mediaType ${mediaType}`);
  }
  if (!Array.isArray(obj.layers))
    throw new WaybillError('MALFORMED', input, 'manifest.layers is not an array');
  if (obj.layers.length > MAX_LAYERS) {
    throw new WaybillError(
      'LIMIT',
      input,
      `manifest lists ${obj.layers.length} layers (limit ${MAX_LAYERS})`,
    );
  }
  const config = parseDescriptor(obj.config, input, 'config');
  const layers = obj.layers.map((d, i) => parseDescriptor(d, input, `layers[${i}]`));
  const manifest: ImageManifest = { ...obj, schemaVersion: 2, config, layers };
  if (obj.annotations !== undefined)
    manifest.annotations = stringMap(obj.annotations, input, 'manifest.annotations');
  if (obj.subject !== undefined) manifest.subject = parseDescriptor(obj.subject, input, 'subject');
  return manifest;
}

/** config.md: os, architecture and rootfs (type "layers", sha256 diff_ids) are required. */
export function parseImageConfig(bytes: Uint8Array, input: string): ImageConfig {
  const obj = parseJsonBlob(bytes, input);
  const architecture = requiredString(obj, 'architecture', input, 'config');
  const os = requiredString(obj, 'os', input, 'config');
  optionalString(obj, 'variant', input, 'config');
  optionalString(obj, 'created', input, 'config');
  const rootfs = asObject(obj.rootfs, input, 'config.rootfs');
  const type = requiredString(rootfs, 'type', input, 'config.rootfs');
  if (type !== 'layers')
    throw new WaybillError('MALFORMED', input, `config.rootfs.type is ${JSON.stringify(type)}, not "layers"`);
  if (!Array.isArray(rootfs.diff_ids))
    throw new WaybillError('MALFORMED', input, 'config.rootfs.diff_ids is not an array');
  if (rootfs.diff_ids.length > MAX_LAYERS) {
    throw new WaybillError(
      'LIMIT',
      input,
      `config lists ${rootfs.diff_ids.length} layers (limit ${MAX_LAYERS})`,
    );
  }
  const diffIds = rootfs.diff_ids.map((d, i) => parseSha256Digest(d, input, `rootfs.diff_ids[${i}]`));
  if (obj.config !== undefined && obj.config !== null) {
    const inner = asObject(obj.config, input, 'config.config');
    if (inner.Labels !== undefined && inner.Labels !== null)
      stringMap(inner.Labels, input, 'config.config.Labels');
  }
  if (obj.history !== undefined && !Array.isArray(obj.history)) {
    throw new WaybillError('MALFORMED', input, 'config.history is not an array');
  }
  return { ...obj, architecture, os, rootfs: { ...rootfs, type, diff_ids: diffIds } } as ImageConfig;
}
