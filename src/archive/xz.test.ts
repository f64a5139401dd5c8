import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { expectError } from '../../test/helpers/assertions.ts';
import { WaybillError } from '../errors.ts';
import { bufferSource } from './ar.ts';
import { decompressPackageBuffer, decompressXzRange } from './xz.ts';

const haveXz = spawnSync('xz', ['--version']).status === 0;

/** Compresses with the reference encoder (xz-utils). */
function xz(data: Buffer, args: string[]): Buffer {
  const result = spawnSync('xz', ['-c', ...args], { input: data, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(result.stderr.toString());
  return result.stdout;
}

/** Deterministic, compressible but not trivial input. */
function sample(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = 97 + ((x >>> 16) % 7);
  }
  return out;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('decodes every check type xz-utils writes, single and multi-block', {
  skip: !haveXz && 'xz not installed',
}, async () => {
  const data = sample(300_000);
  for (const check of ['none', 'crc32', 'crc64', 'sha256']) {
    for (const blocks of [[], ['--block-size=65536']]) {
      const packed = xz(data, [`--check=${check}`, ...blocks]);
      const out = await decompressPackageBuffer('xz', packed, { input: `${check}.xz` });
      assert.equal(
        createHash('sha256').update(out).digest('hex'),
        createHash('sha256').update(data).digest('hex'),
        `${check} ${blocks.join(' ')}`,
      );
    }
  }
});

test('SHA-256 checks are verified against the decompressed bytes', {
  skip: !haveXz && 'xz not installed',
}, async () => {
  const data = sample(100_000);
  const packed = xz(data, ['--check=sha256', '--block-size=40000']);
  // Stream: 12-byte header, blocks (each ending in its 32-byte check), index, footer. Flip one bit of
  // the last block's check: the data decodes fine, only the check can catch it.
  const footerStart = packed.length - 12;
  const indexSize = (packed.readUInt32LE(footerStart + 4) + 1) * 4;
  const lastCheckByte = footerStart - indexSize - 1;
  const tampered = Buffer.from(packed);
  tampered[lastCheckByte] = (tampered[lastCheckByte] as number) ^ 1;
  await expectError(
    decompressPackageBuffer('xz', tampered, { input: 'tampered.xz' }),
    'MALFORMED',
    /SHA-256 check of block 2/,
  );
});

test('several streams one after another (xz-file-format §2), with SHA-256 checks: each decoded and verified', {
  skip: !haveXz && 'xz not installed',
}, async () => {
  // Found by fuzzing: `cat a.xz b.xz` of SHA-256 streams (xz -d reads it) was refused, 'index does not
  // account for the blocks before it': only the last stream was looked for.
  const [a, b, c] = [sample(50_000), sample(70_000).reverse(), sample(30_000)];
  const sa = xz(a, ['--check=sha256', '--block-size=20000']);
  const sb = xz(b, ['--check=sha256']);
  const sc = xz(c, ['--check=crc64']);
  const padding = Buffer.alloc(8);
  for (const [label, parts, want] of [
    ['sha256 + sha256', [sa, sb], [a, b]],
    ['sha256, padding, crc64, sha256', [sa, padding, sc, sb], [a, c, b]],
  ] as const) {
    const out = await decompressPackageBuffer('xz', Buffer.concat(parts), { input: 'multi.xz' });
    assert.ok(out.equals(Buffer.concat(want)), label);
  }
  // The first stream's last check flipped: still caught.
  const tampered = Buffer.from(sa);
  const indexSize = (tampered.readUInt32LE(tampered.length - 8) + 1) * 4;
  const lastCheckByte = tampered.length - 12 - indexSize - 1;
  tampered[lastCheckByte] = (tampered[lastCheckByte] as number) ^ 1;
  await expectError(
    decompressPackageBuffer('xz', Buffer.concat([tampered, sb]), { input: 'multi.xz' }),
    'MALFORMED',
    /SHA-256 check of block 2/,
  );
  // Padding that is not a multiple of four, or garbage, between streams.
  for (const between of [Buffer.alloc(3), Buffer.from('junk')])
    await expectError(
      decompressPackageBuffer('xz', Buffer.concat([sa, between, sb]), { input: 'multi.xz' }),
      'MALFORMED',
      /multi\.xz: xz stream: /,
    );
});

test('megabytes of stream padding after a SHA-256 stream are read in a few reads', {
  skip: !haveXz && 'xz not installed',
}, async () => {
  // Found by fuzzing: 8 MiB of zero padding (valid, §2.2) was read back four bytes at a time, over
  // a minute for `sbom` of such a .tar.xz.
  const data = sample(20_000);
  const padded = Buffer.concat([xz(data, ['--check=sha256']), Buffer.alloc(4 << 20)]);
  let reads = 0;
  const source = bufferSource(padded);
  const counted = {
    size: source.size,
    read: (offset: number, length: number) => {
      reads++;
      return source.read(offset, length);
    },
  };
  const out = await collect(await decompressXzRange(counted, 0, padded.length, { input: 'p.xz' }));
  assert.ok(out.equals(data));
  assert.ok(reads < 200, `${reads} reads`);
});

test('corrupt, truncated and empty streams are MALFORMED; bombs hit LIMIT', {
  skip: !haveXz && 'xz not installed',
}, async () => {
  const data = sample(50_000);
  for (const check of ['crc64', 'sha256']) {
    const packed = xz(data, [`--check=${check}`]);
    await expectError(
      decompressPackageBuffer('xz', packed.subarray(0, packed.length - 20), { input: 't.xz' }),
      'MALFORMED',
      /t\.xz/,
    );
    const corrupt = Buffer.from(packed);
    corrupt[packed.length >> 1] = (corrupt[packed.length >> 1] as number) ^ 0xff;
    await expectError(decompressPackageBuffer('xz', corrupt, { input: 'c.xz' }), 'MALFORMED');
  }
  await expectError(decompressPackageBuffer('xz', Buffer.alloc(0), { input: 'e.xz' }), 'MALFORMED');
  const zeros = xz(Buffer.alloc(4 * 1024 * 1024), ['--check=crc64']);
  await expectError(
    decompressPackageBuffer('xz', zeros, { input: 'bomb.xz', maxOutputBytes: 1024 * 1024 }),
    'LIMIT',
    /limit/,
  );
  await expectError(
    decompressPackageBuffer('xz', zeros, { input: 'bomb.xz', maxRatio: 50, ratioGraceBytes: 0 }),
    'LIMIT',
    /ratio/,
  );
});

test('a byte range of a larger source is decoded, and an early stop releases the decoder', {
  skip: !haveXz && 'xz not installed',
}, async () => {
  const data = sample(200_000);
  const packed = xz(data, ['--check=sha256']);
  const container = Buffer.concat([Buffer.from('prefix--'), packed, Buffer.from('suffix')]);
  let seen = 0;
  const stream = await decompressXzRange(
    bufferSource(container),
    8,
    8 + packed.length,
    { input: 'range' },
    (n) => {
      seen += n;
    },
  );
  assert.ok((await collect(stream)).equals(data));
  assert.equal(seen, packed.length);
  // xz-decompress holds a process-wide lock until a stream ends: abandon one mid-way, then decode again.
  const early = await decompressXzRange(bufferSource(packed), 0, packed.length, { input: 'early' });
  for await (const _ of early) break;
  const again = await decompressPackageBuffer('xz', xz(data, ['--check=crc64']), { input: 'again' });
  assert.ok(again.equals(data));
});

test('property: random bytes after the xz magic never throw anything but WaybillError', async () => {
  const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (tail, sha) => {
      const head = Buffer.concat([magic, Buffer.from([0x00, sha ? 0x0a : 0x04]), Buffer.from(tail)]);
      try {
        await decompressPackageBuffer('xz', head, { input: 'fuzz' });
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
      }
    }),
    { numRuns: 200 },
  );
});
