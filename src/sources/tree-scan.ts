/**
 * A `dir:` tree listed once and every regular file hashed once, off the main thread: one worker
 * lists (tree-list.ts), then the files are shared out by size between one worker per core, each
 * hashing its share with synchronous reads (the floor's way: nothing is faster in Node). Each file's
 * first bytes come back too, so sniffing for executables opens nothing again.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, WaybillError } from '../errors.ts';
import { siblingModule } from '../util/sibling-module.ts';
import { HEAD_BYTES, type TreeEntry } from './tree-list.ts';
import type { TreeReply, TreeRequest } from './tree-worker.ts';

export interface ScannedTree {
  /** Sorted by path; regular files carry `sha256` and `headIndex` when hashed. */
  entries: TreeEntry[];
  /** HEAD_BYTES per hashed file, at `headIndex * HEAD_BYTES`. */
  heads: Buffer;
}

export async function scanTree(root: string, options: { hash: boolean }): Promise<ScannedTree> {
  const workers = [new Worker(siblingModule(import.meta.url, 'tree-worker'))];
  try {
    const listed = await ask(workers[0] as Worker, { type: 'list', root });
    if (listed.type !== 'listed') throw new Error('tree worker: unexpected reply');
    const entries = listed.entries;
    if (!options.hash) return { entries, heads: Buffer.alloc(0) };
    const files = entries.filter((e) => e.node === 'file');
    files.forEach((e, i) => {
      e.headIndex = i;
    });
    const shares = share(files, Math.max(1, Math.min(availableParallelism(), files.length)));
    while (workers.length < shares.length)
      workers.push(new Worker(siblingModule(import.meta.url, 'tree-worker')));
    const heads = Buffer.alloc(files.length * HEAD_BYTES);
    await Promise.all(
      shares.map(async (part, w) => {
        const reply = await ask(workers[w] as Worker, { type: 'hash', paths: part.map((e) => e.absolute) });
        if (reply.type !== 'hashed') throw new Error('tree worker: unexpected reply');
        const got = Buffer.from(reply.heads);
        part.forEach((e, i) => {
          e.sha256 = reply.hex[i];
          got.copy(heads, (e.headIndex as number) * HEAD_BYTES, i * HEAD_BYTES, (i + 1) * HEAD_BYTES);
        });
      }),
    );
    return { entries, heads };
  } finally {
    for (const w of workers) void w.terminate();
  }
}

/** Largest first, each to the least loaded share: byte counts end up within one file of each other. */
function share(files: TreeEntry[], count: number): TreeEntry[][] {
  const shares: TreeEntry[][] = Array.from({ length: count }, () => []);
  const load = new Array<number>(count).fill(0);
  for (const file of [...files].sort((a, b) => b.size - a.size)) {
    let least = 0;
    for (let i = 1; i < count; i++) if ((load[i] as number) < (load[least] as number)) least = i;
    shares[least]?.push(file);
    // A file costs its bytes and an open, fstat and close (about what reading 16 KiB costs).
    load[least] = (load[least] as number) + file.size + 16 * 1024;
  }
  return shares.filter((s) => s.length > 0);
}

function ask(worker: Worker, request: TreeRequest): Promise<TreeReply> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    const onMessage = (reply: TreeReply) => {
      cleanup();
      if (reply.type === 'error') reject(rebuild(reply.error));
      else resolve(reply);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(request);
  });
}

function rebuild(error: { code?: string; input?: string; reason?: string; message: string }): Error {
  if (error.code && error.reason !== undefined)
    return new WaybillError(error.code as ErrorCode, error.input ?? '', error.reason);
  return new Error(error.message);
}
