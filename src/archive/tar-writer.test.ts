import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isWaybillError } from '../errors.ts';
import { type TarEntryInput, tarBuffer, tarStream } from './tar-writer.ts';

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-tarw-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GNU tar's verbose listing: the reference reader. */
function gnuList(tar: Buffer): string[] {
  return withTemp((dir) => {
    const file = join(dir, 'a.tar');
    writeFileSync(file, tar);
    return execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', file], { encoding: 'utf8' })
      .trimEnd()
      .split('\n');
  });
}

test('GNU tar reads back names, modes, owners, mtime, links and contents', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}.txt`;
  const entries: TarEntryInput[] = [
    { path: 'etc', type: 'dir' },
    { path: 'etc/hello.txt', data: 'hello\n' },
    { path: 'bin/run', data: Buffer.from([0, 1, 2, 255]), mode: 0o755 },
    { path: 'link', type: 'symlink', linkTarget: 'etc/hello.txt' },
    { path: 'hard', type: 'hardlink', linkTarget: 'etc/hello.txt' },
    { path: long, data: 'x'.repeat(1000) },
    { path: 'ünïcødé.txt', data: 'u' },
  ];
  const tar = await tarBuffer(entries, { mtime: 1700000000 });
  assert.equal(tar.length % 512, 0);
  const lines = gnuList(tar);
  assert.equal(lines.length, entries.length);
  assert.match(lines[0]!, /^drwxr-xr-x 0\/0 +0 2023-11-14 22:13:20 etc\/$/);
  assert.match(lines[1]!, /^-rw-r--r-- 0\/0 +6 2023-11-14 22:13:20 etc\/hello\.txt$/);
  assert.match(lines[2]!, /^-rwxr-xr-x 0\/0 +4 .* bin\/run$/);
  assert.match(lines[3]!, /^lrwxrwxrwx .* link -> etc\/hello\.txt$/);
  assert.match(lines[4]!, /^hrw-r--r-- .* hard link to etc\/hello\.txt$/);
  assert.ok(lines[5]!.endsWith(long), 'pax path restores the long name');
  assert.ok(lines[6]!.endsWith('ünïcødé.txt'));

  withTemp((dir) => {
    writeFileSync(join(dir, 'a.tar'), tar);
    execFileSync('tar', ['-xf', 'a.tar'], { cwd: dir });
    assert.equal(readFileSync(join(dir, 'etc/hello.txt'), 'utf8'), 'hello\n');
    assert.deepEqual(readFileSync(join(dir, 'bin/run')), Buffer.from([0, 1, 2, 255]));
    assert.equal(readlinkSync(join(dir, 'link')), 'etc/hello.txt');
    assert.equal(readFileSync(join(dir, long), 'utf8'), 'x'.repeat(1000));
  });
});

test('same entries give the same bytes; mtime changes them', async () => {
  const entries = (): TarEntryInput[] => [{ path: 'a', data: 'a' }];
  const a = await tarBuffer(entries(), { mtime: 5 });
  const b = await tarBuffer(entries(), { mtime: 5 });
  const c = await tarBuffer(entries(), { mtime: 6 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(a.length, 512 + 512 + 1024);
});

test('stream sources are pulled lazily and their size is enforced', async () => {
  let opened = 0;
  const chunks = [Buffer.from('abc'), Buffer.from('defg')];
  const stream = tarStream([
    {
      path: 'big',
      data: {
        size: 7,
        open: () => {
          opened++;
          return chunks;
        },
      },
    },
  ]);
  assert.equal(opened, 0);
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  assert.equal(opened, 1);
  const tar = Buffer.concat(parts);
  assert.equal(tar.subarray(512, 519).toString(), 'abcdefg');

  await assert.rejects(
    tarBuffer([{ path: 'short', data: { size: 10, open: () => chunks } }]),
    (e) => isWaybillError(e) && e.code === 'MALFORMED',
  );
  await assert.rejects(
    tarBuffer([{ path: 'long', data: { size: 2, open: () => chunks } }]),
    (e) => isWaybillError(e) && e.code === 'MALFORMED',
  );
});

test('unsafe paths are refused with UNSAFE_PATH', async () => {
  for (const path of ['/etc/passwd', '../x', 'a/../../b', 'a//b', '', 'a\0b', './a']) {
    await assert.rejects(
      tarBuffer([{ path, data: '' }]),
      (e) => isWaybillError(e) && e.code === 'UNSAFE_PATH',
      path,
    );
  }
});

test('property: any safe path list round-trips through GNU tar', async () => {
  const segment = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
    .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..' && !/[\n\r\\]/.test(s));
  const pathArb = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/'));
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(pathArb, { minLength: 1, maxLength: 4 }), async (paths) => {
      const tar = await tarBuffer(paths.map((path) => ({ path, data: path })));
      const out = withTemp((dir) => {
        writeFileSync(join(dir, 'a.tar'), tar);
        const r = spawnSync('tar', ['--quoting-style=literal', '-tf', 'a.tar'], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, LC_ALL: 'C.UTF-8' },
        });
        assert.equal(r.status, 0, r.stderr);
        return r.stdout;
      });
      assert.deepEqual(out.split('\n').slice(0, -1), paths);
    }),
    { numRuns: 40 },
  );
});

test('property: arbitrary entry input never throws anything but WaybillError', async () => {
  const entryArb = fc.record(
    {
      path: fc.string({ maxLength: 300 }),
      type: fc.constantFrom('file', 'dir', 'symlink', 'hardlink') as fc.Arbitrary<TarEntryInput['type']>,
      data: fc.option(fc.uint8Array({ maxLength: 50 }), { nil: undefined }),
      linkTarget: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
      mtime: fc.option(fc.integer({ min: -5, max: 2 ** 40 }), { nil: undefined }),
      mode: fc.option(fc.integer({ min: 0, max: 0o7777 }), { nil: undefined }),
    },
    { requiredKeys: ['path'] },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(entryArb, { maxLength: 3 }), async (entries) => {
      try {
        const tar = await tarBuffer(entries);
        assert.equal(tar.length % 512, 0);
      } catch (e) {
        if (!isWaybillError(e)) throw e;
      }
    }),
    { numRuns: 300 },
  );
});
