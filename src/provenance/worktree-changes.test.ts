import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commitFiles, git, makeRepo, makeTmp, removeTmp } from '../../test/helpers/git-fixtures.ts';
import { gitRunner } from './git-exec.ts';
import { worktreeChanges } from './worktree-changes.ts';

let tmp: string;
let repoCount = 0;

function newRepo(files: Record<string, string | Uint8Array> = { 'README.md': 'hello\n' }, name?: string) {
  repoCount += 1;
  return makeRepo(tmp, files, { name: name ?? `repo-${repoCount}` });
}

async function changes(repo: string): Promise<string[]> {
  const head = await git(repo, ['rev-parse', 'HEAD']);
  return worktreeChanges(gitRunner(repo), head, { openRunner: (dir) => gitRunner(dir) });
}

async function status(repo: string): Promise<string> {
  return git(repo, ['status', '--porcelain']);
}

before(async () => {
  tmp = await makeTmp('waybill-worktree-');
});

after(async () => {
  await removeTmp(tmp);
});

describe('worktreeChanges: content, not the index', () => {
  test('a fresh checkout is clean; so is one with every mtime changed (a restored cache)', async () => {
    const repo = await newRepo({
      'README.md': 'hello\n',
      'src/a.ts': 'export {};\n',
      'bin/run': '#!/bin/sh\n',
    });
    assert.deepEqual(await changes(repo), []);
    for (const f of ['README.md', 'src/a.ts', 'bin/run']) await utimes(path.join(repo, f), 1, 1);
    assert.deepEqual(await changes(repo), []);
  });

  test('a forged stat cache (checkStat=minimal, trustctime off, same size, mtime restored) does not hide a change', async () => {
    const repo = await newRepo({ 'README.md': 'release\n' });
    await git(repo, ['config', 'core.checkStat', 'minimal']);
    await git(repo, ['config', 'core.trustctime', 'false']);
    const file = path.join(repo, 'README.md');
    // An old mtime recorded in the index (so the entry is not "racily clean")…
    const old = new Date(Date.now() - 3600_000);
    await utimes(file, old, old);
    await git(repo, ['update-index', '--refresh']);
    // …then new content of the same size with that mtime put back.
    await writeFile(file, 'backdoo\n');
    await utimes(file, old, old);
    assert.equal(await status(repo), '', 'git status is fooled');
    assert.deepEqual(await changes(repo), ['README.md']);
  });

  test('assume-unchanged and skip-worktree do not hide a change', async () => {
    const repo = await newRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    await git(repo, ['update-index', '--assume-unchanged', 'a.txt']);
    await git(repo, ['update-index', '--skip-worktree', 'b.txt']);
    await writeFile(path.join(repo, 'a.txt'), 'A\n');
    await writeFile(path.join(repo, 'b.txt'), 'B\n');
    assert.equal(await status(repo), '', 'git status is fooled');
    assert.deepEqual(await changes(repo), ['a.txt', 'b.txt']);
  });

  test('an index entry for an untracked file does not make it tracked', async () => {
    const repo = await newRepo();
    await writeFile(path.join(repo, 'extra.js'), 'evil()\n');
    await git(repo, ['add', 'extra.js']);
    assert.deepEqual(await changes(repo), ['extra.js (untracked)']);
  });

  test('mode, type, symlink target and deletion changes', async () => {
    const repo = await newRepo({
      'run.sh': '#!/bin/sh\n',
      'gone.txt': 'x\n',
      'dir/file': 'f\n',
      'plain.txt': 'p\n',
    });
    await symlink('run.sh', path.join(repo, 'link'));
    await symlink('run.sh', path.join(repo, 'link2'));
    await commitFiles(repo, {}, 'links');
    assert.deepEqual(await changes(repo), []);
    await chmod(path.join(repo, 'run.sh'), 0o755);
    await rm(path.join(repo, 'gone.txt'));
    await rm(path.join(repo, 'link'));
    await symlink('/etc/passwd', path.join(repo, 'link'));
    await rm(path.join(repo, 'link2'));
    await writeFile(path.join(repo, 'link2'), 'run.sh');
    await rm(path.join(repo, 'plain.txt'));
    await symlink('run.sh', path.join(repo, 'plain.txt'));
    assert.deepEqual(await changes(repo), [
      'gone.txt (deleted)',
      'link',
      'link2 (type)',
      'plain.txt (type)',
      'run.sh (mode)',
    ]);
  });

  test('a tracked directory swapped for a link to pristine copies is a change, even when ignored', async () => {
    const repo = await newRepo({ 'src/main.c': 'int main;\n', 'README.md': 'r\n' });
    const pristine = path.join(tmp, `pristine-${repoCount}`);
    await mkdir(pristine);
    await writeFile(path.join(pristine, 'main.c'), 'int main;\n');
    await rm(path.join(repo, 'src'), { recursive: true });
    await symlink(pristine, path.join(repo, 'src'));
    await writeFile(path.join(repo, '.git', 'info', 'exclude'), 'src\n');
    assert.deepEqual(await changes(repo), ['src (type)']);
  });

  test('untracked files count unless ignored; ignored directories are not entered; nested repositories count once', async () => {
    const repo = await newRepo({
      'README.md': 'x\n',
      '.gitignore': 'build/\n*.log\n',
      'src/a.c': 'int a;\n',
    });
    await mkdir(path.join(repo, 'build', 'deep'), { recursive: true });
    await writeFile(path.join(repo, 'build', 'deep', 'out.o'), 'o');
    await writeFile(path.join(repo, 'src', 'debug.log'), 'log');
    assert.deepEqual(await changes(repo), []);
    await writeFile(path.join(repo, 'src', 'b.c'), 'int b;\n');
    await mkdir(path.join(repo, 'newdir', 'sub'), { recursive: true });
    await writeFile(path.join(repo, 'newdir', 'sub', 'x'), 'x');
    await newRepo({ 'n.txt': 'n\n' }, 'repo-nested-origin');
    await git(tmp, ['clone', '-q', path.join(tmp, 'repo-nested-origin'), path.join(repo, 'vendored')]);
    // A name git would read as pathspec magic for an ignored path: still untracked.
    await writeFile(path.join(repo, ':(top)build'), 'x');
    assert.deepEqual(await changes(repo), [
      ':(top)build (untracked)',
      'newdir/sub/x (untracked)',
      'src/b.c (untracked)',
      'vendored/ (untracked)',
    ]);
  });

  test('file names that are not UTF-8 are compared byte for byte', async () => {
    const repo = await newRepo();
    const name = Buffer.concat([
      Buffer.from(path.join(repo, 'caf')),
      Buffer.from([0xe9, 0x2e, 0x74, 0x78, 0x74]),
    ]);
    await writeFile(name, 'latin-1 name\n');
    await git(repo, ['add', '-A']);
    await git(repo, ['commit', '-qm', 'latin1 name']);
    assert.deepEqual(await changes(repo), []);
    await writeFile(name, 'changed\n');
    const [only, ...rest] = await changes(repo);
    assert.deepEqual(rest, []);
    assert.equal(
      Buffer.from(only!, 'latin1').equals(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74])),
      true,
    );
  });

  test('SHA-256 repositories are hashed with SHA-256', async () => {
    repoCount += 1;
    const repo = await makeRepo(
      tmp,
      { 'a.txt': 'a\n' },
      { name: `repo-${repoCount}`, objectFormat: 'sha256' },
    );
    assert.deepEqual(await changes(repo), []);
    await writeFile(path.join(repo, 'a.txt'), 'b\n');
    assert.deepEqual(await changes(repo), ['a.txt']);
  });

  test('a Git LFS pointer matches the object it names, and only that', async () => {
    const content = Buffer.from('large binary payload\n');
    const oid = createHash('sha256').update(content).digest('hex');
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.length}\n`;
    const repo = await newRepo({
      'asset.bin': pointer,
      '.gitattributes': 'asset.bin filter=lfs diff=lfs merge=lfs -text\n',
    });
    assert.deepEqual(await changes(repo), []);
    await writeFile(path.join(repo, 'asset.bin'), content);
    assert.deepEqual(await changes(repo), []);
    await writeFile(path.join(repo, 'asset.bin'), 'large binary paylod!\n');
    assert.deepEqual(await changes(repo), ['asset.bin']);
  });
});

describe('worktreeChanges: submodules', () => {
  test('checked out at the recorded commit and clean, moved, modified, or never initialised', async () => {
    const lib = await newRepo({ 'lib.c': 'int lib;\n' }, 'lib-origin');
    const repo = await newRepo({ 'main.c': 'int main;\n' });
    await git(repo, ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'lib']);
    await commitFiles(repo, {}, 'add lib');
    assert.deepEqual(await changes(repo), []);

    await writeFile(path.join(repo, 'lib', 'lib.c'), 'int evil;\n');
    assert.deepEqual(await changes(repo), ['lib (submodule changed: lib.c)']);
    await git(path.join(repo, 'lib'), ['checkout', '-q', '--', 'lib.c']);

    await commitFiles(path.join(repo, 'lib'), { 'lib.c': 'int lib2;\n' }, 'moved');
    assert.match((await changes(repo))[0]!, /^lib \(submodule at [0-9a-f]{12}, tree records [0-9a-f]{12}\)$/);

    const fresh = path.join(tmp, 'fresh-clone');
    await git(tmp, ['clone', '-q', repo, fresh]);
    assert.deepEqual(await changes(fresh), [], 'an uninitialised submodule is an empty directory');
  });
});

test('the worktree check reads, never writes: .git/index is untouched', async () => {
  const repo = await newRepo({ 'a.txt': 'a\n' });
  await utimes(path.join(repo, 'a.txt'), 1, 1);
  const index = path.join(repo, '.git', 'index');
  const before = await readFile(index);
  await changes(repo);
  assert.equal((await readFile(index)).equals(before), true);
});
