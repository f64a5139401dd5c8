/**
 * Multi-frame zstd. RFC 8878 §3.1 says a zstd stream is a sequence of frames and a decoder must
 * decode them all (pzstd, `zstd --rsyncable` writers and `cat a.zst b.zst` all produce several), but
 * Node's zstd decoder stops after the first frame and silently drops the rest. This module finds the
 * frame boundaries from the frame and block headers alone and hands each frame to a fresh decoder.
 * Skippable frames (§3.1.2) are dropped.
 */
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { WaybillError } from '../errors.ts';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

type State =
  | { kind: 'magic' }
  | { kind: 'skip-size' }
  | { kind: 'skip-data'; left: number }
  | { kind: 'descriptor' }
  | { kind: 'header-rest'; left: number }
  | { kind: 'block-header' }
  | { kind: 'block-data'; left: number; last: boolean }
  | { kind: 'checksum'; left: number };

/** A piece of the input: bytes of a zstd frame (to decode) and whether the frame ends with them. */
export interface FrameSegment {
  bytes: Buffer;
  frameEnd: boolean;
}

/**
 * Incremental frame splitter: `push` takes input chunks of any size and returns the segments in
 * them. It keeps at most a few header bytes between chunks.
 */
export class ZstdFrameSplitter {
  private state: State = { kind: 'magic' };
  private pending = Buffer.alloc(0);
  private checksum = false;
  private readonly input: string;

  constructor(input: string) {
    this.input = input;
  }

  /** True when the input seen so far ends exactly at a frame boundary. */
  get atBoundary(): boolean {
    return this.state.kind === 'magic' && this.pending.length === 0;
  }

  push(chunk: Buffer): FrameSegment[] {
    const out: FrameSegment[] = [];
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let frameStart = -1; // start in `data` of frame bytes not yet emitted, -1 when in no zstd frame
    if (this.inZstdFrame()) frameStart = 0;
    let at = 0;
    const need = (n: number): boolean => {
      if (data.length - at >= n) return true;
      // Keep the partial header for the next chunk; frame bytes before it are emitted now.
      if (frameStart >= 0 && frameStart < at)
        out.push({ bytes: data.subarray(frameStart, at), frameEnd: false });
      this.pending = Buffer.from(data.subarray(at));
      frameStart = -1;
      at = data.length;
      return false;
    };
    while (at < data.length) {
      const s = this.state;
      if (s.kind === 'magic') {
        if (!need(4)) break;
        const magic = data.readUInt32LE(at);
        if (magic === ZSTD_MAGIC) {
          frameStart = at;
          at += 4;
          this.state = { kind: 'descriptor' };
        } else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
          at += 4;
          this.state = { kind: 'skip-size' };
        } else {
          throw new WaybillError('MALFORMED', this.input, 'zstd stream: unknown frame magic');
        }
      } else if (s.kind === 'skip-size') {
        if (!need(4)) break;
        this.state = { kind: 'skip-data', left: data.readUInt32LE(at) };
        at += 4;
      } else if (s.kind === 'skip-data') {
        const n = Math.min(s.left, data.length - at);
        at += n;
        this.state = s.left - n === 0 ? { kind: 'magic' } : { kind: 'skip-data', left: s.left - n };
      } else if (s.kind === 'descriptor') {
        if (!need(1)) break;
        const fhd = data[at]!;
        at += 1;
        const fcsFlag = fhd >> 6;
        const singleSegment = (fhd & 0x20) !== 0;
        if (fhd & 0x08)
          throw new WaybillError('MALFORMED', this.input, 'zstd stream: reserved frame header bit set');
        this.checksum = (fhd & 0x04) !== 0;
        const dictBytes = [0, 1, 2, 4][fhd & 0x03]!;
        const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
        const rest = (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
        this.state = rest > 0 ? { kind: 'header-rest', left: rest } : { kind: 'block-header' };
      } else if (s.kind === 'header-rest') {
        const n = Math.min(s.left, data.length - at);
        at += n;
        this.state = s.left - n === 0 ? { kind: 'block-header' } : { kind: 'header-rest', left: s.left - n };
      } else if (s.kind === 'block-header') {
        if (!need(3)) break;
        const header = data.readUIntLE(at, 3);
        at += 3;
        const last = (header & 1) === 1;
        const type = (header >> 1) & 3;
        if (type === 3) throw new WaybillError('MALFORMED', this.input, 'zstd stream: reserved block type');
        const size = type === 1 ? 1 : header >>> 3; // an RLE block stores one byte
        this.state = { kind: 'block-data', left: size, last };
        if (size === 0) this.state = this.afterBlock(last);
      } else if (s.kind === 'block-data') {
        const n = Math.min(s.left, data.length - at);
        at += n;
        this.state = s.left - n === 0 ? this.afterBlock(s.last) : { ...s, left: s.left - n };
      } else {
        const n = Math.min(s.left, data.length - at);
        at += n;
        this.state = s.left - n === 0 ? { kind: 'magic' } : { kind: 'checksum', left: s.left - n };
      }
      if (this.state.kind === 'magic' && frameStart >= 0) {
        out.push({ bytes: data.subarray(frameStart, at), frameEnd: true });
        frameStart = -1;
      }
    }
    if (frameStart >= 0 && frameStart < at)
      out.push({ bytes: data.subarray(frameStart, at), frameEnd: false });
    data = Buffer.alloc(0);
    return out;
  }

  private afterBlock(last: boolean): State {
    if (!last) return { kind: 'block-header' };
    return this.checksum ? { kind: 'checksum', left: 4 } : { kind: 'magic' };
  }

  private inZstdFrame(): boolean {
    const k = this.state.kind;
    return k !== 'magic' && k !== 'skip-size' && k !== 'skip-data';
  }
}

/**
 * A decompressing stream for all frames of a zstd stream: each frame goes to its own Node zstd
 * decoder, in order, with backpressure both ways.
 */
export class MultiFrameZstdDecompress extends Transform {
  private readonly splitter: ZstdFrameSplitter;
  private readonly options: zlib.ZstdOptions;
  private readonly input: string;
  private current: zlib.ZstdDecompress | undefined;

  constructor(input: string, options: zlib.ZstdOptions & { readableHighWaterMark?: number } = {}) {
    super({ readableHighWaterMark: options.readableHighWaterMark });
    this.splitter = new ZstdFrameSplitter(input);
    this.options = options;
    this.input = input;
  }

  override _read(size: number): void {
    this.current?.resume();
    super._read(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.feed(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.splitter.atBoundary) {
      callback(new WaybillError('MALFORMED', this.input, 'zstd stream: truncated frame'));
      return;
    }
    callback();
  }

  private decoder(): zlib.ZstdDecompress {
    if (this.current) return this.current;
    const decoder = zlib.createZstdDecompress(this.options);
    decoder.on('data', (out: Buffer) => {
      if (!this.push(out)) decoder.pause();
    });
    decoder.on('error', (e) => this.destroy(e));
    this.current = decoder;
    return decoder;
  }

  private async feed(chunk: Buffer): Promise<void> {
    for (const segment of this.splitter.push(chunk)) {
      const decoder = this.decoder();
      if (!decoder.write(segment.bytes)) await new Promise<void>((resolve) => decoder.once('drain', resolve));
      if (segment.frameEnd) {
        this.current = undefined;
        await new Promise<void>((resolve, reject) => {
          decoder.once('end', resolve);
          decoder.once('error', reject);
          decoder.end();
          decoder.resume();
        });
      }
    }
  }
}
