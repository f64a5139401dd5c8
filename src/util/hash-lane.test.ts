import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { DigestCheck, isDigestMismatch, sha256Digest } from './digest.ts';
import { CONTROL, HashLane } from './hash-lane.ts';

/** The smallest ring a lane takes: one full record, so nearly every second record wraps. */
const SMALL_RING = 1024 * 1024 + 16;

function started(options: { ringBytes?: number } = {}): HashLane {
  const lane = HashLane.start(options);
  assert.ok(lane, 'a worker thread starts here');
  return lane;
}

describe('HashLane', () => {
  const lanes: HashLane[] = [];
  after(async () => {
    for (const lane of lanes) lane.close();
    await Promise.all(lanes.map((lane) => lane.exited()));
  });

  it('gives node:crypto digests for interleaved streams of any chunking, across ring wraps', () => {
    const lane = started({ ringBytes: SMALL_RING });
    lanes.push(lane);
    // Chunks up to 2.5 MiB: bigger than a record (1 MiB, so split) and than the ring (so it wraps).
    const chunk = fc.record({
      stream: fc.integer({ min: 0, max: 2 }),
      size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 2.5 * 1024 * 1024 })),
      fill: fc.integer({ min: 0, max: 255 }),
      // Read straight into the ring (`reserve`), as an uncompressed layer is, or copied in.
      inPlace: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
        const sinks = [lane.sha256(), lane.sha256(), lane.sha256()];
        const local = [createHash('sha256'), createHash('sha256'), createHash('sha256')];
        for (const { stream, size, fill, inPlace } of chunks) {
          if (inPlace) {
            const room = lane.reserve(size);
            assert.ok(room.length <= size && room.length <= 1024 * 1024);
            const used = Math.ceil(room.length / 2);
            room.fill(fill, 0, used);
            sinks[stream]?.update(room.subarray(0, used));
            local[stream]?.update(Buffer.alloc(used, fill));
            continue;
          }
          const bytes = Buffer.alloc(size, fill);
          // A view into a larger buffer, as the layer scan hands over: only the view is hashed.
          const view = Buffer.concat([Buffer.from([1, 2, 3]), bytes, Buffer.from([4])]).subarray(3, 3 + size);
          sinks[stream]?.update(view);
          local[stream]?.update(bytes);
        }
        for (let i = 0; i < 3; i++) assert.equal(sinks[i]?.digestHex(), local[i]?.digest('hex'));
      }),
      { numRuns: 40 },
    );
  });

  it('checks a digest as DigestCheck does on its own thread, mismatch included', () => {
    const lane = started();
    lanes.push(lane);
    const bytes = Buffer.from('layer bytes '.repeat(100_000));
    const good = new DigestCheck(sha256Digest(bytes), { input: 'blob', size: bytes.length }, lane.sha256());
    good.update(bytes.subarray(0, 1000));
    good.update(bytes.subarray(1000));
    assert.deepEqual(good.finish(), { digest: sha256Digest(bytes), size: bytes.length });

    const tampered = Buffer.from(bytes);
    tampered[500_000] = (tampered[500_000] as number) ^ 1;
    const bad = new DigestCheck(sha256Digest(bytes), { input: 'blob' }, lane.sha256());
    bad.update(tampered);
    assert.throws(
      () => bad.finish(),
      (e) => isDigestMismatch(e) && e.facts.actual === sha256Digest(tampered),
    );
  });

  it('refuses a stream fed or read after it is finished, and any use after close', () => {
    const lane = started();
    const sink = lane.sha256();
    sink.update(Buffer.from('x'));
    assert.equal(sink.digestHex(), createHash('sha256').update('x').digest('hex'));
    assert.throws(() => sink.update(Buffer.from('y')), /already finished/);
    assert.throws(() => sink.digestHex(), /already finished/);
    lane.close();
    assert.throws(() => lane.sha256().update(Buffer.from('z')), /closed/);
    return lane.exited();
  });

  it('ends its thread on close, after hashing what it holds', async () => {
    const lane = started();
    lane.sha256().update(Buffer.alloc(3 * 1024 * 1024, 7)); // never finished: dropped with the lane
    lane.close();
    lane.close();
    await lane.exited();
  });

  it('fails at once, never hangs, when its thread is gone', async () => {
    const lane = started();
    const sink = lane.sha256();
    sink.update(Buffer.alloc(1024));
    // The thread stops as a crash would stop it; the reader sees it once it yields, as a scan does.
    await (lane as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await new Promise((resolve) => setImmediate(resolve));
    const since = Date.now();
    assert.throws(() => {
      for (let i = 0; i < 20; i++) sink.update(Buffer.alloc(1024 * 1024));
      sink.digestHex();
    }, /the hashing thread failed/);
    assert.ok(Date.now() - since < 5000, 'no wait for the stall limit');
  });

  it('fails within seconds, never the stall limit, when its thread dies while the reader waits', () => {
    const lane = started();
    const sink = lane.sha256();
    // Wait (a little) for the thread's first beat: before it, a slow start is allowed the long limit.
    const control = (lane as unknown as { control: Int32Array }).control;
    for (const until = Date.now() + 2000; Atomics.load(control, CONTROL.beat) === 0 && Date.now() < until; )
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    // Killed outright, as running out of its heap would: it sets no failure flag, and this thread,
    // blocked on a full ring, never sees the exit event.
    void (lane as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const since = Date.now();
    assert.throws(() => {
      for (let i = 0; i < 40; i++) sink.update(Buffer.alloc(1024 * 1024));
      sink.digestHex();
    }, /the hashing thread (stopped answering|failed)/);
    assert.ok(Date.now() - since < 15_000, `gave up after ${Date.now() - since} ms`);
  });

  it('takes only rings it can use', () => {
    assert.throws(() => HashLane.start({ ringBytes: 1024 }), RangeError);
    assert.throws(() => HashLane.start({ ringBytes: SMALL_RING + 8 }), RangeError);
  });
});
