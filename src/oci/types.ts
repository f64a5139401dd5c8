/**
 * The OCI image-spec JSON documents waybill reads and writes (image-spec v1.1), and the Docker v2
 * schema 2 media types that appear in the same places. Only the fields waybill uses are typed; other
 * fields are kept when a document is rewritten because documents are edited as parsed JSON objects.
 */

export const MEDIA_TYPE = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

/** waybill's own artifact types for OCI 1.1 referrers (artifactType of an artifact manifest). */
export const ARTIFACT_TYPE = {
  record: 'application/vnd.waybill.release-record.v1+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
  spdx: 'application/spdx+json',
  /** `waybill audit --attach`: an in-toto statement of the vulnerability findings. */
  audit: 'application/vnd.waybill.audit.v1+json',
} as const;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  urls?: string[];
  data?: string;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    Labels?: Record<string, string> | null;
    [key: string]: unknown;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: unknown[];
  [key: string]: unknown;
}

/** The pre-defined annotation keys of image-spec annotations.md that carry the guideline facts. */
/**
 * The mark `stamp` leaves in a stamped image's manifest annotations and config labels: the type of
 * the release record stored with it (as an OCI attachment, or a sidecar of a docker-archive). It
 * travels with the image wherever the image goes — `skopeo copy`, `docker save`, a registry push —
 * while the attachments may not, so `check` can tell "never stamped" from "stamped, but its record
 * was left behind" (app/check.ts).
 */
export const WAYBILL_RECORD_ANNOTATION = 'vnd.waybill.record';

export const OCI_ANNOTATION = {
  created: 'org.opencontainers.image.created',
  authors: 'org.opencontainers.image.authors',
  url: 'org.opencontainers.image.url',
  documentation: 'org.opencontainers.image.documentation',
  source: 'org.opencontainers.image.source',
  version: 'org.opencontainers.image.version',
  revision: 'org.opencontainers.image.revision',
  vendor: 'org.opencontainers.image.vendor',
  licenses: 'org.opencontainers.image.licenses',
  refName: 'org.opencontainers.image.ref.name',
  title: 'org.opencontainers.image.title',
  description: 'org.opencontainers.image.description',
  baseDigest: 'org.opencontainers.image.base.digest',
  baseName: 'org.opencontainers.image.base.name',
} as const;

export function platformString(p: Pick<Platform, 'os' | 'architecture' | 'variant'>): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}
