/**
 * End to end through the real CLI: `waybill stamp … --source REPO` on repositories prepared by an
 * attacker. Each test plants one family of git config keys that name a program (a tripwire that
 * logs every run) in a real repository with a real signed tag, runs the real `waybill` binary, and
 * checks that (1) the tripwire never ran, and (2) the record is still right — the signature verified
 * when the checkout is pristine, refused when the attack hides a change.
 *
 * Each repository's "proof" step, where there is one, runs plain git on the same setup to show the
 * attack is live: plain git runs the tripwire, waybill does not.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, chmod, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waybill } from '../helpers/cli.ts';
import {
  commitFiles,
  type GpgSigner,
  git,
  makeGpgSigner,
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  type SshSigner,
  signedCommit,
  signedTag,
} from '../helpers/git-fixtures.ts';
import { makeTripwire, type Tripwire } from '../helpers/tripwire.ts';

interface RecordJson {
  predicate: {
    source: { repository: string; commit: string; signature: { verified: boolean; reason: string } };
    dates: { built: string };
    help: { bugTracker: string | null };
  };
}

let tmp: string;
let ssh: SshSigner;
let gpg: GpgSigner;
let tripwire: Tripwire;
let count = 0;

/** Files of every release repository: enough paths for filters and attributes to bite. */
const FILES = {
  'README.md': 'hello\n',
  'src/main.c': 'int main(void) { return 0; }\n',
  'build.sh': '#!/bin/sh\n',
};

/** A repository at a signed tag; `plant` then makes it hostile (config is never part of the tag). */
async function hostileRepo(
  plant: (repo: string) => Promise<void>,
  opts: { files?: Record<string, string>; signer?: SshSigner | GpgSigner; origin?: string } = {},
): Promise<string> {
  count += 1;
  const repo = await makeRepo(tmp, opts.files ?? FILES, { name: `repo-${count}`, origin: opts.origin });
  await signedTag(repo, 'v1.0.0', opts.signer ?? ssh);
  await plant(repo);
  // The setup's own git calls may have tripped it; only waybill's runs count.
  await tripwire.reset();
  return repo;
}

/** Every tracked file's stat data stale, as in a checkout restored from a tarball or CI cache. */
async function staleStat(repo: string): Promise<void> {
  const when = new Date(Date.now() + 60_000);
  for (const f of (await git(repo, ['ls-files', '-z'])).split('\0').filter(Boolean)) {
    await utimes(path.join(repo, f), when, when);
  }
}

/** git config `key value` pairs into the repository's own config. */
async function setConfig(repo: string, pairs: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const [key, value] of pairs) await git(repo, ['config', '--add', key, value]);
}

interface StampResult {
  code: number;
  stderr: string;
  record: RecordJson | null;
  /** The record file's text. */
  recordText: string;
  artifact: string;
}

/** `waybill stamp file:ARTIFACT --source REPO` on a fresh artifact; the record it wrote. */
async function stamp(
  repo: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
  opts: { trust?: string[] } = {},
): Promise<StampResult> {
  const dir = path.join(tmp, `out-${++count}`);
  await mkdir(dir);
  const artifact = path.join(dir, 'hello.txt');
  await writeFile(artifact, 'the release bytes\n');
  const r = await waybill(
    [
      'stamp',
      `file:${artifact}`,
      '--name',
      'hello',
      '--version',
      '1.0.0',
      '--team',
      'Example Release Team',
      '--bug-tracker',
      'https://bugs.example.org/hello',
      '--source',
      repo,
      ...(opts.trust ?? ['--allowed-signers', ssh.allowedSignersFile]),
      '--quiet',
      '--format',
      'json',
      ...extra,
    ],
    {
      cwd: dir,
      env: { HOME: path.join(tmp, 'home'), GIT_CONFIG_GLOBAL: '/dev/null', SOURCE_DATE_EPOCH: '', ...env },
    },
  );
  let recordText = '';
  if (r.code === 0) recordText = readFileSync((JSON.parse(r.stdout) as { record: string }).record, 'utf8');
  const record = recordText ? (JSON.parse(recordText) as RecordJson) : null;
  return { code: r.code, stderr: r.stderr, record, recordText, artifact };
}

/** Stamped, verified, and the tripwire silent. */
async function assertVerifiedAndSilent(result: StampResult): Promise<void> {
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await tripwire.ran(), null, 'a program named by the repository ran');
  const sig = result.record!.predicate.source.signature;
  assert.equal(sig.verified, true, sig.reason);
}

