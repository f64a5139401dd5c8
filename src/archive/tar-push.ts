/**
 * A tar reader that is handed the archive's bytes (`push`) instead of pulling them from a stream: for
 * a caller that decompresses synchronously into one reused buffer (sources/layer-scan.ts), where each
 * piece must be used before the next one overwrites it, and where awaiting once per entry (130 000
 * entries in a large image) would cost more than parsing them.
 *
 * Same archives, entries and errors as `readTar` (tar-reader.ts): both read headers through
 * `HeaderSequence`. A stream may end at an entry boundary without the end-of-archive blocks, and an
 * entry's padding may be missing at the very end (umoci's layers); everything after the end marker
 * is ignored. Content, metadata bodies, header blocks or padding cut short are MALFORMED.
 */
import { WaybillError } from '../errors.ts';
import {
  BLOCK_SIZE,
  cutInPadding,
  HeaderSequence,
  isZeroBlock,
  padding,
  type TarHeader,
  truncated,
} from './tar-reader.ts';

export interface TarPushHandler {
  /** An entry starts; its `header.size` bytes of content follow through `content`, then `end`. */
  entry(header: TarHeader): void;
  /** The next bytes of the current entry's content: a view valid only during the call. */
  content(piece: Buffer): void;
  /** The current entry's content is complete. */
  end(): void;
}

type State =
  /** Collecting a header block (`zero`: the block after a zero block, which must be zero too). */
  | { kind: 'header' | 'zero' }
  /** Collecting a metadata body of `body.length` bytes, then `pad` bytes of padding. */
  | { kind: 'metadata'; body: Buffer; got: number; pad: number; what: string }
  /** Content of the current entry: `left` bytes, then `pad` bytes of padding. */
  | { kind: 'content'; left: number; pad: number; path: string }
  /**
   * Bytes to pass over: `strict` ones must be there (metadata padding, the root entry's content).
   * `metadata`: a body read whole, applied once its padding is there too, as `readTar` reads it (a
   * body cut short in its padding is the same "truncated" error, whatever the body says).
   */
  | { kind: 'skip'; left: number; strict: boolean; metadata?: Buffer; padding?: { of: string; size: number } }
  /** After the end-of-archive marker. */
  | { kind: 'done' };

const HEADER: State = { kind: 'header' };

export class TarPushParser {
  /** Bytes of the archive taken so far. */
  position = 0;
  private state: State = HEADER;
  private readonly headers: HeaderSequence;
  private readonly handler: TarPushHandler;
  private readonly input: string;
  /** A header block that spans pushes. */
  private readonly block = Buffer.alloc(BLOCK_SIZE);
  private blockBytes = 0;
  /** Where the header block being collected starts. */
  private blockStart = 0;

  /** `input` is named in errors. */
  constructor(input: string, handler: TarPushHandler) {
    this.input = input;
    this.headers = new HeaderSequence(input);
    this.handler = handler;
  }

  /** The next bytes of the archive. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const state = this.state;
      switch (state.kind) {
        case 'header':
        case 'zero': {
          if (this.blockBytes === 0) this.blockStart = this.position;
          let block: Buffer;
          if (this.blockBytes === 0 && chunk.length - at >= BLOCK_SIZE) {
            // The usual case: the whole block in this piece, read in place.
            block = chunk.subarray(at, at + BLOCK_SIZE);
            this.take(BLOCK_SIZE);
            at += BLOCK_SIZE;
          } else {
            const n = Math.min(BLOCK_SIZE - this.blockBytes, chunk.length - at);
            chunk.copy(this.block, this.blockBytes, at, at + n);
            this.blockBytes += n;
            this.take(n);
            at += n;
            if (this.blockBytes < BLOCK_SIZE) return;
            block = this.block;
          }
          this.blockBytes = 0;
          this.onBlock(state.kind, block);
          break;
        }
        case 'metadata': {
          const n = Math.min(state.body.length - state.got, chunk.length - at);
          chunk.copy(state.body, state.got, at, at + n);
          state.got += n;
          this.take(n);
          at += n;
          if (state.got < state.body.length) return;
          if (state.pad > 0)
            this.state = { kind: 'skip', left: state.pad, strict: true, metadata: state.body };
          else {
            this.headers.metadata(state.body);
            this.state = HEADER;
          }
          break;
        }
        case 'content': {
          const n = Math.min(state.left, chunk.length - at);
          this.take(n);
          state.left -= n;
          this.handler.content(chunk.subarray(at, at + n));
          at += n;
          if (state.left > 0) return;
          this.state =
            state.pad > 0
              ? { kind: 'skip', left: state.pad, strict: false, padding: { of: state.path, size: state.pad } }
              : HEADER;
          this.handler.end();
          break;
        }
        case 'skip': {
          const n = Math.min(state.left, chunk.length - at);
          state.left -= n;
          this.take(n);
          at += n;
          if (state.left > 0) break;
          this.state = HEADER;
          if (state.metadata) this.headers.metadata(state.metadata);
          break;
        }
        case 'done':
          this.take(chunk.length - at);
          return;
      }
    }
  }

  /** The archive ends here: MALFORMED when it ends inside a header, metadata or content. */
  finish(): void {
    const state = this.state;
    switch (state.kind) {
      case 'header':
      case 'zero':
        // Clean at a block boundary (with or without the end marker); a partial block is cut short.
        if (this.blockBytes > 0) throw truncated(this.input, this.blockStart, 'header or metadata');
        return;
      case 'metadata':
        throw truncated(
          this.input,
          this.position - state.got,
          state.got > 0 ? 'header or metadata' : state.what,
        );
      case 'content':
        throw truncated(this.input, this.position, `content of ${JSON.stringify(state.path)}`);
      case 'skip':
        if (state.strict) throw truncated(this.input, this.position, 'entry content');
        // No padding at all after the last entry is accepted (umoci); padding begun and cut is not.
        if (state.padding && state.left < state.padding.size)
          throw cutInPadding(this.input, this.position, state.padding.of);
        return;
      case 'done':
        return;
    }
  }

  private take(n: number): void {
    this.position += n;
  }

  private onBlock(kind: 'header' | 'zero', block: Buffer): void {
    if (kind === 'zero') {
      if (!isZeroBlock(block)) {
        const first = this.blockStart - BLOCK_SIZE;
        throw new WaybillError('MALFORMED', this.input, `stray zero block at offset ${first}`);
      }
      this.state = { kind: 'done' };
      return;
    }
    if (isZeroBlock(block)) {
      this.state = { kind: 'zero' };
      return;
    }
    const step = this.headers.block(block, this.blockStart, this.position);
    if (step.kind === 'metadata') {
      if (step.size === 0) {
        this.headers.metadata(EMPTY);
        return;
      }
      this.state = {
        kind: 'metadata',
        body: Buffer.allocUnsafe(step.size),
        got: 0,
        pad: padding(step.size),
        what: step.what,
      };
      return;
    }
    if (step.kind === 'root') {
      const left = step.size + padding(step.size);
      this.state = left > 0 ? { kind: 'skip', left, strict: true } : HEADER;
      return;
    }
    const { header } = step;
    this.handler.entry(header);
    if (header.size === 0) {
      this.handler.end();
      return;
    }
    this.state = { kind: 'content', left: header.size, pad: padding(header.size), path: header.path };
  }
}

const EMPTY = Buffer.alloc(0);
