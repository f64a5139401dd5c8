import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  git,
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  signedCommit,
} from '../../test/helpers/git-fixtures.ts';
import { makeTripwire } from '../../test/helpers/tripwire.ts';
import { headCommitDate, parseCommitterDate } from './commit-date.ts';

let tmp: string;

before(async () => {
  tmp = await makeTmp('waybill-commit-date-');
});

after(async () => {
  await removeTmp(tmp);
});

test('the committer date comes from the header, not from a look-alike line in the message', () => {
  const commit = [
    'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    'author A <a@x> 1000000000 +0000',
    'committer C <c@x> 1704164645 +0100',
    '',
    'committer Fake <f@x> 1 +0000',
    '',
  ].join('\n');
  assert.equal(parseCommitterDate(commit)?.toISOString(), '2024-01-02T03:04:05.000Z');
  assert.equal(parseCommitterDate('tree x\n\ncommitter C <c@x> 1 +0000\n'), undefined);
  assert.equal(parseCommitterDate('committer C <c@x> yesterday\n'), undefined);
  assert.equal(parseCommitterDate(''), undefined);
});

test('log.showSignature + gpg.ssh.program on a signed HEAD commit: no program runs, the date is read', async () => {
  const signer = await makeSshSigner(tmp);
  const repo = await makeRepo(tmp, { 'README.md': 'hello\n' });
  await signedCommit(repo, signer);
  const tripwire = await makeTripwire(tmp);
  await git(repo, ['config', 'log.showSignature', 'true']);
  await git(repo, ['config', 'gpg.ssh.allowedSignersFile', signer.allowedSignersFile]);
  for (const key of ['gpg.program', 'gpg.openpgp.program', 'gpg.ssh.program', 'gpg.x509.program']) {
    await git(repo, ['config', key, tripwire.program]);
  }
  // What `git log -1 --format=%cI` used to do:
  await git(repo, ['log', '-1', '--format=%cI']);
  assert.notEqual(await tripwire.ran(), null, 'plain git log runs the configured program');
  await tripwire.reset();

  const date = await headCommitDate(repo);
  assert.equal(date?.toISOString(), '2024-01-02T03:04:05.000Z');
  assert.equal(await tripwire.ran(), null, 'a program from the repository config was run');
});

test('no commit, no date', async () => {
  const empty = path.join(tmp, 'empty');
  await git(tmp, ['init', '-q', empty]);
  assert.equal(await headCommitDate(empty), undefined);
});
