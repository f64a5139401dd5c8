/**
 * Object ids are the ones git itself gives (real SHA-1 and SHA-256 repositories, tags and commits,
 * a signed commit with a multi-line gpgsig header); the commit parser reads tree, parents and
 * committer time, and on any other text fails only with a one-line MALFORMED.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import {
  commitFiles,
  git,
  gitBytes,
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  signedCommit,
} from '../../test/helpers/git-fixtures.ts';
import { WaybillError } from '../errors.ts';
import { gitObjectId, objectFormatOf, parseCommitObject } from './git-object.ts';

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-gitobj-');
});
after(() => removeTmp(tmp));

function rawObject(repo: string, type: string, id: string): Promise<Buffer> {
  return gitBytes(repo, ['cat-file', type, id]);
}

for (const format of ['sha1', 'sha256'] as const) {
  test(`gitObjectId matches git's ids in a ${format} repository (commit, tag)`, async () => {
    const repo = await makeRepo(tmp, { 'a.txt': 'a\n' }, { name: `repo-${format}`, objectFormat: format });
    const second = await commitFiles(repo, { 'b.txt': 'b\n' }, 'second\n\nwith a body');
    await git(repo, ['tag', '-a', '-m', 'release', 'v1']);
    const tagId = await git(repo, ['rev-parse', 'refs/tags/v1']);
    assert.equal(objectFormatOf(second), format);
    const commit = await rawObject(repo, 'commit', second);
    assert.equal(gitObjectId('commit', commit, format), second);
    const tag = await rawObject(repo, 'tag', tagId);
    assert.equal(gitObjectId('tag', tag, format), tagId);
    // One changed byte is another object.
    const changed = Buffer.from(tag);
    changed.writeUInt8(changed.readUInt8(changed.length - 2) ^ 1, changed.length - 2);
    assert.notEqual(gitObjectId('tag', changed, format), tagId);

    const parsed = parseCommitObject(commit.toString('latin1'), 'c');
    assert.equal(parsed.tree, await git(repo, ['rev-parse', `${second}^{tree}`]));
    assert.deepEqual(parsed.parents, [await git(repo, ['rev-parse', `${second}^`])]);
    assert.equal(parsed.committerTime, Date.parse('2024-01-02T03:04:05Z') / 1000);
    assert.equal(parsed.committerZone, '+0000');
    assert.equal(parsed.committer, 'Waybill Test <test@waybill.invalid>');
  });
}

test('a signed commit (gpgsig continuation lines) parses', async () => {
  const signer = await makeSshSigner(tmp);
  const repo = await makeRepo(tmp, { 'a.txt': 'a\n' }, { name: 'signed-commit' });
  const id = await signedCommit(repo, signer);
  const bytes = await rawObject(repo, 'commit', id);
  assert.match(bytes.toString('latin1'), /\ngpgsig -----BEGIN SSH SIGNATURE-----\n /);
  assert.equal(gitObjectId('commit', bytes, 'sha1'), id);
  assert.equal(
    parseCommitObject(bytes.toString('latin1'), 'c').tree,
    await git(repo, ['rev-parse', `${id}^{tree}`]),
  );
});

test('objectFormatOf: only full lowercase ids', () => {
  assert.equal(objectFormatOf('a'.repeat(40)), 'sha1');
  assert.equal(objectFormatOf('a'.repeat(64)), 'sha256');
  for (const bad of ['A'.repeat(40), 'a'.repeat(39), 'a'.repeat(41), '', 'g'.repeat(40)])
    assert.equal(objectFormatOf(bad), undefined, bad);
});

test('parseCommitObject refuses what is not a commit, by name', () => {
  const tree = 'b'.repeat(40);
  const cases: Array<[string, RegExp]> = [
    ['', /does not start with a 'tree' header/],
    [`object ${tree}\ntype commit\n`, /does not start with a 'tree' header/],
    ['tree xyz\n', /invalid tree id/],
    [`tree ${tree}\ntree ${tree}\n`, /more than one tree header/],
    [`tree ${tree}\nparent nope\n`, /invalid parent id/],
    [`tree ${tree}\ncommitter A <a@b>\n`, /committer header without a time/],
    [`tree ${tree}\ncommitter A <a@b> 1 +0000\ncommitter B <b@c> 2 +0000\n`, /more than one committer/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(
      () => parseCommitObject(text, 'evidence'),
      (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED' && reason.test(e.message),
      text,
    );
  }
  // Headers after the blank line are message text, not headers.
  const ok = parseCommitObject(`tree ${tree}\ncommitter A <a@b> 5 -0130\n\ntree ${'c'.repeat(40)}\n`, 'x');
  assert.deepEqual([ok.tree, ok.committerTime, ok.committerZone], [tree, 5, '-0130']);
});

test('fast-check: generated commits parse back; any text fails only with one-line MALFORMED', () => {
  const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
  fc.assert(
    fc.property(
      hex(40),
      fc.array(hex(40), { maxLength: 3 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.string({ unit: 'binary-ascii' }),
      (tree, parents, time, message) => {
        const text = `tree ${tree}\n${parents.map((p) => `parent ${p}\n`).join('')}author A <a@b> ${time} +0000\ncommitter C <c@d> ${time} +0100\n\n${message}`;
        const parsed = parseCommitObject(text, 'gen');
        assert.equal(parsed.tree, tree);
        assert.deepEqual(parsed.parents, parents);
        assert.equal(parsed.committerTime, time);
      },
    ),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      try {
        parseCommitObject(text, 'fuzz');
      } catch (e) {
        if (!(e instanceof WaybillError)) throw e;
        assert.equal(e.code, 'MALFORMED');
        assert.ok(!e.message.includes('\n'));
      }
    }),
    { numRuns: 1000 },
  );
});
