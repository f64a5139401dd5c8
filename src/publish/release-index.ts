/**
 * `ROOT/NAME/index.json`, the list of a name's published releases in a release directory
 * (docs/publish-directory.md; JSON Schema: schemas/release-index-v1.schema.json). The one reader and
 * the one writer: `publishToReleaseDirectory` keeps it, the release source reads it to cross-check a
 * download, and `audit` reads it for newer releases.
 *
 *     {"kind": "waybill.dev/release-index/v1", "name": "hello",
 *      "versions": [{"version": "1.2.3",
 *                    "artifacts": [{"file": "hello-1.2.3.tar.gz", "digest": "sha256:…", "size": 10240,
 *                                   "built": "2026-03-01T12:00:00Z", "published": "2026-03-02T08:00:00Z",
 *                                   "files": [{"name": "hello-1.2.3.tar.gz.waybill.json", "kind": "record",
 *                                              "digest": "sha256:…", "size": 2345}]}]}]}
 *
 * Versions are listed in the order they were first published; a version holds one or more artifacts
 * (one per architecture, say), sorted by file name, each with its sidecars sorted by name. Members
 * this version of waybill does not know are ignored when read (a later minor addition), and dropped
 * when the index is rewritten.
 */
import { WaybillError } from '../errors.ts';
import { parseRfc3339 } from '../policy/rfc3339.ts';
import { isSha256Digest } from '../util/digest.ts';
import { isSidecarName, segmentProblem } from './release-names.ts';
import { compareNames } from './sha256sums.ts';

export const RELEASE_INDEX_KIND = 'waybill.dev/release-index/v1';
/** An index bigger than this is refused before it is parsed. */
export const MAX_INDEX_BYTES = 16 * 1024 * 1024;

export interface IndexedFile {
  name: string;
  /** What the sidecar is: `record`, `sbom`, `bundle`, `intoto`, `publication`, `rebuild-kit`… */
  kind: string;
  digest: string;
  size: number;
}

export interface IndexedArtifact {
  file: string;
  digest: string;
  size: number;
  /** RFC 3339 UTC, or null when the build date is not known. */
  built: string | null;
  /** RFC 3339 UTC: when this artifact was first published here. */
  published: string;
  files: IndexedFile[];
}

export interface IndexedVersion {
  version: string;
  artifacts: IndexedArtifact[];
}

