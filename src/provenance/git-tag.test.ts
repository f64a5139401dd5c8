import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  commitFiles,
  type GpgSigner,
  git,
  lightweightTag,
  makeGpgSigner,
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  renameTag,
  type SshSigner,
  signedTag,
  tamperTagMessage,
  unsignedAnnotatedTag,
} from '../../test/helpers/git-fixtures.ts';
import { WaybillError } from '../errors.ts';
import { verifySourceTag } from './git-tag.ts';

let tmp: string;
let ssh: SshSigner;
let otherSsh: SshSigner;
let gpg: GpgSigner;
let repoCount = 0;

/** Each test gets its own repository in the shared temp dir. */
function newRepo(files: Record<string, string> = { 'README.md': 'hello\n' }, origin?: string) {
  repoCount += 1;
  return makeRepo(tmp, files, { name: `repo-${repoCount}`, origin });
}

before(async () => {
  tmp = await makeTmp('waybill-git-tag-');
  // One key of each kind for the whole file: gpg key generation is the slow part.
  [ssh, otherSsh, gpg] = await Promise.all([
    makeSshSigner(tmp, 'release@waybill.invalid', 'ssh-release'),
    makeSshSigner(tmp, 'mallory@waybill.invalid', 'ssh-other'),
    makeGpgSigner(tmp),
  ]);
});

after(async () => {
  await removeTmp(tmp);
});

describe('verifySourceTag: signatures', () => {
  test('good SSH tag with the signer in the allowed signers file is verified', async () => {
    const repo = await newRepo();
    const tagObject = await signedTag(repo, 'v1.0.0', ssh);
    const head = await git(repo, ['rev-parse', 'HEAD']);
    const fact = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    assert.equal(fact.tag, 'v1.0.0');
    assert.equal(fact.commit, head);
    assert.equal(fact.tagObject, tagObject);
    assert.equal(fact.repository, `file://${repo}`);
    assert.equal(fact.signature.format, 'ssh');
    assert.equal(fact.signature.verified, true, fact.signature.reason);
    assert.equal(fact.signature.signer, `${ssh.principal} (ED25519 key ${ssh.fingerprint})`);
  });

  test('good OpenPGP tag by a trusted key is verified, signer is the primary fingerprint', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v2.1.0', gpg);
    const fact = await verifySourceTag(repo, { trustedGpgKeys: [gpg.fingerprint], gnupgHome: gpg.gnupgHome });
    assert.equal(fact.signature.format, 'openpgp');
    assert.equal(fact.signature.verified, true, fact.signature.reason);
    assert.equal(fact.signature.signer, `${gpg.fingerprint} (${gpg.userId})`);
  });

  test('trusted keys match case- and space-insensitively and by long key id, never by short id', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', gpg);
    const spaced = gpg.fingerprint.toLowerCase().replace(/(.{4})/g, '$1 ');
    const withSpaces = await verifySourceTag(repo, { trustedGpgKeys: [spaced], gnupgHome: gpg.gnupgHome });
    assert.equal(withSpaces.signature.verified, true, withSpaces.signature.reason);
    const longId = await verifySourceTag(repo, {
      trustedGpgKeys: [`0x${gpg.fingerprint.slice(-16)}`],
      gnupgHome: gpg.gnupgHome,
    });
    assert.equal(longId.signature.verified, true, longId.signature.reason);
    const shortId = await verifySourceTag(repo, {
      trustedGpgKeys: [gpg.fingerprint.slice(-8)],
      gnupgHome: gpg.gnupgHome,
    });
    assert.equal(shortId.signature.verified, false);
  });

  test('SSH tag checked against an allowed signers file listing another key is not verified', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', ssh);
    const fact = await verifySourceTag(repo, { allowedSignersFile: otherSsh.allowedSignersFile });
    assert.equal(fact.signature.verified, false);
    assert.equal(fact.signature.format, 'ssh');
    assert.match(fact.signature.reason, /not in the allowed signers file/);
    assert.equal(fact.signature.signer, `ED25519 key ${ssh.fingerprint}`);
  });

  test('SSH tag without an allowed signers file is not verified, with a hint', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', ssh);
    const fact = await verifySourceTag(repo, {});
    assert.equal(fact.signature.verified, false);
    assert.equal(
      fact.signature.reason,
      'SSH-signed tag but no allowed signers file given (--allowed-signers)',
    );
  });

  test('OpenPGP tag by a key that is not in trustedGpgKeys is not verified', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', gpg);
    const fact = await verifySourceTag(repo, {
      trustedGpgKeys: ['0123456789ABCDEF0123456789ABCDEF01234567'],
      gnupgHome: gpg.gnupgHome,
    });
    assert.equal(fact.signature.verified, false);
    assert.equal(fact.signature.format, 'openpgp');
    assert.equal(fact.signature.signer, `${gpg.fingerprint} (${gpg.userId})`);
    assert.match(fact.signature.reason, /not in the trusted keys/);
  });

  test('OpenPGP tag whose public key is not in the keyring is not verified', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', gpg);
    const emptyHome = path.join(tmp, 'empty-gnupg');
    await mkdir(emptyHome, { mode: 0o700 });
    const fact = await verifySourceTag(repo, { trustedGpgKeys: [gpg.fingerprint], gnupgHome: emptyHome });
    assert.equal(fact.signature.verified, false);
    assert.match(fact.signature.reason, /public key is not in the keyring/);
  });

  for (const kind of ['ssh', 'gpg'] as const) {
    test(`tampered ${kind} tag (message rewritten, signature kept) is not verified`, async () => {
      const repo = await newRepo();
      const signer = kind === 'ssh' ? ssh : gpg;
      const original = await signedTag(repo, 'v1.0.0', signer);
      const forged = await tamperTagMessage(repo, 'v1.0.0', 'totally legit release');
      assert.notEqual(forged, original);
      const fact = await verifySourceTag(repo, {
        allowedSignersFile: ssh.allowedSignersFile,
        trustedGpgKeys: [gpg.fingerprint],
        gnupgHome: gpg.gnupgHome,
      });
      assert.equal(fact.tagObject, forged);
      assert.equal(fact.signature.verified, false);
      assert.match(
        fact.signature.reason,
        kind === 'ssh' ? /^bad SSH signature: .*incorrect signature/ : /^bad OpenPGP signature/,
      );
    });
  }
});

