/**
 * Image references in registries, `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]` (containers-transports(5)
 * `docker:` transport). The grammar is the distribution reference grammar (distribution/reference,
 * reference.go) that docker, containerd, skopeo and the OCI distribution spec share:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path
 *   domain     := host [ ":" port ]     host := domain-name | IPv4 | "[" IPv6 "]"
 *   path       := component ( "/" component )*
 *   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
 *
 * The first path segment is a registry host when it contains "." or ":", is `localhost`, or has an
 * upper-case letter (docker's rule); otherwise the reference is a Docker Hub short name: `alpine` is
 * `docker.io/library/alpine`. Only sha256 digests are accepted (the only ones waybill verifies).
 */
import { WaybillError } from '../errors.ts';
import { parseSha256Digest } from '../util/digest.ts';

export const DOCKER_TRANSPORT = 'docker://';
/** Docker Hub's canonical name, and the host its API is served from. */
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
]);

/** A name (domain + "/" + path) longer than this is refused by docker and most registries. */
export const MAX_NAME_LENGTH = 255;

export interface ImageReference {
  /** The registry `host[:port]` (`docker.io`, `127.0.0.1:5000`, `[::1]:5000`); Docker Hub's aliases become `docker.io`. */
  registry: string;
  /** Repository path inside the registry (`library/alpine`). */
  repository: string;
  /** The tag; `latest` when neither a tag nor a digest is given (docker's and skopeo's default). */
  tag?: string;
  /** `sha256:<hex>`: when present, it is what is fetched (the tag is then only a label). */
  digest?: string;
}

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;

/** Shows one character in an error: printable ones as they are, the rest as JSON escapes. */
function showChar(c: string): string {
  return JSON.stringify(c);
}

/** The first character of `text` that `allowed` does not accept, with its 1-based position. */
function firstBad(text: string, allowed: RegExp): string {
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (!allowed.test(c)) return `${showChar(c)} at position ${i + 1}`;
  }
  return '';
}

/** A reason a path component fails the grammar, for the one-line error. */
function explainComponent(component: string): string {
  if (component === '') return 'an empty path component (two "/" in a row, or a leading or trailing "/")';
  const bad = firstBad(component, /[a-z0-9._-]/);
  if (bad) return `${bad} is not allowed (lower-case letters, digits and the separators . _ __ -)`;
  return `${JSON.stringify(component)} must start and end with a letter or digit, with single separators (. _ __ or dashes) between`;
}

function explainTag(tag: string): string {
  if (tag === '') return 'the tag after ":" is empty';
  if (tag.length > 128) return `the tag is ${tag.length} characters long (at most 128)`;
  const bad = firstBad(tag, /[A-Za-z0-9._-]/);
  if (bad) return `tag: ${bad} is not allowed (letters, digits, "_", "." and "-")`;
  return 'a tag must start with a letter, digit or "_"';
}

/**
 * `localhost[:PORT]`, `IPv4[:PORT]` or `DOTTED.NAME:PORT` with no path: a registry without a
 * repository. (`alpine:3` is not one: no dot before the colon.)
 */
function looksLikeHostOnly(text: string): boolean {
  return /^(?:(?:localhost|\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+:\d+)$/.test(
    text,
  );
}

function isDomainSegment(segment: string): boolean {
  return segment.includes('.') || segment.includes(':') || segment === 'localhost' || /[A-Z]/.test(segment);
}

/** Validates `host[:port]`; returns it with the port in canonical form (no leading zeros). */
function parseDomain(domain: string, input: string): string {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    host = close === -1 ? domain : domain.slice(0, close + 1);
    const rest = close === -1 ? '' : domain.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':'))
        throw new WaybillError('USAGE', input, `registry host ${JSON.stringify(domain)} is not valid`);
      port = rest.slice(1);
    }
    if (!IPV6.test(host))
      throw new WaybillError(
        'USAGE',
        input,
        `registry host ${JSON.stringify(host)} is not a valid IPv6 address`,
      );
  } else {
    const colon = domain.indexOf(':');
    if (colon !== -1) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (host === '' || host.length > 253)
      throw new WaybillError('USAGE', input, `registry host ${JSON.stringify(host)} is not valid`);
    for (const component of host.split('.')) {
      if (!DOMAIN_COMPONENT.test(component)) {
        const bad = firstBad(component, /[A-Za-z0-9-]/);
        throw new WaybillError(
          'USAGE',
          input,
          `registry host ${JSON.stringify(host)}: ${bad ? `${bad} is not allowed` : `${JSON.stringify(component)} is not a valid host name label`}`,
        );
      }
    }
  }
  if (port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      throw new WaybillError(
        'USAGE',
        input,
        `registry port ${JSON.stringify(port)} is not a port number (1-65535)`,
      );
    return `${host}:${Number(port)}`;
  }
  // Kept as written (docker does the same): lower-casing `Registry/x` would turn the host into a
  // Docker Hub path. Comparisons (credentials, loopback) ignore case.
  return host;
}

