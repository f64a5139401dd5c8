/**
 * xz decompression (the xz file format, tukaani.org xz-file-format-1.2.1) for .deb members
 * (`control.tar.xz`, `data.tar.xz`) and rpm payloads (`PAYLOADCOMPRESSOR xz`), which node:zlib does
 * not cover. The decoder is xz-embedded compiled to WASM (the `xz-decompress` package), wrapped here
 * so that it obeys the same rules as archive/decompress.ts: caps on output size and ratio (LIMIT),
 * corrupt or truncated input as MALFORMED naming the input.
 *
 * xz-embedded verifies CRC32 and CRC64 checks but refuses SHA-256 ones (XZ_OPTIONS_ERROR), and rpm
 * writes its xz payloads with SHA-256 checks (rpmio/rpmio.c, LZMA_CHECK_SHA256). For those, the
 * stream is read from a random-access source, its index (at the end) gives every block's extent, and
 * the stream is re-framed on the fly with check type None (the same block headers and LZMA2 data, the
 * check fields cut out, the index and footer rewritten); the SHA-256 of each block's decompressed
 * bytes is then verified here against the cut-out checks. See xz-file-format-1.2.1 §2.1 (stream
 * header/footer), §3 (blocks), §4 (index).
 *
 * xz-decompress serializes its decoder contexts behind one process-wide lock that is released only
 * when a stream ends, fails or is cancelled; the generator below always cancels in `finally`, so a
 * consumer that stops early (found the file it wanted) never leaves the lock held.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { WaybillError } from '../errors.ts';
import { type ByteSource, openFileSource } from './ar.ts';
import {
  type Compression,
  DEFAULT_MAX_RATIO,
  DEFAULT_RATIO_GRACE_BYTES,
  type DecompressLimits,
  decompressAs,
  maxOutputBytes,
} from './decompress.ts';

type XzStreamClass = new (source: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
let xzStreamClass: XzStreamClass | undefined;

/**
 * The decoder's stream class, loaded on the first xz stream: the package compiles its WASM and loads
 * Node's web streams when imported (~15 ms), which every command that can open a .deb or an rpm paid
 * at start-up, though most never meet xz data. CommonJS, so a synchronous require.
 */
function xzStreamDecoder(): XzStreamClass {
  xzStreamClass ??= (createRequire(import.meta.url)('xz-decompress') as { XzReadableStream: XzStreamClass })
    .XzReadableStream;
  return xzStreamClass;
}

/** xz-embedded's xz_ret codes (xz.h), for messages a user can act on. */
const XZ_ERRORS: Record<string, string> = {
  '2': 'unsupported integrity check',
  '3': 'out of memory',
  '4': 'dictionary larger than the decoder allows',
  '5': 'not xz data (bad magic or header)',
  '6': 'unsupported xz options (filter chain)',
  '7': 'corrupt xz data',
  '8': 'truncated xz data or garbage after the stream',
};

function describeXzError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const code = /error code (\d+)/.exec(text)?.[1];
  if (code && XZ_ERRORS[code]) return XZ_ERRORS[code];
  // The decoder dereferences a missing chunk when the input ends before any data.
  return 'truncated or empty xz data';
}

async function* xzChunks(source: AsyncIterable<unknown>, limits: DecompressLimits): AsyncGenerator<Buffer> {
  const maxOutput = limits.maxOutputBytes ?? maxOutputBytes();
  const maxRatio = limits.maxRatio ?? DEFAULT_MAX_RATIO;
  const grace = limits.ratioGraceBytes ?? DEFAULT_RATIO_GRACE_BYTES;
  let input = 0;
  let output = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      const bytes = chunk as Uint8Array;
      input += bytes.byteLength;
      if (bytes.byteLength > 0) yield bytes;
    }
  }
  const Decoder = xzStreamDecoder();
  const reader = new Decoder(ReadableStream.from(counted())).getReader();
  let finished = false;
  try {
    while (true) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        finished = true; // the decoder released its lock when it failed
        if (error instanceof WaybillError) throw error;
        throw new WaybillError('MALFORMED', limits.input, `xz stream: ${describeXzError(error)}`, {
          cause: error,
        });
      }
      if (next.done) {
        finished = true;
        return;
      }
      output += next.value.byteLength;
      if (output > maxOutput) {
        throw new WaybillError(
          'LIMIT',
          limits.input,
          `decompressed size passes the limit of ${maxOutput} bytes`,
        );
      }
      if (output > grace && output > maxRatio * Math.max(input, 1)) {
        throw new WaybillError(
          'LIMIT',
          limits.input,
          `decompression ratio passes ${maxRatio}:1 (${output} bytes from ${input}): a decompression bomb?`,
        );
      }
      if (next.value.byteLength > 0) {
        yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}

