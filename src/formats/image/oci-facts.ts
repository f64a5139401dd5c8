/**
 * Native facts of a container image: the pre-defined `org.opencontainers.image.*` keys (image-spec
 * annotations.md) read from the index annotations, the manifest annotations and the config labels.
 *
 * Precedence, highest first: index annotation, manifest annotation (each platform in order), config
 * label (each platform in order); `created` falls back to the config's own `created` last. The image
 * index and manifests are what `waybill stamp` and registries write; labels are the older Docker
 * mechanism and the only one a docker-archive has.
 *
 * Disagreements are not hidden: every source that holds a different value for a key than the one
 * chosen is listed in `conflicts` (an extra field next to the NativeFacts contract, so `inspect` can
 * print them and `check` can warn), rather than mixed into `texts`, which the team rule scans for
 * wording.
 *
 * `name` and `version` come from `title` and `version` first; after them from the image's references
 * (image-reference.ts): a docker-archive's `RepoTags`, and an OCI layout's
 * `org.opencontainers.image.ref.name` when it is a full reference (`registry/repo:tag`) — a bare tag
 * (`1.4.2`, `latest`) names no repository and is not used. The tag is a version only when it looks
 * like one.
 */
import { OCI_ANNOTATION } from '../../oci/types.ts';
import type { ImageView } from '../../sources/types.ts';
import type { Fact, NativeFacts } from '../facts.ts';
import { parseImageReference } from './image-reference.ts';

export interface OciImagePlatformInput {
  /** The manifest's annotations (absent for a docker-archive, which has no manifest). */
  manifestAnnotations?: Record<string, string>;
  /** The image config: labels, created, architecture, variant. */
  config?: {
    created?: string;
    architecture?: string;
    variant?: string;
    config?: { Labels?: Record<string, string> | null } | null;
  };
  /** The platform from the index descriptor, used when the config has no architecture. */
  platform?: { architecture?: string; variant?: string };
}

export interface OciImageInput {
  /** Annotations of the image index, for a multi-platform image. */
  indexAnnotations?: Record<string, string>;
  /** One entry per platform image (one for a single-platform image). */
  platforms: OciImagePlatformInput[];
  /**
   * References naming the image (`RepoTags` entries, a layout's `ref.name`), each with where it was
   * read; only full references count (see above).
   */
  references?: Fact[];
}

export interface FactConflict {
  key: string;
  /** The value used. */
  chosen: Fact;
  /** Other sources holding a different value. */
  others: Fact[];
}

export type OciImageFacts = NativeFacts & { conflicts: FactConflict[] };

type FactKey =
  | 'name'
  | 'version'
  | 'created'
  | 'team'
  | 'bugTracker'
  | 'docs'
  | 'license'
  | 'sourceRepository'
  | 'revision';

const KEY_FOR_FACT: Array<[FactKey, string]> = [
  ['name', OCI_ANNOTATION.title],
  ['version', OCI_ANNOTATION.version],
  ['created', OCI_ANNOTATION.created],
  ['team', OCI_ANNOTATION.vendor],
  ['bugTracker', OCI_ANNOTATION.url],
  ['docs', OCI_ANNOTATION.documentation],
  ['license', OCI_ANNOTATION.licenses],
  ['sourceRepository', OCI_ANNOTATION.source],
  ['revision', OCI_ANNOTATION.revision],
];

/** Values that describe people or teams in free text, scanned first by the team rule. */
const TEXT_KEYS_FIRST = [
  OCI_ANNOTATION.vendor,
  OCI_ANNOTATION.authors,
  OCI_ANNOTATION.title,
  OCI_ANNOTATION.description,
];

