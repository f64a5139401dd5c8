import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { tarBuffer } from '../archive/tar-writer.ts';
import { sha256Digest } from '../util/digest.ts';
import { type LayerJob, type LayerScan, packScan, scanLayer, unpackScan } from './layer-scan.ts';

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

describe('a layer whose digest is its diff_id (uncompressed: docker-archive)', () => {
  let tar: Buffer;
  let dir: string;
  const job = (file: string, size: number, digest = sha256Digest(tar)): LayerJob => ({
    location: { file, start: 0, size, name: file },
    input: 'layer 1',
    digest,
    size,
    diffId: digest,
    layer: digest,
    image: true,
    maxFileSize: 1 << 20,
  });
  const all = { want: () => true };

  test('hashed once and still verified: right bytes pass; other bytes, sizes or compression fail', async () => {
    tar = await tarBuffer([{ path: 'etc/os-release', data: 'ID=debian\n' }]);
    dir = await mkdtemp(join(tmpdir(), 'waybill-scan-'));
    try {
      const good = join(dir, 'good.tar');
      await writeFile(good, tar);
      const scan = await scanLayer(job(good, tar.length), all);
      assert.deepEqual(
        scan.files.map((f) => f.entry.path),
        ['etc/os-release'],
      );
      const changed = Buffer.from(tar);
      changed[changed.indexOf('debian')] = 0x44;
      const bad = join(dir, 'bad.tar');
      await writeFile(bad, changed);
      await assert.rejects(scanLayer(job(bad, tar.length), all), { code: 'DIGEST_MISMATCH' });
      await assert.rejects(scanLayer(job(good, tar.length - 512), all), { code: 'DIGEST_MISMATCH' });
      await assert.rejects(
        scanLayer({ ...job(good, tar.length), size: tar.length + 1 }, all),
        /size mismatch/,
      );
      const gz = join(dir, 'layer.tar.gz');
      const compressed = gzipSync(tar);
      await writeFile(gz, compressed);
      await assert.rejects(scanLayer(job(gz, compressed.length), all), /gzip-compressed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
