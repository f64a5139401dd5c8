import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { packBuffers, SLAB_BYTES, unpackBuffer } from './slabs.ts';

test('packBuffers: every buffer comes back byte for byte, over slabs that can be transferred', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (arrays, repeats) => {
        // Small Buffers come from Node's shared pool, as a worker's would; some listed twice (hard links).
        const distinct = arrays.map((a) => Buffer.from(a));
        const buffers: Buffer[] = [...distinct];
        if (distinct.length > 0)
          for (const r of repeats) buffers.push(distinct[r % distinct.length] as Buffer);
        const { slabs, places } = packBuffers(buffers);
        assert.equal(places.length, buffers.length);
        // Transferred as a worker does: the originals are untouched, the copies arrive whole.
        const arrived = structuredClone(slabs, { transfer: slabs });
        buffers.forEach((b, i) => {
          assert.deepEqual(unpackBuffer(arrived, places[i]!), b);
          assert.ok(b.buffer.byteLength > 0 || b.length === 0, 'the original was not detached');
        });
        // A buffer listed twice is copied once.
        const total = slabs.reduce((n, _s, i) => n + (arrived[i] as ArrayBuffer).byteLength, 0);
        assert.equal(
          total,
          distinct.reduce((n, b) => n + b.length, 0),
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('packBuffers: small buffers share a slab up to SLAB_BYTES; a larger one has a slab of its own', () => {
  const big = Buffer.alloc(SLAB_BYTES + 1, 1);
  const half = Buffer.alloc(SLAB_BYTES / 2, 2);
  const { slabs, places } = packBuffers([half, half.subarray(0, 10), big, Buffer.alloc(0), half]);
  assert.deepEqual(
    slabs.map((s) => s.byteLength),
    [SLAB_BYTES / 2 + 10, SLAB_BYTES + 1],
  );
  assert.deepEqual(places[0], { slab: 0, offset: 0, length: SLAB_BYTES / 2 });
  assert.deepEqual(places[1], { slab: 0, offset: SLAB_BYTES / 2, length: 10 });
  assert.deepEqual(places[2], { slab: 1, offset: 0, length: SLAB_BYTES + 1 });
  assert.deepEqual(places[4], places[0]);
  assert.deepEqual(places[3], { slab: -1, offset: 0, length: 0 });
  assert.equal(unpackBuffer(slabs, places[3]!).length, 0);
  assert.equal(unpackBuffer(slabs, places[2]!)[SLAB_BYTES], 1);
});
