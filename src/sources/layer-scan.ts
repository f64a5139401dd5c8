/**
 * Reads one layer (or one plain tarball) once: blob digest checked on the compressed bytes,
 * decompressed under limits, uncompressed digest (the config's diff_id) checked, tar headers read,
 * and only the files the filter wants kept in memory (layer-entries.ts). Runs in-process or inside a
 * worker.
 *
 * The bytes are read synchronously into one reused buffer, decompressed into another
 * (archive/sync-decompress.ts) and handed piece by piece to a pushing tar parser (archive/tar-push.ts):
 * no stream stages, no promise per entry, and no buffer per chunk for the garbage collector, which on
 * zlib's streams cost a full collection every few tens of MiB and as much memory again in garbage.
 * Between two input chunks the scan yields to the event loop, so the thread it runs on still answers
 * (the main thread is one of the walk's lanes). Where a Node release lacks the synchronous decoder,
 * the bytes come through zlib's streams instead, into the same parser.
 */
import { closeSync, readSync } from 'node:fs';
import { pipeline, Transform } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ArtifactBudget, type BudgetState } from '../archive/artifact-budget.ts';
import {
  COMPRESSION_MAGIC_BYTES,
  type Compression,
  detectCompression,
  OutputCaps,
  openDecompressed,
  STREAM_BUFFER_BYTES,
} from '../archive/decompress.ts';
import {
  createSyncDecompressor,
  type SyncDecompressor,
  syncDecompression,
} from '../archive/sync-decompress.ts';
import { TarPushParser } from '../archive/tar-push.ts';
import { decompressFileRange } from '../archive/xz.ts';
import { WaybillError } from '../errors.ts';
import { DigestCheck, localSha256, type Sha256Sink } from '../util/digest.ts';
import type { HashLane } from '../util/hash-lane.ts';
import { openRegularFileSync } from '../util/regular-file.ts';
import { type BlobLocation, openLocation } from './blob-store.ts';
import { LayerEntries, type LayerScan, type LinkTargets } from './layer-entries.ts';
import { packBuffers, type SlabPlace, unpackBuffer } from './slabs.ts';
import type { FileEntry, FileFilter } from './types.ts';
import type { SourceWalkOptions } from './walk-options.ts';

export type { LayerScan, ScannedFile } from './layer-entries.ts';

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

export interface ScanHooks {
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  /** Decompress through zlib's streams even where the synchronous decoder works (tests of the fallback). */
  streams?: boolean;
  /** Hash the layer's bytes on this lane's thread instead of the scanning one (util/hash-lane.ts). */
  hashLane?: HashLane;
}

/** Compressed bytes read at a time, into one buffer; the scan yields to the event loop after each. */
const READ_BYTES = 1024 * 1024;

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
 * The check of the stored (compressed) bytes: their digest and size. An uncompressed layer (every
 * docker-archive layer skopeo or docker writes) has its diff_id for a digest: the same bytes, hashed
 * once as the uncompressed side; here only the declared size is checked.
 */
function storedBytesCheck(job: LayerJob, hashLane?: HashLane): SizeCheck | DigestCheck | undefined {
  if (!job.digest) return undefined;
  const declared = { input: job.input, ...(job.size !== undefined ? { size: job.size } : {}) };
  return sameBytes(job) ? new SizeCheck(declared) : new DigestCheck(job.digest, declared, sha256On(hashLane));
}

function sha256On(hashLane: HashLane | undefined): Sha256Sink {
  return hashLane?.sha256() ?? localSha256();
}

/** An uncompressed layer: its stored bytes are its tar, so its digest is its diff_id. */
export function sameBytes(job: LayerJob): boolean {
  return job.digest !== undefined && job.digest === job.diffId;
}

/** Compressed bytes cannot hash to the digest of what they decompress to. */
function refuseCompressedDiffId(job: LayerJob, compression: Compression): void {
  if (sameBytes(job) && compression !== 'none') {
    throw new WaybillError(
      'DIGEST_MISMATCH',
      job.input,
      `the blob is ${compression}-compressed, but its digest is its uncompressed diff_id ${job.diffId}`,
    );
  }
}

