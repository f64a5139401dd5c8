import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { isWaybillError } from '../errors.ts';
import { MultiFrameZstdDecompress, ZstdFrameSplitter } from './zstd-frames.ts';

async function decode(input: Buffer, chunkSizes: number[] = [input.length]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < input.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    chunks.push(input.subarray(at, at + n));
    at += n;
  }
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(new MultiFrameZstdDecompress('test.zst')))
    out.push(c as Buffer);
  return Buffer.concat(out);
}

function skippable(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a5e, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

const hasZstdCli = (() => {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('every frame is decoded, not just the first (Node alone stops after one)', async () => {
  const a = Buffer.from('hello '.repeat(1000));
  const b = randomBytes(300_000);
  const joined = Buffer.concat([zlib.zstdCompressSync(a), zlib.zstdCompressSync(b)]);
  assert.equal(zlib.zstdDecompressSync(joined).length, a.length, 'the Node decoder this module works around');
  assert.deepEqual(await decode(joined), Buffer.concat([a, b]));
});

test('frames written by the zstd CLI (with checksums), concatenated with a skippable frame between', {
  skip: !hasZstdCli && 'zstd CLI not installed',
}, async () => {
  const a = randomBytes(200_000);
  const b = Buffer.from('compressible '.repeat(50_000));
  const za = execFileSync('zstd', ['-q', '-c', '--check'], { input: a });
  const zb = execFileSync('zstd', ['-q', '-c', '--check', '-19'], { input: b });
  const stream = Buffer.concat([za, skippable(Buffer.from('ignored')), zb]);
  assert.deepEqual(
    execFileSync('zstd', ['-dc'], { input: stream }),
    Buffer.concat([a, b]),
    'reference decoder',
  );
  assert.deepEqual(await decode(stream), Buffer.concat([a, b]));
  assert.deepEqual(
    await decode(stream, [1, 2, 3, 7, 4096]),
    Buffer.concat([a, b]),
    'tiny chunks split headers',
  );
});

test('any chunking of a multi-frame stream decodes to the same bytes', async () => {
  const parts = [Buffer.from('a'.repeat(5000)), randomBytes(2000), Buffer.alloc(0), Buffer.from('tail')];
  const stream = Buffer.concat(parts.map((p) => zlib.zstdCompressSync(p)));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 8 }),
      async (sizes) => {
        assert.deepEqual(await decode(stream, sizes), Buffer.concat(parts));
      },
    ),
    { numRuns: 60 },
  );
});

test('a stream cut inside a frame is MALFORMED, not quietly short', async () => {
  const z = zlib.zstdCompressSync(randomBytes(100_000));
  await assert.rejects(
    decode(z.subarray(0, z.length - 10)),
    (e) => isWaybillError(e) && e.code === 'MALFORMED',
  );
});

test('random bytes give only WaybillError from the splitter', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      const splitter = new ZstdFrameSplitter('random');
      try {
        splitter.push(Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from(bytes)]));
      } catch (e) {
        assert.ok(isWaybillError(e), String(e));
      }
    }),
  );
});
