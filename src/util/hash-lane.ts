/**
 * SHA-256 on a second thread, for a reader whose own thread is the bottleneck. Reading a layer of
 * an image is, on one thread, read + hash + (inflate) + tar parse one after the other; SHA-256 is a
 * third to a half of that, and a digest is sequential, so it cannot be split. Handed to another
 * core, it runs beside the rest: a 222 MB uncompressed layer is read and parsed in the time hashing
 * alone took (docs/bench.md).
 *
 * The bytes cross in a ring of shared memory, so nothing is cloned or transferred per chunk: the
 * reading thread copies each chunk in (a memcpy, a tenth of hashing it) and goes on; the hashing
 * thread (hash-lane-worker.ts) waits on the ring with Atomics.wait and hashes records in order. A
 * full ring blocks the reader (backpressure); `digestHex` blocks until the hashing thread has the
 * digest, so the callers' checks stay synchronous. Many streams (a layer's compressed and
 * uncompressed bytes) share one lane; their records are tagged with the stream's number.
 *
 * The hashing itself is node:crypto's, on the other thread: this module only moves bytes.
 */
import { Worker } from 'node:worker_threads';
import type { Sha256Sink } from './digest.ts';
import { siblingModule } from './sibling-module.ts';

// ---- the shared layout, read by hash-lane-worker.ts too -------------------------------------------

/** Int32 slots of the control array. */
export const CONTROL = {
  /** Bytes of the ring holding records not yet hashed (both threads add or subtract atomically). */
  used: 0,
  /** 1 once the owner closes the lane: the hashing thread returns. */
  closed: 1,
  /** How many finish records the hashing thread has answered (wakes a waiting `digestHex`). */
  answered: 2,
  /** Set by the hashing thread when it fails (it then stops); the reader throws instead of waiting. */
  failed: 3,
  /**
   * Bumped by the hashing thread on every turn of its loop (each record, each idle second): a
   * thread killed outright (terminated, out of its heap) sets no `failed`, and a reader blocked in
   * Atomics.wait cannot see its exit event, so a beat that stops is how the reader learns of it.
   */
  beat: 4,
  length: 5,
} as const;

/** Record header: kind (u32) and stream number (u32), then the payload length (u32), padding. */
export const HEADER_BYTES = 16;
export const RECORD = { data: 1, finish: 2, wrap: 3 } as const;
/** Digests answered by the hashing thread: one 32-byte slot per stream number, modulo this. */
export const RESULT_SLOTS = 64;

/** Records start on 16-byte boundaries, so a header never straddles the ring's end. */
export function paddedLength(n: number): number {
  return (n + 15) & ~15;
}

export interface LaneMemory {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  results: SharedArrayBuffer;
}

/** The ring's size: a few reads ahead of the hashing thread, little resident memory. */
const RING_BYTES = 8 * 1024 * 1024;
/** A chunk larger than this goes in as several records, so one never needs the whole ring. */
const MAX_RECORD_PAYLOAD = 1024 * 1024;
/**
 * How long the reader waits for ring space or a digest before deciding the hashing thread is gone
 * (it cannot see the worker's exit event while it blocks). Hashing 1 MiB takes about a millisecond.
 */
const STALL_MS = 60_000;
/**
 * How long a hashing thread that has started beating may go without a beat while the reader waits
 * on it: a live one beats at least once a record (a millisecond or so) while it holds any.
 */
const SILENT_MS = 5_000;

/**
 * One hashing thread and its ring. Owned by the thread that reads; `close()` ends the thread (also
 * unref'd, so a forgotten lane never keeps the process alive).
 */
export class HashLane {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly ring: Uint8Array;
  private readonly header: DataView;
  private readonly results: Uint8Array;
  private tail = 0;
  /** The view `reserve` handed out, until it is committed or dropped. */
  private reserved: Uint8Array | undefined;
  private nextStream = 1;
  private finishesSent = 0;
  private closed = false;
  private readonly exit: Promise<void>;