export async function scanLayer(
  job: LayerJob,
  filter: FileFilter,
  hooks: ScanHooks = {},
): Promise<LayerScan> {
  hooks.signal?.throwIfAborted();
  const budget = job.budget ? ArtifactBudget.attach(job.budget) : undefined;
  const entries = new LayerEntries(job, filter, budget);
  const tar = new TarPushParser(job.input, entries);
  const diffIdCheck = job.diffId
    ? new DigestCheck(job.diffId, { input: `${job.input} (uncompressed, diff_id)` }, sha256On(hooks.hashLane))
    : undefined;
  const uncompressed = (piece: Buffer) => {
    entries.scan.bytes += piece.length;
    diffIdCheck?.update(piece);
    tar.push(piece);
  };
  try {
    if (!job.image && startsWithXz(job)) await pumpXz(job, budget, uncompressed, hooks);
    else if (hooks.streams || !syncDecompression()) await pumpStreams(job, budget, uncompressed, hooks);
    else
      await pumpSync(job, budget, uncompressed, hooks, (fd, start) =>
        entries.storedAt(fd, start, () => tar.position),
      );
    diffIdCheck?.finish();
    tar.finish();
    const targets = entries.linkTargets();
    if (targets.size > 0) entries.resolveLinks(await linkTargetBytes(job, targets, hooks));
  } catch (e) {
    entries.discard();
    throw e;
  }
  return entries.result();
}

/**
 * The bytes of the files that wanted hard links point to, when the filter did not want those files
 * themselves: a tar stores a hard link's content once, under the first name (a package manager's
 * store, a cache), so a second pass over the layer reads just those. Rare, so it costs nothing
 * otherwise; the budget was charged by the first pass. A target that is itself a hard link of this
 * layer names the same file as its own target (a link refers to an earlier entry), followed to a file
 * of this layer (read by a third pass when the second did not know it was wanted) or to a path the
 * layer does not hold: a lower layer's file, returned in `lower`.
 */
async function linkTargetBytes(
  job: LayerJob,
  targets: ReadonlyMap<string, number>,
  hooks: ScanHooks,
): Promise<LinkTargets> {
  const links = new Map<string, string>();
  const held = new Set<string>();
  const first = await readLayerFiles(job, targets, hooks, (entry) => {
    held.add(entry.path);
    if (entry.type === 'hardlink' && entry.linkTarget !== undefined) links.set(entry.path, entry.linkTarget);
  });
  const ends = new Map([...targets.keys()].map((target) => [target, linkChainEnd(links, target)]));
  const unread = new Map<string, number>();
  for (const [target, end] of ends)
    if (held.has(end) && !first.bytes.has(end) && !first.tooLarge.has(end))
      unread.set(end, Math.max(targets.get(target) ?? 0, unread.get(end) ?? 0));
  const second = unread.size > 0 ? await readLayerFiles(job, unread, hooks) : undefined;
  const out: LinkTargets = { bytes: new Map(), present: new Set(), lower: new Map(), tooLarge: new Map() };
  for (const [target, end] of ends) {
    const data = first.bytes.get(end) ?? second?.bytes.get(end);
    if (data !== undefined) out.bytes.set(target, data);
    const tooLarge = first.tooLarge.get(end) ?? second?.tooLarge.get(end);
    if (tooLarge !== undefined) out.tooLarge.set(target, tooLarge);
    if (held.has(end)) out.present.add(target);
    else out.lower.set(target, end);
  }
  return out;
}

/** The path a chain of this layer's hard links ends at (a loop ends where it closes). */
function linkChainEnd(links: ReadonlyMap<string, string>, start: string): string {
  const seen = new Set<string>();
  let path = start;
  for (let next = links.get(path); next !== undefined && !seen.has(path); next = links.get(path)) {
    seen.add(path);
    path = next;
  }
  return path;
}

/**
 * One more pass over a layer whose budget the first pass charged, keeping the entries at `paths` of
 * the given types, none read past its limit there (a larger one is skipped, with why); `each` sees
 * every entry. For the bytes hard links point to, in their own layer or below (layer-lower-links.ts).
 */
