/**
 * A file's statements travel as sidecars next to it (`NAME.waybill.json`, `NAME.cdx.json`,
 * `NAME.<kind>.sigstore.json`, …) and as OCI attachments in a registry. This module is the one map
 * between the two, used both ways:
 *
 * | sidecar | attachment artifactType | payload media type |
 * |---|---|---|
 * | `NAME.waybill.json` | `application/vnd.waybill.release-record.v1+json` | `application/vnd.in-toto+json` |
 * | `NAME.cdx.json` / `NAME.spdx.json` | `application/vnd.cyclonedx+json` / `application/spdx+json` | same |
 * | `NAME.publication.json` | `application/vnd.waybill.publication.v1+json` | `application/vnd.in-toto+json` |
 * | `NAME.<kind>.json` (provenance, audit, rebuild…) | `application/vnd.in-toto+json` (+ predicateType annotation) | same |
 * | `NAME.<kind>.sigstore.json`, `NAME.sigstore.json`, `NAME.sigstore` | `application/vnd.dev.sigstore.bundle.v0.3+json` | same |
 * | `NAME.intoto.jsonl` | `application/vnd.waybill.intoto-jsonl` | `application/jsonl` |
 * | `*.rebuild.tar` listing the file | `application/vnd.waybill.rebuild-kit.v1+tar` | `application/x-tar` |
 *
 * Every attachment carries `org.opencontainers.image.title` = the sidecar's file name, so it can be
 * written back under the same name, and a record's `manifest.location` (a sidecar name) still finds
 * its SBOM in a registry.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isWaybillError, WaybillError } from '../errors.ts';
import { ARTIFACT_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import { KIT_SUFFIX, openKit } from '../provenance/build/kit.ts';
import { SIDECAR_SUFFIX } from '../record/sidecar.ts';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, isSidecarOf } from '../sign/bundle-files.ts';
import { INTOTO_PAYLOAD_TYPE } from '../sign/sign-statement.ts';
import { readRegularFile, statRegularFile } from '../util/regular-file.ts';
import { PUBLICATION_ARTIFACT_TYPE, PUBLICATION_SIDECAR_SUFFIX } from './publication.ts';

export const STATEMENT_ARTIFACT_TYPE = INTOTO_PAYLOAD_TYPE;
export const INTOTO_JSONL_ARTIFACT_TYPE = 'application/vnd.waybill.intoto-jsonl';
export const REBUILD_KIT_ARTIFACT_TYPE = 'application/vnd.waybill.rebuild-kit.v1+tar';
/** The annotation naming a statement attachment's predicate type (as cosign names a bundle's). */
export const PREDICATE_TYPE_ANNOTATION = 'vnd.waybill.predicateType';

/** Sidecars larger than this are not statements; kits are streamed, never read whole. */
const MAX_SIDECAR_BYTES = 256 * 1024 * 1024;

export type SidecarRole =
  | 'record'
  | 'sbom'
  | 'publication'
  | 'statement'
  | 'bundle'
  | 'bundles'
  | 'rebuild-kit';

export interface Sidecar {
  fileName: string;
  role: SidecarRole;
  artifactType: string;
  mediaType: string;
  annotations: Record<string, string>;
  /** Small sidecars are read whole (they are parsed); a kit is streamed from `path`. */
  bytes?: Buffer;
  path: string;
  size: number;
}

interface SidecarType {
  role: SidecarRole;
  artifactType: string;
  mediaType: string;
}

/** The sidecar type of file `file` next to artifact `name`, or undefined when it is not one of its sidecars. */
export function sidecarTypeOf(name: string, file: string): SidecarType | undefined {
  if (!file.startsWith(`${name}.`)) return undefined;
  const rest = file.slice(name.length);
  if (rest === SIDECAR_SUFFIX)
    return { role: 'record', artifactType: ARTIFACT_TYPE.record, mediaType: INTOTO_PAYLOAD_TYPE };
  if (rest === '.cdx.json')
    return { role: 'sbom', artifactType: ARTIFACT_TYPE.cyclonedx, mediaType: ARTIFACT_TYPE.cyclonedx };
  if (rest === '.spdx.json')
    return { role: 'sbom', artifactType: ARTIFACT_TYPE.spdx, mediaType: ARTIFACT_TYPE.spdx };
  if (rest === PUBLICATION_SIDECAR_SUFFIX)
    return { role: 'publication', artifactType: PUBLICATION_ARTIFACT_TYPE, mediaType: INTOTO_PAYLOAD_TYPE };
  if (rest === '.intoto.jsonl')
    return { role: 'bundles', artifactType: INTOTO_JSONL_ARTIFACT_TYPE, mediaType: 'application/jsonl' };
  if (isSidecarOf(name, file))
    return { role: 'bundle', artifactType: BUNDLE_MEDIA_TYPE, mediaType: BUNDLE_MEDIA_TYPE };
  // NAME.<kind>.json: an unsigned in-toto statement (provenance, audit, rebuild verdict).
  if (/^\.[a-z][a-z0-9-]*\.json$/.test(rest))
    return { role: 'statement', artifactType: STATEMENT_ARTIFACT_TYPE, mediaType: INTOTO_PAYLOAD_TYPE };
  return undefined;
}

/** The predicate type a statement or a bundle carries (for the annotation), or undefined. */
export function predicateTypeOf(bytes: Buffer): string | undefined {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (typeof doc.predicateType === 'string') return doc.predicateType;
    const envelope = (doc.dsseEnvelope ?? doc) as { payload?: unknown };
    if (typeof envelope.payload !== 'string') return undefined;
    const inner = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      predicateType?: unknown;
    };
    return typeof inner.predicateType === 'string' ? inner.predicateType : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the rebuild kit at `path` lists an output whose published SHA-256 is `hex` (kit.ts reads it as hostile). */
