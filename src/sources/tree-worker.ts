/** Worker-thread entry of tree-scan.ts: lists a tree or hashes a share of its files, on request. */
import { parentPort } from 'node:worker_threads';
import { isWaybillError } from '../errors.ts';
import { hashFilesSync, listTreeSync, type PackedTree } from './tree-list.ts';

/** `hash`: `paths` are relative to `root`, joined by NUL. */
export type TreeRequest = { type: 'list'; root: string } | { type: 'hash'; root: string; paths: string };
export type TreeReply =
  | { type: 'listed'; tree: PackedTree }
  | { type: 'hashed'; digests: ArrayBuffer; heads: ArrayBuffer }
  | { type: 'error'; error: { code?: string; input?: string; reason?: string; message: string } };

parentPort?.on('message', (request: TreeRequest) => {
  try {
    if (request.type === 'list') {
      const tree = listTreeSync(request.root);
      const columns = [tree.nodes, tree.modes, tree.uids, tree.gids, tree.sizes].map(
        (c) => c.buffer as ArrayBuffer,
      );
      parentPort?.postMessage({ type: 'listed', tree } satisfies TreeReply, columns);
      return;
    }
    const { digests, heads } = hashFilesSync(
      request.root,
      request.paths === '' ? [] : request.paths.split('\0'),
    );
    const [d, h] = [digests, heads].map((b) => {
      const copy = new ArrayBuffer(b.length);
      new Uint8Array(copy).set(b);
      return copy;
    }) as [ArrayBuffer, ArrayBuffer];
    parentPort?.postMessage({ type: 'hashed', digests: d, heads: h } satisfies TreeReply, [d, h]);
  } catch (e) {
    const error = isWaybillError(e)
      ? { code: e.code, input: e.input, reason: e.reason, message: e.message }
      : { message: e instanceof Error ? e.message : String(e) };
    parentPort?.postMessage({ type: 'error', error } satisfies TreeReply);
  }
});