export function imageFacts(image: OciImageInput): OciImageFacts {
  const sources = factSources(image);
  const hasAnnotations = sources.some((s) => s.kind !== 'label' && Object.keys(s.map).length > 0);
  const facts: OciImageFacts = {
    format: hasAnnotations ? 'oci-image' : 'docker-image',
    hasIdentityFields: true,
    architectures: architectures(image),
    texts: [],
    conflicts: [],
  };

  for (const [factKey, key] of KEY_FOR_FACT) {
    const candidates: Fact[] = [];
    for (const s of sources) {
      const value = s.map[key];
      if (typeof value === 'string' && value.trim() !== '')
        candidates.push({ value, field: `${s.field} ${key}` });
    }
    if (factKey === 'name' || factKey === 'version') candidates.push(...referenceFacts(image, factKey));
    if (factKey === 'created') {
      for (const p of image.platforms) {
        const created = p.config?.created;
        if (typeof created === 'string' && created !== '')
          candidates.push({ value: created, field: 'image config created' });
      }
    }
    const [chosen, ...rest] = candidates;
    if (!chosen) continue;
    facts[factKey] = chosen;
    // The config's build time legitimately differs from a stamped release time: not a conflict.
    const others = dedupe(rest.filter((f) => f.value !== chosen.value && f.field !== 'image config created'));
    if (others.length > 0) facts.conflicts.push({ key, chosen, others });
  }

  facts.texts = texts(sources);
  return facts;
}

/** Name (the repository's last component) or version (a version-like tag) from each full reference. */
function referenceFacts(image: OciImageInput, key: 'name' | 'version'): Fact[] {
  const out: Fact[] = [];
  for (const ref of image.references ?? []) {
    const parsed = parseImageReference(ref.value);
    const value = key === 'name' ? parsed?.name : parsed?.version;
    if (value) out.push({ value, field: `${ref.field} ${key === 'name' ? 'repository' : 'tag'}` });
  }
  return out;
}

interface Source {
  kind: 'index' | 'manifest' | 'label';
  field: string;
  map: Record<string, string>;
}

function factSources(image: OciImageInput): Source[] {
  const sources: Source[] = [];
  if (image.indexAnnotations)
    sources.push({ kind: 'index', field: 'OCI index annotation', map: image.indexAnnotations });
  for (const p of image.platforms) {
    if (p.manifestAnnotations)
      sources.push({ kind: 'manifest', field: 'OCI annotation', map: p.manifestAnnotations });
  }
  for (const p of image.platforms) {
    const labels = p.config?.config?.Labels;
    if (labels) sources.push({ kind: 'label', field: 'OCI label', map: labels });
  }
  return sources;
}

function architectures(image: OciImageInput): Fact[] {
  const out: Fact[] = [];
  for (const p of image.platforms) {
    const fromConfig = typeof p.config?.architecture === 'string' && p.config.architecture !== '';
    const arch = fromConfig ? p.config!.architecture : p.platform?.architecture;
    if (!arch) continue;
    const variant = fromConfig ? p.config!.variant : p.platform?.variant;
    out.push({
      value: variant ? `${arch}/${variant}` : arch,
      field: fromConfig ? 'image config architecture' : 'OCI index platform architecture',
    });
  }
  return dedupe(out, (f) => f.value).sort((a, b) => cmp(a.value, b.value));
}

/** vendor, authors, title, description first (in that order), then every other value sorted by key. */
function texts(sources: Source[]): Fact[] {
  const all: Array<Fact & { key: string }> = [];
  for (const s of sources) {
    for (const [key, value] of Object.entries(s.map)) {
      if (typeof value === 'string' && value.trim() !== '')
        all.push({ key, value, field: `${s.field} ${key}` });
    }
  }
  const rank = (key: string) => {
    const i = (TEXT_KEYS_FIRST as string[]).indexOf(key);
    return i === -1 ? TEXT_KEYS_FIRST.length : i;
  };
  all.sort(
    (a, b) =>
      rank(a.key) - rank(b.key) || cmp(a.key, b.key) || cmp(a.field, b.field) || cmp(a.value, b.value),
  );
  return dedupe(all.map(({ value, field }) => ({ value, field })));
}

/** Adapts the read side's `ImageView` (src/sources) to `imageFacts` input. */
export function imageFactsFromView(view: ImageView): OciImageFacts {
  const references: Fact[] = [
    ...(view.repoTags ?? []).map((value) => ({ value, field: 'docker-archive RepoTags' })),
    ...(view.refName !== undefined ? [{ value: view.refName, field: 'OCI ref.name' }] : []),
  ];
  return imageFacts({
    indexAnnotations: view.index?.index.annotations,
    platforms: view.platforms.map((p) => ({
      manifestAnnotations: p.manifest.annotations,
      config: p.config,
      platform: p.platform,
    })),
    references,
  });
}

function dedupe(facts: Fact[], key: (f: Fact) => string = (f) => `${f.field}\0${f.value}`): Fact[] {
  const seen = new Set<string>();
  return facts.filter((f) => {
    const k = key(f);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
