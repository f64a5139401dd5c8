import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildPythonProject, WHEEL_PROJECT } from '../../../test/fixtures/build-artifacts.ts';
import { makeTmp, removeTmp, run } from '../../../test/helpers/exec-fixtures.ts';
import { WaybillError } from '../../errors.ts';
import { readFileHead } from '../../util/read-head.ts';
import { sdistFormat } from './sdist.ts';

test('setuptools sdist: PKG-INFO facts equal what email.parser reads', async (t) => {
  const built = await buildPythonProject();
  if (!built) return t.skip('setuptools not available');
  assert.ok(sdistFormat.detect(await readFileHead(built.sdist, 4096), built.sdist));
  assert.ok(await sdistFormat.confirm(built.sdist));
  const facts = await sdistFormat.readFacts(built.sdist);
  assert.equal(facts.format, 'sdist');
  assert.deepEqual(facts.name, { value: WHEEL_PROJECT.name, field: 'sdist PKG-INFO Name' });
  assert.equal(facts.version?.value, WHEEL_PROJECT.version);
  const ref = JSON.parse(
    await run('python3', [
      '-c',
      'import sys,json,tarfile,email.parser\nt=tarfile.open(sys.argv[1])\nm=email.parser.Parser().parsestr(t.extractfile(sys.argv[2]).read().decode())\nprint(json.dumps({k: m[k] for k in ("Name","Version","License","Author")}))',
      built.sdist,
      `${WHEEL_PROJECT.name}-${WHEEL_PROJECT.version}/PKG-INFO`,
    ]),
  );
  assert.deepEqual(ref, {
    Name: facts.name?.value,
    Version: facts.version?.value,
    License: facts.license?.value,
    Author: facts.team?.value,
  });
  assert.equal(facts.bugTracker?.value, 'https://example.org/bugs');
  assert.equal(sdistFormat.stamp, undefined, 'sidecar only');
});

test('a plain tarball, even named like an sdist, is not one', async () => {
  const dir = await makeTmp();
  try {
    await run('mkdir', ['-p', join(dir, 'demo-1.0/sub')]);
    await writeFile(join(dir, 'demo-1.0/README'), 'x');
    await writeFile(join(dir, 'demo-1.0/sub/PKG-INFO'), 'Name: nested\n'); // not at the top: not an sdist
    const tarball = join(dir, 'demo-1.0.tar.gz');
    await run('tar', ['-C', dir, '-czf', tarball, 'demo-1.0']);
    assert.ok(sdistFormat.detect(await readFileHead(tarball, 4096), tarball), 'candidate by name and layout');
    assert.equal(await sdistFormat.confirm(tarball), false);
    await assert.rejects(
      sdistFormat.readFacts(tarball),
      (e: unknown) => e instanceof WaybillError && e.code === 'MALFORMED',
    );
    const flat = join(dir, 'flat.tar.gz');
    await run('tar', ['-C', join(dir, 'demo-1.0'), '-czf', flat, 'README']);
    assert.equal(sdistFormat.detect(await readFileHead(flat, 4096), flat), false);
  } finally {
    await removeTmp(dir);
  }
});
