/**
 * The manifest engine: one walk over an artifact feeds every cataloger. It builds a single FileFilter
 * from all catalogers (plus the os-release files, which qualify OS package purls), walks once, routes
 * each kept file to the catalogers that asked for it, and merges their components: one per purl,
 * evidence paths merged, sorted by purl. For images it also finds the layer a component first
 * appeared in, by re-reading the earlier versions of its evidence files that the walk kept.
 */

import { OS_RELEASE_PATHS } from '../formats/system-image/os-release.ts';
import type { Artifact, FileEntry, FileFilter, WalkedFile, WalkOptions } from '../sources/types.ts';
import { hasContent, SNIFF_BYTES } from '../sources/types.ts';
import type { SourceWalkOptions } from '../sources/walk-options.ts';
import { dpkgCataloger } from './dpkg.ts';
import { elfPackageNoteCataloger } from './elf-package-note.ts';
import { LINKED_FROM } from './npm.ts';
import { isDeclaredByOsPackage, osOwnedFiles, ownedByOsPackage } from './os-owned.ts';
import { defaultCatalogers, defaultDistroReader } from './registry.ts';
import { type CatalogContext, type Cataloger, type Component, componentKey, type Distro } from './types.ts';
import { engineFilterModule } from './worker-filter.ts';

export interface CatalogWarning {
  path: string;
  reason: string;
}

/** Reads the distro from an os-release file (os-release(5)); the engine decides which file wins. */
export interface DistroReader {
  read(data: Buffer, path: string): Distro | undefined;
}

/**
 * os-release(5): `/etc/os-release` takes precedence, `/usr/lib/os-release` is the fallback (and the
 * usual target when the /etc one is a symlink, which a walk hands over without content).
 */
const OS_RELEASE_FILES: readonly string[] = OS_RELEASE_PATHS;

export interface CatalogOptions {
  /** Default: every cataloger in the registry (`defaultCatalogers()`). */
  catalogers?: Cataloger[];
  /** Default: the registry's os-release reader; `null` turns distro detection off. */
  distroReader?: DistroReader | null;
  /** Progress of the walk: compressed bytes read so far and the total. */
  onProgress?: (done: number, total: number) => void;
  walkOptions?: WalkOptions;
  /** The package the artifact is, when it is one (see CatalogContext.subject). */
  subject?: Component;
}

export interface CatalogResult {
  components: Component[];
  distro?: Distro;
  warnings: CatalogWarning[];
}

/**
 * A cataloger may also have the walk's content predicate (`FileFilter.keep`): it sees a wanted file's
 * bytes once they are read and returns false when it would find nothing in them.
 */
type ContentKeeping = Cataloger;

/** One decision per (cataloger, entry): the walk's and the router's must agree, so both use this. */
function wants(cataloger: Cataloger, entry: FileEntry, head: Buffer | undefined): boolean {
  const decision = cataloger.want(entry);
  if (decision === true) return true;
  if (decision !== 'sniff' || !cataloger.sniff) return false;
  if (head === undefined) return true; // walk time, before the head is known: keep it for sniffing
  return cataloger.sniff(entry, head);
}

/**
 * Whether a cataloger that wants a file also keeps its bytes (no `keep` = keeps everything). Walks
 * ask only about files and hard links, so only those are asked here.
 */
function keeps(cataloger: Cataloger, entry: FileEntry, data: Buffer): boolean {
  const keep = (cataloger as ContentKeeping).keep;
  if (keep === undefined || !hasContent(entry)) return true;
  return keep.call(cataloger, entry, data);
}

/** The walk's and the router's decision on a file with its bytes: wanted and kept. */
function takes(cataloger: Cataloger, entry: FileEntry, data: Buffer): boolean {
  return wants(cataloger, entry, data.subarray(0, SNIFF_BYTES)) && keeps(cataloger, entry, data);
}

function isOsRelease(entry: FileEntry): boolean {
  return OS_RELEASE_FILES.includes(entry.path);
}

