/**
 * Reads one layer (or one plain tarball) once, as a stream: blob digest checked on the compressed
 * bytes, decompressed under limits, uncompressed digest (the config's diff_id) checked, tar headers
 * read, and only the files the filter wants kept in memory. Runs in-process or inside a worker.
 */
import { pipeline, type Readable, Transform } from 'node:stream';
import { ArtifactBudget, type BudgetState } from '../archive/artifact-budget.ts';
import { openDecompressed, STREAM_BUFFER_BYTES } from '../archive/decompress.ts';
import { readTar } from '../archive/tar-reader.ts';
import { WaybillError } from '../errors.ts';
import { DigestCheck } from '../util/digest.ts';
import { type BlobLocation, openLocation } from './blob-store.ts';
import { keptBytesSpilled, SPILL_MIN_BYTES } from './spill.ts';
import { type FileEntry, type FileFilter, keptBytes, SNIFF_BYTES } from './types.ts';
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
  /** Recorded as FileEntry.layer: the layer's diff_id. */
  layer?: string;
  /** Interpret `.wh.` whiteouts and opaque-dir markers (image layers only). */
  image: boolean;
  maxFileSize: number;
  decompress?: SourceWalkOptions['decompress'];
  /** The artifact's budget (uncompressed bytes and entries of all its layers), shared across threads. */
  budget?: BudgetState;
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
  /** Uncompressed bytes and archive entries read: what applying this layer again costs the budget. */
  bytes: number;
  entries: number;
}

export interface ScanHooks {
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

const EMPTY: Buffer = Buffer.alloc(0);

/** DigestCheck's size half, for bytes whose digest is checked elsewhere. */
class SizeCheck {
  private seen = 0;
  private readonly options: { input: string; size?: number };

  constructor(options: { input: string; size?: number }) {
    this.options = options;
  }

  update(chunk: Uint8Array): void {
    this.seen += chunk.length;
    const size = this.options.size;
    if (size !== undefined && this.seen > size)
      throw new WaybillError('DIGEST_MISMATCH', this.options.input, `more than the declared ${size} bytes`);
  }

  finish(): void {
    const size = this.options.size;
    if (size !== undefined && this.seen !== size)
      throw new WaybillError(
        'DIGEST_MISMATCH',
        this.options.input,
        `size mismatch: ${this.seen} bytes, descriptor says ${size}`,
      );
  }
}
/**
 * Files up to this size are read into the reused buffer when the filter has a content predicate;
 * larger ones a filter can condense are condensed from disk (spill.ts), so neither this buffer nor
 * any one file costs more memory than this.
 */
const SCRATCH_MAX_BYTES = SPILL_MIN_BYTES;

/** Grows in powers of two from 1 MiB, so a run of slightly larger files does not reallocate each time. */
function scratchSizeFor(size: number): number {
  let n = 1024 * 1024;
  while (n < size) n *= 2;
  return Math.min(n, SCRATCH_MAX_BYTES);
}
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
  // One stage on the compressed side: progress and the blob digest. An uncompressed layer (every
  // docker-archive layer skopeo or docker writes) has its diff_id for a digest: the same bytes, hashed
  // once where the tar reader reads them (below); here only the declared size is checked.
  const sameBytes = job.digest !== undefined && job.digest === job.diffId;
  const declared = { input: job.input, ...(job.size !== undefined ? { size: job.size } : {}) };
  const compressedCheck = job.digest
    ? sameBytes
      ? new SizeCheck(declared)
      : new DigestCheck(job.digest, declared)
    : undefined;
  const meter = new Transform({
    highWaterMark: STREAM_BUFFER_BYTES,
    transform(chunk: Buffer, _enc, callback) {
      try {
        compressedCheck?.update(chunk);
      } catch (e) {
        callback(e as Error);
        return;
      }
      hooks.onBytes?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback) {
      try {
        compressedCheck?.finish();
      } catch (e) {
        callback(e as Error);
        return;
      }
      callback();
    },
  });
  pipeline(raw, meter, () => {});
  const budget = job.budget ? ArtifactBudget.attach(job.budget) : undefined;
  const { stream: decompressed, compression } = await openDecompressed(meter, {
    ...job.decompress,
    input: job.input,
    ...(budget ? { budget } : {}),
  });

