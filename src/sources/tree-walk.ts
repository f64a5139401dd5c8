/**
 * A `dir:` tree walked by several threads at once, for a command that only lists what is inside
 * (`sbom`): the main thread and helper workers share one stack of directories (dir-queue.ts), each
 * listing directories and reading the files the filter wants as it goes (tree-share.ts). The main
 * thread starts at once with the filter it has; a helper joins as soon as it has rebuilt the same
 * filter from its module spec, and one that was not ready before the walk ended is let go unwaited.
 *
 * Measured on the large bench tree (144 000 entries, 2 cores, `sbom` median of 5): one thread
 * listing everything before the main thread read what the filter wants, 1.55 s; two threads doing
 * both together, 1.18 s (docs/bench.md, sixth round).
 *
 * The files kept are the same as the listed walk's (dir.ts), sorted by path the same way. When
 * anything fails on any thread, this walk gives up (undefined) and the caller walks again the
 * listed way, one thread listing the whole tree first: which error a shared walk meets first is a
 * matter of timing, and a command must say the same thing on every run.
 */
import type { Worker } from 'node:worker_threads';
import { DirQueue } from './dir-queue.ts';
import { unpackBuffer } from './slabs.ts';
import { spawnHelper, takePrestarted } from './tree-helpers.ts';
import { byPath, walkShareYielding } from './tree-share.ts';
import type { ShareReply, ShareRequest } from './tree-share-worker.ts';
import type { FileFilter, WalkResult } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

export { treeHelpers } from './tree-helpers.ts';

/**
 * The walk, shared with `helpers` workers (at least 1); undefined when it failed anywhere (the
 * caller walks again the listed way, whose error is the same on every run). Aborting through
 * `options.signal` throws the abort as it is.
 */
export async function walkTreeShared(
  root: string,
  filter: FileFilter,
  options: SourceWalkOptions,
  helpers: number,
  testing: { awaitHelpers?: boolean; spawn?: () => Worker; lockStallMs?: number } = {},
): Promise<WalkResult | undefined> {
  const filterModule = options.filterModule;
  if (!filterModule) throw new Error('walkTreeShared: no filter module');
  options.signal?.throwIfAborted();
  const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const queue = DirQueue.create();
  if (testing.lockStallMs !== undefined) queue.lockStallMs = testing.lockStallMs;
  queue.give('');
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < helpers; i++) {
      // A thread that cannot start (EAGAIN: the process's thread limit) is one helper fewer.
      const worker = startHelper(testing.spawn);
      if (worker) workers.push(worker);
    }
    const replies = workers.map((worker, index) => replyOf(worker, queue, index));
    workers.forEach((worker, index) => {
      worker.postMessage({
        type: 'walk',
        root,
        index,
        queue: queue.buffer,
        filterModule,
        maxFileSize,
      } satisfies ShareRequest);
    });
    // Tests: every helper in the walk from its start, so that each one's part is certain.
    for (let i = 0; testing.awaitHelpers && queue.joined !== 2 ** workers.length - 1 && i < 2000; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    let mine: WalkResult;
    let joined: number;
    try {
      mine = await walkShareYielding(root, queue, filter, {
        maxFileSize,
        onDirectory() {
          options.signal?.throwIfAborted();
          if (options.onProgress) {
            const { read, listed } = queue.progress();
            options.onProgress(read, listed);
          }
        },
      });
      // Inside: closing takes the lock, which a helper that died inside it never released.
      joined = queue.close();
    } catch (e) {
      if (options.signal?.aborted) throw e;
      return undefined;
    }
    // Stopped by a helper that failed: the main thread's share ended early, and what the helper
    // says is checked below.
    const files = [...mine.files];
    const skipped = [...mine.skipped];
    for (const [index, reply] of replies.entries()) {
      // A helper that had not joined took nothing, and is not waited for.
      if ((joined & (1 << index)) === 0) continue;
      const result = await reply;
      if (result.type === 'error') return undefined;
      for (const { entry, ...place } of result.files)
        files.push({ entry, data: unpackBuffer(result.slabs, place), earlier: [] });
      skipped.push(...result.skipped);
    }
    return { files: files.sort((a, b) => byPath(a.entry, b.entry)), skipped: skipped.sort(byPath) };
  } finally {
    queue.stop();
    for (const worker of workers) void worker.terminate();
  }
}

function startHelper(spawn: () => Worker = spawnHelper): Worker | undefined {
  try {
    return takePrestarted() ?? spawn();
  } catch {
    return undefined;
  }
}

/**
 * The worker's one reply; a worker that fails or exits without one counts as an error, and when it
 * had joined, it may have died holding a directory it will never finish: the walk is stopped.
 */
function replyOf(worker: Worker, queue: DirQueue, index: number): Promise<ShareReply> {
  return new Promise((resolve) => {
    const failed = (message: string): void => {
      if ((queue.joined & (1 << index)) !== 0) queue.stop();
      resolve({ type: 'error', error: { message } });
    };
    worker.once('message', resolve);
    worker.once('error', (e) => failed(e.message));
    worker.once('exit', (code) => failed(`tree worker exited with code ${code}`));
  });
}
