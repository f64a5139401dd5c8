/**
 * Paginated lists (tags, referrers): follow `Link: <…>; rel="next"` from page to page, on the same
 * registry only, with a bound on pages and a guard against a registry that links in a circle.
 */
import { WaybillError } from '../errors.ts';
import type { RegistryClient, RegistryRequest } from './client.ts';
import { type HttpResponse, header, readBody } from './http.ts';
import { nextLink } from './link-header.ts';
import { MAX_MANIFEST_BYTES } from './manifests.ts';

/** 10 000 pages of tags is far past any real repository; more is a loop or an attack. */
export const MAX_PAGES = 10_000;

export interface Page {
  response: HttpResponse;
  body: Buffer;
}

/**
 * Fetches `first`, then each next page, handing every page to `onPage` (also a first page whose
 * status `first.accept` lets through, such as a 404 the caller gives a meaning to).
 */
export async function forEachPage(
  client: RegistryClient,
  first: RegistryRequest,
  onPage: (page: Page) => void,
): Promise<void> {
  const seen = new Set<string>();
  let request: RegistryRequest = first;
  for (let pages = 0; ; pages++) {
    if (pages >= MAX_PAGES)
      throw new WaybillError('LIMIT', first.input, `${first.what}: more than ${MAX_PAGES} pages`);
    const response = await client.request(request);
    const body = await readBody(response, MAX_MANIFEST_BYTES, first.input, first.what);
    onPage({ response, body });
    const next = nextLink(header(response, 'link'));
    if (!next) return;
    let url: URL;
    try {
      url = new URL(next, response.url);
    } catch {
      throw new WaybillError('MALFORMED', first.input, `${first.what}: the next-page link is not a URL`);
    }
    if (url.origin !== client.baseUrl.origin)
      throw new WaybillError(
        'MALFORMED',
        first.input,
        `${first.what}: the next-page link leaves the registry`,
      );
    if (seen.has(url.href))
      throw new WaybillError('MALFORMED', first.input, `${first.what}: the pages link in a circle`);
    seen.add(url.href);
    const { path: _path, query: _query, ...rest } = first;
    request = { ...rest, url };
  }
}
