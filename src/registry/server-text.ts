/**
 * Text from the other side (a registry's error message, a credential helper's complaint) made safe
 * to show on one terminal line: control characters and bidi overrides replaced, whitespace
 * collapsed, shortened.
 */
export function sanitizeServerText(text: string, max = 200): string {
  const clean = text
    .replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** `https://host:port/v2/…` without the query string (it can hold signatures) or user info. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