before(async () => {
  tmp = await makeTmp('waybill-hostile-repo-');
  await mkdir(path.join(tmp, 'home'));
  [ssh, gpg] = await Promise.all([makeSshSigner(tmp), makeGpgSigner(tmp)]);
  tripwire = await makeTripwire(tmp);
});

after(async () => {
  await removeTmp(tmp);
});

describe('filter drivers never run (clean, smudge, process), wherever they are configured', () => {
  const driver = (name: string) =>
    [
      [`filter.${name}.clean`, tripwire.program],
      [`filter.${name}.smudge`, tripwire.program],
      [`filter.${name}.process`, tripwire.program],
      [`filter.${name}.required`, 'true'],
    ] as const;

  test('.git/config + .git/info/attributes, every file stat-stale (git status would run them)', async () => {
    const repo = await hostileRepo(async (r) => {
      await setConfig(r, driver('x'));
      await writeFile(path.join(r, '.git', 'info', 'attributes'), '* filter=x\n');
      await staleStat(r);
    });
    await git(repo, ['status', '--porcelain']).catch(() => undefined);
    assert.notEqual(await tripwire.ran(), null, 'proof: plain git status runs the filter');
    await tripwire.reset();
    await assertVerifiedAndSilent(await stamp(repo));
  });

  test('include.path, includeIf gitdir: and onbranch:, a driver name with = and dots', async () => {
    const repo = await hostileRepo(async (r) => {
      const inc = path.join(tmp, `include-${count}`);
      const body = driver('a=b.c')
        .map(([k, v]) => `${k.replace(/^filter\.a=b\.c\./, '')} = ${v}`)
        .join('\n\t');
      await writeFile(`${inc}-1`, `[filter "a=b.c"]\n\t${body}\n`);
      await writeFile(
        `${inc}-2`,
        `[filter "g"]\n\tclean = ${tripwire.program}\n\tprocess = ${tripwire.program}\n`,
      );
      await writeFile(`${inc}-3`, `[filter "b"]\n\tclean = ${tripwire.program}\n`);
      await appendFile(
        path.join(r, '.git', 'config'),
        `[include]\n\tpath = ${inc}-1\n[includeIf "gitdir:${r}/"]\n\tpath = ${inc}-2\n[includeIf "onbranch:main"]\n\tpath = ${inc}-3\n`,
      );
      await writeFile(
        path.join(r, '.git', 'info', 'attributes'),
        '*.md filter=a=b.c\n*.c filter=g\n*.sh filter=b\n',
      );
      await staleStat(r);
    });
    await assertVerifiedAndSilent(await stamp(repo));
  });

  test('core.attributesFile, and a .gitattributes inside the signed tree', async () => {
    const attributes = path.join(tmp, 'hostile.attributes');
    await writeFile(attributes, '* filter=y\n');
    const repo = await hostileRepo(
      async (r) => {
        await setConfig(r, [...driver('y'), ...driver('z'), ['core.attributesFile', attributes]]);
        await staleStat(r);
      },
      { files: { ...FILES, '.gitattributes': '*.c filter=z\n' } },
    );
    await assertVerifiedAndSilent(await stamp(repo));
  });

  test("a submodule's own config and attributes", async () => {
    const lib = await makeRepo(tmp, { 'lib.c': 'int lib;\n' }, { name: `lib-${++count}` });
    const repo = await hostileRepo(async (r) => {
      await git(r, ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'lib']);
      await commitFiles(r, {}, 'add lib');
      await git(r, ['tag', '-d', 'v1.0.0']);
      await signedTag(r, 'v1.0.0', ssh);
      const subGitDir = path.join(r, '.git', 'modules', 'lib');
      await setConfig(path.join(r, 'lib'), driver('s'));
      await mkdir(path.join(subGitDir, 'info'), { recursive: true });
      await writeFile(path.join(subGitDir, 'info', 'attributes'), '* filter=s\n');
      await setConfig(r, [['submodule.lib.update', `!${tripwire.program}`]]);
      await staleStat(path.join(r, 'lib'));
    });
    await assertVerifiedAndSilent(await stamp(repo));
  });

  test('a clean filter that makes a modified file look committed does not hide the change', async () => {
    const repo = await hostileRepo(async (r) => {
      // The "filter" prints the committed README whatever it is given.
      const hider = path.join(tmp, 'hider.sh');
      await writeFile(hider, `#!/bin/sh\necho "$0" >> '${tmp}/hider.log'\nprintf 'hello\\n'\n`, {
        mode: 0o755,
      });
      await setConfig(r, [['filter.h.clean', hider]]);
      await writeFile(path.join(r, '.git', 'info', 'attributes'), 'README.md filter=h\n');
      // Same size as the committed `hello\n`, so status has to ask the filter.
      await writeFile(path.join(r, 'README.md'), 'pwned\n');
    });
    assert.equal(await git(repo, ['status', '--porcelain']), '', 'proof: git status is fooled');
    const result = await stamp(repo);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(path.join(tmp, 'hider.log')), true);
    const before = readFileSync(path.join(tmp, 'hider.log'), 'utf8');
    const sig = result.record!.predicate.source.signature;
    assert.equal(sig.verified, false);
    assert.equal(sig.reason, 'worktree has uncommitted changes: README.md');
    assert.equal(readFileSync(path.join(tmp, 'hider.log'), 'utf8'), before, 'waybill ran the clean filter');
  });
});

