/**
 * The release bundle (release-dir.ts) of an OCI graph holding a file: a local file with its sidecars
 * (publish/file-graph.ts), or a file published to a registry or a layout. `publish` and `copy` hand
 * `publishToReleaseDirectory` the file and every attachment that has a sidecar form — record, SBOM,
 * bundles, statements, the publication statement, rebuild kits — each under its sidecar name, with
 * the kind index.json records (release-bundle.ts `sidecarKind`).
 */
import { WaybillError } from '../errors.ts';
import { parseImageManifest } from '../oci/parse.ts';
import { ARTIFACT_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import { KIT_SUFFIX } from '../provenance/build/kit.ts';
import { parseRecord } from '../record/schema.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import { publishedFileName, singleFileLayer } from '../sources/registry-file.ts';
import { attachmentParts, type Graph, type GraphSource, readSmallBlob } from './graph.ts';
import { PUBLICATION_ARTIFACT_TYPE, parsePublication } from './publication.ts';
import { sidecarKind } from './release-bundle.ts';
import type { ReleaseBundle } from './release-dir.ts';
import { REBUILD_KIT_ARTIFACT_TYPE, sidecarNameFor, sidecarRoleOf } from './sidecars.ts';

/** Attachments up to this size are carried as bytes (a rebuild kit holds a source archive). */
const MAX_BUNDLE_FILE_BYTES = 1024 * 1024 * 1024;

/** The kind index.json records: release-bundle.ts's names, and waybill's own for what it does not name. */
function kindOf(file: string, sidecar: string, artifactType: string): string {
  const kind = sidecarKind(file, sidecar);
  if (kind !== 'file') return kind;
  const role = sidecarRoleOf(artifactType);
  return role === 'bundles' ? 'intoto' : role;
}

/**
 * The name an attachment is filed under next to `file` in a release directory, where every sidecar is
 * `FILE.<suffix>` (publish-directory.md). A rebuild kit is named for the release it rebuilds
 * (`PROJECT-VERSION.rebuild.tar`, build.md) and may list several outputs; beside one file there it
 * is `FILE.rebuild.tar`, which `rebuild FILE` finds as it finds any `*.rebuild.tar` next to an artifact.
 */
export function releaseSidecarName(
  file: string,
  artifactType: string,
  title: string | undefined,
): string | undefined {
  const name = sidecarNameFor(file, artifactType, title);
  if (artifactType !== REBUILD_KIT_ARTIFACT_TYPE || name?.startsWith(`${file}.`)) return name;
  return `${file}${KIT_SUFFIX}`;
}

/** The name and version a release directory files the artifact under: the record's. */
export function releaseIdentity(
  record: ReleaseRecord | undefined,
  input: string,
): { name: string; version: string } {
  const name = record?.predicate.identity.name;
  const version = record?.predicate.identity.version;
  if (!name || !version)
    throw new WaybillError(
      'USAGE',
      input,
      'a release directory files an artifact under NAME/VERSION: its release record must give both (waybill stamp --name --version)',
    );
  return { name, version };
}

/**
 * The bundle of a graph whose root is a file artifact: the file (pulled into the blob cache when it is
 * not on this machine) and every attachment that has a sidecar form. `published`: the date for the
 * directory's index (the publication statement's, when the graph carries one).
 */
export async function releaseBundleFromGraph(
  graph: Graph,
  source: GraphSource,
  cache: BlobCache,
  published: string,
  /** The file itself when it is on this machine already (publishing a local file). */
  localPath?: string,
): Promise<ReleaseBundle> {
  const root = graph.manifests.at(-1);
  const layer = root
    ? singleFileLayer(parseImageManifest(root.bytes, `${source.name}@${graph.root.digest}`))
    : undefined;
  if (!root || !layer)
    throw new WaybillError(
      'UNSUPPORTED',
      source.name,
      'a release directory holds files: publish an image to a registry or an OCI layout instead',
    );
  const fileName = publishedFileName(layer);
  const files: ReleaseBundle['files'] = [];
  let record: ReleaseRecord | undefined;
  for (const referrer of graph.referrers) {
    if (referrer.subject.digest !== graph.root.digest) continue;
    const parts = attachmentParts(referrer, source.name);
    const name = releaseSidecarName(fileName, parts.artifactType, parts.annotations[OCI_ANNOTATION.title]);
    if (!name || !parts.payload) continue;
    const bytes = await readSmallBlob(source, parts.payload, MAX_BUNDLE_FILE_BYTES);
    if (parts.artifactType === ARTIFACT_TYPE.record)
      record = parseRecord(bytes.toString('utf8'), `${source.name}: ${name}`);
    if (!files.some((f) => f.fileName === name))
      files.push({ fileName: name, bytes, kind: kindOf(fileName, name, parts.artifactType) });
  }
  const reader = await source.blob(layer);
  const artifactPath = localPath ?? (await cache.fetchNamed(layer, fileName, () => reader.open()));
  const { name, version } = releaseIdentity(record, source.name);
  return {
    name,
    version,
    artifactPath,
    artifactFileName: fileName,
    digest: layer.digest,
    files,
    built: record?.predicate.dates.built ?? null,
    published,
  };
}

/** The newest publish date among the graph's publication statements (for a release directory's index). */
export async function publicationDate(graph: Graph, source: GraphSource): Promise<string | undefined> {
  let newest: string | undefined;
  for (const referrer of graph.referrers) {
    const parts = attachmentParts(referrer, source.name);
    if (parts.artifactType !== PUBLICATION_ARTIFACT_TYPE || !parts.payload) continue;
    try {
      const statement = parsePublication(
        await readSmallBlob(source, parts.payload, 1024 * 1024),
        source.name,
      );
      if (!newest || statement.predicate.published > newest) newest = statement.predicate.published;
    } catch {
      // An unreadable statement gives no date.
    }
  }
  return newest;
}
