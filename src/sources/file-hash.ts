/**
 * SHA-256 of many files of a directory tree, and the first bytes of each (what sniffing by magic
 * number looks at), read once. Files are opened as regular files only, never through a link
 * (util/regular-file.ts), a few at a time per lane so reads overlap hashing. Large trees are shared
 * out between the main thread and worker threads, one per further core, in batches taken in turn;
 * small ones are hashed on the main thread alone, where a worker's start-up would cost more.
 */

import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, isWaybillError, WaybillError } from '../errors.ts';
import { openRegularFile } from '../util/regular-file.ts';
import { siblingModule } from '../util/sibling-module.ts';

/** Bytes of each file's head kept (sniffing needs SNIFF_BYTES of sources/types.ts). */
export const HEAD_BYTES = 64;
/** Below this many bytes in all, one thread: a worker's start-up costs more than it saves. */
const THREADED_MIN_BYTES = 64 * 1024 * 1024;
/** Files a lane takes at a time. */
const BATCH = 256;
/** Files each lane reads at once. */
const IN_FLIGHT = 4;
const READ_BYTES = 1024 * 1024;

export interface HashedFiles {
  /** Lowercase hex SHA-256 of each file, in the order given. */
  hex: string[];
  /** HEAD_BYTES per file, file i at i * HEAD_BYTES; `head(i, size)` cuts it to the file's length. */
  heads: Buffer;
}

export type HashRequest = { paths: string[] };
export type HashReply =
  | { type: 'done'; hex: string[]; heads: ArrayBuffer }
  | { type: 'error'; error: { code?: string; input?: string; reason?: string; message: string } };

/** Hashes `paths` (regular files of known total size) on as many lanes as pay off. */
export async function hashFiles(paths: string[], totalBytes: number): Promise<HashedFiles> {
  const out: HashedFiles = {
    hex: new Array<string>(paths.length),
    heads: Buffer.alloc(paths.length * HEAD_BYTES),
  };
  const lanes = totalBytes >= THREADED_MIN_BYTES ? Math.max(1, availableParallelism()) : 1;
  let next = 0;
  const take = (): { start: number; paths: string[] } | undefined => {
    if (next >= paths.length) return undefined;
    const start = next;
    next = Math.min(paths.length, next + BATCH);
    return { start, paths: paths.slice(start, next) };
  };
  const store = (start: number, hex: string[], heads: Buffer) => {
    hex.forEach((h, i) => {
      out.hex[start + i] = h;
    });
    heads.copy(out.heads, start * HEAD_BYTES);
  };
  const workers: Worker[] = [];
  try {
    const mainLane = async () => {
      for (let batch = take(); batch; batch = take()) {
        const done = await hashBatch(batch.paths);
        store(batch.start, done.hex, done.heads);
      }
    };
    const workerLane = async (worker: Worker) => {
      for (let batch = take(); batch; batch = take()) {
        const reply = await ask(worker, { paths: batch.paths });
        store(batch.start, reply.hex, Buffer.from(reply.heads));
      }
    };
    for (let i = 1; i < lanes; i++)
      workers.push(new Worker(siblingModule(import.meta.url, 'file-hash-worker')));
    await Promise.all([mainLane(), ...workers.map(workerLane)]);
  } finally {
    for (const w of workers) void w.terminate();
  }
  return out;
}

function ask(worker: Worker, request: HashRequest): Promise<Extract<HashReply, { type: 'done' }>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', reject);
    };
    const onMessage = (reply: HashReply) => {
      cleanup();
      if (reply.type === 'done') resolve(reply);
      else reject(rebuild(reply.error));
    };
    worker.on('message', onMessage);
    worker.on('error', reject);
    worker.postMessage(request);
  });
}

function rebuild(error: { code?: string; input?: string; reason?: string; message: string }): Error {
  if (error.code && error.reason !== undefined)
    return new WaybillError(error.code as ErrorCode, error.input ?? '', error.reason);
  return new Error(error.message);
}

/** A batch on this thread: `IN_FLIGHT` files at once, each read in 1 MiB pieces. */
export async function hashBatch(paths: string[]): Promise<{ hex: string[]; heads: Buffer }> {
  const hex = new Array<string>(paths.length);
  const heads = Buffer.alloc(paths.length * HEAD_BYTES);
  let next = 0;
  const lane = async () => {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    while (next < paths.length) {
      const i = next++;
      const path = paths[i] as string;
      const hash = createHash('sha256');
      const { handle } = await openRegularFile(path, { noFollow: true, input: path });
      try {
        let position = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          if (bytesRead === 0) break;
          if (position < HEAD_BYTES)
            buffer.copy(heads, i * HEAD_BYTES + position, 0, Math.min(bytesRead, HEAD_BYTES - position));
          hash.update(buffer.subarray(0, bytesRead));
          position += bytesRead;
        }
      } finally {
        await handle.close();
      }
      hex[i] = hash.digest('hex');
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, paths.length) }, lane));
  return { hex, heads };
}

/** The error a worker sends back: enough to rebuild the same WaybillError. */
export function errorReply(e: unknown): HashReply {
  return {
    type: 'error',
    error: isWaybillError(e)
      ? { code: e.code, input: e.input, reason: e.reason, message: e.message }
      : { message: e instanceof Error ? e.message : String(e) },
  };
}
