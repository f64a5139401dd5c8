import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from './atomic-write.ts';

test('writes a new file and replaces an old one, leaving no temp file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-atomic-'));
  try {
    const target = join(dir, 'out.json');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, 'two');
    assert.equal(await readFile(target, 'utf8'), 'two');
    assert.deepEqual(await readdir(dir), ['out.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a character device such as /dev/null is written through, never replaced', async () => {
  await writeFileAtomic('/dev/null', 'discarded');
  assert.ok((await stat('/dev/null')).isCharacterDevice());
});

test('a FIFO is written through', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-atomic-'));
  try {
    const fifo = join(dir, 'pipe');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return t.skip('mkfifo is not available');
    }
    const reader = readFile(fifo, 'utf8');
    await writeFileAtomic(fifo, 'through the pipe');
    assert.equal(await reader, 'through the pipe');
    assert.ok((await stat(fifo)).isFIFO());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
