import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { buildPackages, hasTool, reference } from '../../test/fixtures/build-packages.ts';
import { expectError } from '../../test/helpers/assertions.ts';
import { WaybillError } from '../errors.ts';
import { type CpioHeader, readCpio } from './cpio.ts';

const exec = promisify(execFile);
const fixtures = await buildPackages({ skopeo: false });

/** A newc (or crc) archive written by hand, per cpio(5). */
function cpioEntry(
  name: string,
  data: Buffer | string,
  opts: { mode?: number; nlink?: number; ino?: number; magic?: string; check?: number } = {},
): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const nameBytes = Buffer.concat([Buffer.from(name), Buffer.from([0])]);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const fields = [
    opts.ino ?? 1,
    opts.mode ?? 0o100644,
    0,
    0,
    opts.nlink ?? 1,
    1700000000,
    body.length,
    0,
    0,
    0,
    0,
    nameBytes.length,
    opts.check ?? 0,
  ];
  const header = Buffer.from((opts.magic ?? '070701') + fields.map(hex).join(''), 'latin1');
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  return Buffer.concat([header, nameBytes, pad(header.length + nameBytes.length), body, pad(body.length)]);
}

function cpioArchive(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, cpioEntry('TRAILER!!!', '')]);
}

async function list(bytes: Buffer): Promise<Array<CpioHeader & { data: string }>> {
  const out: Array<CpioHeader & { data: string }> = [];
  for await (const entry of readCpio([bytes], { input: 'test.cpio' })) {
    out.push({ ...entry.header, data: (await entry.readAll()).toString() });
  }
  return out;
}

test('reads the payload rpm2cpio extracts from a real rpm, as rpm lists it', async (t) => {
  const rpm = fixtures.rpm.noarchGzip;
  if (!rpm || !(await hasTool('rpm2cpio'))) return t.skip(fixtures.rpmSkip ?? 'rpm2cpio not installed');
  const { stdout } = await exec('rpm2cpio', [rpm], { encoding: 'buffer', maxBuffer: 1 << 26 });
  const entries = await list(stdout);
  const expected = (await reference('rpm', ['-qp', '--qf', '[%{FILENAMES}\\n]', rpm])).trim().split('\n');
  assert.deepEqual(entries.map((e) => `/${e.path}`).sort(), expected.sort());
  const script = entries.find((e) => e.path === 'usr/bin/waybill-demo');
  assert.equal(script?.data, '#!/bin/sh\necho hi\n');
  assert.equal(script?.mode, 0o755);
  assert.equal(entries.find((e) => e.path === 'usr/bin/wd')?.linkTarget, 'waybill-demo');
  assert.equal(entries.find((e) => e.path === 'usr/share/doc/waybill-demo')?.type, 'dir');
});

test('newc and crc archives; crc checksums are verified', async () => {
  const data = 'hello cpio\n';
  const sum = [...Buffer.from(data)].reduce((a, b) => a + b, 0);
  const entries = await list(
    cpioArchive(
      cpioEntry('./a/b.txt', data),
      cpioEntry('./c.txt', data, { magic: '070702', check: sum }),
      cpioEntry('.', '', { mode: 0o040755 }),
    ),
  );
  assert.deepEqual(
    entries.map((e) => [e.path, e.type, e.data]),
    [
      ['a/b.txt', 'file', data],
      ['c.txt', 'file', data],
    ],
  );
  await expectError(
    list(cpioArchive(cpioEntry('x', data, { magic: '070702', check: sum + 1 }))),
    'MALFORMED',
    /checksum/,
  );
});

test('hostile archives: `..`, absolute paths, truncation, bad fields', async () => {
  await expectError(list(cpioArchive(cpioEntry('./usr/../../etc/passwd', 'x'))), 'UNSAFE_PATH', /\.\./);
  await expectError(list(cpioArchive(cpioEntry('/etc/passwd', 'x'))), 'UNSAFE_PATH', /absolute/);
  const whole = cpioArchive(cpioEntry('./f', 'some content here'));
  await expectError(list(whole.subarray(0, 130)), 'MALFORMED', /truncated/);
  await expectError(list(whole.subarray(0, 50)), 'MALFORMED', /truncated/);
  await expectError(list(cpioEntry('./f', 'x')), 'MALFORMED', /without a TRAILER/);
  const badHex = Buffer.from(whole);
  badHex.write('zz', 6 + 6 * 8, 'latin1');
  await expectError(list(badHex), 'MALFORMED', /filesize/);
  await expectError(list(Buffer.from('070707' + '0'.repeat(200))), 'MALFORMED', /magic/);
  await expectError(list(Buffer.from('07070X' + '0'.repeat(200))), 'UNSUPPORTED', /stripped/);
  await expectError(
    list(cpioArchive(cpioEntry('./bad\xff', 'x').fill(0xff, 110, 115))),
    'MALFORMED',
    /UTF-8/,
  );
});

async function consumeAll(bytes: Uint8Array): Promise<boolean> {
  try {
    for await (const entry of readCpio([Buffer.from(bytes)], { input: 'fuzz' })) {
      if (entry.header.size < 4096) await entry.readAll();
    }
  } catch (e) {
    if (!(e instanceof WaybillError)) throw e;
  }
  return true;
}

test('property: random bytes never throw anything but WaybillError', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), (tail) =>
      consumeAll(Buffer.concat([Buffer.from('070701'), tail])),
    ),
    { numRuns: 300 },
  );
});

test('property: mutated real payloads never throw anything but WaybillError', async (t) => {
  const rpm = fixtures.rpm.noarchGzip;
  if (!rpm || !(await hasTool('rpm2cpio'))) return t.skip(fixtures.rpmSkip ?? 'rpm2cpio not installed');
  const { stdout: original } = await exec('rpm2cpio', [rpm], { encoding: 'buffer', maxBuffer: 1 << 26 });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.nat(original.length),
      async (edits, cut) => {
        const bytes = Buffer.from(original.subarray(0, cut));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        return consumeAll(bytes);
      },
    ),
    { numRuns: 300 },
  );
});