/** Decompresses an xz stream under limits. */
export function decompressXz(source: AsyncIterable<unknown>, limits: DecompressLimits): Readable {
  return Readable.from(xzChunks(source, limits), { objectMode: false });
}

/** Like `decompressAs`, with xz added: the compressions a .deb member or an rpm payload may use. */
export function decompressPackageStream(
  compression: Compression,
  source: Readable,
  limits: DecompressLimits,
): Readable {
  if (compression === 'xz') return decompressXz(source, limits);
  return decompressAs(compression, source, limits);
}

function bufferSourceOf(buf: Buffer): ByteSource {
  return { size: buf.length, read: async (offset, length) => buf.subarray(offset, offset + length) };
}

/**
 * Decompresses a byte range of a file (a .deb member, an rpm payload) as `compression` says, the
 * file read once front to back (xz with SHA-256 checks also reads its index first).
 */
export async function decompressFileRange(
  path: string,
  start: number,
  end: number,
  compression: Compression,
  limits: DecompressLimits,
  onInput?: (n: number) => void,
): Promise<Readable> {
  const source = await openFileSource(path);
  let inner: Readable;
  try {
    if (compression === 'xz') inner = await decompressXzRange(source, start, end, limits, onInput);
    else {
      const raw = Readable.from(copyRangeChunks(source, start, end - start, onInput), { objectMode: false });
      inner = decompressPackageStream(compression, raw, limits);
    }
  } catch (error) {
    await source.close();
    throw error;
  }
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      void source.close().catch(() => {});
    }
  };
  inner.once('close', close);
  inner.once('error', close);
  return inner;
}

/** Whole decompressed content of a small input (control archives), under limits. */
export async function decompressPackageBuffer(
  compression: Compression,
  data: Buffer,
  limits: DecompressLimits,
): Promise<Buffer> {
  const stream =
    compression === 'xz'
      ? await decompressXzRange(bufferSourceOf(data), 0, data.length, limits)
      : decompressPackageStream(compression, Readable.from([data]), limits);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Random-access xz: re-framing SHA-256-checked streams.

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const XZ_FOOTER_MAGIC = Buffer.from('YZ', 'latin1');
/** xz-file-format §2.1.1.2: check size by check type (0 None, 1 CRC32, 4 CRC64, 10 SHA-256). */
const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const CHECK_SHA256 = 0x0a;
/** Blocks in one stream we are willing to track (each index record is at least 2 bytes). */
const MAX_BLOCKS = 1_000_000;
/** Concatenated streams we are willing to read one by one. */
const MAX_STREAMS = 10_000;
const COPY_CHUNK = 1024 * 1024;

interface XzBlock {
  unpadded: number;
  uncompressed: number;
}

interface XzStreamLayout {
  start: number;
  /** End of the range (stream padding included): index, footer and padding are counted as read. */
  end: number;
  check: number;
  blocks: XzBlock[];
}

function crc32le(data: Buffer): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(zlib.crc32(data) >>> 0);
  return out;
}

function ceil4(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}

/** Multibyte integer (xz-file-format §1.2): 7 bits per byte, little end first, at most 9 bytes. */
function readVarint(buf: Buffer, at: { pos: number }, input: string): number {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    if (at.pos >= buf.length) throw new WaybillError('MALFORMED', input, 'xz index: truncated number');
    const byte = buf[at.pos++] as number;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw new WaybillError('MALFORMED', input, 'xz index: non-minimal number');
      if (!Number.isSafeInteger(value)) throw new WaybillError('LIMIT', input, 'xz index: number too large');
      return value;
    }
  }
  throw new WaybillError('MALFORMED', input, 'xz index: number longer than 9 bytes');
}

function writeVarint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/**
 * The layouts of the streams between `start` and `end`, in order: an xz file may be several streams
 * one after another, with stream padding between them (§2, §2.2; `xz -d` reads them all). Each is
 * found from the end, its footer and index giving where it starts.
 */
async function readXzLayouts(
  source: ByteSource,
  start: number,
  end: number,
  input: string,
): Promise<XzStreamLayout[]> {
  const layouts: XzStreamLayout[] = [];
  for (let streamEnd = end; ; ) {
    const layout = await readXzLayout(source, start, streamEnd, input);
    layouts.unshift(layout);
    if (layout.start === start) return layouts;
    if (layouts.length >= MAX_STREAMS)
      throw new WaybillError('LIMIT', input, `more than ${MAX_STREAMS} xz streams`);
    streamEnd = layout.start;
  }
}

/**
 * Reads the layout of the last xz stream before `end` (trailing stream padding allowed) from its
 * footer and index; it starts where its index says, at `start` or after it.
 */
