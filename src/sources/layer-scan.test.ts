import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import fc from 'fast-check';
import { type LayerScan, packScan, unpackScan } from './layer-scan.ts';

function scanOf(datas: Buffer[]): LayerScan {
  return {
    files: datas.map((data, i) => ({
      entry: { path: `f/${i}`, type: 'file', size: data.length, mode: 0o644 },
      data,
    })),
    whiteouts: ['w'],
    opaqueDirs: [''],
    hidden: ['h'],
    hiddenDirs: ['d'],
    skipped: [{ path: 's', reason: 'r' }],
    bytes: 1024,
    entries: datas.length,
  };
}

test('pack → transfer → unpack: same files and bytes; the sender keeps its buffers; slabs move', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      (arrays, shared) => {
        // Small Buffer.from copies live in Node's shared pool; hard links share their target's Buffer.
        const datas: Buffer[] = arrays.map((a) => Buffer.from(a));
        for (const i of shared) if (datas.length > 0) datas.push(datas[i % datas.length] as Buffer);
        const before = datas.map((d) => Buffer.from(d));
        const scan = scanOf(datas);
        const { packed, transfer } = packScan(scan);
        const { port1, port2 } = new MessageChannel();
        port1.postMessage(packed, transfer);
        const received = receiveMessageOnPort(port2)?.message as typeof packed;
        port1.close();
        port2.close();
        for (const slab of transfer) assert.equal(slab.byteLength, 0, 'transferred, so detached here');
        for (const [i, d] of datas.entries())
          assert.ok(d.equals(before[i] as Buffer), 'sender buffers untouched');
        const back = unpackScan(received);
        assert.deepEqual(
          back.files.map((f) => f.entry),
          scan.files.map((f) => f.entry),
        );
        back.files.forEach((f, i) => {
          assert.ok(Buffer.isBuffer(f.data));
          assert.ok(f.data.equals(before[i] as Buffer));
        });
        assert.deepEqual({ ...back, files: [] }, { ...scan, files: [] });
        assert.ok(received.slabs.length <= Math.max(1, datas.length));
      },
    ),
    { numRuns: 100 },
  );
});

test('pack: files larger than a slab get their own; small ones share', () => {
  const big = Buffer.alloc(20 * 1024 * 1024, 1);
  const { packed } = packScan(scanOf([Buffer.from('a'), Buffer.from('b'), big, Buffer.from('c')]));
  assert.deepEqual(
    packed.slabs.map((s) => s.byteLength),
    [2, big.length, 1],
  );
});
