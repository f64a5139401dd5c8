/**
 * `https://HOST/NAME/VERSION/FILE` and `file:///ROOT/NAME/VERSION/FILE`: one file published in a
 * release directory (docs/publish-directory.md). Opening reads SHA256SUMS, index.json and the
 * statement sidecars beside the file and checks them against each other, then takes the file itself
 * — in place for a local directory, else downloaded once into the user cache by digest
 * (publish/release-read.ts) — and reads it like any `file:` artifact. Its record, SBOM and signed
 * statements are the checked sidecars (app/attachments.ts), never files that happen to sit next to
 * the cached copy.
 */

import { WaybillError } from '../errors.ts';
import { openRelease } from '../publish/release-read.ts';
import { defaultCacheDir } from '../registry/blob-cache.ts';
import { openFile } from './file.ts';
import type { Artifact, OpenOptions } from './types.ts';

export { isReleaseReference } from '../publish/release-location.ts';

export async function openReleaseArtifact(ref: string, options: OpenOptions = {}): Promise<Artifact> {
  if (options.platform)
    throw new WaybillError(
      'USAGE',
      '--platform',
      'chooses an image of an index; a release file has one platform',
    );
  const registry = options.registry;
  const release = await openRelease(ref, {
    cacheDir: options.blobCache?.root ?? defaultCacheDir(),
    site: {
      ...(registry?.retry ? { retry: registry.retry } : {}),
      ...(registry?.timeoutMs !== undefined ? { timeoutMs: registry.timeoutMs } : {}),
    },
    ...(options.onDownload ? { onProgress: options.onDownload } : {}),
  });
  const file = await openFile(ref, release.artifactPath, release.digest);
  return { ...file, kind: 'release', release, options };
}
