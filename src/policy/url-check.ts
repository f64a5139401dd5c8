/**
 * URL checks for the help rule and for what `stamp` agrees to publish: a bug tracker or docs link
 * must be absolute and https. Parsed with the WHATWG URL parser, which is what browsers do with the
 * link a user clicks — after the raw text is checked for what that parser would silently drop
 * (tabs and newlines inside a URL vanish in `new URL`, but not in a deb `Bugs` field or a terminal).
 *
 * Verdict kinds: `weak` (usable but not safe: http) is a warning; `bad` (unusable: relative, no host,
 * another scheme) fails a required link; `unsafe` (credentials, control or bidi characters, a scheme
 * that runs code or reads local files) fails the rule wherever it appears.
 */

import { WaybillError } from '../errors.ts';
import { escapeForTerminal } from '../util/terminal-escape.ts';

export type UrlVerdict =
  | { ok: true; url: URL; problem?: undefined }
  | { ok: false; kind: 'weak' | 'bad' | 'unsafe'; problem: string; url?: URL };

/** C0, DEL, C1, zero-width and bidi formatting characters: they rewrite what a terminal shows. */
const UNSAFE_CHARACTER = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;
/** Schemes a link must never have: they run script, inline content or read the reader's disk. */
const UNSAFE_SCHEMES = new Set(['javascript:', 'vbscript:', 'data:', 'file:', 'blob:', 'filesystem:']);

export function checkWebUrl(value: string): UrlVerdict {
  const shown = `"${displayUrl(value.trim())}"`;
  const control = UNSAFE_CHARACTER.exec(value);
  if (control) {
    const code = control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { ok: false, kind: 'unsafe', problem: `${shown} contains a control character (U+${code})` };
  }
  const text = value.trim();
  if (text === '') return { ok: false, kind: 'bad', problem: 'is empty' };
  if (/\s/.test(text)) return { ok: false, kind: 'bad', problem: `${shown} contains white space` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // `https://user:pa/ss@host/` does not parse (port "pa"), and still carries a password.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/.*@/s.test(text)) {
      return { ok: false, kind: 'unsafe', problem: `${shown} is not a valid URL and embeds credentials` };
    }
    return { ok: false, kind: 'bad', problem: `${shown} is not an absolute URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    const unsafe = UNSAFE_SCHEMES.has(url.protocol);
    return {
      ok: false,
      kind: unsafe ? 'unsafe' : 'bad',
      problem: `${shown} uses ${url.protocol.slice(0, -1)}:, not https:`,
      url,
    };
  }
  if (url.hostname === '') return { ok: false, kind: 'bad', problem: `${shown} has no host`, url };
  if (url.username || url.password) {
    return { ok: false, kind: 'unsafe', problem: `${shown} embeds credentials (user info)`, url };
  }
  // `https://u:p?x@host/` parses as host `u` with a query, yet publishes the password `p?x`: any raw
  // `@` could end user info, so it must be written %40.
  if (text.includes('@')) {
    return {
      ok: false,
      kind: 'unsafe',
      problem: `${shown} contains an unencoded "@" that can hide credentials (write it as %40)`,
      url,
    };
  }
  if (url.protocol === 'http:') {
    return { ok: false, kind: 'weak', problem: `${shown} uses http:, not https:`, url };
  }
  return { ok: true, url };
}

/**
 * A URL as it may be shown: user info replaced by `***` (it ends at the last `@` before the path;
 * a raw `/` in a password would otherwise end it early) and unsafe characters as visible escapes
 * (util/terminal-escape.ts), like every other value on a terminal.
 */
export function displayUrl(text: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  let shown = text;
  if (scheme) {
    const rest = text.slice(scheme[0].length);
    const at = rest.lastIndexOf('@');
    if (at !== -1) shown = `${scheme[0]}***@${rest.slice(at + 1)}`;
  }
  return escapeForTerminal(shown);
}

/**
 * What `stamp` may write into a record and into an artifact's own metadata (deb Bugs/Homepage,
 * wheel Project-URL, OCI annotations and labels): an absolute http(s) URL without credentials or
 * control characters — anything the help rule would fail is refused before anything is written,
 * so credentials never reach a published artifact. http passes (check warns about it).
 */
export function requirePublishableUrl(value: string | null, what: string): void {
  if (value === null) return;
  const verdict = checkWebUrl(value);
  if (verdict.ok || verdict.kind === 'weak') return;
  throw new WaybillError(
    'USAGE',
    what,
    `${verdict.problem}; stamp publishes only absolute http(s) URLs without credentials or control characters`,
  );
}

/** Two links name the same page when they differ only in case of scheme/host, a default port or a trailing slash. */
export function sameWebUrl(a: string, b: string): boolean {
  const norm = (s: string): string => {
    try {
      const u = new URL(s.trim());
      return u.href.replace(/\/+$/, '').replace(/\/(?=[?#])/, '');
    } catch {
      return s.trim();
    }
  };
  return norm(a) === norm(b);
}
