/**
 * Worker-thread entry of tree-walk.ts: joins a shared `dir:` walk (tree-share.ts) with the filter
 * rebuilt from its module spec, and hands back the files it kept, packed into slabs that are
 * transferred, not cloned (slabs.ts). Errors go back as their code, input and reason.
 *
 * A helper may be started before its walk is known (the CLI starts one while the command's modules
 * load): it then imports the filter module it will most likely be given, so that rebuilding the
 * filter when the walk comes costs a call, not a module graph.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isWaybillError } from '../errors.ts';
import { DirQueue } from './dir-queue.ts';
import { packBuffers, type SlabPlace } from './slabs.ts';
import { walkShare } from './tree-share.ts';
import type { FileEntry } from './types.ts';
import { type FilterModuleSpec, loadFilterModule } from './walk-options.ts';

export interface ShareWorkerData {
  /** A module URL to import at once, before any walk is asked for. */
  preload?: string;
}

export interface ShareRequest {
  type: 'walk';
  root: string;
  /** This thread's bit in the queue's join mask. */
  index: number;
  queue: SharedArrayBuffer;
  filterModule: FilterModuleSpec;
  maxFileSize: number;
}

export type ShareReply =
  | {
      type: 'done';
      /** False when the walk was over before this thread could join it: it took nothing. */
      joined: boolean;
      files: Array<{ entry: FileEntry } & SlabPlace>;
      skipped: Array<{ path: string; reason: string }>;
      slabs: ArrayBuffer[];
    }
  | { type: 'error'; error: { code?: string; input?: string; reason?: string; message: string } };

const port = parentPort;
const preload = (workerData as ShareWorkerData | undefined)?.preload;
// A module that fails to load here fails again, with its error, when the walk loads it.
const preloaded = preload ? import(preload).catch(() => undefined) : Promise.resolve();

async function walk(request: ShareRequest): Promise<void> {
  const queue = DirQueue.attach(request.queue);
  let joined = false;
  try {
    await preloaded;
    const filter = await loadFilterModule(request.filterModule);
    joined = queue.join(request.index);
    if (!joined) {
      port?.postMessage({
        type: 'done',
        joined: false,
        files: [],
        skipped: [],
        slabs: [],
      } satisfies ShareReply);
      return;
    }
    const walked = walkShare(request.root, queue, filter, { maxFileSize: request.maxFileSize });
    const { slabs, places } = packBuffers(walked.files.map((f) => f.data));
    const files = walked.files.map((f, i) => ({ entry: f.entry, ...(places[i] as SlabPlace) }));
    port?.postMessage(
      { type: 'done', joined: true, files, skipped: walked.skipped, slabs } satisfies ShareReply,
      slabs,
    );
  } catch (e) {
    // A thread that joined and failed stops the others (the walk is incomplete); one that failed
    // before joining took nothing, and the walk goes on without it.
    if (joined) queue.stop();
    const error = isWaybillError(e)
      ? { code: e.code, input: e.input, reason: e.reason, message: e.message }
      : { message: e instanceof Error ? e.message : String(e) };
    port?.postMessage({ type: 'error', error } satisfies ShareReply);
  }
}

port?.once('message', (request: ShareRequest) => void walk(request));
