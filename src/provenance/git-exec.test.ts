import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { git, makeRepo, makeTmp, removeTmp } from '../../test/helpers/git-fixtures.ts';
import { makeTripwire, type Tripwire } from '../../test/helpers/tripwire.ts';
import { WaybillError } from '../errors.ts';
import { dynamicPins, gitOk, gitRunner } from './git-exec.ts';

let tmp: string;
let tripwire: Tripwire;
let evil: string;
let repoCount = 0;

function newRepo(files: Record<string, string> = { 'README.md': 'hello\n' }) {
  repoCount += 1;
  return makeRepo(tmp, files, { name: `repo-${repoCount}` });
}

function tarMembers(tar: Buffer): Map<string, string> {
  const members = new Map<string, string>();
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (name === '') break;
    const size = Number.parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
    const type = String.fromCharCode(header[156]!);
    if (type === '0' || type === '\0') {
      members.set(name, tar.subarray(offset + 512, offset + 512 + size).toString('utf8'));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return members;
}

before(async () => {
  tmp = await makeTmp('waybill-git-exec-');
  tripwire = await makeTripwire(tmp);
  evil = tripwire.program;
});

after(async () => {
  await removeTmp(tmp);
});

describe('gitRunner: only read-only commands', () => {
  const refused: string[][] = [
    ['status'],
    ['diff'],
    ['log', '-p'],
    ['fetch', 'origin'],
    ['submodule', 'update'],
    ['checkout', 'v1'],
    ['config', 'core.pager', 'evil'],
    ['config', '--edit'],
    ['config', '--get', 'x', '--add'],
    ['hash-object', 'README.md'],
    ['hash-object', '--no-filters', '-w', 'README.md'],
    ['cat-file', '--textconv', 'HEAD:README.md'],
    ['cat-file', '--filters', 'HEAD:README.md'],
    ['ls-files', '-m'],
    ['ls-files', '-zm'],
    ['archive', '--remote=ext::sh', 'HEAD'],
    ['-C', '/', 'status'],
    [],
  ];
  for (const args of refused) {
    test(`refuses git ${args.join(' ') || '(nothing)'}`, async () => {
      await assert.rejects(
        gitRunner(tmp).run(args),
        (e: unknown) =>
          e instanceof WaybillError && e.code === 'UNSUPPORTED' && /refusing to run git/.test(e.message),
      );
    });
  }
});

describe('dynamicPins', () => {
  test('pins every program key of each driver and helper named in the config', () => {
    const listing = Buffer.from(
      [
        'core.bare\nfalse',
        'filter.lfs.clean\ngit-lfs clean -- %f',
        'filter.a=b.c"d.smudge\n/evil',
        'diff.pdf.textconv\n/evil',
        'remote.origin.url\next::sh -c evil',
        'protocol.ext.allow\nalways',
        'pager.log\n/evil',
        'credential.https://example.org.helper\n/evil',
        'submodule.lib.update\n!/evil',
        'filter.bare.required',
      ].join('\0') + '\0',
      'latin1',
    );
    const pins = new Map(dynamicPins(listing));
    assert.equal(pins.get('filter.lfs.clean'), '');
    assert.equal(pins.get('filter.lfs.process'), '');
    assert.equal(pins.get('filter.a=b.c"d.smudge'), '');
    assert.equal(pins.get('filter.a=b.c"d.required'), 'false');
    assert.equal(pins.get('filter.bare.clean'), '');
    assert.equal(pins.get('diff.pdf.textconv'), '');
    assert.equal(pins.get('remote.origin.vcs'), '');
    assert.equal(pins.get('remote.origin.uploadpack'), '');
    assert.equal(pins.get('protocol.ext.allow'), 'never');
    assert.equal(pins.get('pager.log'), 'false');
    assert.equal(pins.get('credential.https://example.org.helper'), '');
    assert.equal(pins.get('submodule.lib.update'), 'none');
    assert.equal(pins.has('core.bare'), false);
  });

  test('a driver name that is not UTF-8 cannot be pinned from Node, so the repository is refused', () => {
    const listing = Buffer.concat([
      Buffer.from('filter.'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.clean\n/evil\0'),
    ]);
    assert.throws(
      () => dynamicPins(listing, '/repo'),
      (e: unknown) => e instanceof WaybillError && e.code === 'SOURCE',
    );
  });
});

describe('gitRunner against hostile repositories (real git)', () => {
  test('filter drivers from an include, with a name -c cannot pin, never run: git archive gives the blobs', async () => {
    const repo = await newRepo({ 'README.md': 'hello\n', 'src/a.txt': 'a\n' });
    const include = path.join(tmp, 'hostile-include.cfg');
    await writeFile(
      include,
      `[filter "x=y.z\\"w"]\n\tclean = ${evil}\n\tsmudge = ${evil}\n\tprocess = ${evil}\n\trequired = true\n`,
    );
    await git(repo, ['config', 'include.path', include]);
    await writeFile(path.join(repo, '.git', 'info', 'attributes'), '* filter=x=y.z"w\n');
    // Proof that the setup is live: plain git runs the smudge filter.
    // (The "process" program does not speak the filter protocol, so plain git fails after running it.)
    await git(repo, ['archive', '--format=tar', '-o', path.join(tmp, 'plain.tar'), 'HEAD']).catch(
      () => undefined,
    );
    assert.notEqual(await tripwire.ran(), null, 'the hostile filter should run under plain git');
    await tripwire.reset();

    const tar = await gitOk(gitRunner(repo), ['archive', '--format=tar', 'HEAD']);
    assert.equal(await tripwire.ran(), null, 'a filter from the repository config ran');
    const members = tarMembers(tar);
    assert.equal(members.get('README.md'), 'hello\n');
    assert.equal(members.get('src/a.txt'), 'a\n');
  });

  test('replace refs cannot swap a commit for another', async () => {
    const repo = await newRepo({ 'README.md': 'real\n' });
    const real = await git(repo, ['rev-parse', 'HEAD']);
    await git(repo, ['checkout', '-q', '-b', 'other']);
    await writeFile(path.join(repo, 'README.md'), 'forged\n');
    await git(repo, ['commit', '-qam', 'forged']);
    const forged = await git(repo, ['rev-parse', 'HEAD']);
    await git(repo, ['replace', real, forged]);
    assert.match(await git(repo, ['cat-file', '-p', `${real}:README.md`]), /forged/);
    const runner = gitRunner(repo);
    assert.equal((await gitOk(runner, ['cat-file', '-p', `${real}:README.md`])).toString(), 'real\n');
  });

  test('an include naming a FIFO cannot hang waybill: the command is killed at the deadline', async () => {
    const repo = await newRepo();
    const fifo = path.join(tmp, 'include.fifo');
    execFileSync('mkfifo', [fifo]);
    await appendFile(path.join(repo, '.git', 'config'), `[include]\n\tpath = ${fifo}\n`);
    const started = Date.now();
    await assert.rejects(
      gitRunner(repo, [], {}, { timeoutMs: 400 }).run(['rev-parse', 'HEAD']),
      (e: unknown) => {
        assert.ok(e instanceof WaybillError);
        assert.equal(e.code, 'LIMIT');
        assert.match(e.message, /did not finish within 0\.4 s/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000);
  });

  test('inherited GIT_* variables do not redirect the runner', async () => {
    const repo = await newRepo({ 'README.md': 'mine\n' });
    const other = await newRepo({ 'README.md': 'other\n' });
    const saved = { ...process.env };
    Object.assign(process.env, {
      GIT_DIR: path.join(other, '.git'),
      GIT_WORK_TREE: other,
      GIT_CONFIG_PARAMETERS: `'core.fsmonitor'='${evil}'`,
      GIT_EXTERNAL_DIFF: evil,
      GIT_SSH_COMMAND: evil,
    });
    try {
      const out = await gitOk(gitRunner(repo), ['cat-file', '-p', 'HEAD:README.md']);
      assert.equal(out.toString(), 'mine\n');
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    }
    assert.equal(await tripwire.ran(), null);
  });

  test('stdin reaches git (check-ignore --stdin)', async () => {
    const repo = await newRepo({ '.gitignore': 'build/\n' });
    await mkdir(path.join(repo, 'build'));
    const result = await gitRunner(repo).run(['check-ignore', '--no-index', '--stdin', '-z'], {
      stdin: 'build\0src\0',
    });
    assert.equal(result.stdout.toString(), 'build\0');
  });
});
