/**
 * `stamp`: create the release record for an artifact from the project settings, verify the source
 * tag, generate (or take) the SBOM, write the facts into the artifact's native metadata where its
 * format has a place for them, and store record and SBOM beside it — as one operation, under a lock
 * (stamp-transaction.ts). It records what it is given even when a guideline is not met; refusing to
 * ship is `check`'s job, so stamp refuses only unreadable input.
 */
import { createPublicKey } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import type { Settings } from '../config/merge.ts';
import { WaybillError } from '../errors.ts';
import type { Fact, NativeFacts } from '../formats/facts.ts';
import { parseImageReference } from '../formats/image/image-reference.ts';
import type { StampFacts } from '../oci/stamp.ts';
import { platformString } from '../oci/types.ts';
import {
  DECLARED_LICENSE_PATH,
  type LicenseDisagreement,
  licenseDisagreement,
} from '../policy/declared-license.ts';
import type { CheckReport } from '../policy/types.ts';
import { requirePublishableUrl } from '../policy/url-check.ts';
import { verifySourceTag } from '../provenance/git-tag.ts';
import { isNetworkRepositoryUrl } from '../provenance/remote-url.ts';
import type { SourceVerification } from '../provenance/source-evidence.ts';
import { buildRecord } from '../record/build.ts';
import type { ForcedManifest, ReleaseRecord, SourceFact } from '../record/types.ts';
import { assertRecordTexts, assertWritableText } from '../record/written-text.ts';
import { componentCount, readSbom } from '../sbom/read.ts';
import type { Signer } from '../sign/signer.ts';
import { type ArtifactLocation, locateArtifact, openLocated } from '../sources/open.ts';
import { registryWriteError } from '../sources/published-read-only.ts';
import { isRegistryReference } from '../sources/registry-reference.ts';
import type { Artifact } from '../sources/types.ts';
import { crashPoint } from '../util/crash-point.ts';
import { sha256Digest } from '../util/digest.ts';
import { readRegularFile } from '../util/regular-file.ts';
import type { SbomFormat } from './attachments.ts';
import { checkOpenedArtifact } from './check.ts';
import { buildDate } from './dates.ts';
import { type CatalogedContents, catalogForSbom, encodeSbom } from './generate-sbom.ts';
import { type IdentityChoice, resolveIdentity } from './identity.ts';
import { intactLayers } from './integrity.ts';
import { machineArchitectures } from './machine-architecture.ts';
import { nativeFactsOf, nativeFormatOf } from './native-facts.ts';
import { type SbomTarget, sbomSubjectMismatch, sbomTarget } from './sbom-subject.ts';
import { signRelease } from './sign-release.ts';
import {
  beginStamp,
  isStampOutput,
  type StampTransaction,
  stampHome,
  withStampLock,
} from './stamp-transaction.ts';

export interface StampOptions {
  settings: Settings;
  platform?: string;
  built?: string;
  sbomFormat?: SbomFormat;
  now?: Date;
  onProgress?: (done: number, total: number) => void;
  /** Worker threads for image layers (see WalkOptions.workers); default: the walk's own choice. */
  workers?: number;
  /** Signs the record and the SBOM attestation (`--key FILE` / WAYBILL_KEY); unsigned without. */
  signer?: Signer;
  /**
   * Publish the SBOM given with `settings.sbom` even when its subject is not this artifact
   * (sbom-subject.ts); the record says so in `manifest.forced`.
   */
  forceSbom?: boolean;
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
  /** Where the record and SBOM attestation bundles went, when a signer was given. */
  bundles?: { record: string; sbom: string };
  components: number;
  /** Set when the artifact's own metadata was rewritten (images): the digest before. */
  previousDigest?: string;
  /** Where in the artifact's own metadata the facts were written, e.g. `deb Bugs`. */
  nativeFields: string[];
  report: CheckReport;
  warnings: Array<{ path: string; reason: string }>;
}

