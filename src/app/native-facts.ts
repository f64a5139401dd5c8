/**
 * What an artifact says about itself in its own metadata mechanism. Each artifact kind maps its native
 * fields onto the guideline facts; kinds with no metadata of their own (a plain tarball) report none,
 * and `check` then relies on the record alone.
 */
import { emptyFacts, type NativeFacts } from '../formats/facts.ts';
import { imageFactsFromView } from '../formats/oci-facts.ts';
import type { Artifact } from '../sources/types.ts';

export async function nativeFactsOf(artifact: Artifact): Promise<NativeFacts> {
  if (artifact.image) return imageFactsFromView(artifact.image);
  return emptyFacts('none');
}