/** os-release(5) is a handful of lines. */
const OS_RELEASE_MAX = 1024 * 1024;

/**
 * The most any cataloger wanting `entry` reads of it (FileFilter.maxSize): the largest of their
 * limits, or undefined (the walk's own) when one of them sets none.
 */
function maxSizeFor(catalogers: readonly Cataloger[], entry: FileEntry, withOsRelease: boolean) {
  let max = withOsRelease && isOsRelease(entry) ? OS_RELEASE_MAX : 0;
  for (const c of catalogers) {
    if (c.want(entry) === false) continue;
    const limit = c.maxSize?.(entry);
    if (limit === undefined) return undefined;
    max = Math.max(max, limit);
  }
  return max > 0 ? max : undefined;
}

/** The union of every cataloger's filter: a file is kept when any cataloger wants it. */
export function combinedFilter(catalogers: readonly Cataloger[], withOsRelease: boolean): FileFilter {
  // The catalogers that answered 'sniff' for the entry last shown to `want`: a walk calls `sniff` for
  // that same entry next, which then asks only them (their `want` ran once per entry, not twice).
  let wanted: FileEntry | undefined;
  let sniffers: Cataloger[] = [];
  const sniffersOf = (entry: FileEntry) =>
    entry === wanted ? sniffers : catalogers.filter((c) => c.want(entry) === 'sniff' && c.sniff);
  // Catalogers that share one `want` (the three executable ones: Go, Rust, ELF notes) are asked it
  // once per entry: it runs on every entry of a walk, 144 000 times on a root filesystem. `owner[i]`
  // is the first cataloger with cataloger i's `want`, whose answer for the entry i then reuses.
  const owner = catalogers.map((c) => catalogers.findIndex((o) => o.want === c.want));
  const answers: Array<ReturnType<Cataloger['want']>> = catalogers.map(() => false);
  return {
    want(entry) {
      if (withOsRelease && isOsRelease(entry)) return true;
      // Made only for an entry some cataloger sniffs: most entries are refused by all.
      let sniffing: Cataloger[] | undefined;
      for (let i = 0; i < catalogers.length; i++) {
        const c = catalogers[i] as Cataloger;
        const first = owner[i] as number;
        const d = first === i ? c.want(entry) : (answers[first] as ReturnType<Cataloger['want']>);
        answers[i] = d;
        if (d === true) return true;
        if (d === 'sniff' && c.sniff) {
          sniffing ??= [];
          sniffing.push(c);
        }
      }
      if (sniffing === undefined) return false;
      wanted = entry;
      sniffers = sniffing;
      return 'sniff';
    },
    sniff(entry, head) {
      return sniffersOf(entry).some((c) => c.sniff?.(entry, head) === true);
    },
    // Kept when any cataloger that wanted the file keeps it. A version dropped here is, for every
    // cataloger, no version at all: the walk treats it as replacing the path, so it never shows up in
    // `earlier`, and layer attribution sees the evidence interrupted there, as it was.
    keep(entry, data) {
      if (withOsRelease && isOsRelease(entry)) return true;
      return catalogers.some((c) => takes(c, entry, data));
    },
    // Condensed only when every cataloger that wants the file reads it through the same condenser
    // (the executable catalogers share one); any other needs the whole bytes. Decided on the head
    // alone, as a file too large to read whole is condensed before its content is looked at.
    condense(entry, source) {
      if (withOsRelease && isOsRelease(entry)) return undefined;
      const head = source.read(0, Math.min(SNIFF_BYTES, source.size));
      let condense: Cataloger['condense'];
      for (const c of catalogers) {
        if (!wants(c, entry, head)) continue;
        if (!c.condense || (condense && condense !== c.condense)) return undefined;
        condense = c.condense;
      }
      return condense?.(entry, source);
    },
    maxSize: (entry) => maxSizeFor(catalogers, entry, withOsRelease),
  };
}