  private constructor(worker: Worker, memory: LaneMemory) {
    this.worker = worker;
    this.exit = new Promise((resolve) => worker.once('exit', () => resolve()));
    this.control = new Int32Array(memory.control);
    this.ring = new Uint8Array(memory.ring);
    this.header = new DataView(memory.ring);
    this.results = new Uint8Array(memory.results);
  }

  /**
   * A lane, or undefined where no worker thread can start (the caller hashes on its own thread).
   * Takes the lane `prestartHashLane` started, if there is one.
   */
  static start(options: { ringBytes?: number } = {}): HashLane | undefined {
    if (prestarted && options.ringBytes === undefined) {
      const lane = prestarted;
      prestarted = undefined;
      return lane;
    }
    return HashLane.spawn(options.ringBytes ?? RING_BYTES);
  }

  /** `ringBytes`: a multiple of 16, more than a record's header and largest payload. */
  private static spawn(ringBytes: number): HashLane | undefined {
    if (ringBytes % 16 !== 0 || ringBytes < HEADER_BYTES + MAX_RECORD_PAYLOAD)
      throw new RangeError(`hash lane ring of ${ringBytes} bytes: a multiple of 16 above 1 MiB + 16`);
    const memory: LaneMemory = {
      control: new SharedArrayBuffer(CONTROL.length * 4),
      ring: new SharedArrayBuffer(ringBytes),
      results: new SharedArrayBuffer(RESULT_SLOTS * 32),
    };
    let worker: Worker;
    try {
      worker = new Worker(siblingModule(import.meta.url, 'hash-lane-worker'), {
        workerData: memory,
        // Hashing allocates nothing that lives: the smallest heap V8 allows.
        resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      });
    } catch {
      return undefined;
    }
    worker.unref();
    const lane = new HashLane(worker, memory);
    // A thread that never started (its module missing) or died: the next wait fails at once instead
    // of after STALL_MS. Seen only between reads, as the reader yields; the stall limit covers the rest.
    const stopped = () => {
      if (!lane.closed) lane.fail();
    };
    worker.on('error', stopped);
    worker.on('exit', stopped);
    return lane;
  }

  /** A new SHA-256 stream hashed on this lane's thread. */
  sha256(): Sha256Sink {
    const stream = this.nextStream++;
    let finished = false;
    return {
      update: (chunk) => {
        if (finished) throw new Error('hash stream already finished');
        if (this.isReserved(chunk)) {
          this.commit(stream, chunk.length);
          return;
        }
        for (let at = 0; at < chunk.length; at += MAX_RECORD_PAYLOAD)
          this.put(RECORD.data, stream, chunk.subarray(at, Math.min(chunk.length, at + MAX_RECORD_PAYLOAD)));
      },
      digestHex: () => {
        if (finished) throw new Error('hash stream already finished');
        finished = true;
        return this.finish(stream);
      },
    };
  }

  /**
   * Room in the ring for up to `max` bytes (at most a record's payload), to read into directly: a
   * stream's `update` with exactly this view (or a prefix of it) then hashes it without a copy. The
   * reader may parse the view after that too: the ring reuses it only after a later `reserve` or
   * `update`, which the reader itself makes. Any other record written first (another stream's
   * `update`, a `digestHex`) drops the reservation and may overwrite the view: fill it, then hash it.
   */
  reserve(max: number): Buffer {
    if (this.closed) throw new Error('hash lane closed');
    const length = Math.max(0, Math.min(max, MAX_RECORD_PAYLOAD));
    this.makeRoom(HEADER_BYTES + paddedLength(length));
    const view = Buffer.from(this.ring.buffer, this.tail + HEADER_BYTES, length);
    this.reserved = view;
    return view;
  }

  /** Ends the hashing thread once it has hashed what it holds. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, CONTROL.closed, 1);
    Atomics.notify(this.control, CONTROL.used);
  }

  private fail(): void {
    Atomics.store(this.control, CONTROL.failed, 1);
  }

  /** Resolves when the hashing thread has exited (tests; closing does not need to wait). */
  async exited(): Promise<void> {
    this.worker.ref();
    await this.exit;
  }

