import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import {
  assertMalformed,
  assertNeverThrowsOtherwise,
  expectedLocked,
  FIXTURE_LOCKED,
  type GraphNode,
  lockGraphArb,
} from './lockfile-fixtures/test-support.ts';
import type { LockedPackage } from './npm-flat-lock.ts';
import { pnpmLockPackages } from './pnpm-lockfile.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`./lockfile-fixtures/${name}/pnpm-lock.yaml`, import.meta.url), 'utf8');

const summary = (pkgs: LockedPackage[]) =>
  Object.fromEntries(
    pkgs.map((p) => [
      `${p.name}@${p.version}`,
      [p.dev === undefined ? '' : p.dev ? 'dev' : 'prod', p.optional ? 'optional' : '', ...p.dependsOn]
        .filter(Boolean)
        .join(' '),
    ]),
  );

/** What pnpm locks for the fixture project: peers resolved (react-dom → react), fsevents optional. */
const LOCKED: Record<string, string> = {
  ...FIXTURE_LOCKED,
  'fsevents@2.3.3': 'optional',
  'react-dom@18.2.0': 'loose-envify@1.4.0 react@18.2.0 scheduler@0.23.2',
};

/** 5.x and 6.x mark each package dev or not; pnpm 9 dropped the flag. */
function withDev(id: string, deps: string): string {
  const dev = id.startsWith('once@') || id.startsWith('wrappy@') ? 'dev' : 'prod';
  return [dev, deps].filter(Boolean).join(' ');
}

test('pnpm lockfiles written by pnpm 7, 8 and 9 (lockfileVersion 5.4, 6.0, 9.0) read the same', () => {
  for (const [dir, dev] of [
    ['pnpm5', true],
    ['pnpm6', true],
    ['pnpm9', false],
  ] as const) {
    const pkgs = pnpmLockPackages(fixture(dir), 'pnpm-lock.yaml');
    const expected = dev
      ? Object.fromEntries(Object.entries(LOCKED).map(([id, deps]) => [id, withDev(id, deps)]))
      : LOCKED;
    assert.deepEqual(summary(pkgs), expected, dir);
    for (const p of pkgs) assert.match(p.integrity ?? '', /^sha512-[A-Za-z0-9+/]{86}==$/, `${dir} ${p.name}`);
  }
});

test('pnpm ids: scoped names, peer suffixes, aliases, link: and tarball entries', () => {
  const v5 = [
    'lockfileVersion: 5.4',
    'packages:',
    '  /@s/a/1.10.0_react@18.0.0:',
    '    dependencies: {b: 2.0.0_x@1.0.0, c: /real-c/3.0.0, d: link:../d}',
    '    dev: false',
    '  /b/2.0.0_x@1.0.0: {dev: true}',
    '  /real-c/3.0.0: {dev: true}',
    '  github.com/o/r/abc: {name: fromgit, version: 0.1.0, dev: true}',
  ].join('\n');
  assert.deepEqual(summary(pnpmLockPackages(v5, 'pnpm-lock.yaml')), {
    '@s/a@1.10.0': 'prod b@2.0.0 real-c@3.0.0',
    'b@2.0.0': 'dev',
    'real-c@3.0.0': 'dev',
    'fromgit@0.1.0': 'dev',
  });
  const v9 = [
    "lockfileVersion: '9.0'",
    'packages:',
    "  '@s/a@1.0.0': {resolution: {integrity: sha512-AA==}}",
    '  b@2.0.0: {resolution: {integrity: sha1-AA==}}',
    '  lonely@1.0.0: {}',
    'snapshots:',
    "  '@s/a@1.0.0(b@2.0.0)': {dependencies: {b: 2.0.0, alias: 'b@2.0.0', w: 'link:../w'}}",
    "  '@s/a@1.0.0(b@3.0.0)': {dependencies: {q: 9.9.9}}",
    '  b@2.0.0: {}',
  ].join('\n');
  const pkgs = pnpmLockPackages(v9, 'pnpm-lock.yaml');
  // One package per name@version whatever its peer sets; edges to unlisted packages dropped.
  assert.deepEqual(summary(pkgs), { '@s/a@1.0.0': 'b@2.0.0', 'b@2.0.0': '', 'lonely@1.0.0': '' });
  assert.equal(pkgs[0]!.integrity, 'sha512-AA==');
});

test('malformed pnpm-lock.yaml: one line naming the file', () => {
  const cases: Array<[string, RegExp]> = [
    ['lockfileVersion: 5.4\npackages: [\n', /^x\/pnpm-lock\.yaml: not YAML: /],
    ['- a\n- b\n', /^x\/pnpm-lock\.yaml: not a YAML map$/],
    ["lockfileVersion: '3'\n", /unsupported pnpm lockfileVersion "3"$/],
    ['packages: {}\n', /unsupported pnpm lockfileVersion "undefined"$/],
    ['lockfileVersion: 5.4\na: &x [1]\nb: *x\n', /not YAML: /],
  ];
  assertMalformed(pnpmLockPackages, 'x/pnpm-lock.yaml', cases);
});

test('property: lockfiles written in the 5.x, 6.x and 9.x layouts read back to the same packages', () => {
  fc.assert(
    fc.property(lockGraphArb, (graph) => {
      const expected = expectedLocked(graph, (n) => ({ integrity: 'sha512-AA==', dev: n.dev }));
      const entry = (n: GraphNode) => ({
        resolution: { integrity: 'sha512-AA==' },
        dependencies: Object.fromEntries(n.deps),
        dev: n.dev,
      });
      const v5 = { lockfileVersion: '5.4', packages: {} as Record<string, unknown> };
      const v6 = { lockfileVersion: '6.0', packages: {} as Record<string, unknown> };
      const v9 = {
        lockfileVersion: '9.0',
        packages: {} as Record<string, unknown>,
        snapshots: {} as Record<string, unknown>,
      };
      for (const n of graph) {
        v5.packages[`/${n.name}/${n.version}`] = entry(n);
        v6.packages[`/${n.name}@${n.version}`] = entry(n);
        v9.packages[`${n.name}@${n.version}`] = { resolution: { integrity: 'sha512-AA==' } };
        v9.snapshots[`${n.name}@${n.version}`] = { dependencies: Object.fromEntries(n.deps) };
      }
      assert.deepEqual(pnpmLockPackages(stringify(v5), 'pnpm-lock.yaml'), expected);
      assert.deepEqual(pnpmLockPackages(stringify(v6), 'pnpm-lock.yaml'), expected);
      assert.deepEqual(
        pnpmLockPackages(stringify(v9), 'pnpm-lock.yaml'),
        expected.map((p) => ({ ...p, dev: undefined })),
      );
    }),
    { numRuns: 200 },
  );
});

test('property: any text is packages or one MALFORMED line naming the file, never another throw', () => {
  assertNeverThrowsOtherwise(pnpmLockPackages, 'p/pnpm-lock.yaml', [
    'lockfileVersion: 5.4',
    "lockfileVersion: '9.0'",
    'packages:',
    'snapshots:',
    '  /a/1.0.0:',
    '  a@1.0.0(b@1):',
    '    dependencies: {b: 1}',
    '    dev: true',
    '  - x',
  ]);
});
