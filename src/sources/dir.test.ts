import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { journalName, lockName, tempName } from '../util/temp-names.ts';
import { isWaybillFile, listTree, openDir, treeDigest } from './dir.ts';
import type { FileFilter } from './types.ts';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-dir-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

let counter = 0;
async function tree(files: Record<string, string> = { 'bin/tool': 'x' }): Promise<string> {
  const root = join(work, `t${counter++}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const digestOf = async (root: string) => (await openDir(root, root)).digest;
const isRoot = process.getuid?.() === 0;

test('the digest follows the documented canonical form byte for byte', async () => {
  const root = await tree({ a: 'A' });
  await mkdir(join(root, 'd'));
  await symlink('a', join(root, 'l'));
  await chmod(join(root, 'a'), 0o4755);
  await chmod(join(root, 'd'), 0o1777);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const linkMode = ((await lstat(join(root, 'l'))).mode & 0o7777).toString(8);
  const canonical = [
    'waybill-tree-v2\0',
    `a\0file\x004755\0${uid}\0${gid}\x001\0${sha('A')}\0`,
    `d\0dir\x001777\0${uid}\0${gid}\x000\0\0`,
    `l\0symlink\0${linkMode}\0${uid}\0${gid}\x001\0${sha('a')}\0`,
  ].join('');
  assert.equal(await digestOf(root), `sha256:${sha(canonical)}`);
});

test('setuid, setgid and sticky bits change the digest', async () => {
  const root = await tree();
  const before = await digestOf(root);
  for (const mode of [0o4644, 0o2644, 0o1644]) {
    await chmod(join(root, 'bin/tool'), mode);
    assert.notEqual(await digestOf(root), before, mode.toString(8));
  }
  await chmod(join(root, 'bin/tool'), 0o644);
  assert.equal(await digestOf(root), before);
});

test('owner and group change the digest (a file swapped for a root-owned one)', {
  skip: !isRoot && 'needs root to chown',
}, async () => {
  const root = await tree();
  const before = await digestOf(root);
  await chown(join(root, 'bin/tool'), 1234, 0);
  const byOwner = await digestOf(root);
  assert.notEqual(byOwner, before);
  await chown(join(root, 'bin/tool'), 1234, 4321);
  assert.notEqual(await digestOf(root), byOwner);
});

test('/dev/null swapped for /dev/mem (same mode) changes the digest; devices are never read', {
  skip: !isRoot && 'needs root to mknod',
}, async () => {
  const root = await tree();
  const node = join(root, 'dev-null');
  execFileSync('mknod', ['-m', '0666', node, 'c', '1', '3']);
  const withNull = await openDir(root, root);
  await unlink(node);
  execFileSync('mknod', ['-m', '0666', node, 'c', '1', '1']);
  assert.notEqual(await digestOf(root), withNull.digest);
  await unlink(node);
  execFileSync('mknod', ['-m', '0666', node, 'b', '1', '3']);
  assert.notEqual(await digestOf(root), withNull.digest, 'block vs char with the same numbers');
  const entry = (await listTree(root)).find((e) => e.path === 'dev-null');
  assert.equal(entry?.node, 'block');
  assert.equal(entry?.device, '1,3');
});

test('a link target change changes the digest', async () => {
  const root = await tree();
  await symlink('/usr/bin/true', join(root, 'bin/alias'));
  const before = await digestOf(root);
  await unlink(join(root, 'bin/alias'));
  await symlink('/usr/bin/false', join(root, 'bin/alias'));
  assert.notEqual(await digestOf(root), before);
});

test('a FIFO inside the tree is listed as what it is and never opened, even when a filter wants it', async () => {
  const root = await tree();
  execFileSync('mkfifo', [join(root, 'bin/pipe')]);
  const artifact = await openDir(root, root);
  const everything: FileFilter = { want: () => true };
  const sniffAll: FileFilter = { want: () => 'sniff', sniff: () => true };
  for (const filter of [everything, sniffAll]) {
    const walked = await artifact.walk(filter);
    const pipe = walked.files.find((f) => f.entry.path === 'bin/pipe');
    if (filter === everything) {
      assert.equal(pipe?.entry.type, 'other');
      assert.equal(pipe?.data.length, 0);
    } else assert.equal(pipe, undefined);
  }
  assert.equal((await listTree(root)).find((e) => e.path === 'bin/pipe')?.node, 'fifo');
});

test("waybill's transient files and sidecars of files beside them stay out of the digest and the walk", async () => {
  const root = await tree({ 'app.deb': 'deb' });
  const before = await digestOf(root);
  const extras = [
    'app.deb.waybill.json',
    'app.deb.cdx.json',
    'app.deb.spdx.json',
    '.app.deb.waybill.lock',
    '.app.deb.waybill.lock.break',
    '.app.deb.waybill-journal.json',
    `.app.deb.waybill-${process.pid}-0123456789abcdef.tmp`,
  ];
  for (const name of extras) await writeFile(join(root, name), '{}');
  await mkdir(join(root, '.app.deb.waybill-123-fedcba9876543210.tmp'));
  await writeFile(join(root, '.app.deb.waybill-123-fedcba9876543210.tmp', 'app.deb'), 'staged');
  assert.equal(await digestOf(root), before);
  const walked = await (await openDir(root, root)).walk({ want: () => true });
  assert.deepEqual(
    walked.files.map((f) => f.entry.path),
    ['app.deb'],
  );
  // A record-looking file with no artifact beside it is content like any other.
  await writeFile(join(root, 'orphan.waybill.json'), '{}');
  assert.notEqual(await digestOf(root), before);
});

test('isWaybillFile: exact names only', () => {
  const siblings = new Set(['x']);
  assert.ok(isWaybillFile('x.waybill.json', siblings));
  assert.ok(!isWaybillFile('y.waybill.json', siblings));
  assert.ok(!isWaybillFile('.waybill.json', siblings));
  assert.ok(isWaybillFile('.waybill.lock', siblings));
  assert.ok(!isWaybillFile('.x.waybill-1-short.tmp', siblings));
  assert.ok(!isWaybillFile('x.waybill.lock', siblings));
});

test('isWaybillFile: every name waybill gives its own transient files is left out, whatever the base', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 40 }).filter((b) => !b.includes('/')),
      (base) => {
        for (const name of [tempName(base), lockName(base), `${lockName(base)}.break`, journalName(base)])
          assert.ok(isWaybillFile(name, new Set()), name);
      },
    ),
  );
});

test('treeDigest of no entries is the header alone', async () => {
  assert.equal(
    await treeDigest([]),
    `sha256:${createHash('sha256').update('waybill-tree-v2\0').digest('hex')}`,
  );
});

test('digest false: the tree is listed, not hashed, and walks exactly as a hashed one', async () => {
  const root = await tree({
    'bin/elf': '\x7fELF and then some bytes',
    'bin/script': '#!/bin/sh\n',
    'etc/os-release': 'ID=debian\n',
    'usr/share/big': 'x'.repeat(5000),
  });
  await symlink('elf', join(root, 'bin/link'));
  execFileSync('mkfifo', [join(root, 'bin/pipe')]);
  const listed = await openDir(root, root, { digest: false });
  const hashed = await openDir(root, root);
  assert.equal(listed.digest, undefined);
  assert.match(hashed.digest, /^sha256:[0-9a-f]{64}$/);
  const filters: FileFilter[] = [
    { want: () => true },
    { want: (e) => (e.path.startsWith('bin/') ? 'sniff' : false), sniff: (_e, head) => head[0] === 0x7f },
    { want: (e) => e.path === 'usr/share/big' },
  ];
  for (const filter of filters) {
    const view = (w: Awaited<ReturnType<typeof listed.walk>>) => ({
      files: w.files.map((f) => [f.entry, f.data.toString('latin1')]),
      skipped: w.skipped,
    });
    assert.deepEqual(view(await listed.walk(filter)), view(await hashed.walk(filter)));
    assert.deepEqual(
      view(await listed.walk(filter, { maxFileSize: 100 })),
      view(await hashed.walk(filter, { maxFileSize: 100 })),
    );
  }
  const sniffed = await listed.walk(filters[1] as FileFilter);
  assert.deepEqual(
    sniffed.files.map((f) => f.entry.path),
    ['bin/elf'],
  );
});
