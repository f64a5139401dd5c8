/** Worker-thread entry of tree-scan.ts: lists a tree or hashes a share of its files, on request. */
import { parentPort } from 'node:worker_threads';
import { isWaybillError } from '../errors.ts';
import { hashFilesSync, listTreeSync, type TreeEntry } from './tree-list.ts';

export type TreeRequest = { type: 'list'; root: string } | { type: 'hash'; paths: string[] };
export type TreeReply =
  | { type: 'listed'; entries: TreeEntry[] }
  | { type: 'hashed'; hex: string[]; heads: ArrayBuffer }
  | { type: 'error'; error: { code?: string; input?: string; reason?: string; message: string } };

parentPort?.on('message', (request: TreeRequest) => {
  try {
    if (request.type === 'list') {
      parentPort?.postMessage({ type: 'listed', entries: listTreeSync(request.root) } satisfies TreeReply);
      return;
    }
    const { hex, heads } = hashFilesSync(request.paths);
    const copy = new ArrayBuffer(heads.length);
    new Uint8Array(copy).set(heads);
    parentPort?.postMessage({ type: 'hashed', hex, heads: copy } satisfies TreeReply, [copy]);
  } catch (e) {
    const error = isWaybillError(e)
      ? { code: e.code, input: e.input, reason: e.reason, message: e.message }
      : { message: e instanceof Error ? e.message : String(e) };
    parentPort?.postMessage({ type: 'error', error } satisfies TreeReply);
  }
});
