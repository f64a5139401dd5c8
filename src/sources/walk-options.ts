/**
 * Extensions of the shared `WalkOptions` contract (src/sources/types.ts) that only the sources layer
 * needs. Callers may pass these fields to `Artifact.walk`; they are structurally compatible.
 */
import { availableParallelism } from 'node:os';
import type { DecompressLimits } from '../archive/decompress.ts';
import { WaybillError } from '../errors.ts';
import type { FileFilter, WalkOptions } from './types.ts';

/**
 * A filter that worker threads can load: functions cannot cross threads, so a worker imports
 * `url` and takes `export` from it. The export is either a `FileFilter` or a function
 * `(arg) => FileFilter | Promise<FileFilter>`; `arg` must be structured-cloneable. It must decide
 * exactly as the filter passed to `walk` does (that one is used when no workers run).
 */
export interface FilterModuleSpec {
  url: string;
  export: string;
  arg?: unknown;
}

export interface SourceWalkOptions extends WalkOptions {
  filterModule?: FilterModuleSpec;
  /**
   * Without worker threads: how many layers are scanned at once in-process. A scan decodes
   * synchronously and yields between chunks (layer-scan.ts), so several share this thread rather
   * than run side by side: default 1, one after the other.
   */
  concurrency?: number;
  /** Decompression caps for layers and tarballs (defaults in archive/decompress.ts). */
  decompress?: Omit<DecompressLimits, 'input'>;
  /**
   * Hash the layers the main thread reads on a thread beside it (util/hash-lane.ts). Default:
   * $WAYBILL_HASH_THREAD (1 or 0), else when there is a second core and a layer of 16 MiB or more.
   */
  hashThread?: boolean;
}

export const DEFAULT_MAX_FILE_SIZE = 512 * 1024 * 1024;

export async function loadFilterModule(spec: FilterModuleSpec): Promise<FileFilter> {
  const module = (await import(spec.url)) as Record<string, unknown>;
  let value = module[spec.export];
  if (typeof value === 'function') value = await (value as (arg: unknown) => unknown)(spec.arg);
  if (typeof value !== 'object' || value === null || typeof (value as FileFilter).want !== 'function') {
    throw new WaybillError(
      'USAGE',
      spec.url,
      `export ${spec.export} is not a file filter (an object with want())`,
    );
  }
  return value as FileFilter;
}

/** Environment override of hashing layers on a thread of their own: 1 always, 0 never. */
export const HASH_THREAD_ENV = 'WAYBILL_HASH_THREAD';

/**
 * A layer worth hashing on another thread: below this, the thread's start (~30 ms of CPU on another
 * core) is more than the hashing it takes off the reading one.
 */
export const HASH_THREAD_MIN_BYTES = 16 * 1024 * 1024;

/**
 * Whether the layers the main thread reads are hashed on a thread beside it (util/hash-lane.ts):
 * as asked, else as $WAYBILL_HASH_THREAD says (1 or 0; any other value is a USAGE error), else with
 * a second core and a layer big enough to pay for the thread's start.
 */
export function hashThreadWanted(
  requested: boolean | undefined,
  layerBytes: readonly number[],
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (requested !== undefined) return requested;
  const fromEnv = env[HASH_THREAD_ENV]?.trim();
  if (fromEnv === '0' || fromEnv === '1') return fromEnv === '1';
  // Anything else set is refused, as $WAYBILL_WORKERS is: "true" or "yes" silently meaning the
  // default would hide that the setting does nothing.
  if (fromEnv !== undefined && fromEnv !== '')
    throw new WaybillError(
      'USAGE',
      HASH_THREAD_ENV,
      `"${fromEnv}" is not 1 or 0 (hash layers on a thread of their own, or not)`,
    );
  return availableParallelism() >= 2 && layerBytes.some((n) => n >= HASH_THREAD_MIN_BYTES);
}

/** Environment override of the worker count when `WalkOptions.workers` is not given. */
export const WORKERS_ENV = 'WAYBILL_WORKERS';

/** A worker count from the CLI or the environment: a whole number >= 0 (0 and 1 mean in-process). */
export function parseWorkerCount(text: string, input: string): number {
  if (!/^\d{1,4}$/.test(text.trim())) {
    throw new WaybillError(
      'USAGE',
      input,
      `"${text}" is not a worker count (a whole number, 0 or 1 = in-process)`,
    );
  }
  return Number(text.trim());
}

/** The thread count asked for: `requested` (WalkOptions.workers), else $WAYBILL_WORKERS, else none. */
export function requestedWorkers(
  requested: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const fromEnv = env[WORKERS_ENV];
  if (requested === undefined && fromEnv !== undefined && fromEnv !== '')
    return parseWorkerCount(fromEnv, WORKERS_ENV);
  return requested;
}

/**
 * A layer worth a thread of its own: below this many compressed bytes (or four times as many
 * uncompressed ones, which cost only hashing and tar parsing, no inflate), a worker's start-up (an
 * isolate, the catalogers' modules) and memory cost more than the layer's scan.
 */
export const WORKER_LAYER_MIN_BYTES = 16 * 1024 * 1024;

/**
 * How many worker threads scan layers of these compressed sizes: `requested` (or $WAYBILL_WORKERS),
 * capped at the number of layers; by default one per core (at most one per layer) when there are
 * >= 2 cores and at least two layers of WORKER_LAYER_MIN_BYTES or more, so that two threads each have
 * real work. Below that the in-process walk is as fast: worker start-up and the copy of kept bytes
 * cost more than the main thread they free (measured on 2 cores, docs/bench.md). 0 = in-process.
 */
export function resolveWorkerCount(
  requested: number | undefined,
  layerBytes: readonly number[],
  env: NodeJS.ProcessEnv = process.env,
): number {
  let wanted = requestedWorkers(requested, env);
  if (wanted === undefined) {
    const cores = availableParallelism();
    const big = layerBytes.filter((n) => n >= WORKER_LAYER_MIN_BYTES).length;
    wanted = cores >= 2 && big >= 2 ? cores : 0;
  }
  const count = Math.min(Math.floor(wanted), layerBytes.length);
  return count > 1 ? count : 0;
}
