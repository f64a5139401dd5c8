/**
 * Typed errors: every failure the library reports carries a stable code, the input it is about and a
 * one-line message a user can act on. The CLI turns them into exit codes (see `exitCodeFor`); the
 * library never prints or exits.
 */

export type ErrorCode =
  /** Bad flags, bad arguments, a reference that names no known transport. */
  | 'USAGE'
  /** waybill.yaml or a policy file is not valid. */
  | 'CONFIG'
  /** The input does not exist or cannot be opened. */
  | 'NOT_FOUND'
  /** The bytes are not what their format requires (truncated, malformed, broken JSON…). */
  | 'MALFORMED'
  /** A blob's content does not match the digest that names it. */
  | 'DIGEST_MISMATCH'
  /** A path escapes the tree: `..`, absolute paths, links pointing outside. */
  | 'UNSAFE_PATH'
  /** A size, count or expansion ratio past a set limit (decompression bombs, 100 000 layers…). */
  | 'LIMIT'
  /** The input is valid but waybill does not handle it (yet). */
  | 'UNSUPPORTED'
  /** A git checkout or tag that cannot be used (dirty worktree, HEAD not at a tag…). */
  | 'SOURCE'
  /** A signature that cannot be verified (bad signature, untrusted signer, renamed tag). */
  | 'SIGNATURE'
  /** Another waybill run holds the lock on the artifact (util/lock.ts). */
  | 'BUSY'
  /** The target already holds something different under the same name (a published release). */
  | 'CONFLICT'
  /** A registry or server that cannot be reached or keeps failing (after bounded retries). */
  | 'NETWORK'
  /** Credentials missing, refused, or not to be sent where a server asks (registries). */
  | 'AUTH';

export class WaybillError extends Error {
  readonly code: ErrorCode;
  /** What the error is about: a file path, an artifact reference, a config field. */
  readonly input: string;
  /** The bare reason, without the input prefix. */
  readonly reason: string;

  constructor(code: ErrorCode, input: string, reason: string, options?: { cause?: unknown }) {
    super(input ? `${input}: ${reason}` : reason, options);
    this.name = 'WaybillError';
    this.code = code;
    this.input = input;
    this.reason = reason;
  }
}

export function isWaybillError(e: unknown): e is WaybillError {
  return e instanceof WaybillError;
}

/** Exit codes are part of the interface: 0 ok, 1 the checked thing failed, 2 usage or unreadable input. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export function exitCodeFor(_e: unknown): number {
  return EXIT_BAD_INPUT;
}

/** A short message for anything thrown, for the CLI's one-line error report. */
export function describeError(e: unknown): string {
  if (e instanceof WaybillError) return e.message;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const path = (e as NodeJS.ErrnoException).path;
    if (code === 'ENOENT' && path) return `${path}: no such file or directory`;
    if (code === 'EACCES' && path) return `${path}: permission denied`;
    if (code === 'EISDIR' && path) return `${path}: is a directory`;
    return e.message.split('\n')[0] ?? String(e);
  }
  return String(e);
}