async function readXzLayout(
  source: ByteSource,
  start: number,
  end: number,
  input: string,
): Promise<XzStreamLayout> {
  const bad = (reason: string) => new WaybillError('MALFORMED', input, `xz stream: ${reason}`);
  const pos = await paddingStart(source, start + 24, end);
  if (pos - start < 24) throw bad('too short for a stream header and footer');
  const footer = await source.read(pos - 12, 12);
  if (!footer.subarray(10, 12).equals(XZ_FOOTER_MAGIC))
    throw bad('bad footer magic (garbage after the stream?)');
  if (!crc32le(footer.subarray(4, 10)).equals(footer.subarray(0, 4)))
    throw bad('stream footer CRC32 mismatch');
  const check = (footer[9] as number) & 0x0f;
  if (footer[8] !== 0 || ((footer[9] as number) & 0xf0) !== 0) throw bad('reserved stream flags set');
  const indexSize = (footer.readUInt32LE(4) + 1) * 4;
  const indexStart = pos - 12 - indexSize;
  if (indexStart < start + 12) throw bad('index runs before the stream header');
  const index = await source.read(indexStart, indexSize);
  if (index[0] !== 0) throw bad('bad index indicator');
  if (!crc32le(index.subarray(0, indexSize - 4)).equals(index.subarray(indexSize - 4)))
    throw bad('index CRC32 mismatch');
  const at = { pos: 1 };
  const count = readVarint(index, at, input);
  if (count > MAX_BLOCKS) throw new WaybillError('LIMIT', input, `xz stream with ${count} blocks`);
  const blocks: XzBlock[] = [];
  let blocksSize = 0;
  for (let i = 0; i < count; i++) {
    const unpadded = readVarint(index, at, input);
    const uncompressed = readVarint(index, at, input);
    if (unpadded < 5 + CHECK_SIZE[check]!)
      throw bad(`index record ${i}: unpadded size ${unpadded} too small`);
    blocks.push({ unpadded, uncompressed });
    blocksSize += ceil4(unpadded);
  }
  if (ceil4(at.pos) !== indexSize - 4) throw bad('index size does not match its records');
  const streamStart = indexStart - blocksSize - 12;
  if (streamStart < start) throw bad('index does not account for the blocks before it');
  const header = await source.read(streamStart, 12);
  if (!header.subarray(0, 6).equals(XZ_MAGIC))
    throw bad(streamStart === start ? 'bad header magic' : 'index does not account for the blocks before it');
  if (!crc32le(header.subarray(6, 8)).equals(header.subarray(8, 12)))
    throw bad('stream header CRC32 mismatch');
  if (!footer.subarray(8, 10).equals(header.subarray(6, 8)))
    throw bad('stream header and footer flags differ');
  return { start: streamStart, end, check, blocks };
}

/** How much of the padding after a stream is looked at in one read. */
const PADDING_CHUNK = 64 * 1024;

/**
 * Where the stream padding before `end` begins (§2.2: zero bytes, a multiple of four, after a
 * stream), looking no lower than `floor`. Read backward in chunks: megabytes of padding are valid,
 * and four bytes at a time they took minutes.
 */
async function paddingStart(source: ByteSource, floor: number, end: number): Promise<number> {
  let zeros = 0;
  for (let pos = end; pos > floor; ) {
    const from = Math.max(floor, pos - PADDING_CHUNK);
    const chunk = await source.read(from, pos - from);
    let i = chunk.length;
    while (i > 0 && chunk[i - 1] === 0) i--;
    zeros += chunk.length - i;
    if (i > 0) break;
    pos = from;
  }
  return end - 4 * Math.floor(zeros / 4);
}

/** The check-type byte of the xz stream at `start`. */
async function xzCheckType(source: ByteSource, start: number, end: number, input: string): Promise<number> {
  if (end - start < 12) throw new WaybillError('MALFORMED', input, 'xz stream: truncated stream header');
  const header = await source.read(start, 12);
  if (!header.subarray(0, 6).equals(XZ_MAGIC))
    throw new WaybillError('MALFORMED', input, 'xz stream: bad header magic');
  return (header[7] as number) & 0x0f;
}

export async function* copyRangeChunks(
  source: ByteSource,
  from: number,
  length: number,
  onInput?: (n: number) => void,
): AsyncGenerator<Buffer> {
  let done = 0;
  while (done < length) {
    const n = Math.min(COPY_CHUNK, length - done);
    const piece = await source.read(from + done, n);
    onInput?.(n);
    done += n;
    yield piece;
  }
}

