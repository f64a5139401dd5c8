import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { TarPushParser } from './tar-push.ts';
import { BLOCK_SIZE, readTar } from './tar-reader.ts';
import { tarBuffer } from './tar-writer.ts';

type Listed = { entries: Array<{ header: object; data: string }> } | { error: string };

/** What readTar (the pulling reader) makes of `bytes`: every header with its content, or the error. */
async function pulled(bytes: Buffer): Promise<Listed> {
  const entries: Array<{ header: object; data: string }> = [];
  try {
    for await (const entry of readTar(Readable.from([bytes]), { input: 't.tar' }))
      entries.push({ header: entry.header, data: (await entry.readAll()).toString('hex') });
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
    return { error: `${e.code} ${e.message}` };
  }
  return { entries };
}

/** The same through the push parser, the bytes handed over in pieces cut at `cuts`. */
function pushed(bytes: Buffer, cuts: number[]): Listed {
  const entries: Array<{ header: object; data: string }> = [];
  let open: { header: object; parts: Buffer[]; ended: boolean } | undefined;
  const parser = new TarPushParser('t.tar', {
    entry(header) {
      assert.ok(open === undefined || open.ended, 'entry before the last one ended');
      open = { header: { ...header }, parts: [], ended: false };
    },
    content(piece) {
      assert.ok(open && !open.ended);
      // A view of the caller's buffer: copied, as the contract says.
      open.parts.push(Buffer.from(piece));
    },
    end() {
      assert.ok(open && !open.ended);
      open.ended = true;
      entries.push({ header: open.header, data: Buffer.concat(open.parts).toString('hex') });
    },
  });
  try {
    let from = 0;
    for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
      parser.push(bytes.subarray(from, Math.max(from, cut)));
      from = Math.max(from, cut);
    }
    parser.push(bytes.subarray(from));
    parser.finish();
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
    return { error: `${e.code} ${e.message}` };
  }
  return { entries };
}

/** Sets every block's checksum field as if it were a header (bodies get nonsense, headers a valid sum). */
function recomputeChecksums(buf: Buffer): void {
  for (let at = 0; at + 512 <= buf.length; at += 512) {
    if (buf.subarray(at, at + 512).every((b) => b === 0)) continue;
    buf.fill(0x20, at + 148, at + 156);
    let sum = 0;
    for (let i = at; i < at + 512; i++) sum += buf[i] as number;
    buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
  }
}

