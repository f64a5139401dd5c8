import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { WaybillError } from '../errors.ts';
import { AtomicFile, tempPathFor, writeFileAtomic } from './atomic-write.ts';
import { parseTempName } from './temp-names.ts';

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir('atomic', fn);

function mkfifo(path: string): boolean {
  try {
    execFileSync('mkfifo', [path]);
    return true;
  } catch {
    return false;
  }
}

test('writes a new file and replaces an old one, leaving no temp file', () =>
  withDir(async (dir) => {
    const target = join(dir, 'out.json');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, 'two');
    assert.equal(await readFile(target, 'utf8'), 'two');
    assert.deepEqual(await readdir(dir), ['out.json']);
  }));

test('temp names are hidden, per process, unpredictable and recognisable as ours', () => {
  const a = tempPathFor('/x/app.deb');
  const b = tempPathFor('/x/app.deb');
  assert.notEqual(a, b);
  assert.match(a, /^\/x\/\.app\.deb\.waybill-\d+-[0-9a-f]{16}\.tmp$/);
  assert.deepEqual(parseTempName(a.slice(3)), { base: 'app.deb', pid: process.pid });
});

test('a symlink at the target is refused and what it points at is untouched', () =>
  withDir(async (dir) => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    const target = join(dir, 'app.cdx.json');
    await symlink(victim, target);
    await assert.rejects(writeFileAtomic(target, '{}'), (e: unknown) => {
      assert.ok(e instanceof WaybillError);
      assert.equal(e.code, 'UNSAFE_PATH');
      assert.match(e.message, /app\.cdx\.json: is a symbolic link/);
      return true;
    });
    assert.equal(await readFile(victim, 'utf8'), 'precious');
    assert.deepEqual((await readdir(dir)).sort(), ['app.cdx.json', 'victim']);
  }));

test('a dangling symlink at the target is refused too (it would create the file it names)', () =>
  withDir(async (dir) => {
    const target = join(dir, 'rec.json');
    await symlink(join(dir, 'created-elsewhere'), target);
    await assert.rejects(writeFileAtomic(target, '{}'), /is a symbolic link/);
    assert.deepEqual((await readdir(dir)).sort(), ['rec.json']);
  }));

test('a FIFO at the target is refused at once (no hang), and /dev/null is never replaced', async (t) => {
  await withDir(async (dir) => {
    const fifo = join(dir, 'pipe');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    await assert.rejects(writeFileAtomic(fifo, 'x'), /pipe: is a FIFO \(named pipe\)/);
    assert.ok((await stat(fifo)).isFIFO());
  });
  await assert.rejects(writeFileAtomic('/dev/null', 'x'), /\/dev\/null: is a character device/);
  assert.ok((await stat('/dev/null')).isCharacterDevice());
});

test('explicit outputs (-o) write through a device and a FIFO, as the shell does', async (t) => {
  await writeFileAtomic('/dev/null', 'discarded', { explicit: true });
  assert.ok((await stat('/dev/null')).isCharacterDevice());
  await withDir(async (dir) => {
    const fifo = join(dir, 'pipe');
    if (!mkfifo(fifo)) return t.skip('mkfifo is not available');
    const reader = readFile(fifo, 'utf8');
    await writeFileAtomic(fifo, 'through the pipe', { explicit: true });
    assert.equal(await reader, 'through the pipe');
    assert.ok((await stat(fifo)).isFIFO());
  });
});

test('a directory at the target is a usage error', () =>
  withDir(async (dir) => {
    await assert.rejects(
      writeFileAtomic(dir, 'x'),
      (e: unknown) => e instanceof WaybillError && e.code === 'USAGE',
    );
  }));

test('AtomicFile: pieces, then commit; abort leaves nothing', () =>
  withDir(async (dir) => {
    const target = join(dir, 'big.tar');
    const file = await AtomicFile.create(target, { mode: 0o600 });
    await file.writeAll([Buffer.from('a'), Buffer.from('b')]);
    assert.deepEqual(await readdir(dir), [file.tempPath.slice(dir.length + 1)]);
    await file.commit();
    assert.equal(await readFile(target, 'utf8'), 'ab');
    assert.equal((await stat(target)).mode & 0o777, 0o600);
    const other = await AtomicFile.create(target);
    await other.write('zzz');
    await other.abort();
    assert.deepEqual(await readdir(dir), ['big.tar']);
    assert.equal(await readFile(target, 'utf8'), 'ab');
  }));

test('a link planted at the target while writing is still refused at commit', () =>
  withDir(async (dir) => {
    const target = join(dir, 'rec.json');
    const file = await AtomicFile.create(target);
    await file.write('{}');
    await symlink('/dev/null', target);
    await assert.rejects(file.commit(), /is a symbolic link/);
    assert.deepEqual(await readdir(dir), ['rec.json']);
  }));

test('a stream is written whole and in order, read ahead in batches; a failing source leaves nothing', () =>
  withTempDir('atomic-stream', async (dir) => {
    // Chunks of many sizes, about 3 MiB in all: several batches, each one writev.
    const sizes = Array.from({ length: 300 }, (_, i) => ((i * 7919) % 20_000) + 1);
    const chunks = sizes.map((n, i) => Buffer.alloc(n, i % 251));
    const target = join(dir, 'blob');
    await writeFileAtomic(
      target,
      (async function* () {
        for (const c of chunks) yield c;
      })(),
    );
    assert.deepEqual(await readFile(target), Buffer.concat(chunks));
    const broken = join(dir, 'broken');
    await assert.rejects(
      writeFileAtomic(
        broken,
        (async function* () {
          for (const c of chunks) yield c;
          throw new Error('the download broke off');
        })(),
      ),
      /broke off/,
    );
    assert.deepEqual((await readdir(dir)).sort(), ['blob']);
  }));

test('a write into a missing directory says so in words, with the code', () =>
  withDir(async (dir) => {
    const target = join(dir, 'missing', 'out.json');
    await assert.rejects(writeFileAtomic(target, 'x'), (e: unknown) => {
      assert.ok(e instanceof WaybillError);
      assert.equal(e.input, target);
      assert.match(e.message, /cannot write: its directory does not exist \(ENOENT\)/);
      return true;
    });
  }));
