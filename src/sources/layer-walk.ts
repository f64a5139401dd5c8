/**
 * Walks a stack of layers: each is scanned once (on worker threads when a filter module is given,
 * else in-process, several at once) and the scans are stacked in layer order, whichever finishes
 * first. Results are applied as soon as every lower layer has been, so memory holds at most the
 * scans that finished out of order.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, WaybillError } from '../errors.ts';
import { OverlayView } from './layer-merge.ts';
import { type LayerJob, type LayerScan, scanLayer } from './layer-scan.ts';
import type { WorkerReply, WorkerRequest } from './layer-worker.ts';
import type { FileFilter, WalkResult } from './types.ts';
import type { FilterModuleSpec, SourceWalkOptions } from './walk-options.ts';

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
  const workers = Math.min(options.workers ?? availableParallelism(), jobs.length);
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
    signal?.addEventListener('abort', onAbort, { once: true });

    const dispatch = (worker: Worker) => {
      if (nextJob >= jobs.length) return;
      const id = nextJob++;
      worker.postMessage({
        type: 'scan',
        id,
        job: jobs[id] as LayerJob,
        filterModule,
      } satisfies WorkerRequest);
    };

    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./layer-worker.ts', import.meta.url));
      pool.push(worker);
      worker.on('message', (reply: WorkerReply) => {
        if (finished) return;
        if (reply.type === 'progress') onBytes(reply.bytes);
        else if (reply.type === 'error') finish(rebuildError(reply.error));
        else {
          results.set(reply.id, reviveScan(reply.scan));
          try {
            while (results.has(nextApply)) {
              applyInOrder(results.get(nextApply) as LayerScan);
              results.delete(nextApply);
              nextApply++;
            }
          } catch (e) {
            finish(e);
            return;
          }
          if (nextApply === jobs.length) finish();
          else dispatch(worker);
        }
      });
      worker.on('error', (e) => finish(e));
      worker.on('exit', (code) => {
        if (!finished) finish(new Error(`layer worker exited with code ${code}`));
      });
      dispatch(worker);
    }
  });
}

/** Structured clone turns Buffers into plain Uint8Arrays; give them their Buffer methods back. */
function reviveScan(scan: LayerScan): LayerScan {
  for (const file of scan.files) {
    const data = file.data as Uint8Array;
    file.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  return scan;
}

function rebuildError(error: { code?: string; input?: string; reason?: string; message: string }): Error {
  if (error.code && error.reason !== undefined) {
    return new WaybillError(error.code as ErrorCode, error.input ?? '', error.reason);
  }
  return new Error(error.message);
}