function readDistro(
  files: readonly WalkedFile[],
  reader: DistroReader | undefined,
  warn: CatalogContext['warn'],
) {
  if (!reader) return undefined;
  for (const path of OS_RELEASE_FILES) {
    const file = files.find((f) => f.entry.path === path);
    if (!file || !hasContent(file.entry)) continue;
    try {
      const distro = reader.read(file.data, path);
      if (distro) return distro;
    } catch (e) {
      warn(path, `os-release not readable: ${(e as Error).message}`);
    }
  }
  return undefined;
}

/** Catalogers must not throw (bad input is a warning), but one that does must not sink the others. */
async function runCataloger(
  cataloger: Cataloger,
  files: WalkedFile[],
  ctx: CatalogContext,
): Promise<Component[]> {
  try {
    return await cataloger.catalog(files, ctx);
  } catch (e) {
    ctx.warn(
      files.length === 1 ? files[0]!.entry.path : `(${cataloger.name})`,
      `${cataloger.name} failed: ${(e as Error).message}`,
    );
    return [];
  }
}

function mergeInto(
  target: Component,
  other: Component,
  layerRank: (layer: string | undefined) => number,
): void {
  target.foundAt = [...new Set([...target.foundAt, ...other.foundAt])].sort();
  if (layerRank(other.layer) < layerRank(target.layer)) target.layer = other.layer;
  if (target.licenses.length === 0) target.licenses = [...other.licenses];
  // Installed by one cataloger's evidence is installed, whatever another one only declares.
  if (other.presence === undefined || other.presence === 'installed') delete target.presence;
  if (other.dependsOn)
    target.dependsOn = [...new Set([...(target.dependsOn ?? []), ...other.dependsOn])].sort();
  target.supplier ??= other.supplier;
  target.description ??= other.description;
  for (const [k, v] of Object.entries(other.properties))
    if (!(k in target.properties)) target.properties[k] = v;
  if (!target.hashes && other.hashes) target.hashes = other.hashes;
}

/**
 * For one evidence file, the index of the oldest version from which each purl is present in every
 * later version (final included). Versions are re-read alone, so a purl whose evidence needs other
 * files too is attributed to the final version's layer.
 */
async function continuousSince(
  cataloger: Cataloger,
  file: WalkedFile,
  distro: Distro | undefined,
): Promise<{ layers: Array<string | undefined>; since: Map<string, number> }> {
  const versions = [...file.earlier, { layer: file.entry.layer, data: file.data }];
  const quiet: CatalogContext = { distro, warn: () => {} };
  const present: Array<Set<string>> = [];
  // A layer the image lists several times hands every position the same Buffer: parse it once.
  const seen = new Map<Buffer, Set<string>>();
  for (const v of versions) {
    const known = seen.get(v.data);
    if (known) {
      present.push(known);
      continue;
    }
    const alone: WalkedFile = {
      entry: { ...file.entry, layer: v.layer, size: v.data.length },
      data: v.data,
      earlier: [],
    };
    let purls = new Set<string>();
    // A version kept for another cataloger that this one would drop holds none of its evidence.
    if (keeps(cataloger, alone.entry, alone.data)) {
      const found = await runCataloger(cataloger, [alone], quiet);
      purls = new Set(found.map((c) => c.purl));
    }
    seen.set(v.data, purls);
    present.push(purls);
  }
  const since = new Map<string, number>();
  const last = versions.length - 1;
  for (const purl of present[last]!) {
    let j = last;
    while (j > 0 && present[j - 1]!.has(purl)) j--;
    since.set(purl, j);
  }
  return { layers: versions.map((v) => v.layer), since };
}

function stripSlash(p: string): string {
  return p.replace(/^\/+/, '');
}