describe('verifySourceTag: tags and checkout state', () => {
  test('unsigned annotated tag', async () => {
    const repo = await newRepo();
    const id = await unsignedAnnotatedTag(repo, 'v1.0.0');
    const fact = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    assert.deepEqual(fact.signature, {
      verified: false,
      format: null,
      signer: null,
      reason: 'tag is not signed',
    });
    assert.equal(fact.tagObject, id);
  });

  test('lightweight tag', async () => {
    const repo = await newRepo();
    await lightweightTag(repo, 'v1.0.0');
    const fact = await verifySourceTag(repo, {});
    assert.equal(fact.tag, 'v1.0.0');
    assert.equal(fact.tagObject, null);
    assert.equal(fact.signature.reason, 'lightweight tag: not signed');
    assert.equal(fact.signature.verified, false);
  });

  test('renamed tag: a validly signed object for v1.0 stored under refs/tags/v2.0', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0', ssh);
    await renameTag(repo, 'v1.0', 'v2.0');
    // git itself is happy with it, which is why we check the header ourselves.
    await git(repo, ['-c', `gpg.ssh.allowedSignersFile=${ssh.allowedSignersFile}`, 'verify-tag', 'v2.0']);
    const fact = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    assert.equal(fact.tag, 'v2.0');
    assert.equal(fact.signature.verified, false);
    assert.equal(fact.signature.format, 'ssh');
    assert.equal(
      fact.signature.reason,
      "tag object says 'v1.0' but the ref is 'v2.0' (renamed or re-pushed tag)",
    );
  });

  test('HEAD moved after tagging: not at a tag, and the requested tag is reported as elsewhere', async () => {
    const repo = await newRepo();
    const tagged = await git(repo, ['rev-parse', 'HEAD']);
    await signedTag(repo, 'v1.0.0', ssh);
    const head = await commitFiles(repo, { 'later.txt': 'after the release\n' }, 'after release');
    const trust = { allowedSignersFile: ssh.allowedSignersFile };
    const fact = await verifySourceTag(repo, trust);
    assert.equal(fact.tag, null);
    assert.equal(fact.commit, head);
    assert.equal(fact.signature.reason, `HEAD ${head.slice(0, 12)} is not at a tag`);
    const asked = await verifySourceTag(repo, trust, { tag: 'v1.0.0' });
    assert.equal(asked.signature.verified, false);
    assert.equal(
      asked.signature.reason,
      `tag 'v1.0.0' points at commit ${tagged.slice(0, 12)} but HEAD is ${head.slice(0, 12)} (moved tag or wrong checkout)`,
    );
    const missing = await verifySourceTag(repo, trust, { tag: 'v9' });
    assert.equal(missing.signature.reason, "tag 'v9' does not exist");
  });

  test('dirty worktree: tracked change and untracked file are named; ignored files are fine', async () => {
    const repo = await newRepo({ 'README.md': 'hello\n', '.gitignore': 'build/\n' });
    await signedTag(repo, 'v1.0.0', ssh);
    const trust = { allowedSignersFile: ssh.allowedSignersFile };
    await mkdir(path.join(repo, 'build'));
    await writeFile(path.join(repo, 'build', 'out.bin'), 'ignored output\n');
    assert.equal((await verifySourceTag(repo, trust)).signature.verified, true);
    await writeFile(path.join(repo, 'README.md'), 'changed\n');
    await writeFile(path.join(repo, 'new.txt'), 'untracked\n');
    const fact = await verifySourceTag(repo, trust);
    assert.equal(fact.signature.verified, false);
    assert.equal(fact.signature.reason, 'worktree has uncommitted changes: README.md, new.txt (untracked)');
    // The signer is still recorded: the tag itself is fine.
    assert.equal(fact.signature.format, 'ssh');
  });

  test("the stamp's own outputs in the checkout do not make it dirty; anything else still does", async () => {
    const repo = await newRepo({ 'README.md': 'hello\n', 'dist/tracked.deb': 'as committed\n' });
    await signedTag(repo, 'v1.0.0', ssh);
    const trust = { allowedSignersFile: ssh.allowedSignersFile };
    for (const name of ['app.deb', 'app.deb.waybill.json', '.app.deb.waybill.lock', 'other.deb'])
      await writeFile(path.join(repo, 'dist', name), 'x\n');
    await mkdir(path.join(repo, 'image', 'blobs'), { recursive: true });
    await writeFile(path.join(repo, 'image', 'index.json'), '{}\n');
    // A committed artifact the stamp rewrote is an output too.
    await writeFile(path.join(repo, 'dist', 'tracked.deb'), 'stamped\n');
    const ours = new Set(
      ['app.deb', 'app.deb.waybill.json', '.app.deb.waybill.lock', 'tracked.deb'].map((n) =>
        path.join(repo, 'dist', n),
      ),
    );
    const layout = path.join(repo, 'image');
    const isOwnOutput = (p: string) => ours.has(p) || p === layout || p.startsWith(`${layout}/`);
    const fact = await verifySourceTag(repo, trust, { isOwnOutput });
    assert.equal(fact.signature.reason, 'worktree has uncommitted changes: dist/other.deb (untracked)');
    await rm(path.join(repo, 'dist', 'other.deb'));
    assert.equal((await verifySourceTag(repo, trust, { isOwnOutput })).signature.verified, true);
    // Without the predicate the same outputs are uncommitted changes, as before.
    assert.match(
      (await verifySourceTag(repo, trust)).signature.reason,
      /^worktree has uncommitted changes: dist\/\.app\.deb\.waybill\.lock \(untracked\), .*dist\/tracked\.deb/,
    );
  });

  test('a change hidden with assume-unchanged still counts as dirty', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', ssh);
    await git(repo, ['update-index', '--assume-unchanged', 'README.md']);
    await writeFile(path.join(repo, 'README.md'), 'sneaky\n');
    assert.equal(await git(repo, ['status', '--porcelain']), '');
    const fact = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    assert.equal(fact.signature.verified, false);
    assert.equal(fact.signature.reason, 'worktree has uncommitted changes: README.md');
  });

  test('several tags at HEAD: the highest version wins unless one is asked for', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.10.0', ssh);
    await signedTag(repo, 'v1.9.0', ssh);
    await signedTag(repo, 'v1.10.0-rc1', ssh);
    const trust = { allowedSignersFile: ssh.allowedSignersFile };
    const fact = await verifySourceTag(repo, trust);
    assert.equal(fact.tag, 'v1.10.0');
    assert.equal(fact.signature.verified, true);
    assert.match(fact.signature.reason, /HEAD also carries v1\.10\.0-rc1, v1\.9\.0$/);
    const asked = await verifySourceTag(repo, trust, { tag: 'refs/tags/v1.9.0' });
    assert.equal(asked.tag, 'v1.9.0');
    assert.equal(asked.signature.verified, true);
  });

  test('repository is origin without credentials', async () => {
    const repo = await newRepo(undefined, 'https://x-access-token:s3cret@github.com/acme/widget.git');
    await signedTag(repo, 'v1.0.0', ssh);
    const fact = await verifySourceTag(repo, {});
    assert.equal(fact.repository, 'https://github.com/acme/widget.git');
  });

  test('a hostile repository config cannot swap the verifier or run commands', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', gpg);
    const marker = path.join(tmp, 'pwned');
    const script = path.join(tmp, 'evil.sh');
    await writeFile(script, `#!/bin/sh\ntouch ${marker}\necho '[GNUPG:] GOODSIG 0 x'\nexit 0\n`, {
      mode: 0o755,
    });
    for (const key of ['gpg.program', 'gpg.openpgp.program', 'core.fsmonitor']) {
      await git(repo, ['config', key, script]);
    }
    const fact = await verifySourceTag(repo, { trustedGpgKeys: [gpg.fingerprint], gnupgHome: gpg.gnupgHome });
    assert.equal(fact.signature.verified, true, fact.signature.reason);
    assert.equal(existsSync(marker), false, 'a program from the repository config was run');
  });

  test('SHA-256 repositories work (64-hex object ids)', async () => {
    repoCount += 1;
    const repo = await makeRepo(tmp, { a: '1\n' }, { name: `repo-${repoCount}`, objectFormat: 'sha256' });
    const id = await signedTag(repo, 'v1.0.0', ssh);
    const fact = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    assert.equal(fact.tagObject, id);
    assert.match(fact.commit ?? '', /^[0-9a-f]{64}$/);
    assert.equal(fact.signature.verified, true, fact.signature.reason);
  });

  test('a tag of a tag is refused when asked for; the inner tag at HEAD is used otherwise', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'inner', ssh);
    const outer = await signedTag(repo, 'outer', ssh, { target: 'inner' });
    const trust = { allowedSignersFile: ssh.allowedSignersFile };
    const asked = await verifySourceTag(repo, trust, { tag: 'outer' });
    assert.equal(asked.tagObject, outer);
    assert.equal(asked.signature.verified, false);
    assert.match(asked.signature.reason, /points at a tag object of another tag, not at a commit/);
    assert.equal((await verifySourceTag(repo, trust)).tag, 'inner');
  });

  test('an empty repository has no commit to verify', async () => {
    const repo = path.join(tmp, 'empty-repo');
    await git(tmp, ['init', '-q', repo]);
    const fact = await verifySourceTag(repo, {});
    assert.equal(fact.commit, null);
    assert.equal(fact.signature.verified, false);
    assert.match(fact.signature.reason, /no commits/);
  });
});