export interface ReleaseIndex {
  kind: typeof RELEASE_INDEX_KIND;
  name: string;
  versions: IndexedVersion[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A sidecar kind: a short lowercase word (`record`, `rebuild-kit`). */
export const FILE_KIND = /^[a-z][a-z0-9-]{0,63}$/;

class IndexReader {
  private readonly input: string;

  constructor(input: string) {
    this.input = input;
  }

  fail(where: string, why: string): never {
    throw new WaybillError('MALFORMED', this.input, `${where}: ${why}`);
  }

  object(v: unknown, where: string): Json {
    if (!isObject(v)) this.fail(where, 'is not a JSON object');
    return v;
  }

  array(v: unknown, where: string): unknown[] {
    if (!Array.isArray(v)) this.fail(where, 'is not a list');
    return v;
  }

  segment(v: unknown, where: string, role: 'name' | 'version' | 'file'): string {
    if (typeof v !== 'string') this.fail(where, 'is not a string');
    const problem = segmentProblem(v, role);
    if (problem) this.fail(where, `${JSON.stringify(v.slice(0, 100))} ${problem}`);
    return v;
  }

  digest(v: unknown, where: string): string {
    if (!isSha256Digest(v)) this.fail(where, 'is not a sha256:<64 hex> digest');
    return v;
  }

  size(v: unknown, where: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(where, 'is not a byte count');
    return v;
  }

  date(v: unknown, where: string): string {
    if (typeof v !== 'string' || !parseRfc3339(v)) this.fail(where, 'is not an RFC 3339 date-time');
    return v;
  }

  file(v: unknown, where: string): IndexedFile {
    const o = this.object(v, where);
    const kind = o.kind;
    if (typeof kind !== 'string' || !FILE_KIND.test(kind)) this.fail(`${where}.kind`, 'is not a file kind');
    return {
      name: this.segment(o.name, `${where}.name`, 'file'),
      kind,
      digest: this.digest(o.digest, `${where}.digest`),
      size: this.size(o.size, `${where}.size`),
    };
  }

  artifact(v: unknown, where: string): IndexedArtifact {
    const o = this.object(v, where);
    const file = this.segment(o.file, `${where}.file`, 'file');
    const files = this.array(o.files ?? [], `${where}.files`).map((f, i) =>
      this.file(f, `${where}.files[${i}]`),
    );
    const names = new Set<string>();
    for (const f of files) {
      if (!isSidecarName(file, f.name)) this.fail(`${where}.files`, `${f.name} is not a sidecar of ${file}`);
      if (names.has(f.name)) this.fail(`${where}.files`, `${f.name} is listed twice`);
      names.add(f.name);
    }
    return {
      file,
      digest: this.digest(o.digest, `${where}.digest`),
      size: this.size(o.size, `${where}.size`),
      built: o.built === null || o.built === undefined ? null : this.date(o.built, `${where}.built`),
      published: this.date(o.published, `${where}.published`),
      files,
    };
  }

  version(v: unknown, where: string): IndexedVersion {
    const o = this.object(v, where);
    const version = this.segment(o.version, `${where}.version`, 'version');
    const artifacts = this.array(o.artifacts, `${where}.artifacts`).map((a, i) =>
      this.artifact(a, `${where}.artifacts[${i}]`),
    );
    // Every name in one version directory (artifacts and sidecars) is one file: no two may share it.
    const names = new Set<string>();
    for (const a of artifacts) {
      for (const name of [a.file, ...a.files.map((f) => f.name)]) {
        if (names.has(name)) this.fail(`${where}.artifacts`, `${name} is listed twice in version ${version}`);
        names.add(name);
      }
    }
    return { version, artifacts };
  }
}

/**
 * Parses an index. MALFORMED naming `input` and the member at fault for anything off the schema;
 * UNSUPPORTED for an index of another kind or a later major version. `expectedName`, when given, must
 * be the index's `name` (the directory it sits in).
 */
export function parseReleaseIndex(text: string, input: string, expectedName?: string): ReleaseIndex {
  const reader = new IndexReader(input);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new WaybillError('MALFORMED', input, `not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const o = reader.object(doc, 'the index');
  if (o.kind !== RELEASE_INDEX_KIND) {
    const kind = typeof o.kind === 'string' ? JSON.stringify(o.kind.slice(0, 100)) : 'no kind';
    throw new WaybillError(
      typeof o.kind === 'string' && o.kind.startsWith('waybill.dev/release-index/')
        ? 'UNSUPPORTED'
        : 'MALFORMED',
      input,
      `is not a release index of kind ${RELEASE_INDEX_KIND} (${kind})`,
    );
  }
  const name = reader.segment(o.name, 'name', 'name');
  if (expectedName !== undefined && name !== expectedName)
    reader.fail(
      'name',
      `is ${JSON.stringify(name)}, but the index is in the directory of ${JSON.stringify(expectedName)}`,
    );
  const versions = reader.array(o.versions, 'versions').map((v, i) => reader.version(v, `versions[${i}]`));
  const seen = new Set<string>();
  for (const v of versions) {
    if (seen.has(v.version)) reader.fail('versions', `${v.version} is listed twice`);
    seen.add(v.version);
  }
  return { kind: RELEASE_INDEX_KIND, name, versions };
}

/** An empty index for `name`. */
export function emptyReleaseIndex(name: string): ReleaseIndex {
  return { kind: RELEASE_INDEX_KIND, name, versions: [] };
}

/** The artifact `file` of `version`, when the index lists it. */
export function findIndexedArtifact(
  index: ReleaseIndex,
  version: string,
  file: string,
): IndexedArtifact | undefined {
  return index.versions.find((v) => v.version === version)?.artifacts.find((a) => a.file === file);
}

/**
 * The index with `artifact` in `version`: replacing an entry of the same file, else added (the
 * version added at the end when new). The input is not changed.
 */
export function withIndexedArtifact(
  index: ReleaseIndex,
  version: string,
  artifact: IndexedArtifact,
): ReleaseIndex {
  const entry: IndexedArtifact = {
    ...artifact,
    files: [...artifact.files].sort((a, b) => compareNames(a.name, b.name)),
  };
  const place = (artifacts: IndexedArtifact[]) =>
    [...artifacts.filter((a) => a.file !== artifact.file), entry].sort((a, b) =>
      compareNames(a.file, b.file),
    );
  const known = index.versions.some((v) => v.version === version);
  return {
    ...index,
    versions: known
      ? index.versions.map((v) => (v.version === version ? { version, artifacts: place(v.artifacts) } : v))
      : [...index.versions, { version, artifacts: [entry] }],
  };
}

/** The bytes of an index: members in schema order, two-space indentation, a final newline. */
export function serializeReleaseIndex(index: ReleaseIndex): string {
  const canonical = {
    kind: RELEASE_INDEX_KIND,
    name: index.name,
    versions: index.versions.map((v) => ({
      version: v.version,
      artifacts: v.artifacts.map((a) => ({
        file: a.file,
        digest: a.digest,
        size: a.size,
        built: a.built,
        published: a.published,
        files: a.files.map((f) => ({ name: f.name, kind: f.kind, digest: f.digest, size: f.size })),
      })),
    })),
  };
  return `${JSON.stringify(canonical, null, 2)}\n`;
}