export function rescanLayer(
  job: LayerJob,
  paths: ReadonlyMap<string, number>,
  options: {
    types: ReadonlyArray<FileEntry['type']>;
    each?: (entry: FileEntry) => void;
    signal?: AbortSignal;
  },
): Promise<LayerScan> {
  const { budget: _charged, ...again } = job;
  const filter: FileFilter = {
    want: (entry) => {
      options.each?.(entry);
      return paths.has(entry.path) && options.types.includes(entry.type);
    },
    maxSize: (entry) => paths.get(entry.path),
  };
  return scanLayer(again, filter, options.signal ? { signal: options.signal } : {});
}

/**
 * The files at `paths` in one more pass over the layer, none read past its limit (a larger one gives
 * no bytes, only why); `each` sees every entry.
 */
async function readLayerFiles(
  job: LayerJob,
  paths: ReadonlyMap<string, number>,
  hooks: ScanHooks,
  each?: (entry: FileEntry) => void,
): Promise<{ bytes: Map<string, Buffer>; tooLarge: Map<string, string> }> {
  const scan = await rescanLayer(job, paths, {
    types: ['file'],
    ...(each ? { each } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });
  return {
    bytes: new Map(scan.files.map((f) => [f.entry.path, f.data])),
    tooLarge: new Map(scan.skipped.map((f) => [f.path, f.reason])),
  };
}

/**
 * Reads, checks and decompresses the blob into `onOutput`, synchronously chunk by chunk.
 * `onUncompressed`: the blob is not compressed, so its bytes are at `start` in `fd` (open until this
 * returns) as they reach `onOutput`.
 */
async function pumpSync(
  job: LayerJob,
  budget: ArtifactBudget | undefined,
  onOutput: (piece: Buffer) => void,
  hooks: ScanHooks,
  onUncompressed?: (fd: number, start: number) => void,
): Promise<void> {
  const { location } = job;
  const stored = storedBytesCheck(job, hooks.hashLane);
  const caps = new OutputCaps({ ...job.decompress, input: job.input, ...(budget ? { budget } : {}) });
  const output = (piece: Buffer) => {
    caps.produced(piece.length);
    onOutput(piece);
  };
  const fd =
    location.size > 0
      ? openRegularFileSync(location.file, { input: location.name, code: 'MALFORMED' }).fd
      : undefined;
  let decoder: SyncDecompressor | undefined;
  let compression: Compression | undefined;
  try {
    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(location.size, 1)));
    // An uncompressed layer hashed on a lane is read straight into the lane's ring: its diff_id
    // check then hashes the bytes where they are, and the tar parser reads them there too.
    const lane = sameBytes(job) ? hooks.hashLane : undefined;
    let position = location.start;
    let left = location.size;
    while (left > 0 && fd !== undefined) {
      const want = Math.min(buffer.length, left);
      const target = lane ? lane.reserve(want) : buffer;
      const n = readSync(fd, target, 0, want, position);
      if (n === 0) break;
      position += n;
      left -= n;
      const chunk = target.subarray(0, n);
      stored?.update(chunk);
      hooks.onBytes?.(n);
      caps.consumed(n);
      if (compression === undefined) {
        compression = detectCompression(chunk);
        refuseCompressedDiffId(job, compression);
        decoder = syncDecoderFor(compression, job.input);
        if (!decoder) onUncompressed?.(fd, location.start);
      }
      if (decoder) decoder.write(chunk, output);
      else output(chunk);
      hooks.signal?.throwIfAborted();
      await yieldToEventLoop();
    }
    stored?.finish();
    decoder?.end(output);
  } finally {
    decoder?.close();
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A plain tarball in xz (a .tar.xz release): xz is not a layer compression (OCI defines gzip and
 * zstd), so images never come here. Decoded by archive/xz.ts from the file itself, which reads every
 * check type xz-utils writes, SHA-256 ones included, under the same output caps as the other pumps.
 */
function startsWithXz(job: LayerJob): boolean {
  const { location } = job;
  if (location.size < COMPRESSION_MAGIC_BYTES) return false;
  const { fd } = openRegularFileSync(location.file, { input: location.name, code: 'MALFORMED' });
  try {
    const head = Buffer.alloc(COMPRESSION_MAGIC_BYTES);
    const n = readSync(fd, head, 0, head.length, location.start);
    return detectCompression(head.subarray(0, n)) === 'xz';
  } finally {
    closeSync(fd);
  }
}

async function pumpXz(
  job: LayerJob,
  budget: ArtifactBudget | undefined,
  onOutput: (piece: Buffer) => void,
  hooks: ScanHooks,
): Promise<void> {
  const { location } = job;
  const limits = { ...job.decompress, input: job.input, ...(budget ? { budget } : {}) };
  const caps = new OutputCaps(limits);
  const stream = await decompressFileRange(
    location.file,
    location.start,
    location.start + location.size,
    'xz',
    limits,
    (n) => {
      caps.consumed(n);
      hooks.onBytes?.(n);
    },
  );
  try {
    for await (const piece of stream) {
      caps.produced((piece as Buffer).length);
      onOutput(piece as Buffer);
      hooks.signal?.throwIfAborted();
    }
  } finally {
    stream.destroy();
  }
}

function syncDecoderFor(compression: Compression, input: string): SyncDecompressor | undefined {
  if (compression === 'none') return undefined;
  if (compression !== 'gzip' && compression !== 'zstd')
    throw new WaybillError('UNSUPPORTED', input, `${compression} compression is not supported`);
  const decoder = createSyncDecompressor(compression, input);
  if (!decoder) throw new Error('synchronous zlib decoder unavailable');
  return decoder;
}

/** The same through zlib's streams (decompress.ts), for a Node without the synchronous decoder. */
async function pumpStreams(
  job: LayerJob,
  budget: ArtifactBudget | undefined,
  onOutput: (piece: Buffer) => void,
  hooks: ScanHooks,
): Promise<void> {
  const raw = openLocation(job.location);
  const stored = storedBytesCheck(job, hooks.hashLane);
  const meter = new Transform({
    highWaterMark: STREAM_BUFFER_BYTES,
    transform(chunk: Buffer, _enc, callback) {
      try {
        stored?.update(chunk);
      } catch (e) {
        callback(e as Error);
        return;
      }
      hooks.onBytes?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback) {
      try {
        stored?.finish();
      } catch (e) {
        callback(e as Error);
        return;
      }
      callback();
    },
  });
  pipeline(raw, meter, () => {});
  const { stream, compression } = await openDecompressed(meter, {
    ...job.decompress,
    input: job.input,
    ...(budget ? { budget } : {}),
  });
  try {
    refuseCompressedDiffId(job, compression);
    for await (const piece of stream) {
      onOutput(piece as Buffer);
      hooks.signal?.throwIfAborted();
    }
  } finally {
    // On error, stop reading the blob (pipeline destroys the other stages).
    stream.destroy();
    raw.destroy();
  }
}

// ---- handing a scan from a worker thread to the main thread ------------------------------------

/** Where a kept file's bytes are in the transferred slabs. */
export interface PackedFile extends SlabPlace {
  entry: FileEntry;
}

export interface PackedScan extends Omit<LayerScan, 'files'> {
  files: PackedFile[];
  slabs: ArrayBuffer[];
}

/** The scan with its kept bytes copied into slabs for transfer (slabs.ts). */
export function packScan(scan: LayerScan): { packed: PackedScan; transfer: ArrayBuffer[] } {
  const { slabs, places } = packBuffers(scan.files.map((f) => f.data));
  const { files, ...rest } = scan;
  return {
    packed: { ...rest, files: files.map((f, i) => ({ entry: f.entry, ...(places[i] as SlabPlace) })), slabs },
    transfer: slabs,
  };
}

/** The main thread's side of `packScan`: Buffers over the transferred slabs, no copy. */
export function unpackScan(packed: PackedScan): LayerScan {
  const { slabs, files, ...rest } = packed;
  return {
    ...rest,
    files: files.map(({ entry, ...place }) => ({ entry, data: unpackBuffer(slabs, place) })),
  };
}