export async function kitLists(path: string, hex: string): Promise<boolean> {
  try {
    return (await openKit(path)).manifest.outputs.some((o) => o.published === hex);
  } catch (e) {
    // Not a kit, or a damaged one: not this artifact's.
    if (isWaybillError(e)) return false;
    throw e;
  }
}

/** A sidecar of artifact `name` from its bytes (`where` it was read); undefined when `file` is none of its sidecars. */
export function sidecarFromBytes(
  name: string,
  file: string,
  bytes: Buffer,
  where: string,
): Sidecar | undefined {
  const type = sidecarTypeOf(name, file);
  if (!type) return undefined;
  const annotations: Record<string, string> = { [OCI_ANNOTATION.title]: file };
  if (type.role === 'bundle' || type.role === 'statement') {
    const predicateType = predicateTypeOf(bytes);
    if (predicateType)
      annotations[type.role === 'bundle' ? BUNDLE_PREDICATE_ANNOTATION : PREDICATE_TYPE_ANNOTATION] =
        predicateType;
  }
  return { fileName: file, ...type, annotations, bytes, path: where, size: bytes.length };
}

/** A rebuild kit read whole (from a release directory's listing), as a sidecar; undefined for another name. */
export function kitAsSidecar(file: string, bytes: Buffer, where: string): Sidecar | undefined {
  if (!file.endsWith(KIT_SUFFIX)) return undefined;
  return { ...kitSidecar(file, where, bytes.length), bytes };
}

function kitSidecar(file: string, path: string, size: number): Sidecar {
  return {
    fileName: file,
    role: 'rebuild-kit',
    artifactType: REBUILD_KIT_ARTIFACT_TYPE,
    mediaType: 'application/x-tar',
    annotations: { [OCI_ANNOTATION.title]: file },
    path,
    size,
  };
}

/**
 * The sidecars next to the file at `artifactPath` (digest `sha256:…`), sorted by name: its statements
 * and bundles, and the rebuild kits in its directory that list it.
 */
export async function collectSidecars(artifactPath: string, digest: string): Promise<Sidecar[]> {
  const dir = dirname(artifactPath);
  const name = basename(artifactPath);
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new WaybillError('NOT_FOUND', dir, `cannot list the artifact's directory (${e.code})`);
  });
  const found: Sidecar[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isFile()) continue;
    const path = join(dir, entry.name);
    if (!sidecarTypeOf(name, entry.name)) continue;
    const bytes = await readRegularFile(path, { maxBytes: MAX_SIDECAR_BYTES, code: 'MALFORMED' });
    const sidecar = sidecarFromBytes(name, entry.name, bytes, path);
    if (sidecar) found.push(sidecar);
  }
  return [...found, ...(await kitsListing(dir, digest, entries))].sort((x, y) =>
    x.fileName < y.fileName ? -1 : x.fileName > y.fileName ? 1 : 0,
  );
}

/** The rebuild kits in `dir` whose manifest lists an output published as `digest` (`sha256:…`). */
export async function kitsListing(dir: string, digest: string, listed?: Dirent[]): Promise<Sidecar[]> {
  const entries = listed ?? (await readdir(dir, { withFileTypes: true }).catch(() => []));
  const found: Sidecar[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(KIT_SUFFIX)) continue;
    const path = join(dir, entry.name);
    if (!(await kitLists(path, digest.replace(/^sha256:/, '')))) continue;
    const { size } = await statRegularFile(path);
    found.push(kitSidecar(entry.name, path, size));
  }
  return found;
}

/**
 * The file name an attachment is written back under next to artifact `name`: its title when that is
 * a plain file name belonging to the artifact (or a kit), else one derived from its type; undefined
 * when the type has no sidecar form.
 */
export function sidecarNameFor(
  name: string,
  artifactType: string,
  title: string | undefined,
): string | undefined {
  if (title !== undefined && /^[^/\\\0]+$/.test(title) && title !== '.' && title !== '..') {
    if (sidecarTypeOf(name, title)?.artifactType === artifactType) return title;
    if (artifactType === REBUILD_KIT_ARTIFACT_TYPE && title.endsWith(KIT_SUFFIX)) return title;
  }
  switch (artifactType) {
    case ARTIFACT_TYPE.record:
      return `${name}${SIDECAR_SUFFIX}`;
    case ARTIFACT_TYPE.cyclonedx:
      return `${name}.cdx.json`;
    case ARTIFACT_TYPE.spdx:
      return `${name}.spdx.json`;
    case PUBLICATION_ARTIFACT_TYPE:
      return `${name}${PUBLICATION_SIDECAR_SUFFIX}`;
    default:
      return undefined;
  }
}

/** The role of an attachment by its artifactType (what a release directory is told each file is). */
export function sidecarRoleOf(artifactType: string): SidecarRole {
  switch (artifactType) {
    case ARTIFACT_TYPE.record:
      return 'record';
    case ARTIFACT_TYPE.cyclonedx:
    case ARTIFACT_TYPE.spdx:
      return 'sbom';
    case PUBLICATION_ARTIFACT_TYPE:
      return 'publication';
    case BUNDLE_MEDIA_TYPE:
      return 'bundle';
    case INTOTO_JSONL_ARTIFACT_TYPE:
      return 'bundles';
    case REBUILD_KIT_ARTIFACT_TYPE:
      return 'rebuild-kit';
    default:
      return 'statement';
  }
}