describe('signature programs never run', () => {
  test('log.showSignature + gpg.*program on a signed HEAD commit (the commit date is still read)', async () => {
    const repo = await hostileRepo(async (r) => {
      await git(r, ['tag', '-d', 'v1.0.0']);
      await signedCommit(r, ssh);
      await signedTag(r, 'v1.0.0', ssh);
      await setConfig(r, [
        ['log.showSignature', 'true'],
        ['gpg.ssh.allowedSignersFile', ssh.allowedSignersFile],
        ['gpg.program', tripwire.program],
        ['gpg.openpgp.program', tripwire.program],
        ['gpg.ssh.program', tripwire.program],
        ['gpg.x509.program', tripwire.program],
      ]);
    });
    await git(repo, ['log', '-1', '--format=%cI']);
    assert.notEqual(await tripwire.ran(), null, 'proof: plain git log runs gpg.ssh.program');
    await tripwire.reset();
    const result = await stamp(repo);
    await assertVerifiedAndSilent(result);
    assert.equal(result.record!.predicate.dates.built, '2024-01-02T03:04:05Z');
  });

  test('gpg.program on an OpenPGP-signed tag: the real gpg verifies it', async () => {
    const repo = await hostileRepo(
      async (r) => {
        await setConfig(r, [
          ['gpg.program', tripwire.program],
          ['gpg.openpgp.program', tripwire.program],
        ]);
      },
      { signer: gpg },
    );
    await assertVerifiedAndSilent(
      await stamp(repo, [], { GNUPGHOME: gpg.gnupgHome }, { trust: ['--trusted-gpg-key', gpg.fingerprint] }),
    );
  });

  test('gpg.ssh.program, an allowed signers file and revocation switched off by the repository', async () => {
    const attacker = await makeSshSigner(tmp, 'mallory@waybill.invalid', 'mallory');
    const repo = await hostileRepo(
      async (r) => {
        await setConfig(r, [
          ['gpg.ssh.program', tripwire.program],
          ['gpg.ssh.allowedSignersFile', attacker.allowedSignersFile],
          ['gpg.ssh.revocationFile', '/dev/null'],
        ]);
      },
      { signer: attacker },
    );
    const result = await stamp(repo);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await tripwire.ran(), null);
    const sig = result.record!.predicate.source.signature;
    assert.equal(sig.verified, false, "the repository's allowed signers file was trusted");
    assert.match(sig.reason, /not in the allowed signers file/);
  });
});

