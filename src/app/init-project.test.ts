import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeRepo, makeTmp, removeTmp } from '../../test/helpers/git-fixtures.ts';
import { initProject } from './init-project.ts';

let tmp: string;
before(async () => {
  tmp = await makeTmp('waybill-init-');
});
after(() => removeTmp(tmp));

test('init in a git checkout: commit waybill.yaml, then tag; outside one: put it in the repository', async () => {
  const repo = await makeRepo(tmp, { 'README.md': 'x\n' });
  const inRepo = await initProject(repo);
  assert.equal(inRepo.inGitWorkTree, true);
  assert.equal(inRepo.path, join(repo, 'waybill.yaml'));
  const [edit, commit, tag, stamp] = inRepo.steps;
  assert.match(edit ?? '', /source\.allowedSigners .* source\.trustedGpgKeys/);
  assert.equal(commit, `commit it: git add ${inRepo.path} && git commit -m "Add waybill.yaml"`);
  assert.match(tag ?? '', /^then tag that commit with a signed tag: git tag -s .*after the commit/);
  assert.match(stamp ?? '', /waybill stamp ARTIFACT$/);
  assert.doesNotMatch(await readFile(inRepo.path, 'utf8'), /^name:/m);

  const plain = join(tmp, 'plain');
  await mkdir(plain);
  const outside = await initProject(plain);
  assert.equal(outside.inGitWorkTree, false);
  assert.match(outside.steps[1] ?? '', /put .*waybill\.yaml in the project's git repository and commit it/);
});
