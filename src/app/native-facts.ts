/**
 * What an artifact says about itself in its own metadata mechanism. Images map labels, annotations
 * and platforms; single files are matched against the native formats (deb, rpm, apk, wheel, sdist,
 * executables, system images, Vagrant boxes); anything else (a plain tarball) reports no facts of
 * its own, and `check` then relies on the record alone.
 */
import { emptyFacts, type NativeFacts } from '../formats/facts.ts';
import { imageFactsFromView } from '../formats/image/oci-facts.ts';
import type { NativeFormat } from '../formats/native.ts';
import { detectNativeFormat } from '../formats/registry.ts';
import { type Artifact, isSingleFile } from '../sources/types.ts';

/** The native format of a file or directory artifact; undefined for images and plain files. */
export async function nativeFormatOf(artifact: Artifact): Promise<NativeFormat | undefined> {
  if (artifact.image) return undefined;
  if (!isSingleFile(artifact.kind) && artifact.kind !== 'dir') return undefined;
  return detectNativeFormat(artifact.path);
}

export async function nativeFactsOf(artifact: Artifact): Promise<NativeFacts> {
  const image = artifact.image;
  // With one platform of an index chosen, its facts are that platform's (plus the index's own
  // annotations), not every platform's.
  if (image) return imageFactsFromView(image.selected ? { ...image, platforms: [image.selected] } : image);
  const format = await nativeFormatOf(artifact);
  return format ? format.readFacts(artifact.path) : emptyFacts('none');
}