/**
 * Parses `HOST[:PORT]/REPO[:TAG][@DIGEST]` (what follows `docker://`). `input` names the reference in
 * errors. Throws USAGE with one line saying which part breaks the grammar and how.
 */
export function parseImageReference(text: string, input = text): ImageReference {
  if (text === '') throw new WaybillError('USAGE', input, 'the reference names no image');
  const control = firstBad(text, /[\x21-\x7e]/);
  if (control) throw new WaybillError('USAGE', input, `${control} is not allowed in an image reference`);

  let name = text;
  let digest: string | undefined;
  const at = text.indexOf('@');
  if (at !== -1) {
    name = text.slice(0, at);
    const digestText = text.slice(at + 1);
    if (digestText.includes('/') || digestText.includes('@')) {
      // `user:password@host/repo`: never echo it back (the caller redacts `input` too).
      throw new WaybillError(
        'USAGE',
        input,
        'a reference cannot carry credentials; use --username with --password-stdin, or docker login',
      );
    }
    digest = parseSha256Digest(digestText, input, 'the digest after "@"');
  }

  let tag: string | undefined;
  const lastSlash = name.lastIndexOf('/');
  const tagColon = name.indexOf(':', lastSlash + 1);
  if (tagColon !== -1) {
    tag = name.slice(tagColon + 1);
    name = name.slice(0, tagColon);
    if (!TAG.test(tag)) throw new WaybillError('USAGE', input, explainTag(tag));
  }

  let registry = DOCKER_HUB;
  let path = name;
  const firstSlash = name.indexOf('/');
  if (firstSlash !== -1 && isDomainSegment(name.slice(0, firstSlash))) {
    registry = parseDomain(name.slice(0, firstSlash), input);
    path = name.slice(firstSlash + 1);
  } else if (firstSlash === -1 && looksLikeHostOnly(text)) {
    // `docker://127.0.0.1:5000` parses as Docker Hub's library/127.0.0.1 tagged 5000: say what was meant.
    throw new WaybillError(
      'USAGE',
      input,
      'the reference names a registry but no repository (HOST[:PORT]/REPO[:TAG])',
    );
  }
  if (DOCKER_HUB_ALIASES.has(registry.toLowerCase())) {
    registry = DOCKER_HUB;
    // Docker Hub's official images live under library/.
    if (!path.includes('/')) path = `library/${path}`;
  }
  if (path === '') throw new WaybillError('USAGE', input, 'the reference names no repository');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component))
      throw new WaybillError(
        'USAGE',
        input,
        `repository ${JSON.stringify(path)}: ${explainComponent(component)}`,
      );
  }
  const fullName = `${registry}/${path}`;
  if (fullName.length > MAX_NAME_LENGTH) {
    throw new WaybillError(
      'USAGE',
      input,
      `the name is ${fullName.length} characters long (at most ${MAX_NAME_LENGTH} with the registry host)`,
    );
  }
  const reference: ImageReference = { registry, repository: path };
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  if (tag === undefined && digest === undefined) reference.tag = 'latest';
  return reference;
}

/** Parses `docker://…`; the prefix is required. */
export function parseDockerReference(ref: string): ImageReference {
  if (!ref.startsWith(DOCKER_TRANSPORT))
    throw new WaybillError('USAGE', redactReference(ref), `not a ${DOCKER_TRANSPORT} reference`);
  return parseImageReference(ref.slice(DOCKER_TRANSPORT.length), redactReference(ref));
}

/**
 * The reference with anything that looks like user info (`user:password@` before the first "/")
 * replaced, so an error about a mistyped reference cannot print a password.
 */
export function redactReference(ref: string): string {
  const body = ref.startsWith(DOCKER_TRANSPORT) ? ref.slice(DOCKER_TRANSPORT.length) : ref;
  const at = body.indexOf('@');
  if (at !== -1 && body.indexOf('/', at) !== -1) {
    const prefix = ref.startsWith(DOCKER_TRANSPORT) ? DOCKER_TRANSPORT : '';
    return `${prefix}<credentials removed>@${body.slice(at + 1)}`;
  }
  return ref;
}

/** `registry/repository[:tag][@digest]`, the canonical spelling. */
export function formatReference(ref: ImageReference): string {
  let text = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) text += `:${ref.tag}`;
  if (ref.digest !== undefined) text += `@${ref.digest}`;
  return text;
}

/** What `/v2/<name>/manifests/<reference>` is asked for: the digest when there is one, else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** The host the registry API is served from (Docker Hub's differs from its name). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** The host name without port or IPv6 brackets. */
export function hostName(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const colon = hostPort.lastIndexOf(':');
  return colon === -1 ? hostPort : hostPort.slice(0, colon);
}

/** Loopback hosts: where plain http is allowed (`--insecure`), since nothing crosses a network. */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host).toLowerCase();
  if (name === 'localhost' || name === '::1') return true;
  return /^127\.(?:\d{1,3})\.(?:\d{1,3})\.(?:\d{1,3})$/.test(name);
}

/** A tag that is valid per the grammar (for tags computed by callers, like the referrers tag). */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
