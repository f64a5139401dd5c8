import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { WaybillError } from '../errors.ts';
import {
  openRegularFile,
  readListedFileSync,
  readRegularFile,
  readRegularFileIfPresent,
} from './regular-file.ts';

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir('regular', fn);

function rejectsWith(code: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof WaybillError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  };
}

test('reads a regular file, through a link unless links are refused', () =>
  withDir(async (dir) => {
    const file = join(dir, 'a');
    await writeFile(file, 'hello');
    await symlink(file, join(dir, 'link'));
    assert.equal((await readRegularFile(join(dir, 'link'))).toString(), 'hello');
    await assert.rejects(
      readRegularFile(join(dir, 'link'), { noFollow: true }),
      rejectsWith('UNSAFE_PATH', /link: is a symbolic link/),
    );
  }));

test('devices are refused without being read: /dev/zero, /dev/urandom, and a link to /dev/zero', async () => {
  await assert.rejects(
    readRegularFile('/dev/zero'),
    rejectsWith('USAGE', /\/dev\/zero: is a character device/),
  );
  await assert.rejects(openRegularFile('/dev/urandom'), rejectsWith('USAGE', /character device/));
  await withDir(async (dir) => {
    await symlink('/dev/zero', join(dir, 'zero'));
    await assert.rejects(readRegularFile(join(dir, 'zero')), /is a character device/);
  });
});

test('a FIFO is refused at once, without a writer (no hang)', async (t) => {
  await withDir(async (dir) => {
    const fifo = join(dir, 'fifo');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return t.skip('mkfifo is not available');
    }
    await assert.rejects(
      readRegularFile(fifo, { input: 'sidecar' }),
      rejectsWith('USAGE', /^sidecar: is a FIFO/),
    );
  });
});

test('size limit and absence', () =>
  withDir(async (dir) => {
    const file = join(dir, 'big');
    await writeFile(file, Buffer.alloc(100));
    await assert.rejects(
      readRegularFile(file, { maxBytes: 99 }),
      rejectsWith('LIMIT', /100 bytes, over the 99-byte limit/),
    );
    assert.equal(await readRegularFileIfPresent(join(dir, 'missing')), undefined);
    await assert.rejects(readRegularFile(join(dir, 'missing')), rejectsWith('NOT_FOUND', /no such file/));
    await assert.rejects(readRegularFileIfPresent(dir), rejectsWith('USAGE', /is a directory/));
  }));

test('readListedFileSync: the same rules, synchronously (a link refused, a FIFO refused, the size limit)', () =>
  withDir(async (dir) => {
    const file = join(dir, 'a');
    await writeFile(file, 'hello');
    await symlink(file, join(dir, 'link'));
    assert.equal(readListedFileSync(file).toString(), 'hello');
    assert.throws(
      () => readListedFileSync(join(dir, 'link'), { noFollow: true }),
      rejectsWith('UNSAFE_PATH', /link: is a symbolic link/),
    );
    assert.throws(
      () => readListedFileSync(file, { maxBytes: 4 }),
      rejectsWith('LIMIT', /5 bytes, over the 4-byte limit/),
    );
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(
      () => readListedFileSync(fifo, { input: 'advisory' }),
      rejectsWith('USAGE', /^advisory: is a FIFO/),
    );
  }));
