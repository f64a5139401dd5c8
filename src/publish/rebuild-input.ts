/**
 * `rebuild docker://…`: a published artifact and its rebuild kit, brought from the registry to where
 * `rebuild` looks for them on disk — the artifact, and the kit next to it (provenance/rebuild/locate.ts).
 * The kit travels as an attachment of the artifact (publish/sidecars.ts); the artifact is the file
 * itself (a file published as an OCI artifact) or, for an image, an OCI layout named as the kit names
 * the output. Both are written, verified, under the blob cache (`rebuild/<digest>/`), so a second
 * rebuild of the same digest downloads nothing.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { parseImageManifest } from '../oci/parse.ts';
import { OCI_ANNOTATION } from '../oci/types.ts';
import { openKit } from '../provenance/build/kit.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import { downloadToFile } from '../registry/blob-cache.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { publishedFileName, singleFileLayer } from '../sources/registry-file.ts';
import { digestHex } from '../util/digest.ts';
import { statRegularFile } from '../util/regular-file.ts';
import { withGraphSink } from './destination.ts';
import { attachmentParts, collectGraph } from './graph.ts';
import { openCopySource } from './open-source.ts';
import { REBUILD_KIT_ARTIFACT_TYPE } from './sidecars.ts';
import { transfer } from './transfer.ts';

/** A plain file name from a title, else `fallback`. */
function safeName(title: string | undefined, fallback: string): string {
  return title !== undefined && /^[A-Za-z0-9][A-Za-z0-9._+~@-]{0,254}$/.test(title) ? title : fallback;
}

async function present(path: string, size: number): Promise<boolean> {
  return (await statRegularFile(path).catch(() => undefined))?.size === size;
}

/**
 * Brings the artifact `ref` and its attached rebuild kit(s) to disk; returns the local path to hand
 * to `rebuild` (the file, or the image's layout directory).
 */
export async function rebuildInputFrom(
  ref: string,
  options: { registry?: RegistryOptions; cache: BlobCache },
): Promise<string> {
  const { source } = await openCopySource(ref, options);
  const graph = await collectGraph(source);
  const dir = join(options.cache.root, 'rebuild', digestHex(graph.root.digest));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const kits: string[] = [];
  for (const referrer of graph.referrers) {
    if (referrer.subject.digest !== graph.root.digest) continue;
    const parts = attachmentParts(referrer, source.name);
    if (parts.artifactType !== REBUILD_KIT_ARTIFACT_TYPE || !parts.payload) continue;
    const payload = parts.payload;
    const path = join(
      dir,
      safeName(parts.annotations[OCI_ANNOTATION.title], `${digestHex(payload.digest)}.rebuild.tar`),
    );
    if (!(await present(path, payload.size)))
      await downloadToFile(path, async () => (await source.blob(payload)).open());
    kits.push(path);
  }
  if (kits.length === 0)
    throw new WaybillError(
      'NOT_FOUND',
      ref,
      'no rebuild kit is attached to it (publish the artifact with its NAME-VERSION.rebuild.tar next to it)',
    );

  const root = graph.manifests.at(-1);
  const layer = root
    ? singleFileLayer(parseImageManifest(root.bytes, `${ref}@${graph.root.digest}`))
    : undefined;
  if (layer) {
    const path = join(dir, publishedFileName(layer));
    if (!(await present(path, layer.size)))
      await downloadToFile(path, async () => (await source.blob(layer)).open());
    return path;
  }
  // An image: as the layout the kit names for this digest, so `rebuild` finds the output by digest.
  const hex = digestHex(graph.root.digest);
  let name: string | undefined;
  for (const kit of kits) {
    const output = (await openKit(kit)).manifest.outputs.find(
      (o) => o.kind === 'oci-layout' && o.published === hex,
    );
    if (output) name = safeName(output.name, 'image');
  }
  if (name === undefined)
    throw new WaybillError(
      'NOT_FOUND',
      ref,
      'no attached rebuild kit lists this image as one of its outputs',
    );
  const layout = join(dir, name);
  await withGraphSink(
    { kind: 'oci', ref: `oci:${layout}`, path: layout, tag: graph.tag ?? 'latest' },
    { cache: options.cache },
    (sink) => transfer(graph, source, sink),
  );
  return layout;
}
