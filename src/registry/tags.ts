/**
 * Tag listing (distribution-spec "Listing Tags"): `GET /v2/<name>/tags/list?n=<page>`, following
 * the `Link` header from page to page (the spec prefers it to `last`).
 */
import { WaybillError } from '../errors.ts';
import { pullScope } from './client.ts';
import type { Target } from './manifests.ts';
import { forEachPage } from './pages.ts';

export const DEFAULT_TAG_PAGE = 1000;

export async function listTags(target: Target, pageSize = DEFAULT_TAG_PAGE): Promise<string[]> {
  const { client, repository, input } = target;
  const tags: string[] = [];
  await forEachPage(
    client,
    {
      method: 'GET',
      path: `/v2/${repository}/tags/list`,
      query: { n: String(pageSize) },
      scopes: [pullScope(repository)],
      input,
      what: 'tag list',
    },
    ({ body }) => {
      let doc: unknown;
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch {
        throw new WaybillError('MALFORMED', input, 'the tag list is not JSON');
      }
      const list = (doc as { tags?: unknown } | null)?.tags;
      // An empty repository may answer `"tags": null`.
      if (list === null || list === undefined) return;
      if (!Array.isArray(list) || list.some((t) => typeof t !== 'string'))
        throw new WaybillError('MALFORMED', input, 'the tag list has no array of strings');
      // Not a spread: a hostile registry's list can be longer than the call stack allows arguments.
      for (const t of list as string[]) tags.push(t);
    },
  );
  return [...new Set(tags)].sort();
}
