/**
 * Where a newer release of the same artifact might be listed. `ReleaseLister` is the seam: a release
 * directory's `NAME/index.json` (the one schema and reader of src/publish/release-index.ts, the index
 * `publishToReleaseDirectory` writes; docs/publish-directory.md), read from a local directory, a file
 * given with `--releases`, a URL, or the index a release URL was opened with; and a registry
 * repository's tag list (registry-lister.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { MAX_INDEX_BYTES, parseReleaseIndex, type ReleaseIndex } from '../publish/release-index.ts';
import type { OpenedRelease } from '../publish/release-read.ts';
import { type SiteOptions, siteRead } from '../publish/site-http.ts';
import { describeUrl } from '../registry/http.ts';

export interface ListedRelease {
  version: string;
  /** The artifact's digest, when the version holds one artifact. */
  digest?: string;
  /** The earliest build and publication dates of the version's artifacts. */
  built?: string;
  published?: string;
}

export interface ReleaseListing {
  /** Where the list came from (a file path, a URL, a registry repository). */
  source: string;
  releases: ListedRelease[];
  /**
   * The list holds names that are not all versions (a registry's tags: `latest`, `main`,
   * `sha256-…` referrer tags): compare only those the current version's scheme accepts.
   */
  mixed?: boolean;
}

export interface ReleaseLister {
  /** The releases published under `name`, or undefined when this lister has no list for it. */
  list(name: string): Promise<ReleaseListing | undefined>;
}

const earliest = (dates: Array<string | null>): string | undefined =>
  dates.filter((d): d is string => d !== null).sort((a, b) => Date.parse(a) - Date.parse(b))[0];

/** The versions of a release index, as a listing. */
export function listingOf(index: ReleaseIndex, source: string): ReleaseListing {
  return {
    source,
    releases: index.versions.map((v) => {
      const r: ListedRelease = { version: v.version };
      const only = v.artifacts.length === 1 ? v.artifacts[0] : undefined;
      if (only) r.digest = only.digest;
      const built = earliest(v.artifacts.map((a) => a.built));
      const published = earliest(v.artifacts.map((a) => a.published));
      if (built) r.built = built;
      if (published) r.published = published;
      return r;
    }),
  };
}

function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/**
 * The index at `location` — a file path or an http(s) URL (same transport rules as release URLs) —
 * whatever its name. Missing is NOT_FOUND, malformed MALFORMED, naming the location.
 */
export function indexFileLister(location: string, site: SiteOptions = {}): ReleaseLister {
  return {
    async list() {
      if (isUrl(location)) {
        let url: URL;
        try {
          url = new URL(location);
        } catch {
          throw new WaybillError('USAGE', '--releases', 'is not a valid URL');
        }
        const where = describeUrl(url);
        const bytes = await siteRead(url, where, 'release index', MAX_INDEX_BYTES, site);
        if (!bytes) throw new WaybillError('NOT_FOUND', where, 'not found');
        return listingOf(parseReleaseIndex(bytes.toString('utf8'), where), where);
      }
      const info = await stat(location).catch(() => undefined);
      if (info && info.size > MAX_INDEX_BYTES)
        throw new WaybillError('LIMIT', location, `is larger than ${MAX_INDEX_BYTES} bytes`);
      const text = await readFile(location, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new WaybillError(
          'NOT_FOUND',
          location,
          e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code})`,
        );
      });
      return listingOf(parseReleaseIndex(text, location), location);
    },
  };
}

/**
 * The release directory a local artifact file sits in, when it has the `NAME/VERSION/FILE` layout
 * with a `NAME/index.json`: lists NAME's releases.
 */
export function releaseDirectoryLister(artifactPath: string): ReleaseLister {
  return {
    async list(name) {
      const nameDir = dirname(dirname(artifactPath));
      if (basename(nameDir) !== name) return undefined;
      const index = join(nameDir, 'index.json');
      const info = await stat(index).catch(() => undefined);
      if (!info?.isFile()) return undefined;
      return indexFileLister(index).list(name);
    },
  };
}

/** The index a published release was read with (`https://HOST/NAME/VERSION/FILE`): NAME's releases. */
export function publishedReleaseLister(release: OpenedRelease): ReleaseLister {
  return {
    async list(name) {
      const { index, location } = release;
      if (!index || index.name !== name) return undefined;
      const source =
        location.site.kind === 'http'
          ? describeUrl(new URL(`${encodeURIComponent(location.name)}/index.json`, location.site.root))
          : join(location.site.root, location.name, 'index.json');
      return listingOf(index, source);
    },
  };
}
