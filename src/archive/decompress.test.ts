import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { decompressBuffer, decompressHead, detectCompression } from './decompress.ts';

const payload = Buffer.concat([randomBytes(4096), Buffer.alloc(100_000, 'waybill ')]);

/** Compress with the real CLI tools, not with the library under test. */
function cli(tool: string, args: string[], input: Buffer): Buffer {
  return execFileSync(tool, args, { input, maxBuffer: 64 * 1024 * 1024 });
}

test('detects gzip, zstd, xz, bzip2 and plain data by magic bytes (CLI-made inputs)', () => {
  assert.equal(detectCompression(cli('gzip', ['-c'], payload)), 'gzip');
  assert.equal(detectCompression(cli('zstd', ['-c', '-q'], payload)), 'zstd');
  assert.equal(detectCompression(cli('xz', ['-c'], payload)), 'xz');
  assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(detectCompression(payload), 'none');
  assert.equal(detectCompression(Buffer.alloc(0)), 'none');
});

test('decompresses gzip (also multi-member), zstd and plain data', async () => {
  const limits = { input: 'x' };
  assert.deepEqual(await decompressBuffer(cli('gzip', ['-c'], payload), limits), payload);
  const twoMembers = Buffer.concat([
    cli('gzip', ['-c'], Buffer.from('one ')),
    cli('gzip', ['-c'], Buffer.from('two')),
  ]);
  assert.equal((await decompressBuffer(twoMembers, limits)).toString(), 'one two');
  assert.deepEqual(await decompressBuffer(cli('zstd', ['-c', '-q'], payload), limits), payload);
  assert.deepEqual(await decompressBuffer(payload, limits), payload);
});

test('xz is UNSUPPORTED; corrupt gzip is MALFORMED naming the input', async () => {
  await assert.rejects(decompressBuffer(cli('xz', ['-c'], payload), { input: 'layer.xz' }), {
    code: 'UNSUPPORTED',
    input: 'layer.xz',
  });
  const corrupt = cli('gzip', ['-c'], payload);
  corrupt.fill(0x55, 20, 60);
  await assert.rejects(decompressBuffer(corrupt, { input: 'bad.gz' }), {
    code: 'MALFORMED',
    input: 'bad.gz',
  });
});

test('gzip bomb: absolute output cap and ratio cap give LIMIT', async () => {
  // 64 MiB of zeros compress to ~64 KiB: ratio ~1000.
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  assert.ok(bomb.length < 100 * 1024);
  await assert.rejects(
    decompressBuffer(bomb, { input: 'bomb.gz', maxOutputBytes: 1024 * 1024 }),
    (e: unknown) => {
      assert.ok(e instanceof WaybillError);
      assert.equal(e.code, 'LIMIT');
      assert.equal(e.input, 'bomb.gz');
      return true;
    },
  );
  await assert.rejects(
    decompressBuffer(bomb, { input: 'bomb.gz', maxRatio: 100, ratioGraceBytes: 1024 * 1024 }),
    /decompression ratio passes 100:1/,
  );
});

test('decompressHead sniffs the start of a truncated gzip/zstd stream', () => {
  const gz = cli('gzip', ['-c'], payload).subarray(0, 2000);
  assert.deepEqual(decompressHead(gz)?.subarray(0, 100), payload.subarray(0, 100));
  const zst = cli('zstd', ['-c', '-q'], payload).subarray(0, 5000);
  assert.deepEqual(decompressHead(zst)?.subarray(0, 100), payload.subarray(0, 100));
  assert.equal(decompressHead(Buffer.from([0x1f, 0x8b, 0, 0, 0, 0])), undefined);
});

test('property: random or mutated input never throws anything but WaybillError', async () => {
  const gz = zlib.gzipSync(payload.subarray(0, 3000));
  const zst = zlib.zstdCompressSync(payload.subarray(0, 3000));
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc
      .tuple(
        fc.constantFrom(gz, zst),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
      )
      .map(([base, edits, cut]) => {
        const copy = Buffer.from(base);
        for (const [at, value] of edits) copy[at % copy.length] = value;
        return copy.subarray(0, Math.max(1, cut % (copy.length + 1)));
      }),
  );
  await fc.assert(
    fc.asyncProperty(inputs, async (bytes) => {
      try {
        await decompressBuffer(Buffer.from(bytes), { input: 'fuzz', maxOutputBytes: 1024 * 1024 });
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    }),
    { numRuns: 300 },
  );
});