/** Catalogs what a walk of the artifact finds (its digest plays no part: a listed tree has none). */
export async function catalogArtifact(
  artifact: Pick<Artifact, 'walk' | 'image'>,
  opts: CatalogOptions = {},
): Promise<CatalogResult> {
  const catalogers = opts.catalogers ?? defaultCatalogers();
  const distroReader =
    opts.distroReader === undefined ? defaultDistroReader : (opts.distroReader ?? undefined);
  const warnings: CatalogWarning[] = [];
  const warn = (path: string, reason: string) => {
    warnings.push({ path, reason });
  };

  const filter = combinedFilter(catalogers, distroReader !== undefined);
  const walkOptions: SourceWalkOptions = { ...opts.walkOptions };
  if (opts.onProgress) walkOptions.onProgress = opts.onProgress;
  // Image layers may be scanned on worker threads, and a `dir:` tree listed and read by several (the
  // walk decides how many: WalkOptions.workers, $WAYBILL_WORKERS, else cores and layer count); they
  // rebuild this same filter from its recipe. Other walks ignore it.
  if (!walkOptions.filterModule) {
    const filterModule = engineFilterModule(catalogers, distroReader !== undefined);
    if (filterModule) walkOptions.filterModule = filterModule;
  }
  const walked = await artifact.walk(filter, walkOptions);
  for (const s of walked.skipped) warn(s.path, s.reason);

  const distro = readDistro(walked.files, distroReader, warn);
  const ctx: CatalogContext = { distro, warn };
  if (opts.subject) ctx.subject = opts.subject;

  // Layer order from the selected image's config (base layer first), by diff_id as FileEntry.layer
  // names layers; outside images there is none.
  const layerOrder = artifact.image?.selected?.config.rootfs?.diff_ids ?? [];
  const layerRank = (layer: string | undefined): number => {
    if (layer === undefined) return Number.MAX_SAFE_INTEGER;
    const i = layerOrder.indexOf(layer);
    return i < 0 ? Number.MAX_SAFE_INTEGER - 1 : i;
  };

  const byKey = new Map<string, Component>();
  for (const cataloger of catalogers) {
    const mine = walked.files.filter((f) => takes(cataloger, f.entry, f.data));
    if (mine.length === 0) continue;
    const found = await runCataloger(cataloger, mine, ctx);
    await attributeLayers(cataloger, mine, found, distro, layerRank);
    for (const c of found) {
      if (typeof c.purl !== 'string' || c.purl === '') {
        warn(
          c.foundAt?.[0] ?? `(${cataloger.name})`,
          `${cataloger.name}: component ${c.name} has no purl, skipped`,
        );
        continue;
      }
      const copy: Component = {
        ...c,
        foundAt: [...new Set((c.foundAt ?? []).map(stripSlash))].sort(),
        licenses: [...(c.licenses ?? [])],
        properties: { ...c.properties },
      };
      if (c.dependsOn) copy.dependsOn = [...c.dependsOn];
      const key = componentKey(copy);
      const seen = byKey.get(key);
      if (seen) mergeInto(seen, copy, layerRank);
      else byKey.set(key, copy);
    }
  }

  dropOwnedEvidence(byKey, walked.files, ctx, catalogers);

  const components = closeGraph([...byKey.values()]);
  warnings.sort((a, b) => compareStrings(a.path, b.path) || compareStrings(a.reason, b.reason));
  return { components, distro, warnings: dedupeWarnings(warnings) };
}

/**
 * Components whose evidence an installed OS package owns and already accounts for:
 * - a distro package note (`.note.package`, type deb) in a file an installed dpkg package owns names
 *   that package's *source* package (dh's package notes: libsystemd0's libsystemd.so says "systemd"),
 *   a package that is not installed; the dpkg component already accounts for the file (Syft removes
 *   binary-cataloger packages that overlap OS package files the same way);
 * - declared-only components of a lockfile an OS package ships (os-owned.ts);
 * - npm packages linked into a project (`waybill:npm:linked-from`) whose package.json an installed OS
 *   package owns: a Debian module in /usr/share/nodejs is that deb, not an npm package of the project;
 * - Python distributions seen only as wheel files an OS package ships (Debian's python3-pip-whl and
 *   python3-setuptools-whl in `/usr/share/python-wheels`, which `python3 -m venv` seeds from): data
 *   of that package, as ensurepip's bundled wheels are; importlib.metadata lists none of them.
 * The package databases are read again only when such a component exists.
 */
