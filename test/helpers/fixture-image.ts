/**
 * The real fixture image for the SBOM correctness test and the benchmark: built once (debootstrap,
 * npm, umoci, skopeo; a few minutes) into test/fixtures/cache/image and reused after. Tests get
 * `{ skip }` with the reason when this machine cannot build it.
 */
import {
  buildFixtureImage,
  DEFAULT_CACHE_DIR,
  type FixtureImage,
} from '../../scripts/build-fixture-image.ts';

export type { FixtureImage, FixtureTruth } from '../../scripts/build-fixture-image.ts';

let pending: Promise<FixtureImage | { skip: string }> | undefined;

export function ensureFixtureImage(): Promise<FixtureImage | { skip: string }> {
  pending ??= buildFixtureImage(DEFAULT_CACHE_DIR).catch((e: Error) => ({
    skip: `fixture image build failed: ${e.message}`,
  }));
  return pending;
}
