import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { flatLockKind, isInstalledPackageJson, isProjectLockfile } from './npm-paths.ts';

/*
 * The path rules read paths from their end without splitting them (they run on every entry of a
 * walk). These references say the same rules over the path's segments, the plain way.
 */
function installedReference(path: string): boolean {
  const segs = path.split('/');
  const n = segs.length;
  if (n < 3 || segs[n - 1] !== 'package.json') return false;
  const dir = segs[n - 2] as string;
  if (dir.startsWith('.') || dir.startsWith('@')) return false;
  if (segs[n - 3] === 'node_modules') return true;
  const scope = segs[n - 3] as string;
  return n >= 4 && segs[n - 4] === 'node_modules' && scope.startsWith('@') && scope.length > 1;
}

function projectLockReference(path: string): boolean {
  const segs = path.split('/');
  const base = segs[segs.length - 1] as string;
  return (base === 'package-lock.json' || base === 'npm-shrinkwrap.json') && !segs.includes('node_modules');
}

function flatLockReference(path: string): 'yarn' | 'pnpm' | undefined {
  const segs = path.split('/');
  if (segs.includes('node_modules')) return undefined;
  const base = segs[segs.length - 1];
  return base === 'yarn.lock' ? 'yarn' : base === 'pnpm-lock.yaml' ? 'pnpm' : undefined;
}

/** Paths made of the segments the rules look at, empty ones and look-alikes included. */
const paths = fc
  .array(
    fc.constantFrom(
      '',
      'a',
      'node_modules',
      'xnode_modules',
      'node_modulesx',
      '@scope',
      '@',
      '.pnpm',
      'package.json',
      'xpackage.json',
      'package-lock.json',
      'npm-shrinkwrap.json',
      'yarn.lock',
      'pnpm-lock.yaml',
      '.package-lock.json',
    ),
    { minLength: 1, maxLength: 7 },
  )
  .map((segs) => segs.join('/'));

test('npm path rules read from the path’s end give the segment rules’ answers', () => {
  fc.assert(
    fc.property(paths, (path) => {
      assert.equal(isInstalledPackageJson(path), installedReference(path), path);
      assert.equal(isProjectLockfile(path), projectLockReference(path), path);
      assert.equal(flatLockKind(path), flatLockReference(path), path);
    }),
    { numRuns: 5000 },
  );
});

test('npm path rules: examples', () => {
  assert.ok(isInstalledPackageJson('usr/lib/node_modules/@scope/x/package.json'));
  assert.ok(isInstalledPackageJson('node_modules/x/package.json'));
  assert.ok(!isInstalledPackageJson('node_modules/@/x/package.json'));
  assert.ok(!isInstalledPackageJson('/x/package.json'));
  assert.equal(flatLockKind('srv/app/yarn.lock'), 'yarn');
  assert.equal(flatLockKind('node_modules/x/pnpm-lock.yaml'), undefined);
  assert.equal(flatLockKind('xyarn.lock'), undefined);
});
