/**
 * Extensions of the shared `WalkOptions` contract (src/sources/types.ts) that only the sources layer
 * needs. Callers may pass these fields to `Artifact.walk`; they are structurally compatible.
 */
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
   * Without worker threads: how many layers are scanned at once in-process (their inflate overlaps
   * on libuv's threadpool). Default `os.availableParallelism()`; 1 = one after the other.
   */
  concurrency?: number;
  /** Decompression caps for layers and tarballs (defaults in archive/decompress.ts). */
  decompress?: Omit<DecompressLimits, 'input'>;
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