describe('hooks, monitors, pagers, editors, diff and transport programs never run', () => {
  test('core.fsmonitor, core.hooksPath and .git/hooks', async () => {
    const repo = await hostileRepo(async (r) => {
      const hooks = path.join(tmp, `hooks-${count}`);
      await mkdir(hooks);
      for (const hook of [
        'post-index-change',
        'reference-transaction',
        'post-checkout',
        'pre-auto-gc',
        'fsmonitor-watchman',
      ]) {
        copyFileSync(tripwire.program, path.join(hooks, hook));
        copyFileSync(tripwire.program, path.join(r, '.git', 'hooks', hook));
      }
      for (const dir of [hooks, path.join(r, '.git', 'hooks')]) {
        for (const hook of readdirSync(dir)) await chmod(path.join(dir, hook), 0o755);
      }
      await setConfig(r, [
        ['core.fsmonitor', tripwire.program],
        ['core.hooksPath', hooks],
        ['gc.auto', '1'],
      ]);
      await staleStat(r);
    });
    await assertVerifiedAndSilent(await stamp(repo));
  });

  test('diff.external, textconv, pagers, editors, interactive filters', async () => {
    const repo = await hostileRepo(async (r) => {
      await setConfig(r, [
        ['diff.external', tripwire.program],
        ['diff.t.textconv', tripwire.program],
        ['diff.t.command', tripwire.program],
        ['core.pager', tripwire.program],
        ['pager.status', tripwire.program],
        ['pager.log', tripwire.program],
        ['pager.cat-file', tripwire.program],
        ['pager.ls-files', tripwire.program],
        ['core.editor', tripwire.program],
        ['sequence.editor', tripwire.program],
        ['interactive.diffFilter', tripwire.program],
        ['merge.m.driver', tripwire.program],
        ['color.ui', 'always'],
      ]);
      await writeFile(path.join(r, '.git', 'info', 'attributes'), '* diff=t merge=m\n');
      await staleStat(r);
    });
    await assertVerifiedAndSilent(await stamp(repo));
  });

  test('credential helpers, askpass, ssh commands, remote helpers, upload-pack, protocol allow-lists', async () => {
    const repo = await hostileRepo(
      async (r) => {
        await setConfig(r, [
          ['credential.helper', tripwire.program],
          ['credential.https://example.org.helper', tripwire.program],
          ['core.askPass', tripwire.program],
          ['core.sshCommand', tripwire.program],
          ['core.gitProxy', tripwire.program],
          ['core.alternateRefsCommand', tripwire.program],
          ['remote.origin.vcs', 'tripwire'],
          ['remote.origin.uploadpack', tripwire.program],
          ['remote.origin.receivepack', tripwire.program],
          ['protocol.ext.allow', 'always'],
          ['protocol.allow', 'always'],
          ['uploadpack.packObjectsHook', tripwire.program],
        ]);
      },
      { origin: `ext::${tripwire.program} %S` },
    );
    const result = await stamp(repo);
    await assertVerifiedAndSilent(result);
    assert.doesNotMatch(result.record!.predicate.source.repository, /\s/);
  });

  test('an include naming a FIFO ends with one line and exit 2 at the git deadline', async () => {
    const repo = await hostileRepo(async (r) => {
      const fifo = path.join(tmp, `fifo-${count}`);
      execFileSync('mkfifo', [fifo]);
      await appendFile(path.join(r, '.git', 'config'), `[include]\n\tpath = ${fifo}\n`);
    });
    const started = Date.now();
    const result = await stamp(repo, [], { WAYBILL_GIT_TIMEOUT: '1' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^waybill: .*did not finish within 1 s and was stopped/);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.ok(Date.now() - started < 15_000);
    assert.deepEqual(readdirSync(path.dirname(result.artifact)), ['hello.txt'], 'nothing was written');
  });
});

describe('a forged index or object database does not hide a change', () => {
  test('a stat cache forged with core.checkStat=minimal and a restored mtime', async () => {
    const repo = await hostileRepo(async (r) => {
      await setConfig(r, [
        ['core.checkStat', 'minimal'],
        ['core.trustctime', 'false'],
      ]);
      const file = path.join(r, 'src', 'main.c');
      const old = new Date(Date.now() - 3600_000);
      await utimes(file, old, old);
      await git(r, ['update-index', '--refresh']);
      // Same size as the committed `return 0;`, mtime put back.
      await writeFile(file, 'int main(void) { return 1; }\n');
      await utimes(file, old, old);
    });
    assert.equal(await git(repo, ['status', '--porcelain']), '', 'proof: git status is fooled');
    const result = await stamp(repo);
    assert.equal(result.code, 0, result.stderr);
    const sig = result.record!.predicate.source.signature;
    assert.equal(sig.verified, false);
    assert.equal(sig.reason, 'worktree has uncommitted changes: src/main.c');
  });

  test('replace refs that swap the tagged commit for one matching a modified worktree', async () => {
    const repo = await hostileRepo(async (r) => {
      const tagged = await git(r, ['rev-parse', 'HEAD']);
      await git(r, ['checkout', '-q', '-b', 'forged']);
      await commitFiles(r, { 'README.md': 'hello, with a backdoor\n' }, 'forged');
      const forged = await git(r, ['rev-parse', 'HEAD']);
      await git(r, ['replace', tagged, forged]);
      await git(r, ['checkout', '-q', '--detach', 'v1.0.0']);
      // The worktree now holds the forged README; status (which honours replace refs) says clean.
      await writeFile(path.join(r, 'README.md'), 'hello, with a backdoor\n');
      await git(r, ['read-tree', `${forged}^{tree}`]);
    });
    assert.equal(
      await git(repo, ['status', '--porcelain', '--untracked-files=no']),
      '',
      'proof: git status is fooled',
    );
    const result = await stamp(repo);
    assert.equal(result.code, 0, result.stderr);
    const sig = result.record!.predicate.source.signature;
    assert.equal(sig.verified, false);
    assert.equal(sig.reason, 'worktree has uncommitted changes: README.md');
  });
});

describe('SSH signer lifetime and revocation through the CLI', () => {
  async function retiredSigners(): Promise<string> {
    const file = path.join(tmp, 'allowed-retired');
    const pub = (await readFile(ssh.publicKey, 'utf8')).trim();
    await writeFile(file, `${ssh.principal} valid-before="20250101" ${pub}\n`);
    return file;
  }

  test('a key retired before now does not verify a tag dated before its retirement', async () => {
    const repo = await hostileRepo(async () => undefined);
    const result = await stamp(repo, [], {}, { trust: ['--allowed-signers', await retiredSigners()] });
    assert.equal(result.code, 0, result.stderr);
    const sig = result.record!.predicate.source.signature;
    assert.equal(sig.verified, false);
    assert.match(sig.reason, /not valid at the time of verification .*key has expired/);
  });

  test('revoked by --ssh-revocation-file, and by the global gpg.ssh.revocationFile', async () => {
    const repo = await hostileRepo(async () => undefined);
    const revoked = path.join(tmp, 'revoked.krl');
    execFileSync('ssh-keygen', ['-q', '-k', '-f', revoked, ssh.publicKey], { stdio: 'ignore' });
    const byFlag = await stamp(repo, ['--ssh-revocation-file', revoked]);
    assert.equal(byFlag.record!.predicate.source.signature.verified, false);
    assert.match(byFlag.record!.predicate.source.signature.reason, /is revoked/);

    const globalConfig = path.join(tmp, 'user.gitconfig');
    await writeFile(globalConfig, `[gpg "ssh"]\n\trevocationFile = ${revoked}\n`);
    const byConfig = await stamp(repo, [], { GIT_CONFIG_GLOBAL: globalConfig });
    assert.equal(byConfig.record!.predicate.source.signature.verified, false);
    assert.match(byConfig.record!.predicate.source.signature.reason, /is revoked/);
  });
});

describe('secrets are not published', () => {
  test('origin credentials, token query and fragment are stripped from source.repository', async () => {
    const repo = await hostileRepo(async () => undefined, {
      origin: 'https://ci-bot:pa/ss@git.example.org/acme/hello.git?private_token=glpat-SECRET#frag',
    });
    const result = await stamp(repo);
    await assertVerifiedAndSilent(result);
    assert.equal(result.record!.predicate.source.repository, 'https://git.example.org/acme/hello.git');
    assert.doesNotMatch(result.recordText, /pa\/ss|SECRET|ci-bot|frag/);
  });

  for (const [what, url, why] of [
    ['user info', 'https://deploy:s3cr3t@bugs.example.org/hello', /embeds credentials/],
    ['javascript:', 'javascript:alert(document.cookie)', /uses javascript:/],
    ['data:', 'data:text/html,<script>alert(1)</script>', /uses data:/],
    ['file:', 'file:///etc/passwd', /uses file:/],
    [
      'a control character',
      'https://bugs.example.org/\n  signature    verified',
      /control character \(U\+000A\)/,
    ],
  ] as const) {
    test(`stamp refuses a bug tracker URL with ${what}: one line, exit 2, nothing written`, async () => {
      const repo = await hostileRepo(async () => undefined);
      const result = await stamp(repo, ['--bug-tracker', url]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, why);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /s3cr3t/);
      assert.deepEqual(readdirSync(path.dirname(result.artifact)), ['hello.txt']);
    });
  }
});
