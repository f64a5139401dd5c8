/**
 * URL checks for the help rule: a bug tracker or docs link must be absolute and https. Parsed with the
 * WHATWG URL parser, which is what browsers do with the link a user clicks.
 */

export type UrlVerdict =
  | { ok: true; url: URL; problem?: undefined }
  /** `weak`: usable but not safe (http, embedded credentials) → a warning. `bad`: unusable → the rule's failure severity. */
  | { ok: false; kind: 'weak' | 'bad'; problem: string; url?: URL };

export function checkWebUrl(value: string): UrlVerdict {
  const text = value.trim();
  if (text === '') return { ok: false, kind: 'bad', problem: 'is empty' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, kind: 'bad', problem: `"${text}" is not an absolute URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {
      ok: false,
      kind: 'bad',
      problem: `"${text}" uses ${url.protocol.slice(0, -1)}:, not https:`,
      url,
    };
  }
  if (url.hostname === '') return { ok: false, kind: 'bad', problem: `"${text}" has no host`, url };
  if (url.username || url.password) {
    return { ok: false, kind: 'weak', problem: `"${text}" embeds credentials`, url };
  }
  if (url.protocol === 'http:') {
    return { ok: false, kind: 'weak', problem: `"${text}" uses http:, not https:`, url };
  }
  return { ok: true, url };
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
