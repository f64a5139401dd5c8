/** Worker-thread entry of file-hash.ts: hashes the batches of files the main thread sends. */
import { parentPort } from 'node:worker_threads';
import { errorReply, type HashReply, type HashRequest, hashBatch } from './file-hash.ts';

parentPort?.on('message', async (request: HashRequest) => {
  try {
    const { hex, heads } = await hashBatch(request.paths);
    const copy = new ArrayBuffer(heads.length);
    new Uint8Array(copy).set(heads);
    parentPort?.postMessage({ type: 'done', hex, heads: copy } satisfies HashReply, [copy]);
  } catch (e) {
    parentPort?.postMessage(errorReply(e));
  }
});