  const files = new Map<string, ScannedFile>();
  let scratch: Buffer = EMPTY;
  const scan: LayerScan = {
    files: [],
    whiteouts: [],
    opaqueDirs: [],
    hidden: [],
    hiddenDirs: [],
    skipped: [],
    bytes: 0,
    entries: 0,
  };
  // The diff_id is hashed where the tar reader pulls the bytes, not in a piped stage: a piped stage
  // would run inside zlib's completion callback, holding back the next inflate on the threadpool.
  const diffIdCheck = job.diffId
    ? new DigestCheck(job.diffId, { input: `${job.input} (uncompressed, diff_id)` })
    : undefined;
  const tarStream = countedChunks(decompressed, diffIdCheck, (n) => {
    scan.bytes += n;
  });
  try {
    if (sameBytes && compression !== 'none') {
      // Compressed bytes cannot hash to the digest of what they decompress to.
      throw new WaybillError(
        'DIGEST_MISMATCH',
        job.input,
        `the blob is ${compression}-compressed, but its digest is its uncompressed diff_id ${job.diffId}`,
      );
    }
    for await (const tarEntry of readTar(tarStream, { input: job.input })) {
      hooks.signal?.throwIfAborted();
      scan.entries++;
      budget?.chargeEntries(1);
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
      if (linked) entry.size = linked.entry.size;

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
      files.delete(path); // keep archive order of the last occurrence
      if (header.type !== 'file' && header.type !== 'hardlink') {
        files.set(path, { entry, data: EMPTY });
        continue;
      }
      let kept: Buffer | undefined;
      if (linked) kept = keptBytes(filter, entry, linked.data, false);
      else if (filter.condense && entry.size > SPILL_MIN_BYTES)
        kept = await keptBytesSpilled(filter, entry, tarEntry.body());
      else if ((filter.keep || filter.condense) && entry.size <= SCRATCH_MAX_BYTES) {
        // Most files a content predicate sees are dropped (executables without Go build info) or
        // condensed: read them into one reused buffer and copy out only what is kept, instead of
        // allocating each (external memory that drives V8 into a mark-compact every few MiB).
        if (scratch.length < entry.size) scratch = Buffer.allocUnsafe(scratchSizeFor(entry.size));
        kept = keptBytes(filter, entry, await tarEntry.readInto(scratch), true);
      } else kept = keptBytes(filter, entry, await tarEntry.readAll(), false);
      if (kept === undefined) {
        // Dropped on content: like an unwanted entry, it still replaces lower versions of its path.
        scan.hidden.push(path);
        continue;
      }
      files.set(path, { entry, data: kept });
    }
  } finally {
    // On error, stop reading the blob (pipeline destroys the other stages).
    decompressed.destroy();
    raw.destroy();
  }
  scan.files = [...files.values()];
  return scan;
}

// ---- handing a scan from a worker thread to the main thread ------------------------------------

/** Where a kept file's bytes are in the transferred slabs. */
export interface PackedFile {
  entry: FileEntry;
  slab: number;
  offset: number;
  length: number;
}

export interface PackedScan extends Omit<LayerScan, 'files'> {
  files: PackedFile[];
  slabs: ArrayBuffer[];
}

/**
 * Slab size: small files share a slab (one transfer, one allocation); one file larger than this gets
 * its own. Bounded so a layer with many kept bytes is not one huge allocation.
 */
const SLAB_BYTES = 16 * 1024 * 1024;

/**
 * Copies every kept file's bytes into fresh, unshared ArrayBuffers. The scan's own Buffers cannot be
 * transferred: they may be views into Node's shared allocation pool or into a larger read chunk, and
 * transferring would detach memory other Buffers in this worker still use. Hard links that share
 * their target's Buffer share its bytes in the slab too.
 */
export function packScan(scan: LayerScan): { packed: PackedScan; transfer: ArrayBuffer[] } {
  const slabs: ArrayBuffer[] = [];
  const placed = new Map<Buffer, { slab: number; offset: number }>();
  const files: PackedFile[] = [];
  // Group into slabs first (sizes only), then allocate each slab once at its exact size.
  const groups: Buffer[][] = [];
  let current: Buffer[] = [];
  let currentBytes = 0;
  const unique: Buffer[] = [];
  for (const f of scan.files) {
    if (placed.has(f.data)) continue;
    placed.set(f.data, { slab: -1, offset: 0 });
    unique.push(f.data);
  }
  for (const data of unique) {
    if (currentBytes > 0 && currentBytes + data.length > SLAB_BYTES) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(data);
    currentBytes += data.length;
  }
  if (current.length > 0) groups.push(current);
  for (const group of groups) {
    const size = group.reduce((n, b) => n + b.length, 0);
    const slab = new ArrayBuffer(size);
    const view = new Uint8Array(slab);
    let offset = 0;
    for (const data of group) {
      view.set(data, offset);
      placed.set(data, { slab: slabs.length, offset });
      offset += data.length;
    }
    slabs.push(slab);
  }
  for (const f of scan.files) {
    const at = placed.get(f.data) as { slab: number; offset: number };
    files.push({ entry: f.entry, slab: at.slab, offset: at.offset, length: f.data.length });
  }
  const { files: _files, ...rest } = scan;
  return { packed: { ...rest, files, slabs }, transfer: slabs };
}

/** The main thread's side of `packScan`: Buffers over the transferred slabs, no copy. */
export function unpackScan(packed: PackedScan): LayerScan {
  const { slabs, files, ...rest } = packed;
  return {
    ...rest,
    files: files.map((f) => ({
      entry: f.entry,
      data: f.slab < 0 ? Buffer.alloc(0) : Buffer.from(slabs[f.slab] as ArrayBuffer, f.offset, f.length),
    })),
  };
}

/**
 * Yields the stream's chunks, counting and hashing each; the check ends (and may throw) after the
 * last one.
 */
async function* countedChunks(
  source: Readable,
  check: DigestCheck | undefined,
  count: (n: number) => void,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    count((chunk as Buffer).length);
    check?.update(chunk as Buffer);
    yield chunk as Buffer;
  }
  check?.finish();
}
