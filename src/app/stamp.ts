/**
 * `stamp`: create the release record for an artifact from the project settings, verify the source
 * tag, generate (or take) the SBOM, write the facts into the artifact's native metadata where its
 * format has a place for them, and store record and SBOM beside it. It records what it is given even
 * when a guideline is not met; refusing to ship is `check`'s job, so stamp refuses only unreadable
 * input.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Settings } from '../config/merge.ts';
import { WaybillError } from '../errors.ts';
import type { NativeFacts } from '../formats/facts.ts';
import { stampDockerArchive, stampOciArchive } from '../oci/archive-stamp.ts';
import { type StampFacts, stampImage } from '../oci/stamp.ts';
import { platformString } from '../oci/types.ts';
import type { CheckReport } from '../policy/types.ts';
import { verifySourceTag } from '../provenance/git-tag.ts';
import { buildRecord } from '../record/build.ts';
import type { ReleaseRecord, SourceFact } from '../record/types.ts';
import { readSbom } from '../sbom/read.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact } from '../sources/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { type SbomFormat, saveRecord, saveSbom } from './attachments.ts';
import { checkOpenedArtifact } from './check.ts';
import { buildDate } from './dates.ts';
import { catalogForSbom, encodeSbom } from './generate-sbom.ts';
import { machineArchitectures } from './machine-architecture.ts';
import { nativeFactsOf, nativeFormatOf } from './native-facts.ts';

export interface StampOptions {
  settings: Settings;
  platform?: string;
  built?: string;
  sbomFormat?: SbomFormat;
  now?: Date;
  onProgress?: (done: number, total: number) => void;
  /** Worker threads for image layers (see WalkOptions.workers); default: the walk's own choice. */
  workers?: number;
  /**
   * The source fact when the caller has already verified the tag (`build` does, before building);
   * without it the tag is verified here from `settings.sourceDir`.
   */
  source?: SourceFact;
}

export interface StampOutcome {
  artifact: Artifact;
  record: ReleaseRecord;
  recordLocation: string;
  sbomLocation: string;
  components: number;
  /** Set when the artifact's own metadata was rewritten (images): the digest before. */
  previousDigest?: string;
  /** Where in the artifact's own metadata the facts were written, e.g. `deb Bugs`. */
  nativeFields: string[];
  report: CheckReport;
  warnings: Array<{ path: string; reason: string }>;
}

async function sourceFact(settings: Settings): Promise<SourceFact | null> {
  if (!settings.sourceDir) return null;
  return verifySourceTag(settings.sourceDir, {
    allowedSignersFile: settings.allowedSigners ?? undefined,
    trustedGpgKeys: settings.trustedGpgKeys,
  });
}

function architecturesOf(
  artifact: Artifact,
  fallback: string[],
): { architectures: string[]; platforms?: string[] } {
  const image = artifact.image;
  if (image) {
    const chosen = image.selected ? [image.selected] : image.platforms;
    const architectures = [
      ...new Set(
        chosen.map((p) =>
          p.platform.variant ? `${p.platform.architecture}/${p.platform.variant}` : p.platform.architecture,
        ),
      ),
    ].sort();
    return { architectures, platforms: chosen.map((p) => platformString(p.platform)).sort() };
  }
  return { architectures: fallback };
}

/**
 * Writes the facts into the artifact's own metadata where its format has a place for them — image
 * labels and annotations, deb control fields, wheel METADATA, the ELF package note — and reopens it,
 * since its digest changed. Formats with nowhere to write (rpm headers are signed) are left as they
 * are: the sidecar record carries their facts.
 */
async function stampNative(
  artifact: Artifact,
  facts: StampFacts,
  settings: Settings,
  platform: string | undefined,
): Promise<{ artifact: Artifact; fields: string[] }> {
  const image = artifact.image;
  if (!image) {
    const format = await nativeFormatOf(artifact);
    if (!format?.stamp || artifact.kind !== 'file') return { artifact, fields: [] };
    const result = await format.stamp(artifact.path, {
      name: settings.name,
      version: settings.version,
      architecture: settings.architecture,
      created: facts.created,
      team: settings.team,
      contact: settings.contact,
      bugTracker: settings.bugTracker,
      docs: settings.docsUrl,
      source: facts.source,
      revision: facts.revision,
      license: settings.license,
    });
    if (!result.changed) return { artifact, fields: [] };
    return { artifact: await openArtifact(artifact.ref, { platform }), fields: result.fields };
  }
  const ref = image.refName;
  if (artifact.kind === 'oci') await stampImage(artifact.path, ref, facts);
  else if (artifact.kind === 'oci-archive') await stampOciArchive(artifact.path, ref, facts);
  else if (artifact.kind === 'docker-archive')
    await stampDockerArchive(artifact.path, image.repoTags?.[0], facts);
  else return { artifact, fields: [] };
  const written =
    artifact.kind === 'docker-archive'
      ? ['image config labels']
      : ['manifest annotations', 'image config labels'];
  return { artifact: await openArtifact(artifact.ref, { platform }), fields: written };
}

function subjectName(artifact: Artifact, name: string | null): string {
  if (artifact.image) return name ?? artifact.image.refName ?? basename(artifact.path);
  return basename(artifact.path.replace(/\/+$/, ''));
}

