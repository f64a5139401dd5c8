import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { WaybillError } from '../errors.ts';
import { currentOwner, FileLock, isStale, withLock } from './lock.ts';

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir('lock', fn);

/** The pid of a process that has exited (and so, for a moment, names nobody). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

test('a second acquire is BUSY and names the holder; release lets the next one in', () =>
  withDir(async (dir) => {
    const path = join(dir, '.app.waybill.lock');
    const lock = await FileLock.acquire(path, 'app');
    const owner = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.host, hostname());
    await assert.rejects(FileLock.acquire(path, 'app'), (e: unknown) => {
      assert.ok(e instanceof WaybillError);
      assert.equal(e.code, 'BUSY');
      assert.match(
        e.message,
        new RegExp(`^app: another waybill run holds the lock .* \\(pid ${process.pid} on `),
      );
      return true;
    });
    await lock.release();
    await lock.release();
    const again = await FileLock.acquire(path, 'app');
    await again.release();
  }));

test('a lock left by a killed process is stale and taken over', () =>
  withDir(async (dir) => {
    const path = join(dir, '.app.waybill.lock');
    const stale = { ...currentOwner(), pid: deadPid() };
    assert.ok(isStale(stale));
    await writeFile(path, JSON.stringify(stale));
    const result = await withLock(path, 'app', async () => JSON.parse(await readFile(path, 'utf8')).pid);
    assert.equal(result, process.pid);
  }));

test('a reused pid (same pid, other start time) and another boot are stale', () => {
  const me = currentOwner();
  if (me.procStart) assert.ok(isStale({ ...me, procStart: `${me.procStart}1` }));
  if (me.boot) assert.ok(isStale({ ...me, boot: 'another-boot' }));
  assert.ok(!isStale(me));
});

test('a lock from another host is never broken', () =>
  withDir(async (dir) => {
    const path = join(dir, '.app.waybill.lock');
    await writeFile(path, JSON.stringify({ ...currentOwner(), host: 'elsewhere.example', pid: deadPid() }));
    await assert.rejects(FileLock.acquire(path, 'app'), /pid \d+ on elsewhere\.example since/);
  }));

test('a lock file waybill cannot read is not taken over', () =>
  withDir(async (dir) => {
    const path = join(dir, '.app.waybill.lock');
    await writeFile(path, 'garbage');
    await assert.rejects(FileLock.acquire(path, 'app'), /a process that left no readable owner/);
  }));

test('release leaves a lock that is no longer ours alone', () =>
  withDir(async (dir) => {
    const path = join(dir, '.app.waybill.lock');
    const lock = await FileLock.acquire(path, 'app');
    await writeFile(path, 'someone else');
    await lock.release();
    assert.equal(await readFile(path, 'utf8'), 'someone else');
  }));
