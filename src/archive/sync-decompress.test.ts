import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { createSyncDecompressor, syncDecompression } from './sync-decompress.ts';

/** Compress with the real CLI tools, not with the library under test. */
function cli(tool: string, args: string[], input: Buffer): Buffer {
  return execFileSync(tool, args, { input, maxBuffer: 64 * 1024 * 1024 });
}

const payload = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 'waybill ')]);

/** Decompresses `data` handed over in pieces cut at `cuts`; notes the buffers output pieces live in. */
function decode(
  kind: 'gzip' | 'zstd',
  data: Buffer,
  cuts: number[] = [],
  outputBytes?: number,
): { bytes: Buffer; stores: Set<ArrayBufferLike> } {
  const decoder = createSyncDecompressor(kind, 'blob', outputBytes);
  assert.ok(decoder, 'this Node has the synchronous decoder');
  const parts: Buffer[] = [];
  const stores = new Set<ArrayBufferLike>();
  const take = (piece: Buffer) => {
    stores.add(piece.buffer);
    parts.push(Buffer.from(piece));
  };
  try {
    let from = 0;
    for (const cut of [...cuts.map((c) => c % (data.length + 1))].sort((a, b) => a - b)) {
      decoder.write(data.subarray(from, Math.max(from, cut)), take);
      from = Math.max(from, cut);
    }
    decoder.write(data.subarray(from), take);
    decoder.end(take);
  } finally {
    decoder.close();
  }
  return { bytes: Buffer.concat(parts), stores };
}

test('available on this Node (the layer scan falls back to streams where not)', () => {
  assert.equal(syncDecompression(), true);
});

test('gzip and zstd made by the CLIs decode to the input, every piece in one reused buffer', () => {
  for (const [kind, tool] of [
    ['gzip', 'gzip'],
    ['zstd', 'zstd'],
  ] as const) {
    const { bytes, stores } = decode(kind, cli(tool, ['-c', '-q'], payload), [], 64 * 1024);
    assert.ok(bytes.equals(payload), kind);
    assert.equal(stores.size, 1, `${kind}: ${stores.size} output buffers`);
  }
});

test('every gzip member and every zstd frame (skippable frames skipped), as the CLIs decode them', () => {
  const one = Buffer.from('one ');
  const two = Buffer.from('two');
  const gz = Buffer.concat([cli('gzip', ['-c'], one), cli('gzip', ['-c'], two)]);
  assert.equal(decode('gzip', gz).bytes.toString(), 'one two');
  const skippable = Buffer.alloc(8 + 5);
  skippable.writeUInt32LE(0x184d2a5e, 0);
  skippable.writeUInt32LE(5, 4);
  const zst = Buffer.concat([cli('zstd', ['-c', '-q'], one), skippable, cli('zstd', ['-c', '-q'], two)]);
  assert.equal(cli('zstd', ['-d', '-c', '-q'], zst).toString(), 'one two');
  assert.equal(decode('zstd', zst).bytes.toString(), 'one two');
  // NUL padding after the last gzip member is ignored, as gzip -d and zlib's streams ignore it.
  assert.equal(decode('gzip', Buffer.concat([gz, Buffer.alloc(1000)])).bytes.toString(), 'one two');
});

test('cut short, corrupt or followed by garbage: MALFORMED naming the blob', () => {
  const gz = cli('gzip', ['-c'], payload);
  const zst = cli('zstd', ['-c', '-q'], payload);
  const corrupt = Buffer.from(gz);
  corrupt.fill(0x55, 20, 60);
  const cases: Array<['gzip' | 'zstd', Buffer, RegExp]> = [
    ['gzip', gz.subarray(0, gz.length - 100), /gzip stream: unexpected end of file/],
    ['zstd', zst.subarray(0, zst.length - 100), /zstd stream: unexpected end of file/],
    ['gzip', corrupt, /gzip stream: /],
    ['gzip', Buffer.concat([gz, Buffer.from('garbage')]), /gzip stream: incorrect header check/],
    ['zstd', Buffer.concat([zst, Buffer.from('garbage!')]), /zstd stream: /],
  ];
  for (const [kind, data, message] of cases) {
    assert.throws(
      () => decode(kind, data, [1000]),
      (e: unknown) =>
        e instanceof WaybillError && e.code === 'MALFORMED' && e.input === 'blob' && message.test(e.reason),
      String(message),
    );
  }
});

test('property: any payload, any chunking, any output size: the bytes zlib itself gives', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 20_000 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.integer({ min: 1024, max: 8192 }),
      (raw, cuts, outputBytes) => {
        const data = Buffer.from(raw);
        assert.ok(decode('gzip', zlib.gzipSync(data), cuts, outputBytes).bytes.equals(data));
        assert.ok(decode('zstd', zlib.zstdCompressSync(data), cuts, outputBytes).bytes.equals(data));
      },
    ),
    { numRuns: 150 },
  );
});

test('property: random or mutated input never throws anything but WaybillError', () => {
  const gz = zlib.gzipSync(payload.subarray(0, 5000));
  const zst = zlib.zstdCompressSync(payload.subarray(0, 5000));
  fc.assert(
    fc.property(
      fc.constantFrom<'gzip' | 'zstd'>('gzip', 'zstd'),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      (kind, edits, cut) => {
        const copy = Buffer.from(kind === 'gzip' ? gz : zst);
        for (const [at, value] of edits) copy[at % copy.length] = value;
        try {
          decode(kind, copy.subarray(0, cut % 3 === 0 ? cut % copy.length : copy.length), [cut]);
        } catch (e) {
          if (!(e instanceof WaybillError)) throw e;
        }
      },
    ),
    { numRuns: 300 },
  );
});