  private finish(stream: number): string {
    const slot = stream % RESULT_SLOTS;
    const answer = ++this.finishesSent;
    this.put(RECORD.finish, stream, undefined);
    this.waitFor(() => Atomics.load(this.control, CONTROL.answered) >= answer, CONTROL.answered);
    return Buffer.from(this.results.subarray(slot * 32, slot * 32 + 32)).toString('hex');
  }

  /** Appends one record, waiting while the ring is too full for it. */
  private put(kind: number, stream: number, payload: Uint8Array | undefined): void {
    if (this.closed) throw new Error('hash lane closed');
    this.reserved = undefined;
    const length = payload?.length ?? 0;
    this.makeRoom(HEADER_BYTES + paddedLength(length));
    if (payload) this.ring.set(payload, this.tail + HEADER_BYTES);
    this.publish(kind, stream, length);
  }

  private isReserved(chunk: Uint8Array): boolean {
    const reserved = this.reserved;
    return (
      reserved !== undefined &&
      chunk.buffer === reserved.buffer &&
      chunk.byteOffset === reserved.byteOffset &&
      chunk.length <= reserved.length
    );
  }

  /** Publishes the reserved view's first `length` bytes as a data record of `stream`. */
  private commit(stream: number, length: number): void {
    if (this.closed) throw new Error('hash lane closed');
    this.reserved = undefined;
    this.publish(RECORD.data, stream, length);
  }

  /**
   * Waits until `need` contiguous bytes are free at the tail. A record never wraps: the rest of the
   * ring is skipped with a wrap record (a header always fits, as records are 16-byte aligned and the
   * ring's size is a multiple of 16).
   */
  private makeRoom(need: number): void {
    const room = this.ring.length - this.tail;
    if (room < need) {
      this.waitForRoom(room);
      this.writeHeader(RECORD.wrap, 0, 0);
      this.tail = 0;
      Atomics.add(this.control, CONTROL.used, room);
      Atomics.notify(this.control, CONTROL.used);
    }
    this.waitForRoom(need);
  }

  /** Writes the header of the record whose payload is already at the tail, and hands it over. */
  private publish(kind: number, stream: number, length: number): void {
    const size = HEADER_BYTES + paddedLength(length);
    this.writeHeader(kind, stream, length);
    this.tail = (this.tail + size) % this.ring.length;
    Atomics.add(this.control, CONTROL.used, size);
    Atomics.notify(this.control, CONTROL.used);
  }

  private waitForRoom(bytes: number): void {
    this.waitFor(() => this.ring.length - Atomics.load(this.control, CONTROL.used) >= bytes, CONTROL.used);
  }

  private writeHeader(kind: number, stream: number, length: number): void {
    this.header.setUint32(this.tail, kind, true);
    this.header.setUint32(this.tail + 4, stream, true);
    this.header.setUint32(this.tail + 8, length, true);
  }

  /** Blocks until `ready()`, re-checking whenever slot `index` changes; fails if the thread died. */
  private waitFor(ready: () => boolean, index: number): void {
    let waited = 0;
    let silent = 0;
    let beat = Atomics.load(this.control, CONTROL.beat);
    while (!ready()) {
      if (Atomics.load(this.control, CONTROL.failed) !== 0) throw new Error('the hashing thread failed');
      const seen = Atomics.load(this.control, index);
      if (ready()) return;
      if (Atomics.wait(this.control, index, seen, 100) === 'timed-out') {
        waited += 100;
        const now = Atomics.load(this.control, CONTROL.beat);
        silent = now === beat ? silent + 100 : 0;
        beat = now;
        // Before its first beat the thread may still be booting: only the long limit applies.
        if (waited >= STALL_MS || (beat !== 0 && silent >= SILENT_MS))
          throw new Error('the hashing thread stopped answering');
      } else waited = 0;
    }
  }
}

let prestarted: HashLane | undefined;

/**
 * Starts a lane now for the next `HashLane.start()`: a thread takes ~50 ms to boot, which the CLI
 * overlaps with loading a command's modules when the command line names an image. An unused one
 * costs only that (it is unref'd, and `discardPrestartedHashLane` ends it).
 */
export function prestartHashLane(): void {
  prestarted ??= HashLane.start();
}

export function discardPrestartedHashLane(): void {
  prestarted?.close();
  prestarted = undefined;
}
