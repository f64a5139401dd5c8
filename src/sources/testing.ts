/**
 * Test helpers for everyone: write small, valid, deterministic OCI layouts in pure Node (no umoci or
 * skopeo needed). Same input → same bytes: entries sorted, mtime 0, uid/gid 0, gzip without a name
 * or timestamp.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import zlib from 'node:zlib';
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE,
  OCI_ANNOTATION,
} from '../oci/types.ts';
import { sha256Digest } from '../util/digest.ts';

export type TarSpec = Record<string, string | Buffer | { symlink: string } | { hardlink: string }>;

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function header(name: string, typeflag: string, size: number, mode: number, linkname = ''): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(mode, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(0, 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(typeflag, 156, 'latin1');
  block.write(linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  // The length counts its own digits: iterate to the fixed point.
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return Buffer.from(`${length}${body}`);
}

function pad(data: Buffer): Buffer[] {
  const rest = (512 - (data.length % 512)) % 512;
  return rest ? [data, Buffer.alloc(rest)] : [data];
}

/**
 * A ustar archive of `files` (path → content; a path ending in `/` is a directory; `{symlink}` and
 * `{hardlink}` make links). Parent directories are added, entries sorted; long names use pax.
 */
export function buildTar(files: TarSpec): Buffer {
  const entries = new Map<string, TarSpec[string] | null>();
  for (const [rawPath, content] of Object.entries(files)) {
    const isDir = rawPath.endsWith('/');
    const path = rawPath.replace(/\/+$/, '');
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!entries.has(parent)) entries.set(parent, null);
    }
    entries.set(path, isDir ? null : content);
  }
  const chunks: Buffer[] = [];
  for (const path of [...entries.keys()].sort()) {
    const content = entries.get(path);
    let name = content === null ? `${path}/` : path;
    if (Buffer.byteLength(name) > 100) {
      const pax = paxRecord('path', name);
      chunks.push(header('PaxHeaders/long', 'x', pax.length, 0o644), ...pad(pax));
      name = name.slice(0, 99);
    }
    if (content === null || content === undefined) {
      chunks.push(header(name, '5', 0, 0o755));
    } else if (typeof content === 'string' || Buffer.isBuffer(content)) {
      const data = Buffer.from(content);
      chunks.push(header(name, '0', data.length, 0o644), ...pad(data));
    } else if ('symlink' in content) {
      chunks.push(header(name, '2', 0, 0o777, content.symlink));
    } else {
      chunks.push(header(name, '1', 0, 0o644, content.hardlink));
    }
  }
  chunks.push(Buffer.alloc(1024));
  return Buffer.concat(chunks);
}

async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, data);
  await rename(temp, path);
}

/** Writes a blob into `layoutDir/blobs/sha256/` and returns its descriptor. */
export async function writeBlob(layoutDir: string, data: Buffer, mediaType: string): Promise<Descriptor> {
  const digest = sha256Digest(data);
  await writeAtomic(join(layoutDir, 'blobs', 'sha256', digest.slice(7)), data);
  return { mediaType, digest, size: data.length };
}

