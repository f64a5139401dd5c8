/**
 * What an attacker (or a broken mirror) does to a release, for the demo to show that `verify`
 * catches it: copy a published artifact with its sidecars, rewrite a fact in its release record,
 * or change one byte of an image layer.
 */
import {
  closeSync,
  cpSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Copies `artifact` (a file or an OCI layout directory) and its `NAME.*` sidecars into `dir`. */
export function copyRelease(artifact: string, dir: string): string {
  const name = basename(artifact);
  const from = dirname(artifact);
  for (const entry of readdirSync(from)) {
    if (entry === name || entry.startsWith(`${name}.`))
      cpSync(join(from, entry), join(dir, entry), { recursive: true });
  }
  return join(dir, name);
}

/** Rewrites the JSON file at `path` with `change` applied to its parsed content. */
export function editJson(path: string, change: (doc: Record<string, unknown>) => void): void {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(doc);
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
}

interface Descriptor {
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/**
 * Flips one bit in the middle of the largest layer blob of the image tagged `tag` in an OCI layout;
 * returns the blob's path relative to the layout.
 */
export function flipLayerByte(layout: string, tag: string): string {
  const blobPath = (d: Descriptor) => join('blobs', ...d.digest.split(':'));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const image = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!image) throw new Error(`demo: no image tagged ${tag} in ${layout}`);
  const manifest = JSON.parse(readFileSync(join(layout, blobPath(image)), 'utf8')) as {
    layers: Descriptor[];
  };
  const largest = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
  if (!largest) throw new Error(`demo: the image tagged ${tag} has no layers`);
  const relative = blobPath(largest);
  const fd = openSync(join(layout, relative), 'r+');
  try {
    const byte = Buffer.alloc(1);
    const offset = Math.floor(largest.size / 2);
    readSync(fd, byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0x01;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
  return relative;
}
