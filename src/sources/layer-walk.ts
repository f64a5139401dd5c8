/**
 * Walks a stack of layers: each is scanned once (on worker threads when a filter module is given,
 * else in-process, several at once) and the scans are stacked in layer order, whichever finishes
 * first. Results are applied as soon as every lower layer has been, so memory holds at most the
 * scans that finished out of order.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, WaybillError } from '../errors.ts';
import { siblingModule } from '../util/sibling-module.ts';
import { OverlayView } from './layer-merge.ts';
import { type LayerJob, type LayerScan, scanLayer, unpackScan } from './layer-scan.ts';
import type { WorkerReply, WorkerRequest } from './layer-worker.ts';
import type { FileFilter, WalkResult } from './types.ts';
import { type FilterModuleSpec, resolveWorkerCount, type SourceWalkOptions } from './walk-options.ts';

export async function walkLayers(
  jobs: LayerJob[],
  filter: FileFilter,
  options: SourceWalkOptions = {},
): Promise<WalkResult> {
  options.signal?.throwIfAborted();
  const total = jobs.reduce((sum, job) => sum + job.location.size, 0);
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  const view = new OverlayView();
  const workers = options.filterModule ? resolveWorkerCount(options.workers, jobs.length) : 0;
  if (options.filterModule && workers > 1) {
    await scanOnWorkers(jobs, options.filterModule, workers, onBytes, options.signal, (scan) =>
      view.apply(scan),
    );
  } else {
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));
    await scanInProcess(jobs, filter, concurrency, onBytes, options.signal, (scan) => view.apply(scan));
  }
  return view.result();
}

/**
 * Scans up to `concurrency` layers at once on the main thread: each layer's inflate runs on libuv's
 * threadpool, so several layers decompress side by side while the main thread hashes and reads tar
 * headers. Scans are applied strictly in layer order; a window of `concurrency` layers bounds how
 * many finished scans wait for a slower lower layer. Errors are those a one-by-one walk would give:
 * the lowest failing layer's; a failure cancels only the layers above it.
 */
async function scanInProcess(
  jobs: LayerJob[],
  filter: FileFilter,
  concurrency: number,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
  applyInOrder: (scan: LayerScan) => void,
): Promise<void> {
  const controllers = jobs.map(() => new AbortController());
  const cancelAbove = (index: number) => {
    for (let j = index + 1; j < controllers.length; j++) controllers[j]?.abort(new Error('cancelled'));
  };
  const running: Array<Promise<LayerScan>> = [];
  const start = (index: number) => {
    const own = (controllers[index] as AbortController).signal;
    const scan = scanLayer(jobs[index] as LayerJob, filter, {
      onBytes,
      signal: signal ? AbortSignal.any([signal, own]) : own,
    });
    // Handled here so a failure while a lower layer is awaited is not an unhandled rejection.
    scan.catch(() => cancelAbove(index));
    running[index] = scan;
  };
  let started = 0;
  try {
    while (started < Math.min(concurrency, jobs.length)) start(started++);
    for (let i = 0; i < jobs.length; i++) {
      const scan = await (running[i] as Promise<LayerScan>);
      delete running[i];
      applyInOrder(scan);
      if (started < jobs.length) start(started++);
    }
  } catch (e) {
    cancelAbove(-1);
    throw e;
  }
}

/**
 * Scans layers on `count` worker threads, each taking the next layer when it finishes one. Scans are
 * applied in layer order as they arrive. Errors are the in-process walk's: a failed layer is
 * reported only once every layer below it has been applied (a lower failure wins), and no layer
 * above a failed one is started. Every worker is terminated when the walk settles, however it ends.
 */
function scanOnWorkers(
  jobs: LayerJob[],
  filterModule: FilterModuleSpec,
  count: number,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
  applyInOrder: (scan: LayerScan) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const pool: Worker[] = [];
    const results = new Map<number, LayerScan>();
    const failures = new Map<number, Error>();
    /** Lowest layer known to have failed; no layer above it is started. */
    let lowestFailure = Number.POSITIVE_INFINITY;
    let nextJob = 0;
    let nextApply = 0;
    let finished = false;

    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      for (const worker of pool) void worker.terminate();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const dispatch = (worker: Worker) => {
      if (nextJob >= jobs.length || nextJob > lowestFailure) return;
      const id = nextJob++;
      worker.postMessage({
        type: 'scan',
        id,
        job: jobs[id] as LayerJob,
        filterModule,
      } satisfies WorkerRequest);
    };

    const advance = () => {
      while (results.has(nextApply)) {
        const scan = results.get(nextApply) as LayerScan;
        results.delete(nextApply);
        nextApply++;
        applyInOrder(scan);
      }
      const failure = failures.get(nextApply);
      if (failure) finish(failure);
      else if (nextApply === jobs.length) finish();
    };

    for (let i = 0; i < count; i++) {
      const worker = new Worker(siblingModule(import.meta.url, 'layer-worker'));
      pool.push(worker);
      worker.on('message', (reply: WorkerReply) => {
        if (finished) return;
        try {
          if (reply.type === 'progress') {
            onBytes(reply.bytes);
            return;
          }
          if (reply.type === 'error') {
            failures.set(reply.id, rebuildError(reply.error));
            lowestFailure = Math.min(lowestFailure, reply.id);
          } else {
            results.set(reply.id, unpackScan(reply.scan));
          }
          advance();
        } catch (e) {
          finish(e);
          return;
        }
        if (!finished) dispatch(worker);
      });
      worker.on('error', (e) => finish(e));
      worker.on('exit', (code) => {
        if (!finished) finish(new Error(`layer worker exited with code ${code}`));
      });
      dispatch(worker);
    }
  });
}

function rebuildError(error: { code?: string; input?: string; reason?: string; message: string }): Error {
  if (error.code && error.reason !== undefined) {
    return new WaybillError(error.code as ErrorCode, error.input ?? '', error.reason);
  }
  return new Error(error.message);
}
