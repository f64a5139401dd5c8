/**
 * Budgets per artifact, not per stream. A per-stream cap alone lets an image list the same 1 MiB
 * gzip layer (1 GiB of zeros) ten thousand times: 3.4 MB on disk, hours of inflate. One budget
 * covers a whole walk of one artifact — every layer, counted as often as the image applies it — and
 * stops it with LIMIT when it would expand past:
 *
 *   WAYBILL_MAX_ARTIFACT_BYTES  uncompressed bytes of all its layers together (default 32 GiB)
 *   WAYBILL_MAX_ENTRIES         archive entries of all its layers together (default 5 000 000)
 *   WAYBILL_MAX_LAYERS          layers in one image (default 1000; Docker refuses more than 125)
 *
 * The counters live in a SharedArrayBuffer so layer scans on worker threads charge the same budget
 * as the main thread, and whichever thread passes the limit stops at once.
 */
import { WaybillError } from '../errors.ts';

export const DEFAULT_MAX_ARTIFACT_BYTES = 32 * 1024 ** 3;
export const DEFAULT_MAX_ENTRIES = 5_000_000;
export const DEFAULT_MAX_LAYERS = 1000;

export const ARTIFACT_BYTES_ENV = 'WAYBILL_MAX_ARTIFACT_BYTES';
export const ENTRIES_ENV = 'WAYBILL_MAX_ENTRIES';
export const LAYERS_ENV = 'WAYBILL_MAX_LAYERS';

/** A positive whole number from the environment, else `fallback`; anything else is a USAGE error. */
export function limitFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const value = env[name];
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new WaybillError('USAGE', name, `not a positive whole number: ${JSON.stringify(value)}`);
  }
  return n;
}

export interface ArtifactLimits {
  maxBytes: number;
  maxEntries: number;
  maxLayers: number;
}

/** The limits in force: the environment's, read when a walk starts, else the defaults. */
export function artifactLimits(env: NodeJS.ProcessEnv = process.env): ArtifactLimits {
  return {
    maxBytes: limitFromEnv(ARTIFACT_BYTES_ENV, DEFAULT_MAX_ARTIFACT_BYTES, env),
    maxEntries: limitFromEnv(ENTRIES_ENV, DEFAULT_MAX_ENTRIES, env),
    maxLayers: limitFromEnv(LAYERS_ENV, DEFAULT_MAX_LAYERS, env),
  };
}

/** What crosses to a worker thread (structured clone keeps the SharedArrayBuffer shared). */
export interface BudgetState {
  /** Two BigInt64 counters: uncompressed bytes, entries. */
  counters: SharedArrayBuffer;
  maxBytes: number;
  maxEntries: number;
  /** The artifact, named in the error (the same whichever layer passes the limit first). */
  input: string;
}

const BYTES = 0;
const ENTRIES = 1;

export class ArtifactBudget {
  readonly state: BudgetState;
  private readonly counters: BigInt64Array;

  private constructor(state: BudgetState) {
    this.state = state;
    this.counters = new BigInt64Array(state.counters);
  }

  static create(limits: Pick<ArtifactLimits, 'maxBytes' | 'maxEntries'>, input: string): ArtifactBudget {
    return new ArtifactBudget({
      counters: new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT),
      maxBytes: limits.maxBytes,
      maxEntries: limits.maxEntries,
      input,
    });
  }

  /** The same budget, on another thread. */
  static attach(state: BudgetState): ArtifactBudget {
    return new ArtifactBudget(state);
  }

  get bytes(): number {
    return Number(Atomics.load(this.counters, BYTES));
  }

  get entries(): number {
    return Number(Atomics.load(this.counters, ENTRIES));
  }

  /** Whether a charge has passed either cap (its LIMIT error thrown wherever that charge was made). */
  get passed(): boolean {
    return this.bytes > this.state.maxBytes || this.entries > this.state.maxEntries;
  }

  /** Adds `n` uncompressed bytes; throws LIMIT once the artifact's total passes the cap. */
  chargeBytes(n: number): void {
    this.charge(
      BYTES,
      n,
      this.state.maxBytes,
      `expand past ${this.state.maxBytes} bytes`,
      ARTIFACT_BYTES_ENV,
    );
  }

  /** Adds `n` archive entries; throws LIMIT once the artifact's total passes the cap. */
  chargeEntries(n: number): void {
    this.charge(
      ENTRIES,
      n,
      this.state.maxEntries,
      `hold more than ${this.state.maxEntries} entries`,
      ENTRIES_ENV,
    );
  }

  private charge(counter: number, n: number, max: number, what: string, env: string): void {
    const total = Number(Atomics.add(this.counters, counter, BigInt(n))) + n;
    if (total > max) {
      throw new WaybillError(
        'LIMIT',
        this.state.input,
        `its layers ${what} in all (${env}); repeated layers count each time the image applies them`,
      );
    }
  }
}

/** Refuses an image with more layers than the limit before any is read. */
export function checkLayerCount(
  count: number,
  limits: Pick<ArtifactLimits, 'maxLayers'>,
  input: string,
): void {
  if (count > limits.maxLayers) {
    throw new WaybillError(
      'LIMIT',
      input,
      `image has ${count} layers, more than ${limits.maxLayers} (${LAYERS_ENV})`,
    );
  }
}
