/**
 * `waybill audit`: known vulnerabilities and freshness of an artifact or an SBOM.
 *
 * `auditTarget` loads what to audit — an SBOM file (CycloneDX / SPDX JSON, any tool's), or an
 * artifact: the SBOM its release record names, else one generated now — and its release record
 * (dates, name, version), then `auditInventory` matches the components against the advisory
 * database, joins aliases, applies OpenVEX statements, and adds the freshness summary.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadRecord, loadSbom } from '../app/attachments.ts';
import { sourceDateEpoch } from '../app/dates.ts';
import { generateSbom } from '../app/generate-sbom.ts';
import { loadPublication } from '../app/publication.ts';
import { WaybillError } from '../errors.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact, OpenOptions } from '../sources/types.ts';
import { dependencyPaths } from './dependency-paths.ts';
import { buildFindings } from './findings.ts';
import {
  ageFields,
  componentsWithFixes,
  type Freshness,
  type LibyearInput,
  libyear,
  newerReleases,
  osFreshness,
} from './freshness.ts';
import { type Inventory, type InventoryDistro, readInventory } from './inventory.ts';
import { AdvisoryCache, matchInventory } from './match.ts';
import { registryTagLister } from './registry-lister.ts';
import {
  indexFileLister,
  publishedReleaseLister,
  type ReleaseLister,
  releaseDirectoryLister,
} from './release-lister.ts';
import type { AuditReport, AuditSubject, ReportedFinding } from './report.ts';
import type { SeverityRating } from './severity.ts';
import type { AdvisoryStore } from './store.ts';
import { type VexDocument, vexConcerns, vexVerdict } from './vex.ts';

export interface AuditInventoryOptions {
  subject: AuditSubject;
  now: Date;
  vex?: VexDocument[];
  /** From the release record. */
  built?: string;
  published?: string;
  /** Listers asked, in order, for newer releases of `subject.name`. */
  listers?: ReleaseLister[];
  /** `--distro`: the release of OS packages whose purl and SBOM name none (a package file). */
  distro?: InventoryDistro;
}

/**
 * One warning for all the OS packages looked up without a release, naming the flag that gives it:
 * without one, advisories scoped to a release (`Debian:12`) cannot match them.
 */
function releaseWarning(unknown: Record<string, number>): string[] {
  const bases = Object.entries(unknown).sort(([a], [b]) => (a < b ? -1 : 1));
  if (bases.length === 0) return [];
  const what = bases.map(([base, n]) => `${n} ${base} package(s)`).join(', ');
  return [
    `the distribution release of ${what} is unknown (no distro in the purl, no operating system in the SBOM, none in the version): advisories for a release (such as Debian:12) cannot match; give --distro ID-VERSION (e.g. debian-12, ubuntu-24.04, alpine-3.20)`,
  ];
}

function emptyBySeverity(): Record<SeverityRating, number> {
  return { critical: 0, high: 0, medium: 0, low: 0, none: 0, unknown: 0 };
}

async function newerRelease(options: AuditInventoryOptions): Promise<Freshness['newerRelease']> {
  const { name, version } = options.subject;
  if (!name || !version) return undefined;
  for (const lister of options.listers ?? []) {
    const listing = await lister.list(name);
    if (listing) return newerReleases(version, listing);
  }
  return undefined;
}

/** Audit a component inventory against the database. */
export async function auditInventory(
  inventory: Inventory,
  store: AdvisoryStore,
  options: AuditInventoryOptions,
): Promise<AuditReport> {
  const cache = new AdvisoryCache(store);
  const { matches, queries, stats } = matchInventory(inventory, cache, options.distro);
  const all = buildFindings(matches, cache, dependencyPaths(inventory));

  const vexDocs = options.vex ?? [];
  const purls = inventory.components.flatMap((c) => (c.purl ? [c.purl] : []));
  for (const doc of vexDocs) {
    if (!vexConcerns(doc, options.subject.digest, purls)) {
      throw new WaybillError(
        'USAGE',
        doc.source,
        `no statement is about ${options.subject.name ?? options.subject.ref} or its components (VEX for another product?)`,
      );
    }
  }
  const findings: ReportedFinding[] = [];
  const suppressed: AuditReport['suppressed'] = [];
  for (const f of all) {
    const verdict = vexVerdict(vexDocs, f, options.subject.digest);
    if (verdict && (verdict.status === 'not_affected' || verdict.status === 'fixed'))
      suppressed.push({ ...f, vex: verdict });
    else findings.push(verdict ? { ...f, vex: verdict } : f);
  }

  const bySeverity = emptyBySeverity();
  for (const f of findings) bySeverity[f.severity.rating]++;

  const libyearInputs: LibyearInput[] = [];
  for (const { query } of queries) {
    const dates = cache.releaseDates(query.base, query.keys[0] as string);
    if (dates && dates.size > 0) libyearInputs.push({ version: query.version, scheme: query.scheme, dates });
  }
  const freshness: Freshness = {
    now: options.now.toISOString(),
    ...ageFields(options.built, options.published, options.now),
    componentsWithFixes: componentsWithFixes(findings),
  };
  const newer = await newerRelease(options);
  if (newer) freshness.newerRelease = newer;
  if (inventory.distro) freshness.os = osFreshness(inventory.distro, store.eolEntries(), options.now);
  const years = libyear(libyearInputs);
  if (years) freshness.libyear = years;

  const status = store.status();
  return {
    subject: options.subject,
    database: {
      path: status.path,
      advisories: status.advisories,
      withdrawn: status.withdrawn,
      sources: status.sources,
    },
    freshness,
    summary: {
      components: stats.components,
      evaluated: stats.evaluated,
      notEvaluated: Object.fromEntries(
        Object.entries(stats.notEvaluated).sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
      findings: findings.length,
      suppressed: suppressed.length,
      bySeverity,
      gitRangesSkipped: stats.gitRangesSkipped,
    },
    findings,
    suppressed,
    vex: vexDocs.map((d) => d.source),
    problems: stats.problems,
    warnings: releaseWarning(stats.releaseUnknown),
  };
}

export interface LoadedTarget {
  inventory: Inventory;
  subject: AuditSubject;
  record?: ReleaseRecord;
  artifact?: Artifact;
  /**
   * When the artifact was built (the record) and published: the record's date, else the newest
   * publication statement stored with it — publish writes that statement (a sidecar in a release
   * directory, an attachment or referrer for images), never the record, which stamp wrote before.
   */
  dates?: { built?: string; published?: string };
}

/** True when the file looks like a document (JSON, XML, SPDX tag-value), not an artifact. */
async function isDocument(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return false;
  const handle = await import('node:fs/promises').then((fs) => fs.open(path, 'r'));
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const head = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    return head.startsWith('{') || head.startsWith('<') || head.startsWith('SPDXVersion:');
  } finally {
    await handle.close();
  }
}

