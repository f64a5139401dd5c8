import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { sha256Digest } from '../util/digest.ts';
import { registerContainerWalker } from './container-walkers.ts';
import { openArtifact } from './open.ts';
import type { FileFilter, WalkResult } from './types.ts';

let work = '';
const all: FileFilter = { want: () => true };
const filesOnly: FileFilter = { want: (e) => e.type === 'file' };
const paths = (r: WalkResult) => r.files.map((f) => f.entry.path);

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'waybill-open-'));
  await mkdir(join(work, 'tree/sub'), { recursive: true });
  await writeFile(join(work, 'tree/sub/a.txt'), 'A');
  await writeFile(join(work, 'tree/b.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1]));
  await symlink('/etc/passwd', join(work, 'tree/escape'));
  execFileSync('tar', ['-czf', join(work, 'tree.tar.gz'), '-C', join(work, 'tree'), '.']);
  execFileSync('tar', ['-cf', join(work, 'tree.tar'), '-C', join(work, 'tree'), '.']);
  execFileSync('zstd', ['-q', '-o', join(work, 'tree.tar.zst'), join(work, 'tree.tar')]);
  // xz-utils' default check (CRC64) and the SHA-256 check its streaming decoder refuses, one and two blocks.
  await writeFile(join(work, 'tree.tar.xz'), execFileSync('xz', ['-c', join(work, 'tree.tar')]));
  await writeFile(
    join(work, 'tree.txz'),
    execFileSync('xz', ['-c', '--check=sha256', '--block-size=4096', join(work, 'tree.tar')]),
  );
  await writeFile(join(work, 'plain.txt'), 'just text\n');
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('file: digest of the bytes; walk yields the file itself under its base name', async () => {
  const artifact = await openArtifact(`file:${join(work, 'plain.txt')}`);
  assert.equal(artifact.kind, 'file');
  assert.equal(artifact.digest, sha256Digest('just text\n'));
  const result = await artifact.walk(all);
  assert.deepEqual(paths(result), ['plain.txt']);
  assert.equal(result.files[0]?.data.toString(), 'just text\n');
  assert.deepEqual((await artifact.walk(all, { maxFileSize: 2 })).skipped, [
    { path: 'plain.txt', reason: '10 bytes is larger than maxFileSize 2' },
  ]);
});

test('file: plain tarballs (tar, tar.gz, tar.zst, tar.xz) are walked entry by entry; symlinks are entries', async () => {
  for (const name of ['tree.tar', 'tree.tar.gz', 'tree.tar.zst', 'tree.tar.xz', 'tree.txz']) {
    const artifact = await openArtifact(join(work, name));
    assert.equal(artifact.kind, 'file', name);
    const result = await artifact.walk(all);
    assert.deepEqual(paths(result), ['b.bin', 'escape', 'sub', 'sub/a.txt'], name);
    assert.equal(result.files.find((f) => f.entry.path === 'escape')?.entry.linkTarget, '/etc/passwd');
    assert.deepEqual(result.files.find((f) => f.entry.path === 'sub/a.txt')?.earlier, []);
  }
});

test('file: a gzip bomb in a tarball stops with LIMIT under a low cap', async () => {
  const bomb = join(work, 'bomb.tar.gz');
  const tar = execFileSync('tar', ['-cf', '-', '-C', work, 'plain.txt']);
  await writeFile(bomb, zlib.gzipSync(Buffer.concat([tar.subarray(0, 512), Buffer.alloc(32 * 1024 * 1024)])));
  const artifact = await openArtifact(bomb);
  await assert.rejects(artifact.walk(all, { decompress: { maxOutputBytes: 1024 * 1024 } } as object), {
    code: 'LIMIT',
  });
});

test('file: an xz tarball cut short, or holding no tar, is refused naming it; a .xz by another name is a file', async () => {
  const whole = execFileSync('xz', ['-c', join(work, 'tree.tar')]);
  const cut = join(work, 'cut.tar.xz');
  await writeFile(cut, whole.subarray(0, whole.length - 40));
  await assert.rejects((await openArtifact(cut)).walk(all), (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'MALFORMED');
    assert.match(String((e as Error).message), /cut\.tar\.xz: xz stream/);
    return true;
  });
  const notTar = join(work, 'text.tar.xz');
  await writeFile(notTar, execFileSync('xz', ['-c'], { input: 'not a tar\n' }));
  await assert.rejects((await openArtifact(notTar)).walk(all), /text\.tar\.xz: .*tar/);
  const other = join(work, 'tree.xz');
  await writeFile(other, whole);
  assert.deepEqual(paths(await (await openArtifact(other)).walk(all)), ['tree.xz']);
});

test('file: a bzip2 tarball is the file itself, with a warning that its content was not read', async () => {
  // The bzip2 stream header (magic "BZh", block size, block magic): detection reads no further.
  const path = join(work, 'tree.tar.bz2');
  await writeFile(path, Buffer.concat([Buffer.from('BZh91AY&SY', 'latin1'), Buffer.alloc(64, 7)]));
  const result = await (await openArtifact(path)).walk(all);
  assert.deepEqual(paths(result), ['tree.tar.bz2']);
  assert.match(result.skipped[0]?.reason ?? '', /bzip2 tarball: its content is not read/);
  const named = join(work, 'data.bz2');
  await writeFile(named, await readFile(path));
  assert.deepEqual((await (await openArtifact(named)).walk(all)).skipped, [], 'only a tarball by its name');
});

test('file: an xz bomb in a tarball stops with LIMIT under a low cap', async () => {
  const tar = execFileSync('tar', ['-cf', '-', '-C', work, 'plain.txt']);
  const bomb = join(work, 'bomb.tar.xz');
  await writeFile(
    bomb,
    execFileSync('xz', ['-c'], {
      input: Buffer.concat([tar.subarray(0, 512), Buffer.alloc(8 * 1024 * 1024)]),
    }),
  );
  await assert.rejects(
    (await openArtifact(bomb)).walk(all, { decompress: { maxOutputBytes: 1024 * 1024 } } as object),
    {
      code: 'LIMIT',
    },
  );
});

test('registerContainerWalker: a later walker claims its files first', async () => {
  const path = join(work, 'thing.custom');
  await writeFile(path, 'CUSTOM1');
  registerContainerWalker({
    name: 'custom-test',
    detect: (head) => head.subarray(0, 6).toString() === 'CUSTOM',
    walk: async () => ({
      files: [
        { entry: { path: 'inner', type: 'file', size: 1, mode: 0o644 }, data: Buffer.from('1'), earlier: [] },
      ],
      skipped: [],
    }),
  });
  assert.deepEqual(paths(await (await openArtifact(path)).walk(all)), ['inner']);
});

test('dir: canonical tree digest; symlinks reported, never followed', async () => {
  const artifact = await openArtifact(`dir:${join(work, 'tree')}`);
  assert.equal(artifact.kind, 'dir');
  const again = await openArtifact(join(work, 'tree'));
  assert.equal(again.kind, 'dir');
  assert.equal(again.digest, artifact.digest);
  const result = await artifact.walk(all);
  assert.deepEqual(paths(result), ['b.bin', 'escape', 'sub', 'sub/a.txt']);
  const escaping = result.files.find((f) => f.entry.path === 'escape');
  assert.equal(escaping?.entry.type, 'symlink');
  assert.equal(escaping?.data.length, 0);
  const elf: FileFilter = {
    want: (e) => (e.type === 'file' ? 'sniff' : false),
    sniff: (_e, head) => head[1] === 0x45,
  };
  assert.deepEqual(paths(await artifact.walk(elf)), ['b.bin']);
  assert.deepEqual(paths(await artifact.walk(filesOnly)), ['b.bin', 'sub/a.txt']);
  // The digest follows content: one changed byte changes it.
  await writeFile(join(work, 'tree/sub/a.txt'), 'B');
  assert.notEqual((await openArtifact(join(work, 'tree'))).digest, artifact.digest);
  await writeFile(join(work, 'tree/sub/a.txt'), 'A');
  assert.equal((await openArtifact(join(work, 'tree'))).digest, artifact.digest);
});

test('references: unknown transport is USAGE, missing path NOT_FOUND, wrong kind USAGE', async () => {
  await assert.rejects(openArtifact('ftp:somewhere'), { code: 'USAGE' });
  const missing = join(work, 'missing');
  // A plain path is named once; a transport reference names the reference, then the path in it.
  await assert.rejects(openArtifact(missing), {
    code: 'NOT_FOUND',
    message: `${missing}: no such file or directory`,
  });
  await assert.rejects(openArtifact(`file:${missing}`), {
    message: `file:${missing}: ${missing}: no such file or directory`,
  });
  await assert.rejects(openArtifact(`oci:${join(work, 'missing')}:tag`), { code: 'NOT_FOUND' });
  await assert.rejects(openArtifact(`dir:${join(work, 'plain.txt')}`), { code: 'USAGE' });
  await assert.rejects(openArtifact(`file:${join(work, 'tree')}`), { code: 'USAGE' });
  await assert.rejects(openArtifact(`oci:${join(work, 'tree')}`), { code: 'MALFORMED' });
});

test('hard links resolve to their target data; a hard link out of the tree is UNSAFE_PATH', async () => {
  const { buildTar } = await import('./testing.ts');
  const good = join(work, 'links.tar');
  await writeFile(good, buildTar({ 'bin/a': 'payload', 'bin/b': { hardlink: 'bin/a' } }));
  const result = await (await openArtifact(good)).walk(filesOnly);
  assert.deepEqual(paths(result), ['bin/a']);
  const linked = await (await openArtifact(good)).walk({
    want: (e) => e.path === 'bin/a' || e.path === 'bin/b',
  });
  const b = linked.files.find((f) => f.entry.path === 'bin/b');
  assert.equal(b?.entry.type, 'hardlink');
  assert.equal(b?.data.toString(), 'payload');
  assert.equal(b?.entry.size, 7);
  const bad = join(work, 'evil.tar');
  await writeFile(bad, buildTar({ 'bin/a': 'x', 'bin/b': { hardlink: '../../etc/shadow' } }));
  await assert.rejects((await openArtifact(bad)).walk(all), { code: 'UNSAFE_PATH' });
});

test('keep: dir, single file, tarball and .deb walks drop files whose bytes it refuses', async () => {
  const calls: string[] = [];
  const keepElf: FileFilter = {
    want: (e) => e.type === 'file',
    keep(entry, data) {
      calls.push(entry.path);
      return data[0] === 0x7f;
    },
  };
  const dir = await openArtifact(`dir:${join(work, 'tree')}`);
  assert.deepEqual(paths(await dir.walk(keepElf)), ['b.bin']);
  assert.deepEqual(calls.splice(0), ['b.bin', 'sub/a.txt']);
  for (const name of ['tree.tar', 'tree.tar.gz']) {
    assert.deepEqual(paths(await (await openArtifact(join(work, name))).walk(keepElf)), ['b.bin'], name);
    assert.deepEqual(calls.splice(0).sort(), ['b.bin', 'sub/a.txt'], name);
  }
  const single = await openArtifact(`file:${join(work, 'plain.txt')}`);
  assert.deepEqual(paths(await single.walk(keepElf)), []);
  assert.deepEqual(paths(await single.walk({ ...keepElf, keep: () => true })), ['plain.txt']);

  // A real .deb (dpkg-deb), walked through its data.tar by the deb container walker.
  const { walkDebData } = await import('../formats/deb/deb.ts');
  const pkg = join(work, 'pkg');
  await mkdir(join(pkg, 'DEBIAN'), { recursive: true });
  await mkdir(join(pkg, 'usr/bin'), { recursive: true });
  await writeFile(
    join(pkg, 'DEBIAN/control'),
    'Package: keep-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n',
  );
  await writeFile(join(pkg, 'usr/bin/tool'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2]));
  await writeFile(join(pkg, 'usr/bin/script'), '#!/bin/sh\n');
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', pkg, join(work, 'k.deb')], {
    stdio: 'pipe',
  });
  calls.length = 0;
  const deb = await walkDebData(join(work, 'k.deb'), keepElf);
  assert.deepEqual(paths(deb), ['usr/bin/tool']);
  assert.deepEqual(calls.sort(), ['usr/bin/script', 'usr/bin/tool']);
});
