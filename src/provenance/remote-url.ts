/**
 * Turns a remote URL into something safe to publish in a release record.
 *
 * CI checkouts often embed a token in the origin URL (`https://x-access-token:TOKEN@github.com/…`,
 * `https://TOKEN@host/…`). For http(s) every userinfo part is a credential, so all of it goes; for
 * other schemes (ssh://git@host) the user name is an account name, not a secret, so only a password
 * goes. scp-like `user@host:path` cannot carry a password and is kept as is.
 */

import { pathToFileURL } from 'node:url';

const SCHEME_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;

export function redactRemoteUrl(url: string): string {
  const trimmed = url.trim();
  const match = SCHEME_URL.exec(trimmed);
  if (!match) return trimmed;
  const scheme = match[1]!;
  const authority = match[2]!;
  const rest = match[3]!;
  // The host part follows the LAST '@': a password may itself contain '@' when badly encoded.
  const at = authority.lastIndexOf('@');
  if (at === -1) return trimmed;
  const userinfo = authority.slice(0, at);
  const host = authority.slice(at + 1);
  if (/^https?$/i.test(scheme)) return `${scheme}://${host}${rest}`;
  const colon = userinfo.indexOf(':');
  const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
  return user ? `${scheme}://${user}@${host}${rest}` : `${scheme}://${host}${rest}`;
}

/** A local repository without a remote is named by its absolute path. */
export function localRepositoryUrl(absolutePath: string): string {
  return pathToFileURL(absolutePath).href;
}
