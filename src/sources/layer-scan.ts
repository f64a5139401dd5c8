/**
 * Reads one layer (or one plain tarball) once, as a stream: blob digest checked on the compressed
 * bytes, decompressed under limits, uncompressed digest (the config's diff_id) checked, tar headers
 * read, and only the files the filter wants kept in memory. Runs in-process or inside a worker.
 */
import { pipeline, Transform } from 'node:stream';
import { openDecompressed } from '../archive/decompress.ts';
import { readTar } from '../archive/tar-reader.ts';
import { createDigestVerifier } from '../util/digest.ts';
import { type BlobLocation, openLocation } from './blob-store.ts';
import { type FileEntry, type FileFilter, SNIFF_BYTES } from './types.ts';
import type { SourceWalkOptions } from './walk-options.ts';

export interface LayerJob {
  location: BlobLocation;
  /** Named in errors. */
  input: string;
  /** Compressed blob digest and size to verify (absent for a plain tarball). */
  digest?: string;
  size?: number;
  /** Uncompressed digest to verify (config rootfs.diff_ids). */
  diffId?: string;
  /** Recorded as FileEntry.layer (the compressed blob digest). */
  layer?: string;
  /** Interpret `.wh.` whiteouts and opaque-dir markers (image layers only). */
  image: boolean;
  maxFileSize: number;
  decompress?: SourceWalkOptions['decompress'];
}

export interface ScannedFile {
  entry: FileEntry;
  data: Buffer;
}

export interface LayerScan {
  /** Wanted entries in this layer (the last one wins when a path repeats). */
  files: ScannedFile[];
  /** Paths deleted from lower layers (`.wh.NAME` → NAME). */
  whiteouts: string[];
  /** Directories whose lower-layer contents are hidden (`.wh..wh..opq`), '' for the root. */
  opaqueDirs: string[];
  /** Non-directory entries not kept: they still replace lower versions of their path. */
  hidden: string[];
  /** Directory entries not kept: they replace a lower non-directory at the same path. */
  hiddenDirs: string[];
  skipped: Array<{ path: string; reason: string }>;
}

export interface ScanHooks {
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

const EMPTY: Buffer = Buffer.alloc(0);
/** AUFS whiteout prefix (image-spec layer.md "Whiteouts"). */
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export async function scanLayer(
  job: LayerJob,
  filter: FileFilter,
  hooks: ScanHooks = {},
): Promise<LayerScan> {
  hooks.signal?.throwIfAborted();
  const raw = openLocation(job.location);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hooks.onBytes?.(chunk.length);
      callback(null, chunk);
    },
  });
  if (job.digest) {
    pipeline(raw, createDigestVerifier(job.digest, { input: job.input, size: job.size }), counter, () => {});
  } else {
    pipeline(raw, counter, () => {});
  }
  const { stream: decompressed } = await openDecompressed(counter, { ...job.decompress, input: job.input });
  let tarStream = decompressed;
  if (job.diffId) {
    const verifier = createDigestVerifier(job.diffId, { input: `${job.input} (uncompressed, diff_id)` });
    pipeline(decompressed, verifier, () => {});
    tarStream = verifier;
  }

  const files = new Map<string, ScannedFile>();
  const scan: LayerScan = {
    files: [],
    whiteouts: [],
    opaqueDirs: [],
    hidden: [],
    hiddenDirs: [],
    skipped: [],
  };
  try {
    for await (const tarEntry of readTar(tarStream, { input: job.input })) {
      hooks.signal?.throwIfAborted();
      const header = tarEntry.header;
      const path = header.path;
      if (job.image) {
        const slash = path.lastIndexOf('/');
        const dir = slash < 0 ? '' : path.slice(0, slash);
        const base = path.slice(slash + 1);
        if (base === OPAQUE) {
          scan.opaqueDirs.push(dir);
          continue;
        }
        // Other `.wh..wh.` names are AUFS bookkeeping (hard-link directory `.wh..wh.plnk`), not files.
        if (base.startsWith(`${WHITEOUT}${WHITEOUT}`)) continue;
        if (base.startsWith(WHITEOUT)) {
          const name = base.slice(WHITEOUT.length);
          scan.whiteouts.push(dir === '' ? name : `${dir}/${name}`);
          continue;
        }
      }
      const entry: FileEntry = { path, type: header.type, size: header.size, mode: header.mode };
      if (header.linkTarget !== undefined) entry.linkTarget = header.linkTarget;
      if (job.layer) entry.layer = job.layer;
      // Hard links: the content is the target's, found earlier in this same archive when kept.
      const linked = header.type === 'hardlink' ? files.get(header.linkTarget as string) : undefined;
      if (linked) entry.size = linked.data.length;

      let keep = filter.want(entry);
      if (keep === 'sniff') {
        const head = linked ? linked.data.subarray(0, SNIFF_BYTES) : await tarEntry.peek(SNIFF_BYTES);
        keep = filter.sniff ? filter.sniff(entry, head) : false;
      }
      if (!keep || (header.type === 'file' && entry.size > job.maxFileSize)) {
        if (keep)
          scan.skipped.push({
            path,
            reason: `${entry.size} bytes is larger than maxFileSize ${job.maxFileSize}`,
          });
        files.delete(path);
        if (header.type === 'dir') scan.hiddenDirs.push(path);
        else scan.hidden.push(path);
        continue;
      }
      let data: Buffer = EMPTY;
      if (linked) data = linked.data;
      else if (header.type === 'file') data = await tarEntry.readAll();
      files.delete(path); // keep archive order of the last occurrence
      files.set(path, { entry, data });
    }
  } finally {
    // On error, stop reading the blob (pipeline destroys the other stages).
    tarStream.destroy();
    raw.destroy();
  }
  scan.files = [...files.values()];
  return scan;
}
