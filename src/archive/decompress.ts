/**
 * Detects the compression of a stream by its magic bytes (never by file name or media type: docker
 * save writes uncompressed layers under names that do not say so) and decompresses with limits, so a
 * decompression bomb stops with LIMIT instead of filling memory or disk.
 */

import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { WaybillError } from '../errors.ts';
import { type ArtifactBudget, limitFromEnv } from './artifact-budget.ts';
import { MultiFrameZstdDecompress } from './zstd-frames.ts';

export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

/** Bytes needed to tell the compressions apart. */
export const COMPRESSION_MAGIC_BYTES = 6;

/**
 * The most any one compressed stream may expand to: 16 GiB, or `WAYBILL_MAX_UNCOMPRESSED_BYTES`.
 * Deflate cannot pass about 1032:1, under the ratio cap, so this cap is what stops a gzip bomb; a
 * release pipeline that knows its layers are small can set it lower and fail faster.
 */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 ** 3;

/** The output cap in force: the environment's, read when a stream opens, else the default. */
export function maxOutputBytes(): number {
  return limitFromEnv('WAYBILL_MAX_UNCOMPRESSED_BYTES', DEFAULT_MAX_OUTPUT_BYTES);
}
export const DEFAULT_MAX_RATIO = 1100;
export const DEFAULT_RATIO_GRACE_BYTES = 64 * 1024 ** 2;

/**
 * Buffer size (bytes) of the decompressor's output and of the stages around it. zlib inflates on
 * libuv's threadpool, but only while its output has somewhere to go: with Node's 64 KiB default the
 * inflater stalls each time the consumer (digest, tar reader) is busy on the main thread, so the two
 * take turns. 1 MiB of slack lets them run side by side (fixture layer, 222 MB: 0.93 s → 0.68 s;
 * 2 and 4 MiB were no faster and cost RSS).
 */
export const STREAM_BUFFER_BYTES = 1024 * 1024;

/** RFC 1952 (gzip), RFC 8878 §3.1.1 (zstd frame), xz file format §2.1.1.1, bzip2 "BZh". */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    return 'zstd';
  }
  if (
    head.length >= 6 &&
    head[0] === 0xfd &&
    head[1] === 0x37 &&
    head[2] === 0x7a &&
    head[3] === 0x58 &&
    head[4] === 0x5a &&
    head[5] === 0x00
  ) {
    return 'xz';
  }
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  return 'none';
}

export interface DecompressLimits {
  /** Named in errors: the file, blob or layer being decompressed. */
  input: string;
  /** Absolute cap on decompressed bytes. Default 16 GiB. */
  maxOutputBytes?: number;
  /** Cap on output/input once output is past `ratioGraceBytes`. Default 1100 (deflate's max is ~1032). */
  maxRatio?: number;
  /** Output below this never trips the ratio cap (small, highly compressible files are normal). */
  ratioGraceBytes?: number;
  /** The whole artifact's budget, charged with this stream's output too (same thread only). */
  budget?: ArtifactBudget;
}

/**
 * Decompresses what `head` says the stream is. Only the first few bytes are sniffed; they are put
 * back, so the returned stream yields the whole decompressed content (or the input itself for
 * `none`, still under the output cap).
 */
export async function openDecompressed(
  source: Readable,
  limits: DecompressLimits,
): Promise<{ compression: Compression; stream: Readable }> {
  const head = await peek(source, COMPRESSION_MAGIC_BYTES);
  const compression = detectCompression(head);
  return { compression, stream: decompressAs(compression, source, limits) };
}

/** Decompresses `source` as the given compression, enforcing the limits. */
export function decompressAs(compression: Compression, source: Readable, limits: DecompressLimits): Readable {
  const caps = new OutputCaps(limits);
  const limiter = new OutputLimiter(caps);
  const inputCounter = new Transform({
    highWaterMark: STREAM_BUFFER_BYTES,
    transform(chunk: Buffer, _enc, callback) {
      caps.consumed(chunk.length);
      callback(null, chunk);
    },
  });
  const inner = createInner(compression, limits.input);
  // pipeline destroys every stage with the first error, so the consumer of `limiter` sees it.
  pipeline(source, inputCounter, inner, limiter, () => {});
  return limiter;
}

/**
 * zlib passes its options on to the Transform it is, so the readable buffer size applies; the type
 * declarations just do not list the stream options.
 */
const zlibStreamOptions = {
  chunkSize: 128 * 1024,
  readableHighWaterMark: STREAM_BUFFER_BYTES,
} as zlib.ZlibOptions & zlib.ZstdOptions;

