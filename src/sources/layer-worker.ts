/**
 * Worker-thread entry: scans layers for the main thread. The filter arrives as a module spec
 * (functions cannot cross threads) and is loaded once per worker. Kept bytes go back packed into a
 * few fresh ArrayBuffers that are transferred, not cloned (`packScan`): the main thread gets them
 * without a copy.
 * Errors go back as their code, input and reason so the main thread can rethrow the same WaybillError.
 */
import { parentPort } from 'node:worker_threads';
import { isWaybillError } from '../errors.ts';
import { type LayerJob, type PackedScan, packScan, scanLayer } from './layer-scan.ts';
import type { FileFilter } from './types.ts';
import { type FilterModuleSpec, loadFilterModule } from './walk-options.ts';

export type WorkerRequest = { type: 'scan'; id: number; job: LayerJob; filterModule: FilterModuleSpec };
export type WorkerReply =
  | { type: 'progress'; id: number; bytes: number }
  | { type: 'done'; id: number; scan: PackedScan }
  | { type: 'error'; id: number; error: { code?: string; input?: string; reason?: string; message: string } };

const port = parentPort;
/**
 * Progress goes back in batches: a message costs both threads tens of microseconds, and one per MiB
 * read was thousands on a large image; at 8 MiB a progress bar still moves several times a second.
 */
const PROGRESS_BATCH_BYTES = 8 * 1024 * 1024;
let filterPromise: Promise<FileFilter> | undefined;
let filterKey = '';

function filterFor(spec: FilterModuleSpec): Promise<FileFilter> {
  const key = JSON.stringify(spec);
  if (!filterPromise || key !== filterKey) {
    filterKey = key;
    filterPromise = loadFilterModule(spec);
  }
  return filterPromise;
}

port?.on('message', async (request: WorkerRequest) => {
  const { id } = request;
  try {
    const filter = await filterFor(request.filterModule);
    let pending = 0;
    const scan = await scanLayer(request.job, filter, {
      onBytes(n) {
        pending += n;
        if (pending >= PROGRESS_BATCH_BYTES) {
          port.postMessage({ type: 'progress', id, bytes: pending } satisfies WorkerReply);
          pending = 0;
        }
      },
    });
    if (pending > 0) port.postMessage({ type: 'progress', id, bytes: pending } satisfies WorkerReply);
    const { packed, transfer } = packScan(scan);
    port.postMessage({ type: 'done', id, scan: packed } satisfies WorkerReply, transfer);
  } catch (e) {
    const error = isWaybillError(e)
      ? { code: e.code, input: e.input, reason: e.reason, message: e.message }
      : { message: e instanceof Error ? e.message : String(e) };
    port.postMessage({ type: 'error', id, error } satisfies WorkerReply);
  }
});