describe('verifySourceTag: SSH signer lifetime and revocation', () => {
  /** An allowed signers file listing `signer` with extra options (valid-before=…). */
  async function allowedWith(signer: SshSigner, options: string, name: string): Promise<string> {
    const file = path.join(tmp, name);
    const pub = (await readFile(signer.publicKey, 'utf8')).trim();
    await writeFile(file, `${signer.principal} ${options} ${pub}\n`);
    return file;
  }

  test('a key retired with valid-before is refused for a tag dated before it, though git verify-tag accepts it', async () => {
    const repo = await newRepo();
    // The fixture tags are dated 2024-01-02 (the tagger date the signer wrote).
    await signedTag(repo, 'v1.0.0', ssh);
    const retired = await allowedWith(ssh, 'valid-before="20250101"', 'allowed-retired');
    // git judges the key at the tagger date, so the retired key still "verifies":
    await git(repo, ['-c', `gpg.ssh.allowedSignersFile=${retired}`, 'verify-tag', 'v1.0.0']);
    const fact = await verifySourceTag(repo, { allowedSignersFile: retired });
    assert.equal(fact.signature.verified, false);
    assert.equal(fact.signature.signer, `ED25519 key ${ssh.fingerprint}`);
    assert.match(fact.signature.reason, /^SSH key SHA256:\S+ is not valid at the time of verification/);
    assert.match(fact.signature.reason, /key has expired: verify time .* > valid-before 2025-01-01/);
    // The same tag and file at a verification time inside the key's lifetime: verified.
    const then = await verifySourceTag(repo, {
      allowedSignersFile: retired,
      verifyTime: new Date('2024-06-01T00:00:00Z'),
    });
    assert.equal(then.signature.verified, true, then.signature.reason);
  });

  test('a listed key on a line ssh-keygen cannot read: the reason names that line, not just "not in the file"', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', ssh);
    // valid-before needs quotes: without them ssh-keygen skips the whole line.
    const unquoted = await allowedWith(ssh, 'valid-before=20250101', 'allowed-unquoted');
    const fact = await verifySourceTag(repo, { allowedSignersFile: unquoted });
    assert.equal(fact.signature.verified, false);
    assert.match(
      fact.signature.reason,
      /not in the allowed signers file \(ssh-keygen skipped a line it could not read: \S*allowed-unquoted:1: bad options/,
    );
  });

  test('a key that is not valid yet (valid-after in the future) is refused', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', ssh);
    const future = await allowedWith(ssh, 'valid-after="29990101"', 'allowed-future');
    const fact = await verifySourceTag(repo, { allowedSignersFile: future });
    assert.equal(fact.signature.verified, false);
    assert.match(fact.signature.reason, /not valid at the time of verification/);
  });

  test('a revoked key is refused: a list of public keys and a KRL', async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', ssh);
    const list = path.join(tmp, 'revoked-keys');
    await writeFile(list, await readFile(ssh.publicKey));
    const krl = path.join(tmp, 'revoked.krl');
    execFileSync('ssh-keygen', ['-q', '-k', '-f', krl, ssh.publicKey], { stdio: 'ignore' });
    const unrelated = path.join(tmp, 'revoked-other');
    await writeFile(unrelated, await readFile(otherSsh.publicKey));
    for (const sshRevocationFile of [list, krl]) {
      const fact = await verifySourceTag(repo, {
        allowedSignersFile: ssh.allowedSignersFile,
        sshRevocationFile,
      });
      assert.equal(fact.signature.verified, false);
      assert.equal(fact.signature.reason, `SSH key ${ssh.fingerprint} is revoked (${sshRevocationFile})`);
    }
    const other = await verifySourceTag(repo, {
      allowedSignersFile: ssh.allowedSignersFile,
      sshRevocationFile: unrelated,
    });
    assert.equal(other.signature.verified, true, other.signature.reason);
  });

  test("the user's global gpg.ssh.revocationFile is honoured; the repository's own config is not", async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', ssh);
    const revoked = path.join(tmp, 'global-revoked');
    await writeFile(revoked, await readFile(ssh.publicKey));
    const empty = path.join(tmp, 'empty-revocations');
    await writeFile(empty, '');
    const trust = { allowedSignersFile: ssh.allowedSignersFile };
    // The repository tries to switch revocation off and to name its own list: neither counts.
    await git(repo, ['config', 'gpg.ssh.revocationFile', empty]);
    const globalConfig = path.join(tmp, 'global.gitconfig');
    await writeFile(globalConfig, `[gpg "ssh"]\n\trevocationFile = ${revoked}\n`);
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = globalConfig;
    try {
      const fact = await verifySourceTag(repo, trust);
      assert.equal(fact.signature.verified, false);
      assert.match(fact.signature.reason, /is revoked/);
      await writeFile(globalConfig, `[gpg "ssh"]\n\trevocationFile = ${path.join(tmp, 'missing-list')}\n`);
      await assert.rejects(verifySourceTag(repo, trust), (e: unknown) => {
        assert.ok(e instanceof WaybillError);
        assert.equal(e.code, 'NOT_FOUND');
        assert.match(e.message, /gpg\.ssh\.revocationFile in your global git config/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
    }
    await git(repo, ['config', 'gpg.ssh.revocationFile', revoked]);
    const withRepoList = await verifySourceTag(repo, trust);
    assert.equal(withRepoList.signature.verified, true, 'the repository config chose the revocation list');
  });

  test("the repository's own allowed signers file is never used", async () => {
    const repo = await newRepo();
    await signedTag(repo, 'v1.0.0', otherSsh);
    await git(repo, ['config', 'gpg.ssh.allowedSignersFile', otherSsh.allowedSignersFile]);
    const fact = await verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile });
    assert.equal(fact.signature.verified, false);
    assert.match(fact.signature.reason, /not in the allowed signers file/);
    const none = await verifySourceTag(repo, {});
    assert.equal(none.signature.verified, false);
  });
});

