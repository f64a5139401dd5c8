/**
 * The manifest engine as one call: catalog an artifact (every platform of a multi-platform image) and
 * encode the components as CycloneDX 1.6 or SPDX 2.3 JSON, deterministically.
 */
import { type CatalogWarning, catalogArtifact } from '../catalog/engine.ts';
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
}

export interface GeneratedSbom {
  bytes: Buffer;
  format: SbomFormat;
  components: Component[];
  warnings: CatalogWarning[];
  distro?: Distro;
}

async function catalogEach(artifact: Artifact, onProgress?: (done: number, total: number) => void) {
  const catalogers = defaultCatalogers();
  const options = { catalogers, distroReader: defaultDistroReader, onProgress };
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

export async function generateSbom(artifact: Artifact, options: GenerateSbomOptions): Promise<GeneratedSbom> {
  const results = await catalogEach(artifact, options.onProgress);
  const byPurl = new Map<string, Component>();
  for (const result of results)
    for (const c of result.components) if (!byPurl.has(c.purl)) byPurl.set(c.purl, c);
  const components = [...byPurl.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
  const warnings = results.flatMap((r) => r.warnings);
  const distro = results.find((r) => r.distro)?.distro;
  const created = artifact.image?.selected?.config.created ?? artifact.image?.platforms[0]?.config.created;
  const input: SbomInput = {
    subject: {
      digest: artifact.digest,
      kind: artifact.kind,
      name: options.name,
      version: options.version,
      created,
    },
    components,
    distro,
    warnings,
    toolVersion: toolVersion(),
  };
  const text = options.format === 'spdx-json' ? writeSpdx(input) : writeCycloneDx(input);
  return { bytes: Buffer.from(text), format: options.format, components, warnings, distro };
}