/** The stream with check type None: same blocks minus their check fields, index and footer rebuilt. */
async function* reframeWithoutChecks(
  source: ByteSource,
  layout: XzStreamLayout,
  checks: Array<Buffer | undefined>,
  onInput?: (n: number) => void,
): AsyncGenerator<Buffer> {
  const checkSize = CHECK_SIZE[layout.check] as number;
  const flags = Buffer.from([0x00, 0x00]);
  yield Buffer.concat([XZ_MAGIC, flags, crc32le(flags)]);
  onInput?.(12);
  let pos = layout.start + 12;
  for (const block of layout.blocks) {
    const total = ceil4(block.unpadded);
    // The check is read before the block's data: the decoder may emit the block's last bytes (and
    // the verifier needs the check) before it asks for the input that holds the check.
    checks.push(await source.read(pos + total - checkSize, checkSize));
    yield* copyRangeChunks(source, pos, total - checkSize, onInput);
    onInput?.(checkSize);
    pos += total;
  }
  const records = layout.blocks.map((b) =>
    Buffer.concat([writeVarint(b.unpadded - checkSize), writeVarint(b.uncompressed)]),
  );
  let index = Buffer.concat([Buffer.from([0x00]), writeVarint(layout.blocks.length), ...records]);
  index = Buffer.concat([index, Buffer.alloc(ceil4(index.length) - index.length)]);
  index = Buffer.concat([index, crc32le(index)]);
  const backward = Buffer.alloc(4);
  backward.writeUInt32LE(index.length / 4 - 1);
  const footerBody = Buffer.concat([backward, flags]);
  onInput?.(layout.end - pos);
  yield Buffer.concat([index, crc32le(footerBody), footerBody, XZ_FOOTER_MAGIC]);
}

/**
 * Every stream in order for the decoder: a SHA-256 one re-framed without its checks (kept in
 * `checks`, one per block), any other as it is (the decoder checks it; `undefined` per block).
 */
async function* streamsForDecoder(
  source: ByteSource,
  layouts: readonly XzStreamLayout[],
  checks: Array<Buffer | undefined>,
  onInput?: (n: number) => void,
): AsyncGenerator<Buffer> {
  for (const layout of layouts) {
    if (layout.check === CHECK_SHA256) {
      yield* reframeWithoutChecks(source, layout, checks, onInput);
      continue;
    }
    for (const _ of layout.blocks) checks.push(undefined);
    yield* copyRangeChunks(source, layout.start, layout.end - layout.start, onInput);
  }
}

/** Verifies the SHA-256 of each block that has one over the decompressed bytes, at the block boundaries. */
async function* verifySha256(
  output: AsyncIterable<Buffer>,
  layouts: readonly XzStreamLayout[],
  checks: Array<Buffer | undefined>,
  input: string,
): AsyncGenerator<Buffer> {
  const blocks = layouts.flatMap((l) =>
    l.blocks.map((b) => ({ uncompressed: b.uncompressed, sha256: l.check === CHECK_SHA256 })),
  );
  let blockIndex = 0;
  let left = blocks[0]?.uncompressed ?? 0;
  let hash = createHash('sha256');
  const finishBlocks = () => {
    while (left === 0 && blockIndex < blocks.length) {
      const expected = checks[blockIndex];
      if (blocks[blockIndex]?.sha256 && (!expected || !hash.digest().equals(expected))) {
        throw new WaybillError(
          'MALFORMED',
          input,
          `xz stream: SHA-256 check of block ${blockIndex} does not match`,
        );
      }
      blockIndex++;
      hash = createHash('sha256');
      left = blocks[blockIndex]?.uncompressed ?? 0;
    }
  };
  finishBlocks();
  for await (const chunk of output) {
    let at = 0;
    while (at < chunk.length) {
      if (blockIndex >= blocks.length) {
        throw new WaybillError('MALFORMED', input, 'xz stream: more data than its index records');
      }
      const n = Math.min(left, chunk.length - at);
      if (blocks[blockIndex]?.sha256) hash.update(chunk.subarray(at, at + n));
      left -= n;
      at += n;
      finishBlocks();
    }
    yield chunk;
  }
  if (blockIndex < blocks.length)
    throw new WaybillError('MALFORMED', input, 'xz stream: less data than its index records');
}

/**
 * Decompresses the xz stream stored in `source` between `start` and `end` (a .deb member, an rpm
 * payload), whatever its check type. `onInput` sees compressed bytes as they are read.
 */
export async function decompressXzRange(
  source: ByteSource,
  start: number,
  end: number,
  limits: DecompressLimits,
  onInput?: (n: number) => void,
): Promise<Readable> {
  const check = await xzCheckType(source, start, end, limits.input);
  if (check !== CHECK_SHA256) {
    return decompressXz(copyRangeChunks(source, start, end - start, onInput), limits);
  }
  const layouts = await readXzLayouts(source, start, end, limits.input);
  const checks: Array<Buffer | undefined> = [];
  const inner = xzChunks(streamsForDecoder(source, layouts, checks, onInput), limits);
  return Readable.from(verifySha256(inner, layouts, checks, limits.input), { objectMode: false });
}
