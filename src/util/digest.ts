/**
 * SHA-256 helpers and a verifying pass-through stream. Every blob waybill reads is named by a digest
 * (OCI image-spec descriptor.md); `createDigestVerifier` checks the bytes as they flow so a blob is
 * never read twice and a tampered or truncated one fails with DIGEST_MISMATCH at its end.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WaybillError } from '../errors.ts';
import { jsonKind } from './json-kind.ts';
import { openRegularFile, type RegularFileOptions } from './regular-file.ts';

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
/** descriptor.md "Digests": algorithm ":" encoded, algorithm = component ([+._-] component)*. */
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A SHA-256 fed in order and read once: on this thread (localSha256) or another (hash-lane.ts). */
export interface Sha256Sink {
  update(chunk: Uint8Array): void;
  /** The digest of everything fed, as hex; the sink is then finished. */
  digestHex(): string;
}

/** node:crypto's SHA-256 on this thread. */
export function localSha256(): Sha256Sink {
  const hash = createHash('sha256');
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    digestHex: () => hash.digest('hex'),
  };
}

export function sha256Hex(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `sha256:<hex>` of the given bytes. */
export function sha256Digest(data: Buffer | Uint8Array | string): string {
  return `sha256:${sha256Hex(data)}`;
}

export function isSha256Digest(value: unknown): value is string {
  return typeof value === 'string' && SHA256_DIGEST.test(value);
}

/**
 * Checks that `value` is a digest waybill can verify. Only sha256 is accepted: a well-formed digest
 * with another algorithm (sha512, blake3) is UNSUPPORTED, anything else MALFORMED.
 */
export function parseSha256Digest(value: unknown, input: string, what = 'digest'): string {
  if (isSha256Digest(value)) return value;
  if (typeof value === 'string' && ANY_DIGEST.test(value) && !value.startsWith('sha256:')) {
    throw new WaybillError('UNSUPPORTED', input, `${what} ${value}: only sha256 digests are supported`);
  }
  if (value === undefined || value === null) throw new WaybillError('MALFORMED', input, `${what} is missing`);
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : jsonKind(value);
  throw new WaybillError('MALFORMED', input, `${what} is not a valid sha256 digest: ${shown}`);
}

/** The hex part of a `sha256:<hex>` digest (validated). */
export function digestHex(digest: string, input = ''): string {
  return parseSha256Digest(digest, input).slice('sha256:'.length);
}

/**
 * Streams a whole file (or a byte range of it, `end` inclusive) through SHA-256. Only a regular file
 * is read (regular-file.ts): a FIFO or device is refused, never hashed forever.
 */
export async function sha256File(
  path: string,
  range?: { start: number; end: number },
  options: RegularFileOptions = {},
): Promise<string> {
  const hash = createHash('sha256');
  const { handle } = await openRegularFile(path, options);
  try {
    const source = handle.createReadStream({ ...range, autoClose: false });
    await pipeline(source, async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) hash.update(chunk);
    });
  } finally {
    await handle.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

export interface DigestVerifierOptions {
  /** What the bytes are, for error messages (a blob path, `layer 3 of image:tag`). */
  input: string;
  /** The size the descriptor declares; more or fewer bytes is an error. */
  size?: number;
  /** What the bytes are, when `input` is only where they are (`image config`, `layer 2 of 3`). */
  what?: string;
}

/** What a digest check found: the digest and size the bytes should have, and those they have. */
export interface DigestFacts {
  expected: string;
  /** Absent when the bytes could not be read to the end (a link, a missing blob, an endless stream). */
  actual?: string;
  expectedSize?: number;
  actualSize?: number;
}

/**
 * One line naming both digests, and both sizes when they differ: the first thing a user needs to
 * see whether a blob was changed (same size, another digest) or truncated.
 */
export function describeMismatch(facts: DigestFacts): string {
  const digests = `digest is ${facts.actual ?? 'unknown'}, expected ${facts.expected}`;
  const { actualSize: got, expectedSize: want } = facts;
  if (got === undefined || want === undefined || got === want) return digests;
  return got < want
    ? `truncated: ${got} of ${want} bytes; ${digests}`
    : `${got} bytes, ${got - want} more than the ${want} declared; ${digests}`;
}

/**
 * DIGEST_MISMATCH with its facts attached, so a caller that reports rather than stops (`verify`)
 * can show the expected and actual digest without parsing the message.
 */
export class DigestMismatchError extends WaybillError {
  readonly facts: DigestFacts;
  /** Where the bytes are (a blob path, `archive.tar:member`); `input` adds what they are. */
  readonly where: string;
  /** What the bytes are (`image config`), when known. */
  readonly what: string | undefined;

  constructor(where: string, facts: DigestFacts, options: { reason?: string; what?: string } = {}) {
    const reason = options.reason ?? describeMismatch(facts);
    super('DIGEST_MISMATCH', options.what ? `${where} (${options.what})` : where, reason);
    this.facts = facts;
    this.where = where;
    this.what = options.what;
  }
}

export function isDigestMismatch(e: unknown): e is DigestMismatchError {
  return e instanceof DigestMismatchError;
}

/**
 * Incremental check of bytes against a digest (and declared size), for a consumer that sees the
 * bytes itself: hashing where they are consumed, instead of in an extra pass-through stage, keeps a
 * pipeline shorter (scanLayer hashes the uncompressed layer while reading its tar headers).
 */
export class DigestCheck {
  private readonly hash: Sha256Sink;
  private seen = 0;
  private readonly expected: string | undefined;
  private readonly options: DigestVerifierOptions;

  /** `hash`: where the bytes are hashed (default: node:crypto on this thread; hash-lane.ts: another). */
  constructor(
    expected: string | undefined,
    options: DigestVerifierOptions,
    hash: Sha256Sink = localSha256(),
  ) {
    this.expected = expected === undefined ? undefined : parseSha256Digest(expected, options.input);
    this.options = options;
    this.hash = hash;
  }

  /** Hashes the next bytes; throws DIGEST_MISMATCH as soon as the declared size is passed. */
  update(chunk: Uint8Array): void {
    this.seen += chunk.length;
    const size = this.options.size;
    if (size !== undefined && this.seen > size) {
      // Cut short (a hostile endless blob): there is no final digest to show.
      throw new DigestMismatchError(
        this.options.input,
        { expected: this.expected ?? 'unknown', expectedSize: size },
        { reason: `more than the declared ${size} bytes`, what: this.options.what },
      );
    }
    this.hash.update(chunk);
  }

  /** Ends the check: returns the digest and size, or throws DIGEST_MISMATCH. Call once. */
  finish(): { digest: string; size: number } {
    const digest = `sha256:${this.hash.digestHex()}`;
    const size = this.options.size;
    const sizeWrong = size !== undefined && this.seen !== size;
    if (sizeWrong || (this.expected !== undefined && digest !== this.expected)) {
      throw new DigestMismatchError(
        this.options.input,
        {
          expected: this.expected ?? 'unknown',
          actual: digest,
          ...(size !== undefined ? { expectedSize: size } : {}),
          actualSize: this.seen,
        },
        { what: this.options.what },
      );
    }
    return { digest, size: this.seen };
  }
}

/**
 * A pass-through stream that hashes what flows and, at the end, compares with `expected`. Too many
 * bytes fail as soon as the declared size is passed, so a hostile endless blob is cut short.
 * `highWaterMark` sizes its buffers (bytes): large chunks pass without backpressure churn.
 */
export function createDigestVerifier(
  expected: string,
  options: DigestVerifierOptions & { highWaterMark?: number },
): Transform {
  return new DigestVerifier(new DigestCheck(expected, options), options.highWaterMark);
}

/** Hashes what flows and reports the digest at the end, without expecting one. */
export function createDigestRecorder(onDigest: (digest: string, size: number) => void): Transform {
  return new DigestVerifier(new DigestCheck(undefined, { input: '' }), undefined, onDigest);
}

class DigestVerifier extends Transform {
  private readonly check: DigestCheck;
  private readonly onDigest: ((digest: string, size: number) => void) | undefined;

  constructor(
    check: DigestCheck,
    highWaterMark: number | undefined,
    onDigest?: (digest: string, size: number) => void,
  ) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.check = check;
    this.onDigest = onDigest;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.check.update(chunk);
    } catch (e) {
      callback(e as Error);
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    let result: { digest: string; size: number };
    try {
      result = this.check.finish();
    } catch (e) {
      callback(e as Error);
      return;
    }
    this.onDigest?.(result.digest, result.size);
    callback();
  }
}

/** Verifies an in-memory blob (a manifest, a config) against its descriptor. */
export function verifyBlob(data: Buffer, expected: string, options: DigestVerifierOptions): void {
  const wanted = parseSha256Digest(expected, options.input);
  const actual = sha256Digest(data);
  const sizeWrong = options.size !== undefined && data.length !== options.size;
  if (sizeWrong || actual !== wanted) {
    throw new DigestMismatchError(
      options.input,
      {
        expected: wanted,
        actual,
        ...(options.size !== undefined ? { expectedSize: options.size } : {}),
        actualSize: data.length,
      },
      { what: options.what },
    );
  }
}
