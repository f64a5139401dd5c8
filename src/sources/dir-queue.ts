/**
 * A stack of directories to list, shared by the threads that walk one `dir:` tree together
 * (tree-share.ts). It lives in a SharedArrayBuffer, so a thread takes and gives work with a few
 * atomic operations and no message: a root filesystem has tens of thousands of directories, and a
 * message each would cost more than listing them.
 *
 * Work is counted so that the walk knows when it is over: `pending` is the number of directories
 * given and not yet finished. A thread finishes a directory only after giving away (or keeping) its
 * subdirectories, so `pending` reaches 0 only when every directory has been listed. A thread that
 * finds the stack empty while `pending` is above 0 waits for more.
 *
 * Written here because nothing in Node or npm shares a work list between worker threads without a
 * message per item; the mutex is the classic three-state futex lock (0 free, 1 held, 2 held with
 * waiters) over `Atomics.wait` / `Atomics.notify`.
 */

/** Int32 slots of the control block. */
const LOCK = 0;
const PENDING = 1;
const COUNT = 2;
const USED = 3;
const STOPPED = 4;
/** Bumped whenever there is something to wake for (work given, walk over, stop). */
const WAKE = 5;
const WAITING = 6;
/** Bit i: thread i joined the walk; -1 once closed (a late thread finds it over, takes nothing). */
const JOINED = 7;
const CONTROL_SLOTS = 8;
/** BigInt64 slots after the Int32 ones: bytes read and bytes of regular files listed, all threads. */
const READ = 0;
const LISTED = 1;
const COUNTER_SLOTS = 2;

const CONTROL_BYTES = CONTROL_SLOTS * 4;
const COUNTER_BYTES = COUNTER_SLOTS * 8;
/** Each record is the path's UTF-8 bytes, then their length as a 32-bit little-endian number. */
const LENGTH_BYTES = 4;
/** How long a waiting thread sleeps before looking again, at most (a wake-up normally comes first). */
const WAIT_MS = 20;
/**
 * How long a thread waits for the lock before deciding its holder is gone: a live one holds it for a
 * few microseconds, but a helper that dies inside (out of memory, terminated) never releases it, and
 * a main thread blocked in `Atomics.wait` cannot see the helper's exit event. It throws instead, which
 * gives the shared walk up for the one-thread walk (tree-walk.ts), as any other failure does.
 */
export const LOCK_STALL_MS = 5_000;

export const DEFAULT_QUEUE_BYTES = 1024 * 1024;

