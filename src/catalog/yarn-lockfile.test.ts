import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  assertMalformed,
  assertNeverThrowsOtherwise,
  expectedLocked,
  FIXTURE_LOCKED,
  lockGraphArb,
} from './lockfile-fixtures/test-support.ts';
import type { LockedPackage } from './npm-flat-lock.ts';
import { parseYarnV1, type YarnV1Object, yarnLockPackages } from './yarn-lockfile.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`./lockfile-fixtures/${name}/yarn.lock`, import.meta.url), 'utf8');

const summary = (pkgs: LockedPackage[]) =>
  Object.fromEntries(pkgs.map((p) => [`${p.name}@${p.version}`, p.dependsOn.join(' ')]));

test('yarn v1 lockfile written by yarn 1.22: every package, alias resolved, edges, SRI integrity', () => {
  const pkgs = yarnLockPackages(fixture('yarn-v1'), 'yarn.lock');
  assert.deepEqual(summary(pkgs), { ...FIXTURE_LOCKED, 'fsevents@2.3.3': '' });
  for (const p of pkgs) {
    assert.match(p.integrity ?? '', /^sha512-[A-Za-z0-9+/]{86}==$/, p.name);
    assert.equal(p.dev, undefined, 'yarn records no dev flag');
  }
});

test('yarn berry lockfile written by yarn 4: packages from resolutions, workspace skipped, no zip checksum', () => {
  const pkgs = yarnLockPackages(fixture('yarn-berry'), 'yarn.lock');
  const got = summary(pkgs);
  for (const [id, deps] of Object.entries(FIXTURE_LOCKED)) assert.equal(got[id], deps, id);
  assert.equal(got['fixture@0.0.0-use.local'], undefined, 'the workspace itself is not a locked package');
  // The patched fsevents (`fsevents@patch:…`) and the original are one package.
  assert.equal(pkgs.filter((p) => p.name === 'fsevents').length, 1);
  assert.ok(got['fsevents@2.3.3']?.includes('node-gyp@'), 'berry locks what fsevents depends on');
  assert.ok(
    pkgs.every((p) => p.integrity === undefined),
    'a berry checksum hashes yarn zips, not tarballs',
  );
});

test('yarn v1 syntax: quoted keys with commas, booleans, comments, CRLF', () => {
  const text = [
    '# yarn lockfile v1',
    '',
    '"a@^1", "a@1.x", a@1.0.0:',
    '  version "1.0.0"',
    '  dependencies:',
    '    "@s/b" "npm:c@2"',
    '  optional true',
    '"@s/b@npm:c@2":',
    '  version "2.0.1"',
  ].join('\r\n');
  const lock = parseYarnV1(text, 'yarn.lock');
  assert.equal(lock['a@^1'], lock['a@1.0.0']);
  assert.deepEqual(
    { ...lock['a@1.x'] },
    { version: '1.0.0', dependencies: lock['a@1.x']!.dependencies, optional: true },
  );
  assert.deepEqual({ ...(lock['a@1.x']!.dependencies as YarnV1Object) }, { '@s/b': 'npm:c@2' });
  assert.deepEqual(summary(yarnLockPackages(text, 'yarn.lock')), { 'a@1.0.0': 'c@2.0.1', 'c@2.0.1': '' });
});

test('malformed yarn.lock: one line naming the file and the line', () => {
  const cases: Array<[string, RegExp]> = [
    ['a@1:\n   version "1"\n', /^x\/yarn\.lock: line 2: bad indentation$/],
    ['a@1:\n    version "1"\n', /line 2: indented past its parent/],
    ['version "1"\n', /line 1: expected an entry heading/],
    ['a@1:\n  version\n', /line 2: expected 'key value'/],
    ['a@1:\n  version "1\n', /line 2: bad quoted string/],
    ['a@1:\n  version "1"\n  version "2"\n', /line 3: duplicate key "version"/],
    ['a@1:\n  a:\n    b:\n      c:\n', /line 4: nested too deep/],
    ['__metadata:\n  version: 6\n"a@npm:1": [\n', /^x\/yarn\.lock: not YAML: /],
    ['__metadata:\n  x: &a [1]\n  y: *a\n', /not YAML/],
  ];
  assertMalformed(yarnLockPackages, 'x/yarn.lock', cases);
});

/** yarn 1's own writer quotes a token unless it is plain (lockfile/stringify.js `maybeWrap`). */
function quote(token: string): string {
  return /^[a-zA-Z/.-][\w/.-]*$/.test(token) && token !== 'true' && token !== 'false'
    ? token
    : JSON.stringify(token);
}

test('property: yarn v1 text written the way yarn writes it reads back to the same packages', () => {
  fc.assert(
    fc.property(lockGraphArb, (graph) => {
      const lines = ['# yarn lockfile v1', ''];
      for (const { name, version, deps } of graph) {
        lines.push(`${quote(`${name}@${version}`)}:`, `  version ${quote(version)}`);
        if (deps.size > 0) {
          lines.push('  dependencies:');
          for (const [d, v] of deps) lines.push(`    ${quote(d)} ${quote(v)}`);
        }
        lines.push('');
      }
      const got = yarnLockPackages(lines.join('\n'), 'yarn.lock');
      const expected = expectedLocked(graph, () => ({ dev: undefined }));
      assert.deepEqual(got, expected);
    }),
    { numRuns: 300 },
  );
});

test('property: any text is packages or one MALFORMED line naming the file, never another throw', () => {
  assertNeverThrowsOtherwise(yarnLockPackages, 'p/yarn.lock', [
    'a@1:',
    '  version "1.0.0"',
    '  dependencies:',
    '    b "1"',
    '__metadata:',
    '  x: 1',
    '"a',
  ]);
});
