/**
 * A byte queue over an async iterator of chunks, with exact reads, peeks and skips: the streaming
 * front end shared by the tar and cpio readers. Reads that fit in one chunk are not copied.
 */
export class ChunkQueue {
  position = 0;
  private readonly iterator: AsyncIterator<unknown>;
  private readonly truncated: (position: number, what: string) => Error;
  private chunks: Buffer[] = [];
  private first = 0;
  private offset = 0;
  private buffered = 0;
  private ended = false;

  /** `truncated` makes the error for input that ends early, in the archive format's own words. */
  constructor(iterator: AsyncIterator<unknown>, truncated: (position: number, what: string) => Error) {
    this.iterator = iterator;
    this.truncated = truncated;
  }

  /** Buffers until `n` bytes are available or the input ends; returns how many are. */
  async fill(n: number): Promise<number> {
    while (this.buffered < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const value = next.value;
      const chunk = Buffer.isBuffer(value)
        ? value
        : value instanceof Uint8Array
          ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
          : Buffer.from(String(value));
      if (chunk.length === 0) continue;
      if (this.first > 64) {
        this.chunks = this.chunks.slice(this.first);
        this.first = 0;
      }
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return Math.min(this.buffered, n);
  }

  /** Consumes up to `n` buffered bytes without copying when they lie in one chunk. */
  takeSome(n: number): Buffer {
    const chunk = this.chunks[this.first] as Buffer;
    const available = chunk.length - this.offset;
    const count = Math.min(available, n);
    const piece = chunk.subarray(this.offset, this.offset + count);
    this.offset += count;
    if (this.offset === chunk.length) {
      this.chunks[this.first] = EMPTY;
      this.first++;
      this.offset = 0;
    }
    this.buffered -= count;
    this.position += count;
    return piece;
  }

  peekBuffered(n: number): Buffer {
    const out = Buffer.alloc(Math.min(n, this.buffered));
    let written = 0;
    let index = this.first;
    let offset = this.offset;
    while (written < out.length) {
      const chunk = this.chunks[index] as Buffer;
      written += chunk.copy(out, written, offset);
      index++;
      offset = 0;
    }
    return out;
  }

  /** Exactly `n` bytes, or null when the input ended before any of them. */
  async read(n: number, what = 'header or metadata'): Promise<Buffer | null> {
    const at = this.position;
    const available = await this.fill(n);
    if (available === 0 && n > 0) return null;
    if (available < n) throw this.truncated(at, what);
    const first = this.takeSome(n);
    if (first.length === n) return first;
    const out = Buffer.allocUnsafe(n);
    first.copy(out, 0);
    let written = first.length;
    while (written < n) written += this.takeSome(n - written).copy(out, written);
    return out;
  }

  async skip(n: number, what = 'entry content'): Promise<void> {
    let left = n;
    while (left > 0) {
      if ((await this.fill(1)) === 0) throw this.truncated(this.position, what);
      left -= this.takeSome(left).length;
    }
  }

  /** Skips up to `n` bytes, stopping quietly at the end of input; returns how many it skipped. */
  async skipAvailable(n: number): Promise<number> {
    let left = n;
    while (left > 0 && (await this.fill(1)) > 0) left -= this.takeSome(left).length;
    return n - left;
  }

  /** Reads whatever follows the archive, so hashing streams upstream see every byte. */
  async drain(): Promise<void> {
    while ((await this.fill(1)) > 0) this.takeSome(this.buffered);
  }
}

const EMPTY = Buffer.alloc(0);