describe('verifySourceTag: unusable input throws', () => {
  test('not a git work tree → WaybillError SOURCE', async () => {
    const plain = path.join(tmp, 'plain-dir');
    await writeFile(path.join(tmp, 'plain-file'), 'x');
    await git(tmp, ['init', '-q', '--bare', path.join(tmp, 'bare.git')]);
    await mkdir(plain);
    for (const dir of [
      plain,
      path.join(tmp, 'plain-file'),
      path.join(tmp, 'missing'),
      path.join(tmp, 'bare.git'),
    ]) {
      await assert.rejects(verifySourceTag(dir, {}), (e: unknown) => {
        assert.ok(e instanceof WaybillError);
        assert.equal(e.code, 'SOURCE');
        assert.equal(e.reason, 'not a git work tree');
        return true;
      });
    }
  });

  test('core.worktree naming another directory (an ancestor with pristine copies) → WaybillError SOURCE', async () => {
    const outer = path.join(tmp, 'outer');
    await mkdir(outer);
    repoCount += 1;
    const repo = await makeRepo(outer, { 'README.md': 'hello\n' }, { name: 'inner' });
    await signedTag(repo, 'v1.0.0', ssh);
    await writeFile(path.join(outer, 'README.md'), 'hello\n');
    await writeFile(path.join(repo, 'README.md'), 'backdoor\n');
    await git(repo, ['config', 'core.worktree', outer]);
    await writeFile(path.join(repo, '.git', 'info', 'exclude'), 'inner/\n');
    await assert.rejects(
      verifySourceTag(repo, { allowedSignersFile: ssh.allowedSignersFile }),
      (e: unknown) => {
        assert.ok(e instanceof WaybillError);
        assert.equal(e.code, 'SOURCE');
        assert.match(e.reason, /core\.worktree/);
        return true;
      },
    );
  });

  test('a missing allowed signers file → WaybillError NOT_FOUND', async () => {
    const repo = await newRepo();
    await assert.rejects(
      verifySourceTag(repo, { allowedSignersFile: path.join(tmp, 'nope') }),
      (e: unknown) => e instanceof WaybillError && e.code === 'NOT_FOUND',
    );
  });
});
