/**
 * Where a newer release of the same artifact might be listed. `ReleaseLister` is the seam: the
 * registry client (OCI tag lists) plugs in here; this module provides the release-directory reader.
 *
 * A release directory (download site layout `NAME/VERSION/FILE`) keeps `NAME/index.json` listing the
 * versions. Its shape, as read here: `{"name": "hello", "versions": [{"version": "1.2.3",
 * "digest": "sha256:…", "built": "…", "published": "…"}]}`; `versions` may also be an object keyed by
 * version, or a list of version strings.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';

export interface ListedRelease {
  version: string;
  digest?: string;
  built?: string;
  published?: string;
}

export interface ReleaseListing {
  /** Where the list came from (a file path, a registry repository). */
  source: string;
  releases: ListedRelease[];
}

export interface ReleaseLister {
  /** The releases published under `name`, or undefined when this lister has no list for it. */
  list(name: string): Promise<ReleaseListing | undefined>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function release(version: string, v: unknown): ListedRelease {
  const r: ListedRelease = { version };
  if (isObject(v)) {
    for (const key of ['digest', 'built', 'published'] as const) {
      const value = str(v[key]);
      if (value !== undefined) r[key] = value;
    }
  }
  return r;
}

/** Parse a release-directory `index.json`. Throws MALFORMED naming `input`. */
export function parseReleaseIndex(text: string, input: string): ReleaseListing {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new WaybillError('MALFORMED', input, `not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isObject(doc)) throw new WaybillError('MALFORMED', input, 'a release index is a JSON object');
  const versions = doc.versions ?? doc.releases;
  const releases: ListedRelease[] = [];
  if (Array.isArray(versions)) {
    for (const v of versions) {
      if (typeof v === 'string') releases.push({ version: v });
      else if (isObject(v) && str(v.version)) releases.push(release(v.version as string, v));
    }
  } else if (isObject(versions)) {
    for (const [version, v] of Object.entries(versions)) releases.push(release(version, v));
  } else {
    throw new WaybillError('MALFORMED', input, 'a release index needs a `versions` list');
  }
  return { source: input, releases };
}

/** Reads one given index file, whatever the name. */
export function indexFileLister(path: string): ReleaseLister {
  return {
    async list() {
      const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new WaybillError(
          'NOT_FOUND',
          path,
          e.code === 'ENOENT' ? 'no such file' : `cannot read (${e.code})`,
        );
      });
      return parseReleaseIndex(text, path);
    },
  };
}

/**
 * The release directory an artifact file sits in, when it has the `NAME/VERSION/FILE` layout with a
 * `NAME/index.json`: lists NAME's releases.
 */
export function releaseDirectoryLister(artifactPath: string): ReleaseLister {
  return {
    async list(name) {
      const nameDir = dirname(dirname(artifactPath));
      if (basename(nameDir) !== name) return undefined;
      const index = join(nameDir, 'index.json');
      const info = await stat(index).catch(() => undefined);
      if (!info?.isFile()) return undefined;
      return parseReleaseIndex(await readFile(index, 'utf8'), index);
    },
  };
}
