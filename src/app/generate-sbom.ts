/**
 * The manifest engine as one call: catalog an artifact (every platform of a multi-platform image) and
 * encode the components as CycloneDX 1.6 or SPDX 2.3 JSON, deterministically.
 */

import { basename } from 'node:path';
import { type CatalogOptions, type CatalogWarning, catalogArtifact, closeGraph } from '../catalog/engine.ts';
// The .deb, .rpm and .apk container walkers register themselves when their modules load
// (sources/container-walkers.ts): without them a package is cataloged as one opaque file.
import '../formats/apk/apk-package.ts';
import '../formats/deb/deb.ts';
import '../formats/rpm/rpm-package.ts';
import { defaultCatalogers, defaultDistroReader } from '../catalog/registry.ts';
import { type Component, componentKey, type Distro } from '../catalog/types.ts';
import { platformString } from '../oci/types.ts';
import { cycloneDxDocument } from '../sbom/cyclonedx.ts';
import { componentCount, readSbomDocument } from '../sbom/read.ts';
import { spdxDocument } from '../sbom/spdx.ts';
import { type SbomInput, sbomDocumentText } from '../sbom/subject.ts';
import { openArtifact } from '../sources/open.ts';
import { type Artifact, isSingleFile, type ListedArtifact } from '../sources/types.ts';
import { toolVersion } from '../version.ts';
import type { SbomFormat } from './attachments.ts';

export interface GenerateSbomOptions {
  format: SbomFormat;
  /**
   * Name and version shown for the artifact itself (the SBOM's root component). Default: the
   * package's own, for a package file; else the file or directory name.
   */
  name?: string;
  version?: string;
  onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads for image layers (WalkOptions.workers): 0 or 1 = in-process. Default: the walk's
   * policy ($WAYBILL_WORKERS, else threads when >= 2 cores and >= 2 layers of >= 16 MiB compressed, 64 MiB uncompressed). Same bytes either way.
   */
  workers?: number;
}

export interface GeneratedSbom {
  bytes: Buffer;
  format: SbomFormat;
  components: Component[];
  /** How many components the written document lists, counted as `check` and `inspect` count it. */
  componentCount: number;
  warnings: CatalogWarning[];
  distro?: Distro;
}

async function catalogEach(
  artifact: ListedArtifact,
  onProgress: GenerateSbomOptions['onProgress'],
  workers: number | undefined,
  subject: Component | undefined,
) {
  const catalogers = defaultCatalogers();
  const options: CatalogOptions = { catalogers, distroReader: defaultDistroReader, onProgress };
  if (workers !== undefined) options.walkOptions = { workers };
  if (subject) options.subject = subject;
  const image = artifact.image;
  if (!image || image.selected || image.platforms.length <= 1)
    return [await catalogArtifact(artifact, options)];
  // A multi-platform image with no platform chosen: one SBOM covering every platform's contents.
  const results = [];
  for (const platform of image.platforms) {
    const one = await openArtifact(artifact.ref, {
      ...artifact.options,
      platform: platformString(platform.platform),
    });
    results.push(await catalogArtifact(one, options));
  }
  return results;
}

/** What the catalogers found in an artifact: the part of an SBOM that comes from walking it. */
export interface CatalogedContents {
  components: Component[];
  warnings: CatalogWarning[];
  distro?: Distro;
  /** The package the artifact is (a .deb, .rpm, .apk, wheel, sdist, jar): the SBOM's subject. */
  subject?: Component;
}

/**
 * Walks the artifact once (every platform of a multi-platform image with none chosen) and merges
 * what the catalogers found. This is the step that reads — and so validates — every layer.
 */
export async function catalogForSbom(
  artifact: ListedArtifact,
  options: Pick<GenerateSbomOptions, 'onProgress' | 'workers'> = {},
): Promise<CatalogedContents> {
  // Only a tree is listed without a digest, and a tree is no package; nor is an image: only a single
  // file is read for its own identity, so an image or a tree loads none of the package readers.
  const own =
    hasDigest(artifact) && isSingleFile(artifact.kind) ? await import('./package-subject.ts') : undefined;
  const identity = own && hasDigest(artifact) ? await own.packageIdentity(artifact) : undefined;
  const results = await catalogEach(artifact, options.onProgress, options.workers, identity);
  const byKey = new Map<string, Component>();
  for (const result of results)
    for (const c of result.components) if (!byKey.has(componentKey(c))) byKey.set(componentKey(c), c);
  const { subject, components } =
    own && hasDigest(artifact)
      ? own.separateSubject(artifact, identity, [...byKey.values()])
      : { subject: undefined, components: [...byKey.values()] };
  const warnings = results.flatMap((r) => r.warnings);
  const distro = results.find((r) => r.distro)?.distro;
  const contents: CatalogedContents = { components: closeGraph(components), warnings };
  if (distro) contents.distro = distro;
  if (subject) contents.subject = subject;
  return contents;
}

/**
 * Encodes cataloged contents as an SBOM describing `artifact` (its digest, kind and created date):
 * separate from the walk so that `stamp` can walk the artifact before it rewrites its metadata and
 * describe the rewritten one.
 */
export function encodeSbom(
  artifact: ListedArtifact,
  contents: CatalogedContents,
  options: Pick<GenerateSbomOptions, 'format' | 'name' | 'version'>,
): GeneratedSbom {
  const created = artifact.image?.selected?.config.created ?? artifact.image?.platforms[0]?.config.created;
  const input: SbomInput = {
    subject: {
      digest: artifact.digest,
      // A published release's copy is a file: its SBOM is the file's, whatever URL it came from.
      kind: isSingleFile(artifact.kind) ? 'file' : artifact.kind,
      name: options.name ?? contents.subject?.name ?? basename(artifact.path.replace(/\/+$/, '')),
      ref: artifact.ref,
      version: options.version ?? contents.subject?.version,
      created,
      ...(contents.subject ? { package: contents.subject } : {}),
    },
    components: contents.components,
    distro: contents.distro,
    warnings: contents.warnings,
    toolVersion: toolVersion(),
  };
  const doc = options.format === 'spdx-json' ? spdxDocument(input) : cycloneDxDocument(input);
  const bytes = Buffer.from(sbomDocumentText(doc));
  // The one count every command reports (sbom/read.ts), read from the document as it is written
  // rather than by parsing the bytes again: the same plain JSON, without a second copy of it.
  const componentCountOf = componentCount(readSbomDocument(doc, artifact.ref));
  return { bytes, format: options.format, ...contents, componentCount: componentCountOf };
}

/** An artifact opened with its digest (every one but a tree opened only to be listed). */
function hasDigest(artifact: ListedArtifact): artifact is Artifact {
  return artifact.digest !== undefined;
}

/**
 * Walks and encodes. `artifact` may be one opened only to be listed (`openArtifact(ref, { digest:
 * false })`): a `dir:` tree is then not hashed, and the SBOM names it without a digest, its UUID
 * taken from its own content (sbom/subject.ts `withDocumentUuid`).
 */
export async function generateSbom(
  artifact: ListedArtifact,
  options: GenerateSbomOptions,
): Promise<GeneratedSbom> {
  return encodeSbom(artifact, await catalogForSbom(artifact, options), options);
}
