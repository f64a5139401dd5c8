import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { gzipSync, zstdCompressSync } from 'node:zlib';
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
    lowerLinks: [{ entry: { path: 'l', type: 'hardlink', size: 0, mode: 0o644 }, target: 't' }],
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

describe('synchronous decoding and the zlib-stream fallback', () => {
  /** Keeps a.txt and sniffed files starting with "KEEP"; dirs and links as they come. */
  const filter = {
    want: (e: { path: string; type: string }) => (e.path.endsWith('.bin') ? ('sniff' as const) : true),
    sniff: (_e: unknown, head: Buffer) => head.subarray(0, 4).toString() === 'KEEP',
  };
  const outcome = async (job: LayerJob, streams: boolean) => {
    try {
      const scan = await scanLayer(job, filter, { streams });
      return {
        ...scan,
        files: scan.files.map((f) => ({ ...f.entry, data: f.data.toString('hex') })),
      };
    } catch (e) {
      const w = e as { code?: string; message: string };
      return { error: `${w.code} ${w.message}` };
    }
  };

  test('the same scan and the same errors, for gzip, multi-frame zstd and plain layers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'waybill-scan-'));
    try {
      const tar = await tarBuffer([
        { path: 'etc/', type: 'dir' },
        { path: 'etc/a.txt', data: 'alpha' },
        { path: 'usr/keep.bin', data: Buffer.concat([Buffer.from('KEEP'), randomBytes(200_000)]) },
        { path: 'usr/drop.bin', data: randomBytes(300_000) },
        { path: 'usr/.wh.old', data: '' },
        { path: 'usr/link', type: 'symlink', linkTarget: 'keep.bin' },
      ]);
      const zstdFrames = Buffer.concat([
        zstdCompressSync(tar.subarray(0, 100_000)),
        zstdCompressSync(tar.subarray(100_000)),
      ]);
      const cut = gzipSync(tar);
      const layers: Array<[string, Buffer, Partial<LayerJob>]> = [
        ['gzip', gzipSync(tar), {}],
        ['zstd', zstdFrames, {}],
        ['plain', tar, {}],
        ['cut gzip', cut.subarray(0, cut.length - 50), {}],
        ['wrong diff_id', gzipSync(tar), { diffId: sha256Digest(Buffer.from('other')) }],
        ['bomb cap', gzipSync(tar), { decompress: { maxOutputBytes: 100_000 } }],
      ];
      for (const [name, bytes, extra] of layers) {
        const file = join(dir, name);
        await writeFile(file, bytes);
        const job: LayerJob = {
          location: { file, start: 0, size: bytes.length, name: file },
          input: name,
          digest: sha256Digest(bytes),
          size: bytes.length,
          diffId: sha256Digest(tar),
          image: true,
          maxFileSize: 1 << 30,
          ...extra,
        };
        const sync = await outcome(job, false);
        assert.deepEqual(sync, await outcome(job, true), name);
        if (name === 'gzip') {
          assert.ok('files' in sync);
          assert.deepEqual(
            sync.files.map((f) => f.path),
            ['etc', 'etc/a.txt', 'usr/keep.bin', 'usr/link'],
          );
          assert.deepEqual(sync.whiteouts, ['usr/old']);
          assert.deepEqual(sync.hidden, ['usr/drop.bin']);
        } else if (name !== 'zstd' && name !== 'plain') assert.ok('error' in sync, name);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
