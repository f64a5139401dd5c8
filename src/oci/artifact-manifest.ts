/**
 * The one shape of an OCI 1.1 artifact manifest waybill writes (image-spec manifest.md, "Guidelines
 * for Artifact Usage"): `artifactType`, the empty config descriptor, the payload layers, an optional
 * `subject` (for attachments: records, SBOMs, bundles, publication statements) and annotations with
 * sorted keys. Pure: the caller stores the bytes (a layout, an archive, a registry).
 */
import { jsonBytes } from './layout.ts';
import { type Descriptor, type ImageManifest, MEDIA_TYPE } from './types.ts';

/** The empty JSON object blob every artifact manifest without a config uses (manifest.md, "Guidance for an Empty Descriptor"). */
export const EMPTY_CONFIG: Descriptor = {
  mediaType: MEDIA_TYPE.ociEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};

export const EMPTY_CONFIG_BYTES = Buffer.from('{}');

/** The subject as a referrer names it: media type, digest, size (and artifactType when it has one). */
export function subjectReference(subject: Descriptor): Descriptor {
  const ref: Descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  if (subject.artifactType) ref.artifactType = subject.artifactType;
  return ref;
}

export function sortedAnnotations(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, map[k] as string]),
  );
}

export interface ArtifactManifestInput {
  artifactType: string;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The manifest document; same input, same bytes (see `artifactManifestBytes`). */
export function artifactManifest(input: ArtifactManifestInput): ImageManifest {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    artifactType: input.artifactType,
    config: EMPTY_CONFIG,
    layers: input.layers,
  };
  if (input.subject) manifest.subject = subjectReference(input.subject);
  if (input.annotations && Object.keys(input.annotations).length > 0)
    manifest.annotations = sortedAnnotations(input.annotations);
  return manifest;
}

export function artifactManifestBytes(input: ArtifactManifestInput): Buffer {
  return jsonBytes(artifactManifest(input));
}