export class DirQueue {
  readonly buffer: SharedArrayBuffer;
  private readonly control: Int32Array;
  private readonly counters: BigInt64Array;
  private readonly data: Buffer;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.control = new Int32Array(buffer, 0, CONTROL_SLOTS);
    this.counters = new BigInt64Array(buffer, CONTROL_BYTES, COUNTER_SLOTS);
    this.data = Buffer.from(buffer, CONTROL_BYTES + COUNTER_BYTES);
  }

  /** A new, empty queue holding up to `bytes` of paths at once. */
  static create(bytes = DEFAULT_QUEUE_BYTES): DirQueue {
    return new DirQueue(new SharedArrayBuffer(CONTROL_BYTES + COUNTER_BYTES + bytes));
  }

  /** The same queue, seen from another thread. */
  static attach(buffer: SharedArrayBuffer): DirQueue {
    return new DirQueue(buffer);
  }

  /** How long `lock` waits for a holder that may be gone (LOCK_STALL_MS; tests shorten it). */
  lockStallMs = LOCK_STALL_MS;

  /**
   * Gives a directory to whichever thread takes it first. False when the stack is full: the caller
   * lists it itself, before finishing the directory it came from.
   */
  give(path: string): boolean {
    const length = Buffer.byteLength(path);
    this.lock();
    const used = this.control[USED] as number;
    const fits = used + length + LENGTH_BYTES <= this.data.length;
    if (fits) {
      this.data.write(path, used, 'utf8');
      this.data.writeUInt32LE(length, used + length);
      this.control[USED] = used + length + LENGTH_BYTES;
      this.control[COUNT] = (this.control[COUNT] as number) + 1;
      Atomics.add(this.control, PENDING, 1);
    }
    this.unlock();
    if (fits) this.wake();
    return fits;
  }

  /**
   * The next directory to list, the most recently given first (depth first, as a thread walking
   * alone would); undefined when the walk is over (every directory finished) or stopped. Waits while
   * the stack is empty and other threads are still listing, unless `wait` is false (then undefined
   * also means "nothing yet": see `pending`).
   */
  take(wait = true): string | undefined {
    for (;;) {
      if (this.stopped) return undefined;
      this.lock();
      const count = this.control[COUNT] as number;
      if (count > 0) {
        const used = this.control[USED] as number;
        const length = this.data.readUInt32LE(used - LENGTH_BYTES);
        const start = used - LENGTH_BYTES - length;
        const path = this.data.toString('utf8', start, start + length);
        this.control[USED] = start;
        this.control[COUNT] = count - 1;
        this.unlock();
        return path;
      }
      this.unlock();
      const wake = Atomics.load(this.control, WAKE);
      if (!wait || Atomics.load(this.control, PENDING) === 0) return undefined;
      // Looked again after reading WAKE: a give or finish in between has bumped it, so the wait
      // below returns at once instead of missing it.
      if (Atomics.load(this.control, COUNT) > 0) continue;
      Atomics.add(this.control, WAITING, 1);
      Atomics.wait(this.control, WAKE, wake, WAIT_MS);
      Atomics.sub(this.control, WAITING, 1);
    }
  }

  /**
   * Waits, without blocking the thread, until there may be something to take or the walk may be over
   * (or WAIT_MS passed): for the main thread, whose event loop must keep running while it waits, to
   * learn that a helper died (its `exit` stops the walk) instead of waiting for it forever.
   */
  async settle(): Promise<void> {
    const wake = Atomics.load(this.control, WAKE);
    if (this.stopped || Atomics.load(this.control, PENDING) === 0) return;
    if (Atomics.load(this.control, COUNT) > 0) return;
    Atomics.add(this.control, WAITING, 1);
    try {
      const waited = Atomics.waitAsync(this.control, WAKE, wake, WAIT_MS);
      if (waited.async) await waited.value;
    } finally {
      Atomics.sub(this.control, WAITING, 1);
    }
  }

  /** A directory taken (or the root given) is listed and its subdirectories given or listed. */
  finish(): void {
    if (Atomics.sub(this.control, PENDING, 1) === 1) this.wake(true);
  }

  /** Ends the walk for every thread: each stops at its next directory. */
  stop(): void {
    Atomics.store(this.control, STOPPED, 1);
    this.wake(true);
  }

  /** Directories given and not finished yet. */
  get pending(): number {
    return Atomics.load(this.control, PENDING);
  }

  get stopped(): boolean {
    return Atomics.load(this.control, STOPPED) === 1;
  }

  /**
   * Thread `index` (0–30) joins the walk before taking anything: false when the walk was closed
   * first (its owner finished without it), and the thread takes nothing.
   */
  join(index: number): boolean {
    this.lock();
    const joined = this.control[JOINED] as number;
    if (joined >= 0) this.control[JOINED] = joined | (1 << index);
    this.unlock();
    return joined >= 0;
  }

  /** Which threads have joined so far (bit i: thread i); -1 once closed. */
  get joined(): number {
    return Atomics.load(this.control, JOINED);
  }

  /** Closes the walk to threads that have not joined yet; returns which had (bit i: thread i). */
  close(): number {
    this.lock();
    const joined = this.control[JOINED] as number;
    this.control[JOINED] = -1;
    this.unlock();
    return Math.max(0, joined);
  }

  addRead(bytes: number): void {
    Atomics.add(this.counters, READ, BigInt(bytes));
  }

  addListed(bytes: number): void {
    Atomics.add(this.counters, LISTED, BigInt(bytes));
  }

  /** Bytes read and bytes of regular files listed so far, by every thread. */
  progress(): { read: number; listed: number } {
    return {
      read: Number(Atomics.load(this.counters, READ)),
      listed: Number(Atomics.load(this.counters, LISTED)),
    };
  }

  private wake(always = false): void {
    Atomics.add(this.control, WAKE, 1);
    if (always || Atomics.load(this.control, WAITING) > 0) Atomics.notify(this.control, WAKE);
  }

  private lock(): void {
    let state = Atomics.compareExchange(this.control, LOCK, 0, 1);
    if (state === 0) return;
    if (state !== 2) state = Atomics.exchange(this.control, LOCK, 2);
    let stalled = 0;
    while (state !== 0) {
      // Woken or not, a live holder lets go within microseconds; only timeouts in a row add up.
      if (Atomics.wait(this.control, LOCK, 2, WAIT_MS) === 'timed-out') stalled += WAIT_MS;
      else stalled = 0;
      if (stalled >= this.lockStallMs)
        throw new Error(`the shared walk's lock was held for ${this.lockStallMs} ms: its holder stopped`);
      state = Atomics.exchange(this.control, LOCK, 2);
    }
  }

  private unlock(): void {
    if (Atomics.sub(this.control, LOCK, 1) !== 1) {
      Atomics.store(this.control, LOCK, 0);
      Atomics.notify(this.control, LOCK, 1);
    }
  }
}
