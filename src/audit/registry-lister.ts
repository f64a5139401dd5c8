/**
 * Newer releases of an image from its registry repository's tag list (distribution-spec "Listing
 * Tags", src/registry/tags.ts). Tags are names, not only versions: the listing is marked `mixed`, so
 * freshness compares only the tags the current version's scheme accepts (`1.3.0` and `v1.3.0` for a
 * SemVer release; `latest`, `main` and `1.3` are not releases of it). Referrer and signature tags
 * (`sha256-<hex>`, cosign's `.sig` / `.att` / `.sbom`) are dropped first.
 */
import { formatReference } from '../registry/reference.ts';
import type { Repository } from '../registry/repository.ts';
import type { ReleaseLister } from './release-lister.ts';

const DIGEST_TAG = /^sha256-[0-9a-f]{64}(?:\.[a-z]+)?$/;

export function registryTagLister(repository: Repository): ReleaseLister {
  return {
    async list() {
      const tags = await repository.listTags();
      const { registry } = repository.reference;
      return {
        source: `docker://${formatReference({ registry, repository: repository.name })} (tags)`,
        releases: tags.filter((t) => !DIGEST_TAG.test(t)).map((version) => ({ version })),
        mixed: true,
      };
    },
  };
}
