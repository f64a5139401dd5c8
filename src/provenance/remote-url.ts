/**
 * Turns a git remote URL into something safe to publish as a release record's `source.repository`
 * (and in an image's `org.opencontainers.image.source`).
 *
 * CI checkouts often embed credentials in the origin URL (`https://x-access-token:TOKEN@github.com/…`,
 * `https://TOKEN@host/…`, `…?private_token=…`), and not always well-formed ones: a token with a raw
 * `/`, `#` or `@` in it is common enough. So the rules are deliberately blunt:
 *
 * - **All user info goes**, for every scheme (an ssh user name is dropped too), and user info is
 *   taken to end at the LAST `@` of the URL. A well-formed URL cannot have `@` in its user info,
 *   but a malformed one can, and its host is then after the last `@`. The price: a repository path
 *   containing `@` loses its part before it; git hosts do not use `@` in repository paths.
 * - **Query string and fragment go**: tokens travel there (`?token=…`), and a repository needs neither.
 *   An `@` after a `?` or `#` is ambiguous (see `redactAfterScheme`).
 * - **scp-like remotes** (`git@host:org/repo.git`, told from local paths by git's own rule: a `:`
 *   with no `/` before it) become `ssh://host/org/repo.git`.
 * - `<transport>::<address>` remotes (git remote helpers) keep the transport; the address is redacted.
 * - Absolute local paths become `file://` URLs.
 * - Whatever remains is printable ASCII: controls, spaces and non-ASCII characters are
 *   percent-encoded (UTF-8), so the value can reach a terminal or a metadata field safely.
 */

import { pathToFileURL } from 'node:url';

const HELPER = /^([A-Za-z][A-Za-z0-9+.-]*)::(.*)$/s;
const SCHEME_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;
/** After the user info is gone: `host:path`, the host possibly a bracketed IPv6 literal. */
const SCP_LIKE = /^(\[[^\]/]*\]|[^/:]*):(.*)$/s;
const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
/** A dotted host name or bracketed IP literal, an optional numeric port, a path without `@`. */
const PLAIN_HOST_PATH = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:\/[^@]*)?$/;
/** RFC 3986 `host[:port][/path]` (reg-name characters), with no `@` left anywhere. */
const HOST_AND_PATH = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d*)?(?:\/[^@]*)?$/s;
const REDACTED_HOST = 'redacted.invalid';

export function redactRemoteUrl(url: string): string {
  return printable(redact(url.trim()));
}

function redact(url: string): string {
  const helper = HELPER.exec(url);
  if (helper) return `${helper[1]}::${redact(helper[2]!)}`;
  const scheme = SCHEME_URL.exec(url);
  if (scheme) return `${scheme[1]}://${redactAfterScheme(scheme[2]!)}`;
  if (isLocalPath(url)) return url.startsWith('/') ? localRepositoryUrl(url) : url;
  const scp = SCP_LIKE.exec(afterLastAt(url));
  if (!scp) return withoutQuery(afterLastAt(url));
  const path = withoutQuery(scp[2]!);
  return `ssh://${scp[1]}${path.startsWith('/') ? '' : '/'}${path}`;
}

/**
 * `host/path` of what follows `scheme://`. When an `@` comes after a `?` or `#`, several readings
 * are possible — a query or fragment holding an `@`, or user info holding a `?`/`#` — and each would
 * publish what another calls a secret. The query reading wins when the part before the `?`/`#` is a
 * plain `host[:port]/path` with a dotted host name; otherwise every reading that yields a valid
 * host is tried, and unless they all agree the host is replaced by `redacted.invalid` (RFC 2606):
 * a wrong-looking URL is better than a published token.
 */
function redactAfterScheme(rest: string): string {
  const delimiter = rest.search(/[?#]/);
  const lastAt = rest.lastIndexOf('@');
  if (delimiter === -1 || lastAt < delimiter) return withoutQuery(rest.slice(lastAt + 1));
  const prefix = rest.slice(0, delimiter);
  if (PLAIN_HOST_PATH.test(prefix)) return prefix;
  const readings = new Set<string>();
  if (HOST_AND_PATH.test(afterLastAt(prefix))) readings.add(afterLastAt(prefix));
  for (let at = rest.indexOf('@', delimiter); at !== -1; at = rest.indexOf('@', at + 1)) {
    const hostPath = withoutQuery(rest.slice(at + 1));
    if (HOST_AND_PATH.test(hostPath)) readings.add(hostPath);
  }
  const [only, ...others] = readings;
  return only !== undefined && others.length === 0 ? only : REDACTED_HOST;
}

/** git's url_is_local_not_ssh: no `:`, or a `/` before the first `:`, or a drive letter. */
function isLocalPath(url: string): boolean {
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  return colon === -1 || (slash !== -1 && slash < colon) || WINDOWS_DRIVE.test(url);
}

function afterLastAt(text: string): string {
  return text.slice(text.lastIndexOf('@') + 1);
}

function withoutQuery(text: string): string {
  const cut = text.search(/[?#]/);
  return cut === -1 ? text : text.slice(0, cut);
}

/** Percent-encodes everything but printable ASCII (UTF-8 bytes, as URLs do). */
function printable(text: string): string {
  return text.replace(/[^\x21-\x7e]/gu, (ch) =>
    [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/**
 * A local repository without a remote is named by its absolute path. `@` is encoded so that the URL
 * reads the same when redacted again (user info ends at the last `@`).
 */
export function localRepositoryUrl(absolutePath: string): string {
  return pathToFileURL(absolutePath).href.replaceAll('@', '%40');
}

/**
 * Whether a redacted repository URL is one a consumer can fetch from, and so worth writing into an
 * artifact's own metadata (image source annotation, wheel Project-URL). A `file://` URL or a path
 * names the builder's disk and says nothing to anyone else.
 */
export function isNetworkRepositoryUrl(url: string): boolean {
  return /^(?:https?|ssh|git|git\+ssh|ssh\+git):\/\/[^/]/i.test(url);
}
