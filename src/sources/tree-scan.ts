/**
 * A `dir:` tree listed once and every regular file hashed once, off the main thread: one worker
 * lists (tree-list.ts) and hands back the listing column by column; then the files are shared out by
 * size between one worker per core, each hashing its share with synchronous reads (the floor's way:
 * nothing is faster in Node). Each file's first bytes come back too, so sniffing for executables
 * opens nothing again.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, WaybillError } from '../errors.ts';
import { siblingModule } from '../util/sibling-module.ts';
import { HEAD_BYTES, nodeOf, type PackedTree } from './tree-list.ts';
import type { TreeReply, TreeRequest } from './tree-worker.ts';

export interface ScannedTree {
  tree: PackedTree;
  /** SHA-256 of regular file i at `i * 32` (zeros for other entries); empty when not hashed. */
  digests: Buffer;
  /** First HEAD_BYTES of regular file i at `i * HEAD_BYTES`; empty when not hashed. */
  heads: Buffer;
}

const spawn = () => new Worker(siblingModule(import.meta.url, 'tree-worker'));

export async function scanTree(root: string, options: { hash: boolean }): Promise<ScannedTree> {
  const lister = spawn();
  let tree: PackedTree;
  try {
    const listed = await ask(lister, { type: 'list', root });
    if (listed.type !== 'listed') throw new Error('tree worker: unexpected reply');
    tree = listed.tree;
  } finally {
    // Its copy of the listing goes with it.
    void lister.terminate();
  }
  const n = tree.paths.length;
  if (!options.hash) return { tree, digests: Buffer.alloc(0), heads: Buffer.alloc(0) };
  const files: number[] = [];
  for (let i = 0; i < n; i++) if (nodeOf(tree, i) === 'file') files.push(i);
  const shares = share(files, tree.sizes, Math.max(1, Math.min(availableParallelism(), files.length)));
  const digests = Buffer.alloc(n * 32);
  const heads = Buffer.alloc(n * HEAD_BYTES);
  const workers = shares.map(spawn);
  try {
    await Promise.all(
      shares.map(async (part, w) => {
        // One string for the whole share (paths cannot hold NUL): a copy across threads of one
        // string instead of an array of 100 000, and no path built twice on this thread.
        const paths = part.map((i) => tree.paths[i] as string).join('\0');
        const reply = await ask(workers[w] as Worker, { type: 'hash', root, paths });
        if (reply.type !== 'hashed') throw new Error('tree worker: unexpected reply');
        const d = Buffer.from(reply.digests);
        const h = Buffer.from(reply.heads);
        part.forEach((i, k) => {
          d.copy(digests, i * 32, k * 32, (k + 1) * 32);
          h.copy(heads, i * HEAD_BYTES, k * HEAD_BYTES, (k + 1) * HEAD_BYTES);
        });
      }),
    );
  } finally {
    for (const w of workers) void w.terminate();
  }
  return { tree, digests, heads };
}

/** Largest first, each to the least loaded share: byte counts end up within one file of each other. */
function share(files: number[], sizes: Float64Array, count: number): number[][] {
  const shares: number[][] = Array.from({ length: count }, () => []);
  const load = new Array<number>(count).fill(0);
  for (const file of [...files].sort((a, b) => (sizes[b] as number) - (sizes[a] as number))) {
    let least = 0;
    for (let i = 1; i < count; i++) if ((load[i] as number) < (load[least] as number)) least = i;
    shares[least]?.push(file);
    // A file costs its bytes and an open, fstat and close (about what reading 16 KiB costs).
    load[least] = (load[least] as number) + (sizes[file] as number) + 16 * 1024;
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
