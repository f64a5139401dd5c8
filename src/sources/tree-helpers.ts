/**
 * The helper workers of a shared `dir:` walk (tree-walk.ts): how many, and starting them, possibly
 * ahead of the walk. Kept apart from the walk so that the CLI can start helpers before it loads
 * anything else (this module imports only Node and two small ones).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { siblingModule } from '../util/sibling-module.ts';
import type { ShareWorkerData } from './tree-share-worker.ts';
import { requestedWorkers, type SourceWalkOptions } from './walk-options.ts';

const WORKER_YOUNG_GENERATION_MB = 4;
/** At most this many threads share a walk: listing is mostly system calls on one file system. */
const MAX_THREADS = 4;

/**
 * How many helper workers join the main thread: none without a filter module (a filter that exists
 * only on this thread) or when asked for 0 or 1 (WalkOptions.workers, $WAYBILL_WORKERS); else one
 * fewer than the threads asked for, or than the cores, up to MAX_THREADS threads in all.
 */
export function treeHelpers(options: SourceWalkOptions, env: NodeJS.ProcessEnv = process.env): number {
  if (!options.filterModule) return 0;
  const threads = requestedWorkers(options.workers, env) ?? availableParallelism();
  return Math.max(0, Math.min(Math.floor(threads), MAX_THREADS) - 1);
}

export function spawnHelper(preload?: string): Worker {
  return new Worker(siblingModule(import.meta.url, 'tree-share-worker'), {
    workerData: { preload } satisfies ShareWorkerData,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
}

/** Helpers the CLI started ahead of the walk, not yet taken. */
let prestarted: Worker[] = [];

/**
 * Starts the helpers a shared walk would take now, each importing `preload` (the module of the
 * filter it will most likely be given): a helper takes ~150 ms to boot and load the catalogers,
 * which the CLI overlaps with loading the command's own modules when the command line names a
 * `dir:` tree. Unused ones cost only that (unref'd; `discardPrestartedTreeHelpers` ends them).
 */
export function prestartTreeHelpers(preload: string, spawn = spawnHelper): void {
  if (prestarted.length > 0) return;
  let count = 0;
  try {
    count = treeHelpers({ filterModule: { url: preload, export: '' } });
  } catch {
    // A bad $WAYBILL_WORKERS: the walk itself says so.
  }
  for (let i = 0; i < count; i++) {
    let worker: Worker;
    try {
      worker = spawn(preload);
    } catch {
      // No thread to start (EAGAIN: the process's thread limit): the walk makes do with fewer.
      break;
    }
    worker.unref();
    // One that fails before its walk takes it (its thread could not start, its modules did not
    // load) must not end the process as an unhandled 'error': the walk then goes on without it.
    worker.on('error', () => {});
    prestarted.push(worker);
  }
}

export function discardPrestartedTreeHelpers(): void {
  for (const worker of prestarted) void worker.terminate();
  prestarted = [];
}

export function takePrestarted(): Worker | undefined {
  const worker = prestarted.shift();
  // Its reply is now awaited: it must keep the process alive until it comes.
  worker?.ref();
  return worker;
}
