/**
 * The manifest engine as one call: catalog an artifact (every platform of a multi-platform image) and
 * encode the components as CycloneDX 1.6 or SPDX 2.3 JSON, deterministically.
 */
import { type CatalogOptions, type CatalogWarning, catalogArtifact } from '../catalog/engine.ts';
// The .deb and .rpm container walkers register themselves when their modules load
// (sources/container-walkers.ts): without them a package is cataloged as one opaque file.
import '../formats/deb/deb.ts';
import '../formats/rpm/rpm-package.ts';
import { defaultCatalogers, defaultDistroReader } from '../catalog/registry.ts';
import type { Component, Distro } from '../catalog/types.ts';
import { platformString } from '../oci/types.ts';
import { writeCycloneDx } from '../sbom/cyclonedx.ts';
import { writeSpdx } from '../sbom/spdx.ts';
import type { SbomInput } from '../sbom/subject.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact } from '../sources/types.ts';
import { toolVersion } from '../version.ts';
import type { SbomFormat } from './attachments.ts';

export interface GenerateSbomOptions {
  format: SbomFormat;
  /** Name and version shown for the artifact itself (the SBOM's root component). */
  name: string;
  version?: string;
  onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads for image layers (WalkOptions.workers): 0 or 1 = in-process. Default: the walk's
   * policy ($WAYBILL_WORKERS, else threads with >= 4 cores and >= 2 layers). Same bytes either way.
   */
  workers?: number;
}

export interface GeneratedSbom {
  bytes: Buffer;
  format: SbomFormat;
  components: Component[];
  warnings: CatalogWarning[];
  distro?: Distro;
}

async function catalogEach(
  artifact: Artifact,
  onProgress: GenerateSbomOptions['onProgress'],
  workers?: number,
) {
  const catalogers = defaultCatalogers();
  const options: CatalogOptions = { catalogers, distroReader: defaultDistroReader, onProgress };
  if (workers !== undefined) options.walkOptions = { workers };
  const image = artifact.image;
  if (!image || image.selected || image.platforms.length <= 1)
    return [await catalogArtifact(artifact, options)];
  // A multi-platform image with no platform chosen: one SBOM covering every platform's contents.
  const results = [];
  for (const platform of image.platforms) {
    const one = await openArtifact(artifact.ref, { platform: platformString(platform.platform) });
    results.push(await catalogArtifact(one, options));
  }
  return results;
}

/** What the catalogers found in an artifact: the part of an SBOM that comes from walking it. */
export interface CatalogedContents {
  components: Component[];
  warnings: CatalogWarning[];
  distro?: Distro;
}

/**
 * Walks the artifact once (every platform of a multi-platform image with none chosen) and merges
 * what the catalogers found. This is the step that reads — and so validates — every layer.
 */
export async function catalogForSbom(
  artifact: Artifact,
  options: Pick<GenerateSbomOptions, 'onProgress' | 'workers'> = {},
): Promise<CatalogedContents> {
  const results = await catalogEach(artifact, options.onProgress, options.workers);
  const byPurl = new Map<string, Component>();
  for (const result of results)
    for (const c of result.components) if (!byPurl.has(c.purl)) byPurl.set(c.purl, c);
  const components = [...byPurl.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
  const warnings = results.flatMap((r) => r.warnings);
  const distro = results.find((r) => r.distro)?.distro;
  return distro ? { components, warnings, distro } : { components, warnings };
}

/**
 * Encodes cataloged contents as an SBOM describing `artifact` (its digest, kind and created date):
 * separate from the walk so that `stamp` can walk the artifact before it rewrites its metadata and
 * describe the rewritten one.
 */
export function encodeSbom(
  artifact: Artifact,
  contents: CatalogedContents,
  options: Pick<GenerateSbomOptions, 'format' | 'name' | 'version'>,
): GeneratedSbom {
  const created = artifact.image?.selected?.config.created ?? artifact.image?.platforms[0]?.config.created;
  const input: SbomInput = {
    subject: {
      digest: artifact.digest,
      kind: artifact.kind,
      name: options.name,
      version: options.version,
      created,
    },
    components: contents.components,
    distro: contents.distro,
    warnings: contents.warnings,
    toolVersion: toolVersion(),
  };
  const text = options.format === 'spdx-json' ? writeSpdx(input) : writeCycloneDx(input);
  return { bytes: Buffer.from(text), format: options.format, ...contents };
}

export async function generateSbom(artifact: Artifact, options: GenerateSbomOptions): Promise<GeneratedSbom> {
  return encodeSbom(artifact, await catalogForSbom(artifact, options), options);
}
