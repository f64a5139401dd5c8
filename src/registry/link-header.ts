/**
 * The `Link` header (RFC 8288 section 3) as registries use it for pagination of tag and referrer
 * lists: `</v2/name/tags/list?last=b&n=2>; rel="next"`. Only the target and `rel` matter here.
 */

export interface Link {
  target: string;
  /** Space-separated relation types, lower-cased (RFC 8288 section 3.3). */
  rel: string[];
}

/** Parses every link of a Link header; malformed parts are skipped (a missing page is not a crash). */
export function parseLinkHeader(value: string): Link[] {
  const links: Link[] = [];
  let pos = 0;
  while (pos < value.length) {
    const open = value.indexOf('<', pos);
    if (open === -1) break;
    const close = value.indexOf('>', open + 1);
    if (close === -1) break;
    const target = value.slice(open + 1, close);
    // Parameters run to the next link: a comma outside quotes.
    let end = close + 1;
    let quoted = false;
    for (; end < value.length; end++) {
      const ch = value[end];
      if (ch === '\\' && quoted) end++;
      else if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) break;
    }
    const params = value.slice(close + 1, end);
    const rel = /;\s*rel\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;,]+))/i.exec(params);
    const relText = rel ? (rel[1] ?? rel[2] ?? '') : '';
    links.push({
      target,
      rel: relText
        .toLowerCase()
        .split(/\s+/)
        .filter((r) => r !== ''),
    });
    pos = end + 1;
  }
  return links;
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return parseLinkHeader(value).find((l) => l.rel.includes('next'))?.target;
}