function dropOwnedEvidence(
  byKey: Map<string, Component>,
  files: WalkedFile[],
  ctx: CatalogContext,
  catalogers: readonly Cataloger[],
): void {
  const notes = catalogers.includes(elfPackageNoteCataloger) && catalogers.includes(dpkgCataloger);
  const isNote = (c: Component) =>
    notes && c.ecosystem === 'deb' && c.properties['waybill:package-note:type'] !== undefined;
  const wheelOnly = (c: Component) => c.ecosystem === 'pypi' && c.foundAt.every((p) => /\.whl$/i.test(p));
  const linked = (c: Component) => c.ecosystem === 'npm' && c.properties[LINKED_FROM] !== undefined;
  const whollyOwned = (c: Component) => isNote(c) || wheelOnly(c) || linked(c);
  const candidates = [...byKey].filter(([, c]) => whollyOwned(c) || c.presence === 'declared');
  if (candidates.length === 0) return;
  const owned = osOwnedFiles(files, ctx);
  if (owned.size === 0) return;
  for (const [key, c] of candidates)
    if (whollyOwned(c) ? ownedByOsPackage(c, owned) : isDeclaredByOsPackage(c, owned)) byKey.delete(key);
}

/**
 * Sets `layer` on each component found in an image: the earliest layer from which one of its
 * evidence files has carried it without interruption to the final view.
 */
async function attributeLayers(
  cataloger: Cataloger,
  files: WalkedFile[],
  found: Component[],
  distro: Distro | undefined,
  layerRank: (layer: string | undefined) => number,
): Promise<void> {
  if (!files.some((f) => f.entry.layer !== undefined)) return;
  const filesByPath = new Map(files.map((f) => [f.entry.path, f]));
  const history = new Map<string, Awaited<ReturnType<typeof continuousSince>>>();
  for (const c of found) {
    let best: string | undefined;
    for (const path of c.foundAt ?? []) {
      const file = filesByPath.get(stripSlash(path));
      if (!file) continue;
      let layer = file.entry.layer;
      if (file.earlier.length > 0) {
        let h = history.get(file.entry.path);
        if (!h) {
          h = await continuousSince(cataloger, file, distro);
          history.set(file.entry.path, h);
        }
        const j = h.since.get(c.purl);
        if (j !== undefined) layer = h.layers[j];
      }
      if (layerRank(layer) < layerRank(best)) best = layer;
    }
    if (best !== undefined) c.layer = best;
  }
}

/**
 * Keeps the graph inside the SBOM: edges to components that are not in it (dropped, or never
 * cataloged) go, a copy whose carrier is gone becomes a component of its own, and the result is
 * sorted by key.
 */
export function closeGraph(list: Component[]): Component[] {
  const keys = new Set(list.map(componentKey));
  const byKey = new Map<string, Component>();
  for (const c of list) {
    if (c.vendoredIn !== undefined && !keys.has(c.vendoredIn)) delete c.vendoredIn;
    const seen = byKey.get(componentKey(c));
    if (seen) mergeInto(seen, c, () => 0);
    else byKey.set(componentKey(c), c);
  }
  for (const c of byKey.values()) {
    if (!c.dependsOn) continue;
    const own = componentKey(c);
    const kept = [...new Set(c.dependsOn)].filter((k) => k !== own && byKey.has(k)).sort(compareStrings);
    if (kept.length > 0) c.dependsOn = kept;
    else delete c.dependsOn;
  }
  return [...byKey.values()].sort((a, b) => compareStrings(componentKey(a), componentKey(b)));
}

function dedupeWarnings(sorted: CatalogWarning[]): CatalogWarning[] {
  return sorted.filter(
    (w, i) => i === 0 || w.path !== sorted[i - 1]!.path || w.reason !== sorted[i - 1]!.reason,
  );
}

/** Code-unit order: locale-independent, so output bytes do not depend on the machine's ICU locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