/** Writes `oci-layout` and `index.json` listing `manifests`. */
export async function writeLayoutIndex(layoutDir: string, manifests: Descriptor[]): Promise<void> {
  await writeAtomic(join(layoutDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests };
  await writeAtomic(join(layoutDir, 'index.json'), JSON.stringify(index));
}

export interface BuildOciOptions {
  tag?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  labels?: Record<string, string>;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Layer compression: gzip (default), zstd or none. */
  compression?: 'gzip' | 'zstd' | 'none';
  /** Do not write index.json / oci-layout (to compose a multi-platform index yourself). */
  blobsOnly?: boolean;
  /**
   * The layers the image lists, as indexes into `layers`, repeats allowed (hostile images that list
   * one blob many times). Default: each layer once, in order.
   */
  layerOrder?: readonly number[];
}

export interface BuiltImage {
  layoutDir: string;
  /** The manifest descriptor (with the ref-name annotation when an index.json was written). */
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
}

/**
 * Writes a valid single-platform OCI image layout to `dir`: one layer per object in `layers`
 * (path → content, as `buildTar` takes it), gzip-compressed, a config with os/arch and diff_ids, tagged `latest`.
 */
export async function buildOciLayout(
  dir: string,
  layers: TarSpec[],
  opts: BuildOciOptions = {},
): Promise<BuiltImage> {
  const compression = opts.compression ?? 'gzip';
  const layerDescriptors: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const files of layers) {
    const tar = buildTar(files);
    diffIds.push(sha256Digest(tar));
    if (compression === 'gzip') {
      layerDescriptors.push(await writeBlob(dir, zlib.gzipSync(tar, { level: 9 }), MEDIA_TYPE.ociLayerGzip));
    } else if (compression === 'zstd') {
      layerDescriptors.push(await writeBlob(dir, zlib.zstdCompressSync(tar), MEDIA_TYPE.ociLayerZstd));
    } else {
      layerDescriptors.push(await writeBlob(dir, tar, MEDIA_TYPE.ociLayer));
    }
  }
  const order = opts.layerOrder ?? layers.map((_, i) => i);
  const listedLayers = order.map((i) => layerDescriptors[i] as Descriptor);
  const listedDiffIds = order.map((i) => diffIds[i] as string);
  const os = opts.os ?? 'linux';
  const architecture = opts.architecture ?? 'amd64';
  const config = {
    architecture,
    os,
    ...(opts.variant ? { variant: opts.variant } : {}),
    created: '1970-01-01T00:00:00Z',
    config: { Labels: opts.labels ?? {} },
    rootfs: { type: 'layers', diff_ids: listedDiffIds },
    history: listedDiffIds.map(() => ({
      created: '1970-01-01T00:00:00Z',
      created_by: 'waybill buildOciLayout',
    })),
  };
  const configDescriptor = await writeBlob(dir, Buffer.from(JSON.stringify(config)), MEDIA_TYPE.ociConfig);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: configDescriptor,
    layers: listedLayers,
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
  const manifestDescriptor = await writeBlob(
    dir,
    Buffer.from(JSON.stringify(manifest)),
    MEDIA_TYPE.ociManifest,
  );
  const platform = { architecture, os, ...(opts.variant ? { variant: opts.variant } : {}) };
  const listed: Descriptor = { ...manifestDescriptor, platform };
  if (!opts.blobsOnly) {
    listed.annotations = { [OCI_ANNOTATION.refName]: opts.tag ?? 'latest' };
    await writeLayoutIndex(dir, [listed]);
  }
  return {
    layoutDir: dir,
    manifest: listed,
    config: configDescriptor,
    layers: listedLayers,
    diffIds: listedDiffIds,
  };
}

/**
 * A two-platform image in `dir`: linux/amd64 and linux/arm64/v8, each one layer holding `arch.txt`
 * with its architecture, under an OCI index tagged `tag`.
 */
export async function buildMultiPlatformLayout(
  dir: string,
  tag: string,
): Promise<{ index: Descriptor; amd: BuiltImage; arm: BuiltImage }> {
  const amd = await buildOciLayout(dir, [{ 'arch.txt': 'amd64' }], { blobsOnly: true });
  const arm = await buildOciLayout(dir, [{ 'arch.txt': 'arm64' }], {
    architecture: 'arm64',
    variant: 'v8',
    blobsOnly: true,
  });
  const index = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociIndex,
        manifests: [amd.manifest, arm.manifest],
      }),
    ),
    MEDIA_TYPE.ociIndex,
  );
  await writeLayoutIndex(dir, [{ ...index, annotations: { [OCI_ANNOTATION.refName]: tag } }]);
  return { index, amd, arm };
}