let work = '';
const archives: Buffer[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-tar-push-'));
  const src = join(work, 'src');
  const long = `${'d'.repeat(120)}/${'f'.repeat(110)}`;
  await mkdir(join(src, 'd'.repeat(120)), { recursive: true });
  await writeFile(join(src, 'small.txt'), 'hello\n');
  await writeFile(join(src, 'block.bin'), Buffer.alloc(1024, 3));
  await writeFile(join(src, 'odd.bin'), Buffer.alloc(70_001, 7));
  await writeFile(join(src, 'empty'), '');
  await writeFile(join(src, long), 'long\n');
  await symlink('small.txt', join(src, 'link'));
  for (const format of ['gnu', 'pax', 'ustar']) {
    const file = join(work, `${format}.tar`);
    const names = format === 'ustar' ? ['small.txt', 'block.bin', 'odd.bin', 'empty', 'link'] : ['.'];
    execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', src, ...names]);
    archives.push(await readFile(file));
  }
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('GNU tar archives (gnu, pax, ustar), cut anywhere: the same entries and bytes as readTar', async () => {
  for (const bytes of archives) {
    const expected = await pulled(bytes);
    assert.ok('entries' in expected && expected.entries.length >= 5);
    assert.deepEqual(pushed(bytes, []), expected);
    for (const cuts of [[1], [511], [512], [513], [1000, 1001, 1002], [bytes.length - 1]])
      assert.deepEqual(pushed(bytes, cuts), expected, `cuts ${cuts}`);
    // Byte by byte for the first blocks: every state boundary inside a header and a pax body.
    assert.deepEqual(
      pushed(
        bytes,
        Array.from({ length: 3000 }, (_, i) => i),
      ),
      expected,
    );
  }
});

test('ends: without the end marker, without the last padding, and cut inside header, content or pax', async () => {
  const whole = await tarBuffer([
    { path: 'a', data: 'abc' },
    { path: `${'p'.repeat(150)}/x`, data: 'y' },
  ]);
  // pax record for the long path: header + body, then the entry.
  for (const end of [
    0,
    512,
    515,
    1024,
    1536,
    2048,
    2049,
    2560,
    3072,
    3073,
    whole.length - 1024,
    whole.length,
  ]) {
    const bytes = whole.subarray(0, Math.min(end, whole.length));
    assert.deepEqual(pushed(bytes, [7, 600]), await pulled(bytes), `cut at ${end}`);
  }
  const cut = pushed(whole.subarray(0, 515 - 1), []);
  assert.ok(
    'error' in cut && /MALFORMED .*truncated tar archive.*content of "a"/.test(cut.error),
    JSON.stringify(cut),
  );
});

test('an entry cut inside its padding: truncated in both readers, in any chunking', async () => {
  const whole = await tarBuffer([
    { path: 'a', data: 'abc' },
    { path: 'b', data: 'def' },
  ]);
  for (const end of [512 + 4, 512 + 300, 1023]) {
    const bytes = whole.subarray(0, end);
    const expected = await pulled(bytes);
    assert.ok(
      'error' in expected && /truncated tar archive.*padding after "a"/.test(expected.error),
      `cut at ${end}`,
    );
    for (const cuts of [[], [515], [516], [7, 600]]) assert.deepEqual(pushed(bytes, cuts), expected);
  }
});

test('a pax body whose padding is cut short: truncated, whatever the body says, as readTar says', async () => {
  const long = `${'l'.repeat(120)}/name`;
  const tar = Buffer.from(await tarBuffer([{ path: long, data: Buffer.from('x') }]));
  // The pax body is the second block; break its first record's length, then cut inside its padding.
  const body = tar.indexOf(Buffer.from(' path='), BLOCK_SIZE) - 3;
  tar[body] = 1;
  const cutShort = tar.subarray(0, body + 228);
  const expected = await pulled(cutShort);
  assert.match(JSON.stringify(expected), /truncated/);
  for (const cuts of [[], [1], [body + 100], [7, 300, 700]])
    assert.deepEqual(pushed(cutShort, cuts), expected);
});

test('property: random archives and mutations, any chunking: the same entries or the same error', async () => {
  const names = fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}$/);
  const archive = fc.array(
    fc.oneof(
      fc.record({ path: names, data: fc.uint8Array({ maxLength: 1500 }) }),
      fc.record({ path: names, type: fc.constant('dir' as const) }),
      fc.record({ path: names, type: fc.constant('symlink' as const), linkTarget: names }),
      fc.record({ path: fc.constant(`${'l'.repeat(120)}/name`), data: fc.uint8Array({ maxLength: 10 }) }),
    ),
    { maxLength: 6 },
  );
  const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });
  await fc.assert(
    fc.asyncProperty(
      archive,
      edits,
      fc.boolean(),
      fc.nat(),
      fc.array(fc.nat(), { maxLength: 8 }),
      async (list, changes, fixChecksums, cut, cuts) => {
        const copy = Buffer.from(await tarBuffer(list.map((e) => ({ ...e }))));
        for (const [at, value] of changes) if (copy.length > 0) copy[at % copy.length] = value;
        // With checksums recomputed, the edits reach the fields and bodies behind them.
        if (fixChecksums) recomputeChecksums(copy);
        const bytes = cut % 4 === 0 && copy.length > 0 ? copy.subarray(0, cut % copy.length) : copy;
        assert.deepEqual(pushed(bytes, cuts), await pulled(bytes));
      },
    ),
    { numRuns: 300 },
  );
});
