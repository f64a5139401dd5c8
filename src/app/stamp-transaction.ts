/**
 * `stamp` as one operation. A stamp changes up to three things a consumer looks at together — the
 * artifact (native metadata rewritten), its SBOM and its record — and a kill -9 or a full disk half
 * way must leave either the old artifact with its old record or the new one with its new record.
 * So a stamp:
 *
 * 1. takes the artifact's lock (util/lock.ts), so a second stamp of the same artifact is told (BUSY,
 *    exit 2) instead of losing an update, and finishes or cleans up what an interrupted stamp left
 *    (util/staging.ts `recoverStaging`);
 * 2. prepares everything in a private staging directory beside the artifact — a rewritten copy of the
 *    artifact, the SBOM, the record; for images the new blobs and index.json — and opens the new
 *    artifact from there (so the record describes exactly what will be published);
 * 3. publishes by renames in an order where every intermediate state is one a consumer can judge:
 *
 *    | artifact kind | order of the renames | a crash in between leaves |
 *    |---|---|---|
 *    | OCI layout | new blobs (config, manifest, attachments), then `index.json` | the old tag and records: new blobs are unreferenced |
 *    | oci-archive | the whole new archive, one rename | the old archive |
 *    | file, docker-archive, dir | `NAME.waybill.json` (+ `.record.sigstore.json`), `NAME.cdx.json` (+ `.sbom.sigstore.json`), then `NAME` itself | see below |
 *
 *    Three files cannot be replaced in one step, so for the sidecar kinds the order is chosen so
 *    that no window shows a half-released artifact as good: the new record first (it binds the NEW
 *    digest, so the old artifact now has no record bound to it and `check` fails it, as if it were
 *    unstamped; an SBOM never appears without the record that names it), then the SBOM, then the
 *    rewritten artifact (it never appears without its record and SBOM). An artifact that is not
 *    rewritten (rpm, tarball, dir) keeps its digest, so in the window its new record may name an
 *    SBOM not yet renamed: `check` fails the manifest rule until the rename. A journal written before
 *    the first rename lets the next stamp finish the renames (roll forward), so the window closes
 *    at the next run even after a kill -9. With a signing key, each bundle is renamed right after the
 *    file it signs; without one, bundles an earlier stamp signed are removed before the first rename
 *    (they sign the record being replaced): a crash in between leaves an unsigned record, which is
 *    refused where signatures are required — never a signature beside a record it does not sign.
 *
 * Where the lock, journal and staging directory live: inside an OCI layout directory
 * (`.waybill.lock`, beside blobs/); for everything else beside the artifact in its directory
 * (`.NAME.waybill.lock`), never inside a `dir:` artifact.
 */
import { rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { WaybillError } from '../errors.ts';
import type { NativeStampFacts } from '../formats/native.ts';
import { OciArchiveLayout } from '../oci/archive-layout.ts';
import { stampDockerArchive } from '../oci/archive-stamp.ts';
import { OciLayout } from '../oci/layout.ts';
import { StagedLayout } from '../oci/staged-layout.ts';
import { type StampFacts, stampLayout } from '../oci/stamp.ts';
import { SIDECAR_SUFFIX } from '../record/sidecar.ts';
import type { UpstreamField } from '../record/types.ts';
import { bundleSuffix, isSidecarOf } from '../sign/bundle-files.ts';
import { DirectoryBlobStore, OverlayBlobStore } from '../sources/blob-store.ts';
import { openDockerArchive } from '../sources/docker-archive.ts';
import { openFile } from '../sources/file.ts';
import { openLayoutStore } from '../sources/oci.ts';
import { openTarBlobStore } from '../sources/oci-archive.ts';
import type { ArtifactLocation } from '../sources/open.ts';
import type { Artifact } from '../sources/types.ts';
import { checkWriteTarget } from '../util/atomic-write.ts';
import { crashPoint } from '../util/crash-point.ts';
import { FileLock } from '../util/lock.ts';
import { type Recovery, recoverStaging, StagingArea } from '../util/staging.ts';
import { lockName, removeOrphanedTemps } from '../util/temp-names.ts';
import {
  AUDIT_SIDECAR_SUFFIX,
  layoutRecordStore,
  type RecordStore,
  SBOM_SUFFIX,
  sidecarRecordStore,
} from './attachments.ts';
import { nativeFormatOf } from './native-facts.ts';

/** Where a stamp of an artifact keeps its lock, journal and staging directory. */
export interface StampHome {
  /** The directory holding the targets (the layout, or the artifact's directory). */
  dir: string;
  /** The base name of the transient files: the artifact's name; empty inside a layout. */
  base: string;
  /** Which paths (relative to `dir`) a journal may rename onto. */
  allowed: (to: string) => boolean;
}

const BLOB_TARGET = /^blobs\/sha256\/[a-f0-9]{64}$/;

export function stampHome(location: ArtifactLocation): StampHome {
  if (location.kind === 'oci') {
    return { dir: location.path, base: '', allowed: (to) => to === 'index.json' || BLOB_TARGET.test(to) };
  }
  // resolve: `dir:.` is named by its real name, and its files go in its parent, never inside it.
  const absolute = resolve(location.path);
  const base = basename(absolute);
  if (base === '')
    throw new WaybillError(
      'USAGE',
      location.path,
      'cannot stamp the root directory: its sidecars would have nowhere to go',
    );
  const targets = new Set([
    base,
    `${base}${SIDECAR_SUFFIX}`,
    ...Object.values(SBOM_SUFFIX).map((s) => `${base}${s}`),
    `${base}${bundleSuffix('record')}`,
    `${base}${bundleSuffix('sbom')}`,
  ]);
  return { dir: dirname(absolute), base, allowed: (to) => targets.has(to) };
}

/**
 * Whether an absolute path is the artifact at `location` (an OCI layout: anything in it), one of its
 * sidecars (record, SBOM, signed statements, audit) or a transient file of its stamp (lock, journal,
 * temp files, staging directories): what the build and waybill write next to the source, which the
 * signed-source check must not count as uncommitted changes. A `dir:` artifact's contents are not
 * claimed (the tree could be the checkout itself); only its sidecars beside it are.
 */
export function isStampOutput(location: ArtifactLocation): (absolutePath: string) => boolean {
  if (location.kind === 'oci') {
    const layout = resolve(location.path);
    return (p) => p === layout || p.startsWith(`${layout}${sep}`);
  }
  const home = stampHome(location);
  const claimsItself = location.kind !== 'dir';
  return (p) => {
    const rel = relative(home.dir, p);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return false;
    const [first = ''] = rel.split(sep);
    if (first === home.base) return claimsItself && rel === first;
    return (
      (rel === first &&
        (home.allowed(first) ||
          isSidecarOf(home.base, first) ||
          first === `${home.base}${AUDIT_SIDECAR_SUFFIX}`)) ||
      first.startsWith(`.${home.base}.waybill`)
    );
  };
}

/**
 * Runs `fn` holding the stamp lock of the artifact at `location`, after finishing or cleaning up an
 * earlier interrupted stamp of it (what was done is passed to `fn`, for the user).
 */
export async function withStampLock<T>(
  ref: string,
  location: ArtifactLocation,
  fn: (recovery: Recovery) => Promise<T>,
): Promise<T> {
  const home = stampHome(location);
  const lock = await FileLock.acquire(join(home.dir, lockName(home.base)), ref);
  try {
    await crashPoint('stamp:locked');
    const recovery = await recoverStaging(home.dir, home.base, home.allowed);
    if (location.kind === 'oci') {
      // Temp files of single-file writes inside a layout (OciLayout.writeBlob/writeIndex).
      const blobs = join(home.dir, 'blobs', 'sha256');
      for (const name of await removeOrphanedTemps(blobs, (b) => /^[a-f0-9]{64}$/.test(b)))
        recovery.removed.push(join('blobs', 'sha256', name));
      recovery.removed.push(
        ...(await removeOrphanedTemps(home.dir, (b) => b === 'index.json' || b === 'oci-layout')),
      );
    }
    return await fn(recovery);
  } finally {
    await lock.release();
  }
}

/** A stamp being prepared: see the top of this file. */
export interface StampTransaction extends RecordStore {
  /** The artifact as it will be once committed, opened from the staged state. */
  readonly artifact: Artifact;
  /** Native fields written (`deb Bugs`, `manifest annotations`…); empty when none changed. */
  readonly fields: string[];
  /** Fields whose own value the stamp replaced, with that value (the upstream trail); often empty. */
  readonly replaced: UpstreamField[];
  /** One platform of the staged image, as stamped (before any attachment); for per-platform records. */
  platform(platform: string): Promise<Artifact>;
  /** Publishes everything staged, in the order above. */
  commit(): Promise<void>;
  /** Removes everything staged; nothing was published. */
  discard(): Promise<void>;
}

export interface BeginStampOptions {
  ref: string;
  location: ArtifactLocation;
  /** The artifact as opened before stamping (read and verified). */
  opened: Artifact;
  facts: StampFacts;
  nativeFacts: NativeStampFacts;
  platform?: string;
}

/** Step 2 above: stages the native stamp and opens the result. Commit or discard what it returns. */
export async function beginStamp(options: BeginStampOptions): Promise<StampTransaction> {
  const home = stampHome(options.location);
  const staging = await StagingArea.create(home.dir, home.base);
  try {
    const { kind } = options.location;
    if (options.opened.image && (kind === 'oci' || kind === 'oci-archive'))
      return await beginImageStamp(options, staging, kind);
    return await beginSidecarStamp(options, staging, home.base);
  } catch (e) {
    await staging.discard();
    throw e;
  }
}

async function beginImageStamp(
  { ref, location, opened, facts, platform }: BeginStampOptions,
  staging: StagingArea,
  kind: 'oci' | 'oci-archive',
): Promise<StampTransaction> {
  // An oci-archive is replaced by a rename at commit: refused now if that would be over a link.
  if (kind === 'oci-archive') await checkWriteTarget(location.path);
  const base =
    kind === 'oci' ? await OciLayout.open(location.path) : await OciArchiveLayout.open(location.path);
  const store = new StagedLayout(base, staging);
  await stampLayout(store, opened.image?.refName, facts);
  // The staged files as stamped, before attachments change index.json (they get other names).
  const overlay = new OverlayBlobStore(
    kind === 'oci' ? new DirectoryBlobStore(location.path) : await openTarBlobStore(location.path),
    await store.stagedFiles(),
  );
  const reference = location.reference === '' ? undefined : location.reference;
  const open = (p: string | undefined) =>
    openLayoutStore(ref, kind, location.path, overlay, reference, { platform: p });
  const records = layoutRecordStore(store);
  return {
    artifact: await open(platform),
    fields: ['manifest annotations', 'image config labels'],
    replaced: [],
    platform: (p) => open(p),
    saveSbom: records.saveSbom,
    saveRecord: records.saveRecord,
    saveBundle: records.saveBundle,
    dropBundles: records.dropBundles,
    async commit() {
      await store.publish(basename(location.path));
      await staging.commit();
    },
    discard: () => staging.discard(),
  };
}

/** Files, directories and docker-archives: the artifact (rewritten or not) and sidecars beside it. */
async function beginSidecarStamp(
  { ref, location, opened, facts, nativeFacts, platform }: BeginStampOptions,
  staging: StagingArea,
  name: string,
): Promise<StampTransaction> {
  let artifact = opened;
  let fields: string[] = [];
  let replaced: UpstreamField[] = [];
  let rewritten = false;
  if (opened.kind === 'docker-archive' && opened.image) {
    await checkWriteTarget(location.path);
    const output = staging.file(name);
    await stampDockerArchive(location.path, opened.image.repoTags?.[0], facts, { output });
    artifact = await openDockerArchive(ref, output, location.reference, { platform });
    fields = ['image config labels'];
    rewritten = true;
  } else if (opened.kind === 'file') {
    const format = await nativeFormatOf(opened);
    if (format?.stamp) {
      // Refused now rather than after the work: the artifact is replaced by a rename at commit,
      // which waybill does not do over a link (or anything but a regular file).
      await checkWriteTarget(location.path);
      // The stamper rewrites a copy in the staging directory (its own temp files land there too);
      // the original is replaced only at commit, after its SBOM and record.
      const copy = await staging.copyIn(location.path, name);
      const result = await format.stamp(copy, nativeFacts).catch((e: unknown) => {
        // What is wrong is in the artifact the user named, not in the staging copy's path.
        if (e instanceof WaybillError && e.input === copy)
          throw new WaybillError(e.code, ref, e.reason, { cause: e });
        throw e;
      });
      replaced = result.replaced ?? [];
      if (result.changed) {
        artifact = await openFile(ref, copy);
        fields = result.fields;
        rewritten = true;
      } else await rm(copy, { force: true });
    }
  }
  const records = sidecarRecordStore(staging, location.path);
  return {
    artifact,
    fields,
    replaced,
    platform: async () => artifact,
    saveSbom: records.saveSbom,
    saveRecord: records.saveRecord,
    saveBundle: records.saveBundle,
    dropBundles: records.dropBundles,
    async commit() {
      // The record first (an SBOM never appears without the record naming it), each signature right
      // after what it signs, the artifact last (it never appears without its record and SBOM).
      await records.publishSidecars();
      if (rewritten) staging.publish(name, name);
      await staging.commit();
    },
    discard: () => staging.discard(),
  };
}
