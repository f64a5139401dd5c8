/**
 * The hashing thread of a HashLane (hash-lane.ts): takes records from the shared ring in order,
 * feeds each stream's node:crypto SHA-256, and answers finish records with the digest. It blocks in
 * Atomics.wait while the ring is empty and returns when the lane is closed.
 */
import { createHash, type Hash } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { CONTROL, HEADER_BYTES, type LaneMemory, paddedLength, RECORD, RESULT_SLOTS } from './hash-lane.ts';

const memory = workerData as LaneMemory;
const control = new Int32Array(memory.control);
const ring = new Uint8Array(memory.ring);
const header = new DataView(memory.ring);
const results = new Uint8Array(memory.results);
const streams = new Map<number, Hash>();
let head = 0;

try {
  for (;;) {
    Atomics.add(control, CONTROL.beat, 1);
    const used = Atomics.load(control, CONTROL.used);
    if (used === 0) {
      if (Atomics.load(control, CONTROL.closed) !== 0) break;
      Atomics.wait(control, CONTROL.used, 0, 1000);
      continue;
    }
    const kind = header.getUint32(head, true);
    const stream = header.getUint32(head + 4, true);
    const length = header.getUint32(head + 8, true);
    let size = HEADER_BYTES + paddedLength(length);
    if (kind === RECORD.wrap) {
      size = ring.length - head;
    } else if (kind === RECORD.data) {
      let hash = streams.get(stream);
      if (!hash) {
        hash = createHash('sha256');
        streams.set(stream, hash);
      }
      hash.update(ring.subarray(head + HEADER_BYTES, head + HEADER_BYTES + length));
    } else if (kind === RECORD.finish) {
      const digest = (streams.get(stream) ?? createHash('sha256')).digest();
      streams.delete(stream);
      results.set(digest, (stream % RESULT_SLOTS) * 32);
      Atomics.add(control, CONTROL.answered, 1);
      Atomics.notify(control, CONTROL.answered);
    } else {
      throw new Error(`unknown record kind ${kind}`);
    }
    head = (head + size) % ring.length;
    Atomics.sub(control, CONTROL.used, size);
    Atomics.notify(control, CONTROL.used);
  }
} catch {
  Atomics.store(control, CONTROL.failed, 1);
  Atomics.notify(control, CONTROL.used);
  Atomics.notify(control, CONTROL.answered);
}