function createInner(compression: Compression, input: string): Transform {
  switch (compression) {
    case 'gzip':
      // 128 KiB output chunks instead of zlib's 16 KiB: every chunk passes through the digest, the
      // size limiter and the tar reader, and per-chunk overhead doubled the time of a layer walk
      // (scripts/bench.ts: 2.19 GiB synthetic image 11.2 s → 6.0 s, gzip -dc floor 7.8 s).
      return wrapZlibErrors(zlib.createGunzip(zlibStreamOptions), input, 'gzip');
    case 'zstd':
      // Every frame, not just the first (see zstd-frames.ts).
      return wrapZlibErrors(new MultiFrameZstdDecompress(input, zlibStreamOptions), input, 'zstd');
    case 'none':
      return new Transform({
        highWaterMark: STREAM_BUFFER_BYTES,
        transform(chunk: Buffer, _enc, callback) {
          callback(null, chunk);
        },
      });
    default:
      throw new WaybillError('UNSUPPORTED', input, `${compression} compression is not supported`);
  }
}

/** zlib reports corrupt data with its own errors; turn them into MALFORMED naming the input. */
function wrapZlibErrors(stream: Transform, input: string, name: string): Transform {
  const originalDestroy = stream.destroy.bind(stream);
  stream.destroy = (error?: Error) => {
    if (error && !(error instanceof WaybillError)) {
      const reason = error.message.split('\n')[0] ?? 'corrupt data';
      return originalDestroy(
        new WaybillError('MALFORMED', input, `${name} stream: ${reason}`, { cause: error }),
      );
    }
    return originalDestroy(error);
  };
  return stream;
}

/**
 * The caps of `DecompressLimits` over one stream: told how many bytes went in and came out, throws
 * LIMIT as soon as the output passes the absolute cap, the ratio cap (past the grace bytes) or the
 * artifact's budget. Shared by the stream pipeline here and the synchronous layer scan.
 */
export class OutputCaps {
  private input = 0;
  private output = 0;
  private readonly maxOutput: number;
  private readonly maxRatio: number;
  private readonly grace: number;
  private readonly name: string;
  private readonly budget: ArtifactBudget | undefined;

  constructor(limits: DecompressLimits) {
    this.maxOutput = limits.maxOutputBytes ?? maxOutputBytes();
    this.maxRatio = limits.maxRatio ?? DEFAULT_MAX_RATIO;
    this.grace = limits.ratioGraceBytes ?? DEFAULT_RATIO_GRACE_BYTES;
    this.name = limits.input;
    this.budget = limits.budget;
  }

  /** `n` more compressed bytes went in. */
  consumed(n: number): void {
    this.input += n;
  }

  /** `n` more bytes came out; throws LIMIT when a cap is passed. */
  produced(n: number): void {
    const output = this.output + n;
    this.output = output;
    if (output > this.maxOutput) {
      throw new WaybillError(
        'LIMIT',
        this.name,
        `decompressed size passes the limit of ${this.maxOutput} bytes`,
      );
    }
    if (output > this.grace && output > this.maxRatio * Math.max(this.input, 1)) {
      throw new WaybillError(
        'LIMIT',
        this.name,
        `decompression ratio passes ${this.maxRatio}:1 (${output} bytes from ${this.input}): a decompression bomb?`,
      );
    }
    this.budget?.chargeBytes(n);
  }
}

class OutputLimiter extends Transform {
  private readonly caps: OutputCaps;

  constructor(caps: OutputCaps) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    this.caps = caps;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      this.caps.produced(chunk.length);
    } catch (e) {
      callback(e as Error);
      return;
    }
    callback(null, chunk);
  }
}

/**
 * Reads at least `n` bytes (fewer at end of stream) without consuming them: they are unshifted back.
 * The stream is left paused, ready to be piped.
 */
export async function peek(source: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < n) {
    const chunk: Buffer | null = source.read();
    if (chunk !== null) {
      chunks.push(chunk);
      length += chunk.length;
      continue;
    }
    if (source.readableEnded || source.destroyed) break;
    const ended = await waitReadable(source);
    if (ended) {
      const rest: Buffer | null = source.read();
      if (rest !== null) {
        chunks.push(rest);
        length += rest.length;
      }
      break;
    }
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) source.unshift(head);
  return head;
}

function waitReadable(source: Readable): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onEnd);
    };
    const onReadable = () => {
      cleanup();
      resolve(false);
    };
    const onEnd = () => {
      cleanup();
      resolve(true);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    source.on('readable', onReadable);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onEnd);
  });
}

/**
 * Best-effort decompression of the first bytes of a file, for sniffing what is inside a compressed
 * file (is this .tar.gz a tarball?). Returns the raw head when uncompressed, `undefined` when the head
 * is compressed with something unsupported or is corrupt.
 */
export function decompressHead(head: Buffer, maxBytes = 16 * 1024 * 1024): Buffer | undefined {
  const compression = detectCompression(head);
  try {
    if (compression === 'none') return head;
    if (compression === 'gzip') {
      return zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: maxBytes });
    }
    if (compression === 'zstd') {
      return zlib.zstdDecompressSync(head, {
        finishFlush: zlib.constants.ZSTD_e_flush,
        maxOutputLength: maxBytes,
      });
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Convenience for tests and small inputs: decompress a whole buffer under limits. */
export async function decompressBuffer(data: Buffer, limits: DecompressLimits): Promise<Buffer> {
  const { stream } = await openDecompressed(Readable.from([data]), limits);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
