/**
 * gzip and zstd decompression into one reused output buffer, synchronously. Node's zlib streams hand
 * back every piece of output in a new buffer (one per 128 KiB: eight thousand per GB), and the memory
 * outside the JavaScript heap that those buffers hold is what drives V8 into a full mark-compact every
 * few tens of MiB: on a 1 GB image, about sixty collections, a second of CPU and tens of MiB of
 * garbage resident at any time. A layer scan looks at each piece once (hashes it, reads tar headers,
 * copies out the few files it keeps), so one buffer, overwritten piece after piece, is all it needs.
 *
 * There is no public API for that: zlib's own synchronous functions (`gunzipSync`) are built on the
 * stream object's native handle, `stream._handle.writeSync(flush, in, inOffset, inLength, out,
 * outOffset, outLength)`, which reports the bytes left in `stream._writeState` (lib/zlib.js
 * `processChunkSync`, unchanged from Node 10 to 24, zstd included). This module drives the same
 * handle with a reused output buffer. `createSyncDecompressor` returns undefined when a Node release
 * no longer has that shape; callers then use the stream pipeline of decompress.ts.
 *
 * Driven this way, the native decoders also do what the stream classes stop short of: every member
 * of a multi-member gzip and every frame of a multi-frame zstd stream is decoded (zlib's stream ends
 * after the first zstd frame: see zstd-frames.ts), skippable zstd frames are skipped, and a stream cut
 * short, corrupt data or trailing garbage is an error ("unexpected end of file", "incorrect header
 * check", "Unknown frame descriptor"), exactly as zlib reports it. Trailing NUL padding after the last
 * gzip member is ignored, as zlib's streams ignore it.
 */
import zlib from 'node:zlib';
import { WaybillError } from '../errors.ts';

/** Output buffer: large enough that per-piece work is noise, small enough to stay in the CPU cache. */
export const SYNC_OUTPUT_BYTES = 256 * 1024;

export interface SyncDecompressor {
  /**
   * Decompresses `input`, calling `onOutput` with each piece of output: a view of the reused buffer,
   * valid only during the call (copy what you keep).
   */
  write(input: Buffer, onOutput: (piece: Buffer) => void): void;
  /** Ends the stream: the last output, or MALFORMED when the stream was cut short. */
  end(onOutput: (piece: Buffer) => void): void;
  /** Releases the native decoder (also after an error). */
  close(): void;
}

/** The undocumented members of a zlib stream this module uses. */
interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
}
type HandleStream = (zlib.Gunzip | zlib.ZstdDecompress) & {
  _handle?: NativeHandle;
  _writeState?: Uint32Array;
};

const EMPTY = Buffer.alloc(0);

const FLAGS = {
  gzip: { write: zlib.constants.Z_NO_FLUSH, finish: zlib.constants.Z_FINISH },
  zstd: { write: zlib.constants.ZSTD_e_continue, finish: zlib.constants.ZSTD_e_end },
} as const;

let available: boolean | undefined;

/** Whether this Node's zlib has the synchronous decoder (probed once). */
export function syncDecompression(): boolean {
  if (available === undefined) {
    const probe = createSyncDecompressor('gzip', 'probe', 1024);
    available = probe !== undefined;
    probe?.close();
  }
  return available;
}

/**
 * A synchronous decompressor for `compression`, or undefined when this Node's zlib streams lack the
 * native handle (the caller falls back to streams). `input` is named in errors.
 */
export function createSyncDecompressor(
  compression: 'gzip' | 'zstd',
  input: string,
  outputBytes = SYNC_OUTPUT_BYTES,
): SyncDecompressor | undefined {
  const stream = (compression === 'gzip' ? zlib.createGunzip() : zlib.createZstdDecompress()) as HandleStream;
  const handle = stream._handle;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
    stream.close();
    return undefined;
  }
  // A decoding error destroys the stream, which then emits 'error': without a listener that would be
  // an uncaught exception. The error is read from `stream.errored` right after the call instead.
  stream.on('error', () => {});
  const flags = FLAGS[compression];
  const out = Buffer.allocUnsafe(outputBytes);
  /** The decoder stopped taking input (the end of the last gzip member, then NUL padding). */
  let ended = false;

  const failed = (): WaybillError | undefined => {
    const error = stream.errored;
    if (!error) return undefined;
    const reason = error.message.split('\n')[0] ?? 'corrupt data';
    return new WaybillError('MALFORMED', input, `${compression} stream: ${reason}`, { cause: error });
  };

  /** One call into the decoder; returns the input bytes it took and whether the output filled up. */
  const step = (
    flush: number,
    data: Buffer,
    offset: number,
    length: number,
    onOutput: (piece: Buffer) => void,
  ): { used: number; produced: number; full: boolean } => {
    handle.writeSync(flush, data, offset, length, out, 0, out.length);
    const error = failed();
    if (error) throw error;
    const outputLeft = state[0] as number;
    const inputLeft = state[1] as number;
    const produced = out.length - outputLeft;
    if (produced > 0) onOutput(out.subarray(0, produced));
    return { used: length - inputLeft, produced, full: outputLeft === 0 };
  };

  return {
    write(data, onOutput) {
      let offset = 0;
      let length = data.length;
      // A full output buffer may leave decoded bytes inside the decoder: drained before returning.
      let full = false;
      while ((length > 0 || full) && !ended) {
        const result = step(flags.write, data, offset, length, onOutput);
        offset += result.used;
        length -= result.used;
        full = result.full;
        // Output space left, input left, and nothing taken or given: the stream has ended.
        if (!full && length > 0 && result.used === 0 && result.produced === 0) ended = true;
      }
    },
    end(onOutput) {
      // The finishing call reports a stream cut short; output may still come out before it does.
      while (step(flags.finish, EMPTY, 0, 0, onOutput).full);
    },
    close() {
      stream.close();
    },
  };
}