async function sourceFact(
  settings: Settings,
  location: ArtifactLocation,
  now: Date,
): Promise<SourceFact | null> {
  if (!settings.sourceDir) return null;
  return verifySourceTag(
    settings.sourceDir,
    {
      allowedSignersFile: settings.allowedSigners ?? undefined,
      sshRevocationFile: settings.sshRevocationFile ?? undefined,
      trustedGpgKeys: settings.trustedGpgKeys,
      // Signer validity is judged now, never at the date the tag claims for itself.
      verifyTime: now,
    },
    // The artifact, its sidecars and the stamp's lock may sit in the checkout: they are outputs.
    { isOwnOutput: isStampOutput(location) },
  );
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

/** The record subject's name: a file's name; an image's repository (`ghcr.io/acme/hello`), else its name. */
function subjectName(artifact: Artifact, name: string | null): string {
  const image = artifact.image;
  if (image) {
    const named = [...(image.repoTags ?? []), image.refName ?? ''].map(parseImageReference).find(Boolean);
    return named?.repository ?? name ?? image.refName ?? basename(resolve(artifact.path));
  }
  // resolve: `dir:.` is named by its real name.
  return basename(resolve(artifact.path));
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

interface GivenSbom {
  bytes: Buffer;
  format: SbomFormat;
  components: number;
  /** Set when its subject is not this artifact and --force-sbom published it anyway. */
  forced?: ForcedManifest;
}

/**
 * An SBOM given with --sbom: read, parsed and matched against the artifact up front, so a broken
 * one, or one about something else (unless forced), is refused before any write.
 */
async function readGivenSbom(
  path: string,
  target: SbomTarget,
  force: boolean,
): Promise<{ sbom: GivenSbom; warning?: { path: string; reason: string } }> {
  const bytes = await readRegularFile(path, { maxBytes: MAX_GIVEN_SBOM_BYTES });
  const parsed = readSbom(bytes, path);
  const sbom: GivenSbom = { bytes, format: parsed.format, components: componentCount(parsed) };
  const mismatch = sbomSubjectMismatch(parsed, target);
  if (mismatch === undefined) return { sbom };
  if (!force)
    throw new WaybillError(
      'USAGE',
      path,
      `${mismatch}; give this artifact's SBOM, or pass --force-sbom to publish it anyway`,
    );
  sbom.forced = { reason: mismatch };
  return { sbom, warning: { path, reason: `published with --force-sbom: ${mismatch}` } };
}

/**
 * The links stamp publishes, refused up front when the help rule would fail them (credentials,
 * control characters, javascript:/data:/file:, not an absolute http(s) URL): credentials must never
 * reach a record or a deb Bugs field, and a refusal before anything is read leaves nothing half-done.
 */
function requirePublishableLinks(settings: Settings): void {
  requirePublishableUrl(settings.bugTracker, 'bug tracker URL (--bug-tracker, help.bugTracker)');
  requirePublishableUrl(settings.docsUrl, 'docs URL (--docs-url, help.docs)');
  // The contact may be a name or an email; when it is a URL it is published as one.
  if (settings.contact !== null && /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(settings.contact.trim())) {
    requirePublishableUrl(settings.contact, 'contact URL (--contact, team.contact)');
  }
}

/** An SBOM is a document, not a payload: past this, --sbom names the wrong file. */
const MAX_GIVEN_SBOM_BYTES = 512 * 1024 * 1024;

/**
 * Stamps the artifact `ref` as one operation (stamp-transaction.ts): under its lock, everything is
 * read and verified, then prepared in a staging directory, then published — the artifact last.
 */
export async function stampArtifact(ref: string, options: StampOptions): Promise<StampOutcome> {
  if (isRegistryReference(ref)) throw registryWriteError(ref);
  const location = await locateArtifact(ref);
  return withStampLock(ref, location, async (recovery) => {
    const outcome = await stampLocked(ref, location, options);
    const home = stampHome(location);
    const earlier = [
      ...recovery.completed.map((to) => ({
        path: join(home.dir, to),
        reason: 'published now: an interrupted stamp had prepared it',
      })),
      ...recovery.removed.map((name) => ({
        path: join(home.dir, name),
        reason: 'removed: left by an interrupted stamp',
      })),
    ];
    return { ...outcome, warnings: [...earlier, ...outcome.warnings] };
  });
}

/**
 * The artifact's own name, version and architectures that the record will carry, checked by the
 * record's text rules but reported as what they are: bad metadata in the artifact (MALFORMED, naming
 * the artifact and the field, e.g. `apk .PKGINFO arch`), not a setting of the user's.
 */
function assertNativeTexts(
  ref: string,
  facts: NativeFacts,
  used: { name: string | null; version: string | null; architectures: string[] },
): void {
  const check = (fact: Fact | undefined) => assertArtifactText(ref, fact?.field ?? '', fact?.value);
  if (facts.name && facts.name.value === used.name) check(facts.name);
  if (facts.version && facts.version.value === used.version) check(facts.version);
  for (const arch of facts.architectures) if (used.architectures.includes(arch.value)) check(arch);
}

/** A value from the artifact's own metadata, by the record's text rules, refused as the artifact's. */
function assertArtifactText(
  ref: string,
  field: string,
  value: string | null | undefined,
  options: { multiline?: boolean } = {},
): void {
  try {
    assertWritableText(field, value, options);
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
    throw new WaybillError('MALFORMED', ref, `its ${field} ${e.reason}`);
  }
}

async function stampLocked(
  ref: string,
  location: ArtifactLocation,
  options: StampOptions,
): Promise<StampOutcome> {
  const { settings } = options;
  requirePublishableLinks(settings);
  const now = options.now ?? new Date();
  const opened = await openLocated(ref, location, { platform: options.platform });
  const source = options.source ?? (await sourceFact(settings, location, now));
  const ownFacts = await nativeFactsOf(opened);
  const identity = resolveIdentity({
    settings,
    native: ownFacts,
    writesIdentity: opened.image !== undefined || (await nativeFormatOf(opened))?.writesIdentity === true,
  });
  // A control character in anything stamp would write is refused before anything is written; a
  // value the artifact itself supplied is named by the artifact and its own field.
  assertNativeTexts(ref, ownFacts, {
    name: identity.name,
    version: identity.version,
    architectures: settings.architecture === null ? ownFacts.architectures.map((a) => a.value) : [],
  });
  assertRecordTexts({
    subject: [],
    identity: {
      name: identity.name,
      version: identity.version,
      architectures: [settings.architecture ?? ''],
    },
    source,
    team: { name: settings.team, contact: settings.contact },
    help: { bugTracker: settings.bugTracker, docs: settings.docsUrl },
    support: { license: settings.license, disclaimer: settings.disclaimer, statement: settings.support },
  });
  const built = await buildDate(opened, ownFacts, options.built, settings.sourceDir, now);

  const facts: StampFacts = {
    name: identity.name,
    version: identity.version,
    created: built,
    team: settings.team,
    authors: settings.contact,
    url: settings.bugTracker,
    documentation: settings.docsUrl,
    // Only a URL others can fetch from goes into the artifact; a file:// path stays in the record.
    source: source?.repository && isNetworkRepositoryUrl(source.repository) ? source.repository : null,
    revision: source?.commit ?? null,
    licenses: settings.license,
  };
  // Everything that reads the artifact runs before anything is written: the SBOM walk reads (and so
  // verifies) every layer and entry, so hostile or corrupt input is refused with the artifact untouched.
  const read = settings.sbom
    ? await readGivenSbom(
        settings.sbom,
        sbomTarget([opened], identity, ownFacts.format),
        options.forceSbom === true,
      )
    : undefined;
  const given = read?.sbom;
  const walkOptions = { onProgress: options.onProgress, workers: options.workers };
  const contents = given ? undefined : await catalogForSbom(opened, walkOptions);
  // Read before stamping: a rewritten wheel's METADATA says the record's license afterwards.
  const ownLicense = contents?.subject
    ? licenseDisagreement(settings.license, contents.subject.licenses)
    : undefined;
  // Every layer is now known intact: the walk checked them, or (an SBOM given) they are hashed here.
  const intact = await intactLayers(opened, contents !== undefined);

  const tx = await beginStamp({
    ref,
    location,
    opened,
    facts,
    platform: options.platform,
    nativeFacts: {
      name: identity.name,
      version: identity.version,
      architecture: settings.architecture,
      created: facts.created,
      team: settings.team,
      contact: settings.contact,
      bugTracker: settings.bugTracker,
      docs: settings.docsUrl,
      source: facts.source,
      revision: facts.revision,
      license: settings.license,
    },
  });
  let prepared: Prepared;
  try {
    prepared = await prepareRecords(tx, {
      opened,
      contents,
      given,
      identity,
      settings,
      sbomFormat: options.sbomFormat,
      walkOptions,
      source,
      built,
      signer: options.signer,
    });
    await crashPoint('stamp:prepared');
    await tx.commit();
  } catch (e) {
    await tx.discard();
    throw e;
  }
  // The artifact as published (the staged view is gone with the staging directory).
  const artifact = await openLocated(ref, location, { platform: options.platform });
  // The producer's verdict: its own fresh verification of the tag, and its own key for the record.
  const signerKey = options.signer?.publicKeyPem;
  const report = await checkOpenedArtifact(artifact, {
    policy: settings.policy,
    now,
    integrity: { verified: intact },
    ...(source ? { sourceVerification: producerVerification(source) } : {}),
    keys: signerKey ? [{ source: options.signer!.description, key: createPublicKey(signerKey) }] : [],
  });
  return {
    artifact,
    record: prepared.record,
    recordLocation: prepared.recordLocation,
    sbomLocation: prepared.sbomLocation,
    ...(prepared.bundles ? { bundles: prepared.bundles } : {}),
    components: prepared.components,
    previousDigest: artifact.digest !== opened.digest ? opened.digest : undefined,
    nativeFields: tx.fields,
    report,
    warnings: [
      ...identity.warnings,
      ...(read?.warning ? [read.warning] : []),
      ...prepared.warnings,
      ...licenseWarning(ref, ownLicense, report),
    ],
  };
}

/**
 * The package declares another license than the record's: said once, by the check report when it
 * sees it too (the SBOM's subject still declares it), else here.
 */
function licenseWarning(
  ref: string,
  differs: LicenseDisagreement | undefined,
  report: CheckReport,
): Array<{ path: string; reason: string }> {
  if (!differs) return [];
  const support = report.rules.find((r) => r.id === 'support');
  if (support?.findings.some((f) => f.path === DECLARED_LICENSE_PATH)) return [];
  return [{ path: ref, reason: `${differs.message}; ${differs.fix}` }];
}

interface PrepareInput {
  opened: Artifact;
  /** What the catalogers found in the artifact as opened; absent with --sbom. */
  contents: CatalogedContents | undefined;
  given: GivenSbom | undefined;
  identity: IdentityChoice;
  settings: Settings;
  sbomFormat: SbomFormat | undefined;
  walkOptions: { onProgress?: (done: number, total: number) => void; workers?: number };
  source: SourceFact | null;
  built: string | null;
  signer: Signer | undefined;
}

interface Prepared {
  record: ReleaseRecord;
  recordLocation: string;
  sbomLocation: string;
  bundles?: { record: string; sbom: string };
  components: number;
  warnings: Array<{ path: string; reason: string }>;
}

/** The SBOM and record(s) of the staged artifact, saved into the transaction (not yet published). */
async function prepareRecords(tx: StampTransaction, input: PrepareInput): Promise<Prepared> {
  const { settings, given, built, source, identity } = input;
  const artifact = tx.artifact;
  // The upstream trail is the artifact's own metadata too (a wheel's License, Maintainer), folded
  // over lines as it may be: a control character in it is the artifact's, named as such.
  for (const u of tx.replaced) assertArtifactText(input.opened.ref, u.field, u.value, { multiline: true });
  let contents = input.contents;
  // Image stamping rewrites only the config and manifests, so the layers' contents are unchanged. A
  // single file rewritten (a wheel's METADATA, a deb's control) is small: catalog it again so the
  // SBOM describes the bytes that ship.
  if (contents && artifact.digest !== input.opened.digest && !artifact.image)
    contents = await catalogForSbom(artifact, input.walkOptions);

  // Architectures come from the staged artifact (a stamped ELF note may name one); name and version
  // were chosen before staging (identity.ts), so the record and the native fields agree.
  const native = await nativeFactsOf(artifact);
  const name = identity.name ?? subjectName(artifact, null);
  let sbomBytes: Buffer;
  let format: SbomFormat;
  let components: number;
  let warnings: Array<{ path: string; reason: string }> = [];
  if (given) {
    ({ bytes: sbomBytes, format, components } = given);
  } else {
    format = input.sbomFormat ?? 'cyclonedx-json';
    const generated = encodeSbom(artifact, contents!, {
      format,
      name,
      version: identity.version ?? undefined,
    });
    sbomBytes = generated.bytes;
    components = generated.componentCount;
    warnings = generated.warnings;
  }
  const recordFor = async (
    target: Artifact,
  ): Promise<{
    record: ReleaseRecord;
    recordLocation: string;
    sbomLocation: string;
    bundles?: { record: string; sbom: string };
  }> => {
    const sbomLocation = await tx.saveSbom(target, sbomBytes, format);
    const hex = target.digest.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw new WaybillError('UNSUPPORTED', target.ref, `digest ${target.digest} is not sha256`);
    const record = buildRecord({
      subject: [{ name: subjectName(target, identity.name), digest: { sha256: hex } }],
      identity: {
        name: identity.name,
        version: identity.version,
        ...architecturesOf(target, await fileArchitectures(target, settings.architecture, native)),
      },
      manifest: {
        format,
        digest: { sha256: sha256Digest(sbomBytes).slice('sha256:'.length) },
        location: sbomLocation,
        ...(given?.forced ? { forced: given.forced } : {}),
      },
      dates: { built, published: null },
      source,
      team: { name: settings.team, contact: settings.contact },
      help: { bugTracker: settings.bugTracker, docs: settings.docsUrl },
      support: { license: settings.license, disclaimer: settings.disclaimer, statement: settings.support },
      upstream: tx.replaced,
    });
    const recordLocation = await tx.saveRecord(target, record);
    const bundles = await signRelease(tx, target, record, { bytes: sbomBytes, format }, input.signer);
    return { record, recordLocation, sbomLocation, ...(bundles ? { bundles } : {}) };
  };
  const { record, recordLocation, sbomLocation, bundles } = await recordFor(artifact);
  // A multi-platform image stamped as a whole: each platform's manifest gets its own record too
  // (same facts, its own digest and architecture), so `check --platform` finds one bound to it.
  const image = artifact.image;
  if (image && !image.selected && image.platforms.length > 1) {
    for (const p of image.platforms) await recordFor(await tx.platform(platformString(p.platform)));
  }
  return { record, recordLocation, sbomLocation, ...(bundles ? { bundles } : {}), components, warnings };
}

/**
 * Stamp's own verdict on the source: the verification it just made with the producer's trust (a
 * GnuPG home, not a keyring file, for OpenPGP), in the shape `check` takes from a consumer.
 */
function producerVerification(source: SourceFact): SourceVerification {
  const sig = source.signature;
  return {
    verified: sig.verified,
    reason: sig.reason,
    format: sig.format,
    signer: sig.signer,
    committedAt: null,
    trust: "stamp's own check of the tag (--allowed-signers, --trusted-gpg-key)",
    checks: [{ id: 'signature', passed: sig.verified, detail: sig.reason }],
  };
}
