/**
 * Two OCI image layouts compared the way the image is built: the index (for multi-platform images),
 * then per platform the manifest and config fields, then each layer whose digest differs, opened as
 * a tar and compared entry by entry. Fields that only repeat a digest compared elsewhere (layer and
 * config descriptors, diff_ids) are left out, so the differences shown are causes, not echoes.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { detectCompression } from '../../archive/decompress.ts';
import { decompressFileRange } from '../../archive/xz.ts';
import { blobPath } from '../../oci/layout.ts';
import { platformString } from '../../oci/types.ts';
import { pointerToken } from '../../record/intoto.ts';
import { openArtifact } from '../../sources/open.ts';
import type { PlatformImage } from '../../sources/types.ts';
import { readFileHead } from '../../util/read-head.ts';
import { imageReference } from '../build/output-digest.ts';
import { tarFacts } from './archive-facts.ts';
import { compareEntries } from './entries.ts';
import { type DifferenceList, nested } from './types.ts';

/** JSON Pointer → JSON text of every leaf (scalars, empty arrays and objects). */
function leaves(value: unknown, pointer: string, out: Map<string, string>): Map<string, string> {
  if (Array.isArray(value) && value.length > 0) {
    for (const [i, v] of value.entries()) leaves(v, `${pointer}/${i}`, out);
  } else if (typeof value === 'object' && value !== null && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) leaves(v, `${pointer}/${pointerToken(k)}`, out);
  } else out.set(pointer, JSON.stringify(value));
  return out;
}

/** Fields that are digests or sizes of blobs compared on their own. */
const DERIVED = [
  /^\/layers\/\d+\/(digest|size)$/,
  /^\/config\/(digest|size)$/,
  /^\/rootfs\/diff_ids\/\d+$/,
  /^\/manifests\/\d+\/(digest|size)$/,
];

function compareJson(expected: unknown, actual: unknown, label: string, out: DifferenceList): void {
  const [e, a] = [leaves(expected, '', new Map()), leaves(actual, '', new Map())];
  for (const [pointer, value] of e) {
    if (DERIVED.some((re) => re.test(pointer))) continue;
    const other = a.get(pointer);
    if (other === undefined)
      out.add({ path: `${label}${pointer}`, aspect: 'presence', expected: value, actual: 'absent' });
    else out.field(`${label}${pointer}`, 'header', value, other);
  }
  for (const [pointer, value] of a) {
    if (!e.has(pointer) && !DERIVED.some((re) => re.test(pointer))) {
      out.add({ path: `${label}${pointer}`, aspect: 'presence', expected: 'absent', actual: value });
    }
  }
}

async function layerFacts(dir: string, digest: string, input: string) {
  const path = join(dir, blobPath(digest));
  const { size } = await stat(path);
  const compression = detectCompression(await readFileHead(path, 8));
  return tarFacts(await decompressFileRange(path, 0, size, compression, { input }), input);
}

async function compareImages(
  expectedDir: string,
  actualDir: string,
  e: PlatformImage,
  a: PlatformImage,
  label: string,
  out: DifferenceList,
): Promise<void> {
  compareJson(e.manifest, a.manifest, nested(label, 'manifest'), out);
  compareJson(e.config, a.config, nested(label, 'config'), out);
  const [el, al] = [e.manifest.layers, a.manifest.layers];
  for (let i = 0; i < Math.max(el.length, al.length) && !out.full; i++) {
    const [x, y] = [el[i], al[i]];
    const where = nested(label, `layer ${i + 1}`);
    if (!x || !y) {
      out.add({
        path: where,
        aspect: 'presence',
        expected: x ? x.digest : 'absent',
        actual: y ? y.digest : 'absent',
      });
      continue;
    }
    if (x.digest === y.digest) continue;
    const ex = await layerFacts(expectedDir, x.digest, `${expectedDir} ${where}`);
    const ac = await layerFacts(actualDir, y.digest, `${actualDir} ${where}`);
    const before = out.items.length;
    await compareEntries(ex.entries, ac.entries, where, out);
    if (out.items.length === before) {
      out.add({
        path: where,
        aspect: ex.sha256 === ac.sha256 ? 'header' : 'content',
        expected: x.digest,
        actual: `${y.digest}${ex.sha256 === ac.sha256 ? ' (same tar, compressed differently)' : ' (same entries, different tar headers)'}`,
      });
    }
  }
}

export async function compareOciLayouts(
  expectedDir: string,
  actualDir: string,
  label: string,
  out: DifferenceList,
): Promise<void> {
  const [e, a] = [
    await openArtifact(await imageReference(expectedDir)),
    await openArtifact(await imageReference(actualDir)),
  ];
  if (e.digest === a.digest) return;
  const [ei, ai] = [e.image, a.image];
  if (!ei || !ai) return;
  if (ei.index || ai.index)
    compareJson(ei.index?.index ?? {}, ai.index?.index ?? {}, nested(label, 'index'), out);
  const actualByPlatform = new Map(ai.platforms.map((p) => [platformString(p.platform), p]));
  for (const p of ei.platforms) {
    if (out.full) return;
    const key = platformString(p.platform);
    const other = actualByPlatform.get(key);
    const where = ei.platforms.length > 1 ? nested(label, key) : label;
    if (!other) {
      out.add({ path: where, aspect: 'presence', expected: p.descriptor.digest, actual: 'absent' });
      continue;
    }
    if (p.descriptor.digest !== other.descriptor.digest)
      await compareImages(expectedDir, actualDir, p, other, where, out);
  }
}
