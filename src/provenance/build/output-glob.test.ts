import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { expectError } from '../../../test/helpers/assertions.ts';
import { buildOciLayout } from '../../sources/testing.ts';
import { matchOutputs, segmentRegExp } from './output-glob.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waybill-glob-'));
  for (const f of [
    'dist/a.tar.gz',
    'dist/b.tar.gz',
    'dist/notes.txt',
    'dist/sub/c.tar.gz',
    'other/d.deb',
    'e.deb',
  ]) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), f);
  }
  await buildOciLayout(join(dir, 'dist', 'image'), [{ 'etc/hello': 'hi' }]);
  await mkdir(join(dir, 'dist', 'plain-dir'));
  await symlink('/etc/passwd', join(dir, 'dist', 'link.tar.gz'));
});
after(() => rm(dir, { recursive: true, force: true }));

const paths = async (patterns: string[]) =>
  (await matchOutputs(dir, patterns)).map((m) => `${m.kind}:${m.path}`);

test('globs match within one segment, ** across any depth, literal paths as they are', async () => {
  assert.deepEqual(await paths(['dist/[ab].tar.gz']), ['file:dist/a.tar.gz', 'file:dist/b.tar.gz']);
  assert.deepEqual(await paths(['**/*.deb']), ['file:e.deb', 'file:other/d.deb']);
  assert.deepEqual(await paths(['dist/image', 'dist/notes.txt']), [
    'oci-layout:dist/image',
    'file:dist/notes.txt',
  ]);
  assert.deepEqual(await paths(['dist/sub/?.tar.gz', 'dist/*/c.tar.gz']), ['file:dist/sub/c.tar.gz']);
});

test('a pattern that matches nothing, a symlink or a plain directory fails the build', async () => {
  await expectError(matchOutputs(dir, ['dist/*.rpm']), 'SOURCE', /produced nothing matching/);
  await expectError(matchOutputs(dir, ['dist/link.tar.gz']), 'SOURCE', /a symlink/);
  await expectError(matchOutputs(dir, ['dist/plain-dir']), 'SOURCE', /not an OCI image layout/);
  await expectError(matchOutputs(dir, ['../x']), 'CONFIG', /\.\./);
});

test('fast-check: a segment glob matches what the shell-style rules say, and never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (pattern, name) => {
      const re = segmentRegExp(pattern);
      if (!/[*?[]/.test(pattern)) assert.equal(re.test(name), name === pattern);
      if (pattern === '*') assert.equal(re.test(name), !name.includes('/'));
    }),
  );
});
