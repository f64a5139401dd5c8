/**
 * The name and version an image reference gives an image: `RepoTags` of a docker-archive
 * (`ghcr.io/acme/hello:1.2.3`) and a full `org.opencontainers.image.ref.name` in an OCI layout are
 * the image's own name for itself, as much as a package's `Package` field is.
 *
 * Grammar (distribution/reference): `[domain[:port]/]path[:tag][@digest]`, a tag being
 * `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. The name is the last path component of the repository
 * (`ghcr.io/acme/hello` → `hello`): what people call the software, without the registry and
 * namespace. The tag is a version only when it looks like one (`1.2.3`, `v2`, `1.25-alpine`,
 * `20240501`), never `latest`, `stable` or a commit id; a leading `v` is dropped (`v1.2.3` → `1.2.3`).
 */

export interface ImageReference {
  /** The repository without tag or digest: `ghcr.io/acme/hello`. */
  repository: string;
  /** Its last path component: `hello`. */
  name: string;
  tag?: string;
  /** The tag as a version, when it is one. */
  version?: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$/;
/** A version-like tag: digits first (after an optional v), dot-separated, an optional suffix. */
const VERSION_TAG = /^v?([0-9]+(?:\.[0-9]+)*(?:[-_.+][0-9A-Za-z.-]+)?)$/;

/**
 * Parses a full reference (`repo:tag`, `registry/repo[:tag]`, `…@sha256:…`); undefined for a bare
 * tag (`1.4.2`, `latest`: no `/` and no `:`), which names no repository, and for anything malformed.
 */
export function parseImageReference(text: string): ImageReference | undefined {
  const [withoutDigest = ''] = text.split('@', 1);
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const hasTag = colon > slash;
  if (slash < 0 && !hasTag && !text.includes('@')) return undefined;
  const repository = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = hasTag ? withoutDigest.slice(colon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) return undefined;
  const parts = repository.split('/');
  // The first component is a domain when it has a dot or a port, or is localhost (reference.go).
  const first = parts[0] ?? '';
  const isDomain = parts.length > 1 && (/[.:]/.test(first) || first === 'localhost' || first.startsWith('['));
  if (isDomain && !DOMAIN.test(first)) return undefined;
  const path = isDomain ? parts.slice(1) : parts;
  if (path.length === 0 || !path.every((p) => PATH.test(p))) return undefined;
  const out: ImageReference = { repository, name: path[path.length - 1] as string };
  if (tag !== undefined) {
    out.tag = tag;
    // `3f9a2c1` (a commit id) fails the pattern: digits must be followed by a dot, a separator or the end.
    const version = VERSION_TAG.exec(tag)?.[1];
    if (version !== undefined) out.version = version;
  }
  return out;
}