/** Load an SBOM file or an artifact (with its record and SBOM) for an audit. */
export async function loadTarget(
  ref: string,
  options: {
    platform?: string;
    onProgress?: (done: number, total: number) => void;
    /** `docker://` references: transport and credentials. */
    registry?: RegistryOptions;
    /** Release URLs: download progress of the file. */
    onDownload?: OpenOptions['onDownload'];
  } = {},
): Promise<LoadedTarget> {
  if (await isDocument(ref)) {
    const inventory = readInventory(await readFile(ref), ref);
    const subject: AuditSubject = {
      ref,
      sbom: { source: 'file', format: inventory.format, specVersion: inventory.specVersion, location: ref },
    };
    if (inventory.subject?.name) subject.name = inventory.subject.name;
    if (inventory.subject?.version) subject.version = inventory.subject.version;
    if (inventory.subject?.digest) subject.digest = inventory.subject.digest;
    return { inventory, subject };
  }
  const artifact = await openArtifact(ref, {
    ...(options.platform ? { platform: options.platform } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.onDownload ? { onDownload: options.onDownload } : {}),
  });
  const record = (await loadRecord(artifact))?.record;
  const identity = record?.predicate.identity;
  // A package file with no record is named by its own metadata (the generated SBOM's subject).
  const ownName = identity?.name ?? artifact.image?.refName;
  const fileName = basename(artifact.path.replace(/\/+$/, ''));
  const manifest = record?.predicate.manifest;
  let inventory: Inventory | undefined;
  let source: AuditSubject['sbom']['source'] = 'generated';
  let location: string | undefined;
  if (manifest) {
    const bytes = await loadSbom(artifact, manifest.location);
    if (bytes) {
      inventory = readInventory(bytes, manifest.location);
      source = 'record';
      location = manifest.location;
    }
  }
  if (!inventory) {
    const sbom = await generateSbom(artifact, {
      format: 'cyclonedx-json',
      ...(ownName ? { name: ownName } : {}),
      ...(identity?.version ? { version: identity.version } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    inventory = readInventory(sbom.bytes, `${ref} (generated SBOM)`);
  }
  // The package the artifact is, audited as a component, is found at the artifact itself.
  for (const c of inventory.components)
    if (c.isSubject && c.locations.length === 0) c.locations = [{ path: ref }];
  const own = inventory.subject?.purl ? inventory.subject : undefined;
  const name = ownName ?? own?.name ?? fileName;
  const version = identity?.version ?? own?.version;
  const subject: AuditSubject = {
    ref,
    name,
    digest: artifact.digest,
    sbom: {
      source,
      format: inventory.format,
      specVersion: inventory.specVersion,
      ...(location ? { location } : {}),
    },
  };
  if (version) subject.version = version;
  const built = record?.predicate.dates.built ?? undefined;
  const published =
    record?.predicate.dates.published ?? (await loadPublication(artifact))?.statement.predicate.published;
  const dates = { ...(built ? { built } : {}), ...(published ? { published } : {}) };
  return { inventory, subject, ...(record ? { record } : {}), artifact, dates };
}

/** `--now`, else SOURCE_DATE_EPOCH (reproducible audits), else the clock. */
export function auditTime(now: string | undefined): Date {
  if (now !== undefined) {
    const d = new Date(now);
    if (Number.isNaN(d.getTime()))
      throw new WaybillError('USAGE', '--now', `not a date: ${JSON.stringify(now)}`);
    return d;
  }
  return sourceDateEpoch() ?? new Date();
}

/**
 * Where `audit` looks for newer releases of `artifact`, in order: the index given (`--releases`, a
 * path or URL), then where the artifact was published — the index.json of its release URL, its
 * registry repository's tags, or the `NAME/index.json` above a local `NAME/VERSION/FILE`.
 */
export function releaseListers(artifact: Artifact | undefined, releases?: string): ReleaseLister[] {
  const listers: ReleaseLister[] = [];
  if (releases) listers.push(indexFileLister(releases));
  if (!artifact) return listers;
  if (artifact.release) listers.push(publishedReleaseLister(artifact.release));
  else if (artifact.registry) listers.push(registryTagLister(artifact.registry.repository));
  else listers.push(releaseDirectoryLister(artifact.path));
  return listers;
}
