import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { WaybillError } from '../errors.ts';
import { readBuffers, readWantedSync } from './tree-read.ts';
import type { FileEntry, FileFilter } from './types.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'waybill-tree-read-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const file = (path: string, size: number): FileEntry => ({ path, type: 'file', size, mode: 0o644 });
const MAX = 1024 * 1024;

test('files read one after another into one reused buffer: each kept copy stays its own', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 5000 }), { minLength: 1, maxLength: 8 }),
      async (contents) => {
        const entries = await Promise.all(
          contents.map(async (bytes, i) => {
            await writeFile(join(root, `f${i}`), bytes);
            return file(`f${i}`, bytes.length);
          }),
        );
        const buffers = readBuffers();
        const read: number[] = [];
        const kept = entries.map(
          (e) =>
            readWantedSync(root, e, false, { want: () => true }, MAX, buffers, (n) => read.push(n))
              .kept as Buffer,
        );
        kept.forEach((k, i) => {
          assert.deepEqual(k, Buffer.from(contents[i] as Uint8Array));
        });
        assert.deepEqual(
          read,
          contents.map((c) => c.length),
        );
      },
    ),
    { numRuns: 30 },
  );
});

test('sniffing: the filter sees the first bytes; a file it refuses is read no further', async () => {
  await writeFile(join(root, 'elf'), Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(100, 7)]));
  await writeFile(
    join(root, 'text'),
    'just text, and more than sixty-four bytes of it, padded out to be sure.',
  );
  const heads: string[] = [];
  const filter: FileFilter = {
    want: () => 'sniff',
    sniff: (_e, head) => {
      heads.push(head.toString('latin1', 0, 4));
      return head.subarray(0, 4).equals(Buffer.from('\x7fELF'));
    },
  };
  const buffers = readBuffers();
  const reads: number[] = [];
  const elf = readWantedSync(root, file('elf', 104), true, filter, MAX, buffers, (n) => reads.push(n));
  const text = readWantedSync(root, file('text', 72), true, filter, MAX, buffers, (n) => reads.push(n));
  assert.deepEqual(heads, ['\x7fELF', 'just']);
  assert.equal(elf.kept?.length, 104);
  assert.deepEqual(text, {});
  assert.deepEqual(reads, [104]);
});

test('too large: skipped unopened when wanted by name; when sniffed, only once the sniff wants it', async () => {
  // Not even there: skipped without being opened.
  assert.deepEqual(
    readWantedSync(root, file('absent', MAX + 1), false, { want: () => true }, MAX, readBuffers()),
    {
      skipped: `${MAX + 1} bytes is larger than maxFileSize ${MAX}`,
    },
  );
  await writeFile(join(root, 'big'), Buffer.alloc(2048, 1));
  const sniffing = (answer: boolean): FileFilter => ({ want: () => 'sniff', sniff: () => answer });
  assert.deepEqual(readWantedSync(root, file('big', 2048), true, sniffing(false), 1024, readBuffers()), {});
  assert.deepEqual(readWantedSync(root, file('big', 2048), true, sniffing(true), 1024, readBuffers()), {
    skipped: '2048 bytes is larger than maxFileSize 1024',
  });
});

test('a link is never followed, and keep drops what it refuses', async () => {
  await writeFile(join(root, 'target'), 'secret');
  await symlink('target', join(root, 'link'));
  assert.throws(
    () => readWantedSync(root, file('link', 6), false, { want: () => true }, MAX, readBuffers()),
    (e: unknown) => e instanceof WaybillError && e.message.includes('link'),
  );
  const refusing: FileFilter = { want: () => true, keep: () => false };
  assert.deepEqual(readWantedSync(root, file('target', 6), false, refusing, MAX, readBuffers()), {});
});

test('a large file the filter condenses is condensed from disk, and keep sees the condensed copy', async () => {
  const size = 512 * 1024;
  await writeFile(join(root, 'large'), Buffer.alloc(size, 3));
  const kept: number[] = [];
  const filter: FileFilter = {
    want: () => true,
    condense: (_e, source) => {
      assert.equal(source.size, size);
      return Buffer.from(source.read(0, 8));
    },
    keep: (_e, data) => {
      kept.push(data.length);
      return true;
    },
  };
  const out = readWantedSync(root, file('large', size), false, filter, MAX, readBuffers());
  assert.deepEqual(out.kept, Buffer.alloc(8, 3));
  assert.deepEqual(kept, [8]);
});