/**
 * The architectures to record for a file or tree: as given, else what its own metadata says, else
 * the machines its executables are built for (`noarch` when it holds no machine code).
 */
async function fileArchitectures(
  artifact: Artifact,
  given: string | null,
  native: NativeFacts,
): Promise<string[]> {
  if (artifact.image) return [];
  if (given) return [given];
  if (native.architectures.length > 0) return [...new Set(native.architectures.map((a) => a.value))].sort();
  if (native.hasIdentityFields) return [];
  return machineArchitectures(artifact);
}

/** An SBOM given with --sbom: read and parsed up front, so a broken one is refused before any write. */
async function readGivenSbom(
  path: string,
): Promise<{ bytes: Buffer; format: SbomFormat; components: number }> {
  const bytes = await readFile(path);
  const parsed = readSbom(bytes, path);
  return { bytes, format: parsed.format, components: parsed.components.length };
}

export async function stampArtifact(ref: string, options: StampOptions): Promise<StampOutcome> {
  const { settings } = options;
  const now = options.now ?? new Date();
  const opened = await openArtifact(ref, { platform: options.platform });
  const source = options.source ?? (await sourceFact(settings));
  const built = buildDate(opened, options.built, settings.sourceDir, now);

  const facts: StampFacts = {
    name: settings.name,
    version: settings.version,
    created: built,
    team: settings.team,
    authors: settings.contact,
    url: settings.bugTracker,
    documentation: settings.docsUrl,
    source: source?.repository ?? null,
    revision: source?.commit ?? null,
    licenses: settings.license,
  };
  // Everything that reads the artifact runs before anything is written: the SBOM walk reads (and so
  // verifies) every layer and entry, so hostile or corrupt input is refused with the artifact untouched.
  const given = settings.sbom ? await readGivenSbom(settings.sbom) : undefined;
  const walkOptions = { onProgress: options.onProgress, workers: options.workers };
  let contents = given ? undefined : await catalogForSbom(opened, walkOptions);

  const { artifact, fields: nativeFields } = await stampNative(opened, facts, settings, options.platform);
  const previousDigest = artifact.digest !== opened.digest ? opened.digest : undefined;
  // Image stamping rewrites only the config and manifests, so the layers' contents are unchanged. A
  // single file rewritten in place (a wheel's METADATA, a deb's control) is small: catalog it again
  // so the SBOM describes the bytes that ship.
  if (contents && previousDigest && !artifact.image) contents = await catalogForSbom(artifact, walkOptions);

  // A package, wheel or executable names itself: what the flags and config leave out is taken from
  // the artifact's own metadata, so the record and the native fields agree by construction.
  const native = await nativeFactsOf(artifact);
  const name = settings.name ?? native.name?.value ?? subjectName(artifact, null);
  let sbomBytes: Buffer;
  let format: SbomFormat;
  let components: number;
  let warnings: Array<{ path: string; reason: string }> = [];
  if (given) {
    ({ bytes: sbomBytes, format, components } = given);
  } else {
    format = options.sbomFormat ?? 'cyclonedx-json';
    const generated = encodeSbom(artifact, contents!, {
      format,
      name,
      version: settings.version ?? native.version?.value,
    });
    sbomBytes = generated.bytes;
    components = generated.components.length;
    warnings = generated.warnings;
  }
  const recordFor = async (
    target: Artifact,
  ): Promise<{ record: ReleaseRecord; recordLocation: string; sbomLocation: string }> => {
    const sbomLocation = await saveSbom(target, sbomBytes, format);
    const hex = target.digest.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw new WaybillError('UNSUPPORTED', target.ref, `digest ${target.digest} is not sha256`);
    const record = buildRecord({
      subject: [{ name: subjectName(target, settings.name), digest: { sha256: hex } }],
      identity: {
        name: settings.name ?? native.name?.value ?? null,
        version: settings.version ?? native.version?.value ?? null,
        ...architecturesOf(target, await fileArchitectures(target, settings.architecture, native)),
      },
      manifest: {
        format,
        digest: { sha256: sha256Digest(sbomBytes).slice('sha256:'.length) },
        location: sbomLocation,
      },
      dates: { built, published: null },
      source,
      team: { name: settings.team, contact: settings.contact },
      help: { bugTracker: settings.bugTracker, docs: settings.docsUrl },
      support: { license: settings.license, disclaimer: settings.disclaimer, statement: settings.support },
    });
    return { record, recordLocation: await saveRecord(target, record), sbomLocation };
  };
  const { record, recordLocation, sbomLocation } = await recordFor(artifact);
  // A multi-platform image stamped as a whole: each platform's manifest gets its own record too
  // (same facts, its own digest and architecture), so `check --platform` finds one bound to it.
  const image = artifact.image;
  if (image && !image.selected && image.platforms.length > 1) {
    for (const p of image.platforms) {
      await recordFor(await openArtifact(artifact.ref, { platform: platformString(p.platform) }));
    }
  }
  const report = await checkOpenedArtifact(artifact, { policy: settings.policy, now });
  return {
    artifact,
    record,
    recordLocation,
    sbomLocation,
    components,
    previousDigest,
    nativeFields,
    report,
    warnings,
  };
}
