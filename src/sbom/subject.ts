/**
 * What every SBOM document needs besides the components: the artifact it describes, the tool that
 * wrote it, and a deterministic time and identity (reproducible-builds.org SOURCE_DATE_EPOCH; UUIDv5
 * from content, never a random UUID or the wall clock).
 */

import { createHash } from 'node:crypto';
import type { Component, Distro } from '../catalog/types.ts';
import { WaybillError } from '../errors.ts';
import { isRfc3339Instant, parseRfc3339 } from '../policy/rfc3339.ts';
import type { SourceKind } from '../sources/types.ts';
import { uuidV5 } from '../util/uuid.ts';

export interface SbomSubject {
  /**
   * `sha256:<hex>`: the digest the release record binds to (Artifact.digest). Absent for a tree
   * listed without hashing it (`sbom dir:`): the document then names it by kind and name only, and
   * its UUID comes from its own content (`withDocumentUuid`).
   */
  digest?: string;
  kind: SourceKind;
  /** Name and version to show for the artifact (from the caller: waybill.yaml, flags, or the ref). */
  name: string;
  version?: string;
  /** The artifact's own creation time (image config `created`, file mtime…), if known. */
  created?: string | Date;
  /** The artifact's reference, named in the error when `created` is no date (default: `name`). */
  ref?: string;
  /** Root component type; default: `container` for images, `file` for files, `application` for dirs. */
  type?: 'container' | 'application' | 'file';
  /**
   * The package the artifact is (a .deb, .rpm, wheel, sdist, jar): its purl, licenses, supplier and
   * facts describe the root component, whose type is then the package's.
   */
  package?: Component;
}

export interface SbomInput {
  subject: SbomSubject;
  components: readonly Component[];
  distro?: Distro;
  warnings?: ReadonlyArray<{ path: string; reason: string }>;
  /** waybill's version, recorded as the tool and mixed into the document's UUID. */
  toolVersion: string;
  /** Overrides `process.env.SOURCE_DATE_EPOCH` (tests, callers that read it elsewhere). */
  sourceDateEpoch?: string;
}

export const TOOL_NAME = 'waybill';

export function isImageKind(kind: SourceKind): boolean {
  return kind === 'oci' || kind === 'oci-archive' || kind === 'docker-archive' || kind === 'registry';
}

export function rootType(subject: SbomSubject): 'container' | 'application' | 'file' | 'library' {
  if (subject.package) return subject.package.type === 'application' ? 'application' : 'library';
  return (
    subject.type ??
    (isImageKind(subject.kind) ? 'container' : subject.kind === 'file' ? 'file' : 'application')
  );
}

/** The hex of a `sha256:` digest, or undefined for other algorithms (or no digest). */
export function sha256Hex(digest: string | undefined): string | undefined {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest ?? '');
  return m?.[1];
}

/**
 * The document time: SOURCE_DATE_EPOCH (integer seconds) when set, else the artifact's own creation
 * time, else undefined (the caller decides; never the wall clock).
 */
export function documentTime(input: SbomInput): Date | undefined {
  const epoch = input.sourceDateEpoch ?? process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d{1,12}$/.test(epoch))
      throw new WaybillError(
        'USAGE',
        'SOURCE_DATE_EPOCH',
        `not a non-negative integer: ${JSON.stringify(epoch)}`,
      );
    return new Date(Number(epoch) * 1000);
  }
  const created = input.subject.created;
  if (created === undefined) return undefined;
  // Strict RFC 3339 (OCI image-spec config `created`): `new Date` rolls 2023-02-30 into March and
  // takes years past 9999, which the document's timestamp cannot carry.
  const date = created instanceof Date ? created : parseRfc3339(created);
  if (date === undefined || !isRfc3339Instant(date))
    throw new WaybillError(
      'MALFORMED',
      input.subject.ref ?? input.subject.name,
      `artifact creation time is not an RFC 3339 date-time: ${String(created)}`,
    );
  // Whole seconds: sub-second precision in image configs is noise that differs between builders.
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** The UUID a document is first built with when its own content decides the real one. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * One UUID per (artifact, waybill version), from the artifact's digest: the CycloneDX serial number
 * and the SPDX namespace suffix. Without a digest, the nil UUID (see `withDocumentUuid`).
 */
export function documentUuid(input: SbomInput): string {
  const digest = input.subject.digest;
  return digest === undefined ? NIL_UUID : uuidV5(`sbom\n${digest}\n${TOOL_NAME}@${input.toolVersion}`);
}

/**
 * A document with its UUID: `build` makes it with `documentUuid`. A subject without a digest (a
 * tree listed without hashing it) then has the nil UUID, replaced here (`set`) by one from the
 * document itself: the SHA-256 of the document written compactly with the nil UUID, so the same
 * tree and waybill still give the same bytes, and other content another UUID.
 */
export function withDocumentUuid<T>(
  input: SbomInput,
  build: () => T,
  set: (doc: T, uuid: string) => void,
): T {
  const doc = build();
  if (input.subject.digest !== undefined) return doc;
  const content = createHash('sha256').update(JSON.stringify(doc)).digest('hex');
  set(doc, uuidV5(`sbom-content\nsha256:${content}\n${TOOL_NAME}@${input.toolVersion}`));
  return doc;
}

/** An SBOM document as waybill writes it: JSON, two-space indented, one final newline. */
export function sbomDocumentText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Code-unit order, independent of the machine's locale. */
export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The extra facts of a component as sorted (name, value) pairs, layer and evidence paths included. */
export function componentProperties(c: Component): Array<{ name: string; value: string }> {
  const props = Object.entries(c.properties).map(([name, value]) => ({ name, value: String(value) }));
  if (c.layer) props.push({ name: 'waybill:layer', value: c.layer });
  if (c.presence !== undefined && c.presence !== 'installed')
    props.push({ name: 'waybill:presence', value: c.presence });
  if (c.vendoredIn) props.push({ name: 'waybill:vendored-in', value: c.vendoredIn });
  for (const path of c.foundAt) props.push({ name: 'waybill:found-at', value: path });
  return props.sort((a, b) => byString(a.name, b.name) || byString(a.value, b.value));
}

export function warningTexts(input: SbomInput): string[] {
  return [...new Set((input.warnings ?? []).map((w) => `${w.path}: ${w.reason}`))].sort(byString);
}
