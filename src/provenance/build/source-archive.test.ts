import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { expectError } from '../../../test/helpers/assertions.ts';
import { git, makeRepo, makeTmp, removeTmp } from '../../../test/helpers/git-fixtures.ts';
import { readTar } from '../../archive/tar-reader.ts';
import { sha256Hex } from '../../util/digest.ts';
import { gitRunner } from '../git-exec.ts';
import { extractSourceArchive } from './extract.ts';
import { exportSourceArchive } from './source-archive.ts';

let tmp: string;
let repo: string;
let commit: string;

before(async () => {
  tmp = await makeTmp('waybill-export-');
  repo = await makeRepo(tmp, {
    'README.md': 'hello\n',
    'src/b.txt': 'b\n',
    'src/a.txt': 'a\n',
    'src/deep/er/c.txt': 'c\n',
    'a-b': 'sorts between a and a/\n',
  });
  await chmod(join(repo, 'src/a.txt'), 0o755);
  await symlink('src/a.txt', join(repo, 'link'));
  await git(repo, ['add', '-A']);
  // A submodule entry (gitlink) without a .gitmodules: git archive makes an empty directory of it.
  await git(repo, ['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/sub`]);
  await git(repo, ['commit', '-q', '-m', 'tree with modes, links and a submodule']);
  commit = await git(repo, ['rev-parse', 'HEAD']);
});

after(() => removeTmp(tmp));

async function entries(archive: string) {
  const out: Array<{
    path: string;
    type: string;
    mode: number;
    mtime: number;
    uid: number;
    link?: string;
    body: string;
  }> = [];
  for await (const e of readTar(createReadStream(archive), { input: archive })) {
    out.push({
      path: e.header.path,
      type: e.header.type,
      mode: e.header.mode,
      mtime: e.header.mtime,
      uid: e.header.uid,
      ...(e.header.linkTarget ? { link: e.header.linkTarget } : {}),
      body: (await e.readAll()).toString('utf8'),
    });
  }
  return out;
}

test('the archive is the tree: byte-ordered paths, commit time, uid 0, 0644/0755, symlinks, submodules as directories', async () => {
  const archive = join(tmp, 'source.tar');
  const result = await exportSourceArchive(gitRunner(repo), commit, archive);
  assert.equal(result.commit, commit);
  assert.equal(result.tree, await git(repo, ['rev-parse', `${commit}^{tree}`]));
  assert.equal(result.commitTime, Date.parse('2024-01-02T03:04:05Z') / 1000);
  const list = await entries(archive);
  assert.deepEqual(
    list.map((e) => e.path),
    [
      'README.md',
      'a-b',
      'link',
      'src',
      'src/a.txt',
      'src/b.txt',
      'src/deep',
      'src/deep/er',
      'src/deep/er/c.txt',
      'vendor',
      'vendor/sub',
    ],
  );
  const by = new Map(list.map((e) => [e.path, e]));
  assert.equal(by.get('src/a.txt')?.mode, 0o755);
  assert.equal(by.get('src/b.txt')?.mode, 0o644);
  assert.equal(by.get('src/a.txt')?.body, 'a\n');
  assert.deepEqual([by.get('link')?.type, by.get('link')?.link], ['symlink', 'src/a.txt']);
  assert.equal(by.get('vendor/sub')?.type, 'dir');
  for (const e of list) {
    assert.equal(e.mtime, result.commitTime);
    assert.equal(e.uid, 0);
  }
  assert.equal(result.digest, `sha256:${sha256Hex(await readFile(archive))}`);
});

test('the same commit gives the same bytes from another clone', async () => {
  const clone = join(tmp, 'clone');
  await git(repo, ['clone', '-q', '--no-local', repo, clone]);
  const a = await exportSourceArchive(gitRunner(repo), commit, join(tmp, 'a.tar'));
  const b = await exportSourceArchive(gitRunner(clone), commit, join(tmp, 'b.tar'));
  assert.equal(a.digest, b.digest);
  assert.deepEqual(await readFile(join(tmp, 'a.tar')), await readFile(join(tmp, 'b.tar')));
});

test('a hostile repository config runs nothing: smudge filters and export-subst are not applied', async () => {
  const marker = join(tmp, 'filter-ran');
  const hostile = await makeRepo(
    tmp,
    {
      '.gitattributes': '*.txt filter=evil\nversion.txt export-subst\n',
      'version.txt': 'commit $Format:%H$\n',
    },
    { name: 'hostile' },
  );
  await git(hostile, ['config', 'filter.evil.smudge', `touch ${marker}; cat`]);
  await git(hostile, ['config', 'core.fsmonitor', `touch ${marker}; echo`]);
  const head = await git(hostile, ['rev-parse', 'HEAD']);
  // The fixture really is hostile: git archive runs the filter (this is what waybill must not do).
  await git(hostile, ['-c', 'core.fsmonitor=false', 'archive', '-o', join(tmp, 'git-archive.tar'), head]);
  assert.ok(existsSync(marker), 'git archive should have run the smudge filter');
  await rm(marker);

  const archive = join(tmp, 'hostile.tar');
  await exportSourceArchive(gitRunner(hostile), head, archive);
  assert.equal(existsSync(marker), false, 'a program ran during export');
  const version = (await entries(archive)).find((e) => e.path === 'version.txt');
  assert.equal(version?.body, 'commit $Format:%H$\n', 'export-subst must not be expanded');
});

test('extraction recreates the tree with modes and symlinks, in a fresh directory', async () => {
  const archive = join(tmp, 'x.tar');
  await exportSourceArchive(gitRunner(repo), commit, archive);
  const dir = join(tmp, 'extracted');
  await mkdir(dir);
  const result = await extractSourceArchive(archive, dir);
  assert.equal(result.files, 5);
  assert.equal((await stat(join(dir, 'src/a.txt'))).mode & 0o777, 0o755);
  assert.equal((await stat(join(dir, 'src/b.txt'))).mode & 0o777, 0o644);
  assert.equal(await readlink(join(dir, 'link')), 'src/a.txt');
  assert.ok((await stat(join(dir, 'vendor/sub'))).isDirectory());
  // Extracting again into the same directory collides instead of overwriting.
  await expectError(extractSourceArchive(archive, dir), 'MALFORMED', /collides/);
});

test('a tree path that is not UTF-8 is refused', async () => {
  const odd = await makeRepo(tmp, { 'ok.txt': 'x' }, { name: 'odd' });
  const name = Buffer.from([0x66, 0xff, 0x2e, 0x74]); // "f\xff.t"
  await writeFile(Buffer.concat([Buffer.from(`${odd}/`), name]), 'x');
  await git(odd, ['add', '-A']);
  await git(odd, ['commit', '-q', '-m', 'odd name']);
  const head = await git(odd, ['rev-parse', 'HEAD']);
  await expectError(
    exportSourceArchive(gitRunner(odd), head, join(tmp, 'odd.tar')),
    'UNSUPPORTED',
    /not UTF-8/,
  );
});
