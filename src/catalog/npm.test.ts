import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { ensureNpmProject } from '../../test/helpers/npm-project.ts';
import { writeCycloneDx } from '../sbom/cyclonedx.ts';
import { writeSpdx } from '../sbom/spdx.ts';
import { haveSchemas, SCHEMAS } from '../sbom/test-support.ts';
import { validateCycloneDx, validateSpdx } from '../sbom/validate.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact, FileEntry, FileFilter, WalkedFile } from '../sources/types.ts';
import { catalogArtifact } from './engine.ts';
import {
  declaredLicenses,
  isInstalledPackageJson,
  isNestedPackageJson,
  isProjectLockfile,
  npmCataloger,
  npmPurl,
} from './npm.ts';
import { MAX_FLAT_LOCKFILE_BYTES } from './npm-flat-lock.ts';
import type { CatalogContext, Component } from './types.ts';

const run = promisify(execFile);
const CACHE = fileURLToPath(new URL('../../test/fixtures/cache/npm', import.meta.url));

function file(path: string, content: string | Buffer): WalkedFile {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { entry: { path, type: 'file', size: data.length, mode: 0o644 }, data, earlier: [] };
}

function collect(): CatalogContext & { warnings: Array<{ path: string; reason: string }> } {
  const warnings: Array<{ path: string; reason: string }> = [];
  return { warnings, warn: (path, reason) => warnings.push({ path, reason }) };
}

async function catalog(files: WalkedFile[]) {
  const ctx = collect();
  const components = await npmCataloger.catalog(files, ctx);
  return { components, warnings: ctx.warnings };
}

/** A fake dir Artifact: a tiny recursive walker (no symlink following), enough for these tests. */
function dirArtifact(root: string): Artifact {
  return {
    ref: root,
    kind: 'dir',
    path: root,
    digest: `sha256:${'0'.repeat(64)}`,
    async walk(filter: FileFilter) {
      const files: WalkedFile[] = [];
      const visit = async (dir: string) => {
        for (const name of await readdir(dir)) {
          const abs = join(dir, name);
          const st = await lstat(abs);
          const path = relative(root, abs).split(sep).join('/');
          if (st.isDirectory()) {
            await visit(abs);
            continue;
          }
          const entry: FileEntry = {
            path,
            type: st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other',
            size: st.size,
            mode: st.mode & 0o7777,
          };
          const want = filter.want(entry);
          if (want === false || entry.type !== 'file') continue;
          const data = await readFile(abs);
          if (want === 'sniff' && !filter.sniff?.(entry, data.subarray(0, 64))) continue;
          files.push({ entry, data, earlier: [] });
        }
      };
      await visit(root);
      files.sort((a, b) => (a.entry.path < b.entry.path ? -1 : 1));
      return { files, skipped: [] };
    },
  };
}

test('installed package.json paths: top-level, scoped, nested; not files inside a package', () => {
  for (const p of [
    'node_modules/a/package.json',
    'node_modules/@scope/name/package.json',
    'node_modules/a/node_modules/b/package.json',
    'app/node_modules/a/node_modules/@s/b/package.json',
    'usr/lib/node_modules/npm/package.json',
  ]) {
    assert.ok(isInstalledPackageJson(p), p);
  }
  for (const p of [
    'package.json',
    'node_modules/a/lib/package.json',
    'node_modules/a/dist/esm/package.json',
    'node_modules/@scope/package.json',
    'node_modules/.bin/package.json',
    'node_modules/package.json',
    'node_modules/@scope/name/lib/package.json',
  ]) {
    assert.ok(!isInstalledPackageJson(p), p);
  }
  assert.ok(isProjectLockfile('package-lock.json'));
  assert.ok(isProjectLockfile('srv/app/npm-shrinkwrap.json'));
  assert.ok(!isProjectLockfile('node_modules/x/package-lock.json'));
  assert.ok(!isProjectLockfile('node_modules/.package-lock.json'));
});

test('purls: scoped names are percent-encoded', () => {
  assert.equal(npmPurl('@types/node', '20.1.0'), 'pkg:npm/%40types/node@20.1.0');
  assert.equal(npmPurl('debug', '4.3.4'), 'pkg:npm/debug@4.3.4');
});

test('licenses: SPDX string, legacy object and legacy array', () => {
  assert.deepEqual(declaredLicenses('MIT', undefined), ['MIT']);
  assert.deepEqual(declaredLicenses({ type: 'ISC', url: 'x' }, undefined), ['ISC']);
  assert.deepEqual(declaredLicenses(undefined, [{ type: 'MIT' }, { type: 'Apache-2.0' }, 'MIT']), [
    'MIT',
    'Apache-2.0',
  ]);
  assert.deepEqual(declaredLicenses(undefined, { type: 'BSD' }), ['BSD']);
  assert.deepEqual(declaredLicenses(42, [null, 3]), []);
});

const V3_LOCK = {
  name: 'app',
  version: '1.0.0',
  lockfileVersion: 3,
  packages: {
    '': { name: 'app', version: '1.0.0', dependencies: { ms: '^2', a: '1' } },
    'node_modules/ms': {
      version: '2.1.3',
      license: 'MIT',
      integrity: `sha512-${Buffer.alloc(64, 1).toString('base64')}`,
    },
    'node_modules/@types/node': { version: '20.0.0', dev: true, license: 'MIT' },
    'node_modules/a/node_modules/ms': { version: '1.0.0', dev: true },
    'node_modules/ws-pkg': { resolved: 'packages/ws-pkg', link: true },
    'packages/ws-pkg': { name: 'ws-pkg', version: '0.1.0', dependencies: { a: '1' } },
    'node_modules/dangling': { resolved: 'nowhere', link: true },
    'node_modules/alias': { name: 'real', version: '3.0.0' },
    'node_modules/a': { version: '1.0.0', dependencies: { ms: '1', alias: 'npm:real@3', missing: '1' } },
    'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', optional: true, os: ['darwin'] },
  },
};

test('lockfile alone (a source tree): every entry declared, links resolved, dev marked, edges resolved', async () => {
  const { components, warnings } = await catalog([file('package-lock.json', JSON.stringify(V3_LOCK))]);
  assert.deepEqual(warnings, []);
  const byPurl = new Map(components.map((c) => [c.purl, c]));
  assert.deepEqual(
    [...byPurl.keys()],
    [
      'pkg:npm/%40esbuild/darwin-arm64@0.25.0',
      'pkg:npm/%40types/node@20.0.0',
      'pkg:npm/a@1.0.0',
      'pkg:npm/ms@1.0.0',
      'pkg:npm/ms@2.1.3',
      'pkg:npm/real@3.0.0',
      'pkg:npm/ws-pkg@0.1.0',
    ],
  );
  for (const c of components) assert.equal(c.presence, 'declared', c.purl);
  const ms = byPurl.get('pkg:npm/ms@2.1.3')!;
  assert.deepEqual(ms.foundAt, ['package-lock.json']);
  assert.deepEqual(ms.hashes, [{ alg: 'SHA-512', content: '01'.repeat(64) }]);
  assert.equal(ms.properties['waybill:npm:dev'], undefined);
  assert.equal(byPurl.get('pkg:npm/%40types/node@20.0.0')!.properties['waybill:npm:dev'], 'true');
  assert.equal(byPurl.get('pkg:npm/ms@1.0.0')!.properties['waybill:npm:dev'], 'true');
  // Node resolution: a's own nested ms@1 wins over the hoisted ms@2; the alias folder resolves to
  // the real package; a dependency installed nowhere has no edge. The workspace package resolves
  // from its own folder (packages/ws-pkg) up to the root node_modules.
  assert.deepEqual(byPurl.get('pkg:npm/a@1.0.0')!.dependsOn, ['pkg:npm/ms@1.0.0', 'pkg:npm/real@3.0.0']);
  assert.deepEqual(byPurl.get('pkg:npm/ws-pkg@0.1.0')!.dependsOn, ['pkg:npm/a@1.0.0']);
});

test('lockfile and an installed tree: only what is installed (and workspace links) are components', async () => {
  const { components, warnings } = await catalog([
    file('package-lock.json', JSON.stringify(V3_LOCK)),
    file(
      'node_modules/ms/package.json',
      JSON.stringify({ name: 'ms', version: '2.1.3', description: 'tiny ms' }),
    ),
    file(
      'node_modules/a/package.json',
      JSON.stringify({ name: 'a', version: '1.0.0', dependencies: { ms: '*' } }),
    ),
  ]);
  assert.deepEqual(warnings, []);
  const byPurl = new Map(components.map((c) => [c.purl, c]));
  // @esbuild/darwin-arm64 (an optional build for another platform), @types/node (a dev dependency
  // not installed), a's nested ms and the alias are in the lockfile only: not in the artifact.
  assert.deepEqual([...byPurl.keys()], ['pkg:npm/a@1.0.0', 'pkg:npm/ms@2.1.3', 'pkg:npm/ws-pkg@0.1.0']);
  for (const c of components) assert.equal(c.presence, undefined, c.purl);
  const ms = byPurl.get('pkg:npm/ms@2.1.3')!;
  assert.deepEqual(ms.foundAt, ['node_modules/ms/package.json', 'package-lock.json']);
  assert.equal(ms.description, 'tiny ms');
  assert.deepEqual(ms.licenses, ['MIT']);
  assert.deepEqual(ms.hashes, [{ alg: 'SHA-512', content: '01'.repeat(64) }]);
  // The installed tree decides the edges: a's nested ms@1 is not installed, so it resolves to ms@2.
  assert.deepEqual(byPurl.get('pkg:npm/a@1.0.0')!.dependsOn, ['pkg:npm/ms@2.1.3']);
});

test('a lockfile only counts for its own project: another project with an installed tree keeps its declared entries', async () => {
  const { components } = await catalog([
    file('srv/one/package-lock.json', JSON.stringify(V3_LOCK)),
    file('srv/two/node_modules/ms/package.json', JSON.stringify({ name: 'ms', version: '2.1.3' })),
  ]);
  const ms = components.filter((c) => c.name === 'ms');
  assert.deepEqual(
    ms.map((c) => `${c.version} ${c.presence ?? 'installed'}`),
    ['1.0.0 declared', '2.1.3 installed'],
  );
});

test('vendored copies: a versioned, public package.json inside an installed package, nested under it', async () => {
  const pj = (o: object) => JSON.stringify(o);
  const { components, warnings } = await catalog([
    file('node_modules/next/package.json', pj({ name: 'next', version: '15.0.0' })),
    file(
      'node_modules/next/dist/compiled/react-is/package.json',
      pj({ name: 'react-is', version: '19.0.0', license: 'MIT' }),
    ),
    file(
      'node_modules/next/dist/compiled/@vercel/og/package.json',
      pj({ name: '@vercel/og', version: '0.7.2' }),
    ),
    // Not copies: no version, a non-semver version, private, the carrier itself, a marker, a fixture.
    file('node_modules/next/dist/compiled/webpack/package.json', pj({ name: 'webpack', main: 'bundle5.js' })),
    file('node_modules/next/dist/compiled/odd/package.json', pj({ name: 'odd', version: 'latest' })),
    file('node_modules/next/dist/esm/package.json', pj({ name: 'dist', version: '1.0.0', private: true })),
    file('node_modules/next/dist/package.json', pj({ name: 'next', version: '15.0.0' })),
    file('node_modules/next/dist/esm/server/package.json', pj({ type: 'module' })),
    file('node_modules/next/test/fixtures/x/package.json', pj({ name: 'x', version: '1.0.0' })),
    file('node_modules/next/dist/compiled/broken/package.json', '{ nope'),
  ]);
  assert.deepEqual(warnings, [], 'a broken nested manifest is not a warning: it is not a package');
  assert.deepEqual(
    components.map((c) => `${c.purl} ${c.vendoredIn ?? '-'}`),
    [
      'pkg:npm/next@15.0.0 -',
      'pkg:npm/%40vercel/og@0.7.2 pkg:npm/next@15.0.0',
      'pkg:npm/react-is@19.0.0 pkg:npm/next@15.0.0',
    ],
  );
  assert.deepEqual(components.find((c) => c.name === 'react-is')!.licenses, ['MIT']);
  for (const p of [
    'node_modules/next/dist/compiled/react-is/package.json',
    'node_modules/@s/n/vendor/x/package.json',
    'a/node_modules/p/node_modules/q/lib/package.json',
  ])
    assert.ok(isNestedPackageJson(p), p);
  for (const p of [
    'node_modules/next/package.json',
    'node_modules/next/test/x/package.json',
    'node_modules/next/examples/blog/package.json',
    'node_modules/next/.cache/x/package.json',
    'app/vendor/x/package.json',
    'node_modules/@s/n/package.json',
  ])
    assert.ok(!isNestedPackageJson(p), p);
});

test('lockfile v1: nested dependencies, aliases, file: deps skipped', async () => {
  const lock = {
    lockfileVersion: 1,
    dependencies: {
      debug: { version: '4.3.4', dependencies: { ms: { version: '2.1.2' } } },
      ms: { version: '2.0.0', dev: true },
      local: { version: 'file:../local' },
      foo: { version: 'npm:bar@1.2.3' },
      '@s/x': { version: '1.0.0' },
    },
  };
  const { components } = await catalog([file('srv/package-lock.json', JSON.stringify(lock))]);
  assert.deepEqual(
    components.map((c) => `${c.purl} ${c.properties['waybill:npm:dev'] ?? ''}`),
    [
      'pkg:npm/%40s/x@1.0.0 ',
      'pkg:npm/bar@1.2.3 ',
      'pkg:npm/debug@4.3.4 ',
      'pkg:npm/ms@2.0.0 true',
      'pkg:npm/ms@2.1.2 ',
    ],
  );
});

test('a package both dev and non-dev somewhere is not marked dev', async () => {
  const lock = {
    lockfileVersion: 1,
    dependencies: {
      x: { version: '1.0.0', dev: true, dependencies: {} },
      y: { version: '1.0.0', dependencies: { x: { version: '1.0.0' } } },
    },
  };
  const { components } = await catalog([file('package-lock.json', JSON.stringify(lock))]);
  assert.equal(components.find((c) => c.name === 'x')!.properties['waybill:npm:dev'], undefined);
});

test("a package installed with no lockfile is not marked dev by another project's lockfile", async () => {
  // A yarn or pnpm project (no package-lock.json) installs ms as a dependency; an unrelated source
  // tree elsewhere (a lockfile-only project) locks the same ms as dev. The installed copy says
  // nothing about dev, so the package is not known to be dev.
  const { components } = await catalog([
    file('srv/yarn-app/node_modules/ms/package.json', JSON.stringify({ name: 'ms', version: '2.1.3' })),
    file(
      'opt/tool/package-lock.json',
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'tool', version: '1.0.0', devDependencies: { ms: '^2', '@types/node': '*' } },
          'node_modules/ms': { version: '2.1.3', dev: true },
          'node_modules/@types/node': { version: '20.0.0', dev: true },
        },
      }),
    ),
  ]);
  const ms = components.find((c) => c.purl === 'pkg:npm/ms@2.1.3')!;
  assert.equal(ms.presence, undefined);
  assert.equal(ms.properties['waybill:npm:dev'], undefined);
  // Declared only, and dev there: still marked.
  assert.equal(
    components.find((c) => c.purl === 'pkg:npm/%40types/node@20.0.0')!.properties['waybill:npm:dev'],
    'true',
  );
});

function link(path: string, target: string): WalkedFile {
  return {
    entry: { path, type: 'symlink', size: 0, mode: 0o777, linkTarget: target },
    data: Buffer.alloc(0),
    earlier: [],
  };
}

/**
 * pnpm's symlinked layout (pnpm.io "symlinked node_modules structure"): every package is installed
 * once at `node_modules/.pnpm/<name>@<version>/node_modules/<name>`; its dependencies are symlinks
 * beside it, and the project's own dependencies are symlinks in its `node_modules`.
 */
const PNPM_LAYOUT: Array<[string, string | object]> = [
  ['app/node_modules/express', '.pnpm/express@4.19.2/node_modules/express'],
  ['app/node_modules/@babel/runtime', '../.pnpm/@babel+runtime@7.24.0/node_modules/@babel/runtime'],
  [
    'app/node_modules/.pnpm/express@4.19.2/node_modules/express/package.json',
    { name: 'express', version: '4.19.2', dependencies: { debug: '2.6.9', '@babel/runtime': '*' } },
  ],
  ['app/node_modules/.pnpm/express@4.19.2/node_modules/debug', '../../debug@2.6.9/node_modules/debug'],
  [
    'app/node_modules/.pnpm/express@4.19.2/node_modules/@babel/runtime',
    '../../../@babel+runtime@7.24.0/node_modules/@babel/runtime',
  ],
  [
    'app/node_modules/.pnpm/debug@2.6.9/node_modules/debug/package.json',
    { name: 'debug', version: '2.6.9', dependencies: { ms: '2.0.0' } },
  ],
  ['app/node_modules/.pnpm/debug@2.6.9/node_modules/ms', '../../ms@2.0.0/node_modules/ms'],
  ['app/node_modules/.pnpm/ms@2.0.0/node_modules/ms/package.json', { name: 'ms', version: '2.0.0' }],
  [
    'app/node_modules/.pnpm/@babel+runtime@7.24.0/node_modules/@babel/runtime/package.json',
    { name: '@babel/runtime', version: '7.24.0' },
  ],
];

test('pnpm layout: dependencies reached through symlinks are edges', async () => {
  const { components, warnings } = await catalog(
    PNPM_LAYOUT.map(([path, v]) => (typeof v === 'string' ? link(path, v) : file(path, JSON.stringify(v)))),
  );
  assert.deepEqual(warnings, []);
  const deps = Object.fromEntries(components.map((c) => [c.purl, c.dependsOn ?? []]));
  assert.deepEqual(deps, {
    'pkg:npm/%40babel/runtime@7.24.0': [],
    'pkg:npm/debug@2.6.9': ['pkg:npm/ms@2.0.0'],
    'pkg:npm/express@4.19.2': ['pkg:npm/%40babel/runtime@7.24.0', 'pkg:npm/debug@2.6.9'],
    'pkg:npm/ms@2.0.0': [],
  });
});

test('pnpm layout on disk: a dir: walk hands the symlinks over and the graph has its edges', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-pnpm-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [path, v] of PNPM_LAYOUT) {
    const abs = join(dir, path);
    await mkdir(join(abs, '..'), { recursive: true });
    if (typeof v === 'string') await symlink(v, abs);
    else await writeFile(abs, JSON.stringify(v));
  }
  const result = await catalogArtifact(await openArtifact(`dir:${dir}`), { catalogers: [npmCataloger] });
  const express = result.components.find((c) => c.name === 'express')!;
  assert.deepEqual(express.dependsOn, ['pkg:npm/%40babel/runtime@7.24.0', 'pkg:npm/debug@2.6.9']);
  assert.deepEqual(result.components.find((c) => c.name === 'debug')!.dependsOn, ['pkg:npm/ms@2.0.0']);
});

test('workspaces linked into node_modules are installed packages, lockfile or not (npm, pnpm, yarn)', async () => {
  const pkg = (v: object) => JSON.stringify(v);
  const tree = [
    file('repo/package.json', pkg({ name: 'repo', version: '1.0.0', workspaces: ['packages/*'] })),
    link('repo/node_modules/@repo/ui', '../../packages/ui'),
    link('repo/node_modules/util', '../packages/util'),
    file(
      'repo/packages/ui/package.json',
      pkg({ name: '@repo/ui', version: '0.2.0', license: 'MIT', dependencies: { util: '*', ms: '*' } }),
    ),
    file('repo/packages/util/package.json', pkg({ name: 'util', version: '0.1.0' })),
    // Not linked from any node_modules: a folder of the checkout, not a package of the artifact.
    file('repo/tools/package.json', pkg({ name: 'tools', version: '9.9.9' })),
    file('repo/node_modules/ms/package.json', pkg({ name: 'ms', version: '2.1.3' })),
    // A link up to the project itself names no package of it.
    link('repo/node_modules/repo', '..'),
  ];
  assert.ok(tree.every((f) => npmCataloger.want(f.entry)));
  const { components, warnings } = await catalog(tree);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    components.map((c) => [c.purl, c.licenses.join(), c.foundAt.join(), (c.dependsOn ?? []).join()]),
    [
      [
        'pkg:npm/%40repo/ui@0.2.0',
        'MIT',
        'repo/packages/ui/package.json',
        'pkg:npm/ms@2.1.3,pkg:npm/util@0.1.0',
      ],
      ['pkg:npm/ms@2.1.3', '', 'repo/node_modules/ms/package.json', ''],
      ['pkg:npm/util@0.1.0', '', 'repo/packages/util/package.json', ''],
    ],
  );
});

test('a file: folder dependency linked from outside the project is installed, with its edges, lockfile or not', async () => {
  // `npm install ../lib` (a `file:` folder) links node_modules/lib -> ../../lib, a sibling of the
  // project; `npm ls` lists it (`lib@0.3.0 -> ./../lib`) with what it requires from its own folder.
  const pkg = (v: object) => JSON.stringify(v);
  const tree = [
    file(
      'srv/app/package.json',
      pkg({ name: 'app', version: '1.0.0', dependencies: { lib: 'file:../lib' } }),
    ),
    link('srv/app/node_modules/lib', '../../lib'),
    file('srv/app/node_modules/ms/package.json', pkg({ name: 'ms', version: '2.0.0' })),
    file(
      'srv/lib/package.json',
      pkg({ name: 'lib', version: '0.3.0', license: 'ISC', dependencies: { ms: '*' } }),
    ),
    file('srv/lib/node_modules/ms/package.json', pkg({ name: 'ms', version: '2.1.3' })),
  ];
  assert.ok(tree.every((f) => npmCataloger.want(f.entry)));
  const { components, warnings } = await catalog(tree);
  assert.deepEqual(warnings, []);
  const lib = components.find((c) => c.name === 'lib');
  assert.deepEqual(
    [lib?.purl, lib?.licenses.join(), lib?.foundAt.join(), lib?.dependsOn?.join()],
    ['pkg:npm/lib@0.3.0', 'ISC', 'srv/lib/package.json', 'pkg:npm/ms@2.1.3'],
  );
  assert.equal(lib?.properties['waybill:npm:linked-from'], 'srv/app/node_modules/lib');
  assert.deepEqual(
    components.map((c) => c.purl),
    ['pkg:npm/lib@0.3.0', 'pkg:npm/ms@2.0.0', 'pkg:npm/ms@2.1.3'],
  );
});

test('a package whose package.json states no version is a component without one, in both SBOM formats', async () => {
  // `npm install ../lib` of a folder whose package.json has no version: `npm ls` shows `local@ ->
  // ./../lib`; a private workspace package is often the same. Installed, so listed; no version invented.
  const tree = [
    file('srv/app/package.json', JSON.stringify({ name: 'app', version: '1.0.0' })),
    link('srv/app/node_modules/local', '../../lib'),
    file('srv/lib/package.json', JSON.stringify({ name: 'local', license: 'MIT' })),
    file('srv/app/node_modules/@s/w/package.json', JSON.stringify({ name: '@s/w', version: 7 })),
  ];
  const { components, warnings } = await catalog(tree);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    components.map((c) => [c.purl, c.version, c.licenses.join()]),
    [
      ['pkg:npm/%40s/w', '', ''],
      ['pkg:npm/local', '', 'MIT'],
    ],
  );
  const input = {
    subject: { digest: `sha256:${'0'.repeat(64)}`, kind: 'dir' as const, name: 'fixture' },
    components,
    toolVersion: '0.1.0',
    sourceDateEpoch: '0',
  };
  const cdx = JSON.parse(writeCycloneDx(input));
  const local = cdx.components.find((c: { name: string }) => c.name === 'local');
  assert.equal('version' in local, false, 'CycloneDX: no version, not an empty one');
  const spdx = JSON.parse(writeSpdx(input));
  const spdxLocal = spdx.packages.find((p: { name: string }) => p.name === 'local');
  assert.equal('versionInfo' in spdxLocal, false, 'SPDX: no versionInfo');
  if (haveSchemas) {
    assert.deepEqual(validateCycloneDx(cdx, SCHEMAS), []);
    assert.deepEqual(validateSpdx(spdx, SCHEMAS), []);
  }
});

test('broken and odd inputs are warnings, never throws', async () => {
  const { components, warnings } = await catalog([
    file('node_modules/a/package.json', '{ not json'),
    file('node_modules/b/package.json', '[1,2]'),
    file('node_modules/c/package.json', '{"name":"c"}'),
    file('node_modules/d/package.json', '{"name":"bad name with spaces","version":"1.0.0"}'),
    file('package-lock.json', '{"name":"x"}'),
    file('node_modules/e/package.json', '\uFEFF{"name":"e","version":"1.0.0","license":"MIT"}'),
    file('node_modules/f/package.json', '{"version":"1.0.0"}'),
  ]);
  assert.deepEqual(
    components.map((c) => c.purl),
    ['pkg:npm/c', 'pkg:npm/e@1.0.0'],
    'a package that states no version is installed all the same (npm ls: c@)',
  );
  assert.deepEqual(
    warnings.map((w) => w.path),
    [
      'node_modules/a/package.json',
      'node_modules/b/package.json',
      'node_modules/d/package.json',
      'node_modules/f/package.json',
      'package-lock.json',
    ],
  );
});

test('property: random bytes and random JSON never throw', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.json().map((j) => Buffer.from(j)),
      ),
      fc.constantFrom('package-lock.json', 'node_modules/x/package.json'),
      async (data, path) => {
        await catalog([file(path, data)]);
      },
    ),
    { numRuns: 300 },
  );
  await fc.assert(
    fc.asyncProperty(fc.anything(), async (packages) => {
      await catalog([file('package-lock.json', JSON.stringify({ lockfileVersion: 3, packages }) ?? '')]);
      await catalog([
        file('package-lock.json', JSON.stringify({ lockfileVersion: 1, dependencies: packages }) ?? ''),
      ]);
    }),
    { numRuns: 300 },
  );
});

const lockFixture = (dir: string, name: string) =>
  readFile(fileURLToPath(new URL(`./lockfile-fixtures/${dir}/${name}`, import.meta.url)));

test('yarn.lock and pnpm-lock.yaml alone (source trees): every locked package declared, with its edges', async () => {
  for (const [dir, name] of [
    ['yarn-v1', 'yarn.lock'],
    ['yarn-berry', 'yarn.lock'],
    ['pnpm5', 'pnpm-lock.yaml'],
    ['pnpm6', 'pnpm-lock.yaml'],
    ['pnpm9', 'pnpm-lock.yaml'],
  ] as const) {
    const path = `src/app/${name}`;
    const { components, warnings } = await catalog([file(path, await lockFixture(dir, name))]);
    assert.deepEqual(warnings, [], dir);
    const byPurl = new Map(components.map((c) => [c.purl, c]));
    for (const c of components) {
      assert.equal(c.presence, 'declared', `${dir} ${c.purl}`);
      assert.deepEqual(c.foundAt, [path]);
    }
    for (const purl of [
      'pkg:npm/%40isaacs/string-locale-compare@1.1.0',
      'pkg:npm/ms@2.1.2',
      'pkg:npm/ms@2.1.3',
    ])
      assert.ok(byPurl.has(purl), `${dir} ${purl}`);
    // The alias string-width-cjs is the real string-width; the project itself is no component.
    assert.ok(byPurl.has('pkg:npm/string-width@4.2.3'), dir);
    assert.ok(![...byPurl.keys()].some((p) => p.includes('fixture') || p.includes('string-width-cjs')), dir);
    assert.deepEqual(byPurl.get('pkg:npm/debug@4.3.4')!.dependsOn, ['pkg:npm/ms@2.1.2'], dir);
    const ms = byPurl.get('pkg:npm/ms@2.1.3')!;
    // SRI integrity is the tarball's SHA-512; yarn berry's checksum hashes its own zip: none.
    assert.equal(ms.hashes?.[0]?.alg, dir === 'yarn-berry' ? undefined : 'SHA-512', dir);
    // Only pnpm 5.x/6.x say what is dev.
    const devOnce = byPurl.get('pkg:npm/once@1.4.0')!.properties['waybill:npm:dev'];
    assert.equal(devOnce, dir === 'pnpm5' || dir === 'pnpm6' ? 'true' : undefined, dir);
    assert.equal(ms.properties['waybill:npm:dev'], undefined, dir);
  }
});

test('yarn/pnpm lockfile and an installed tree: only what is installed, enriched by the lockfile', async () => {
  const pnpmLock = await lockFixture('pnpm6', 'pnpm-lock.yaml');
  const yarnLock = await lockFixture('yarn-v1', 'yarn.lock');
  const pkg = (name: string, version: string) => JSON.stringify({ name, version });
  const { components, warnings } = await catalog([
    // pnpm's layout: the virtual store, linked from node_modules/<name> (links are not needed here).
    file('p/pnpm-lock.yaml', pnpmLock),
    file('p/node_modules/.pnpm/once@1.4.0/node_modules/once/package.json', pkg('once', '1.4.0')),
    file('p/node_modules/.pnpm/ms@2.1.3/node_modules/ms/package.json', pkg('ms', '2.1.3')),
    // yarn's hoisted layout, with an installed version the lockfile does not name.
    file('y/yarn.lock', yarnLock),
    file('y/node_modules/debug/package.json', pkg('debug', '4.3.4')),
    file('y/node_modules/ms/package.json', pkg('ms', '2.0.0')),
  ]);
  assert.deepEqual(warnings, []);
  const byPurl = new Map(components.map((c) => [c.purl, c]));
  assert.deepEqual(
    [...byPurl.keys()],
    ['pkg:npm/debug@4.3.4', 'pkg:npm/ms@2.0.0', 'pkg:npm/ms@2.1.3', 'pkg:npm/once@1.4.0'],
  );
  for (const c of components) assert.equal(c.presence, undefined, c.purl);
  const once = byPurl.get('pkg:npm/once@1.4.0')!;
  assert.deepEqual(once.foundAt, [
    'p/node_modules/.pnpm/once@1.4.0/node_modules/once/package.json',
    'p/pnpm-lock.yaml',
  ]);
  assert.equal(once.properties['waybill:npm:dev'], 'true');
  assert.equal(once.hashes?.[0]?.alg, 'SHA-512');
  assert.deepEqual(byPurl.get('pkg:npm/debug@4.3.4')!.foundAt, [
    'y/node_modules/debug/package.json',
    'y/yarn.lock',
  ]);
  // The installed ms@2.0.0 is not the locked 2.1.2: no lockfile facts for it.
  assert.deepEqual(byPurl.get('pkg:npm/ms@2.0.0')!.foundAt, ['y/node_modules/ms/package.json']);
  assert.equal(byPurl.get('pkg:npm/ms@2.0.0')!.hashes, undefined);
});

test('broken yarn/pnpm lockfiles are one warning naming the file; bad names are dropped; node_modules copies ignored', async () => {
  const big = file('big/yarn.lock', '');
  big.data = Buffer.alloc(MAX_FLAT_LOCKFILE_BYTES + 1, 0x20);
  const { components, warnings } = await catalog([
    file('a/yarn.lock', 'a@1:\n   version "1"\n'),
    file('b/pnpm-lock.yaml', 'lockfileVersion: 5.4\npackages: [\n'),
    file('c/pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  '../evil@1.0.0': {}\n  ok@1.0.0: {}\n"),
    file('d/node_modules/x/yarn.lock', 'bogus'),
    file('node_modules/.pnpm/lock.yaml', 'bogus'),
    big,
  ]);
  assert.deepEqual(
    components.map((c) => `${c.purl} ${c.presence}`),
    ['pkg:npm/ok@1.0.0 declared'],
  );
  assert.deepEqual(
    warnings.map((w) => `${w.path}: ${w.reason}`),
    [
      'a/yarn.lock: line 2: bad indentation',
      `b/pnpm-lock.yaml: ${warnings[1]!.reason}`,
      `big/yarn.lock: lockfile larger than ${MAX_FLAT_LOCKFILE_BYTES} bytes: not read`,
      'c/pnpm-lock.yaml: lockfile entry with an invalid npm package name: "../evil"',
    ],
  );
  assert.match(warnings[1]!.reason, /^not YAML: /);
  const entry = (path: string): FileEntry => ({ path, type: 'file', size: 1, mode: 0o644 });
  assert.equal(npmCataloger.want(entry('srv/yarn.lock')), true);
  assert.equal(npmCataloger.want(entry('pnpm-lock.yaml')), true);
  assert.equal(npmCataloger.want(entry('node_modules/x/yarn.lock')), false);
  assert.equal(npmCataloger.want(entry('srv/yarn.lock.bak')), false);
});

function flattenNpmLs(tree: unknown, out = new Set<string>()): Set<string> {
  const deps =
    (tree as { dependencies?: Record<string, { version?: string; name?: string }> }).dependencies ?? {};
  for (const [name, node] of Object.entries(deps)) {
    if (node.version) out.add(`${node.name ?? name}@${node.version}`);
    flattenNpmLs(node, out);
  }
  return out;
}

function nameAtVersion(components: Component[]): Set<string> {
  return new Set(components.map((c) => `${c.name}@${c.version}`));
}

test('ground truth: a real npm install matches `npm ls --all --json` exactly', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'waybill-npm-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'waybill-npm-fixture', version: '1.0.0', private: true }),
  );
  await mkdir(CACHE, { recursive: true });
  const npm = [
    '--cache',
    CACHE,
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--loglevel=error',
  ];
  try {
    // ms@1 at the top forces debug's ms@2 into node_modules/debug/node_modules (a nested install).
    await run('npm', ['install', ...npm, 'debug@4.3.4', 'chalk@4', 'semver@7', '@types/node@20', 'ms@1'], {
      cwd: dir,
      timeout: 120_000,
    });
    await run('npm', ['install', ...npm, '--save-dev', 'is-number@7'], { cwd: dir, timeout: 120_000 });
  } catch (e) {
    t.skip(`npm install failed (offline?): ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const ls = await run('npm', ['ls', '--all', '--json'], { cwd: dir, maxBuffer: 1 << 24 });
  const expected = flattenNpmLs(JSON.parse(ls.stdout));
  assert.ok(expected.size >= 10, `npm ls lists ${expected.size} packages`);

  const result = await catalogArtifact(dirArtifact(dir), { catalogers: [npmCataloger] });
  assert.deepEqual(result.warnings, []);
  assert.deepEqual([...nameAtVersion(result.components)].sort(), [...expected].sort());
  assert.ok(
    !nameAtVersion(result.components).has('waybill-npm-fixture@1.0.0'),
    'the project is not its own component',
  );

  const debugMs = result.components.find(
    (c) =>
      c.purl === 'pkg:npm/ms@2.1.2' || c.foundAt.includes('node_modules/debug/node_modules/ms/package.json'),
  );
  assert.ok(debugMs, 'nested ms found');
  const typesNode = result.components.find((c) => c.name === '@types/node')!;
  assert.match(typesNode.purl, /^pkg:npm\/%40types\/node@20\./);
  assert.deepEqual(typesNode.licenses, ['MIT']);
  assert.equal(result.components.find((c) => c.name === 'is-number')!.properties['waybill:npm:dev'], 'true');
  assert.equal(result.components.find((c) => c.name === 'chalk')!.properties['waybill:npm:dev'], undefined);

  // Each source alone gives the same answer: the lockfile, and the installed tree.
  const lockOnly = await catalog([file('package-lock.json', await readFile(join(dir, 'package-lock.json')))]);
  assert.deepEqual([...nameAtVersion(lockOnly.components)].sort(), [...expected].sort());
  const walked = await dirArtifact(dir).walk(npmCataloger);
  const installedOnly = await catalog(walked.files.filter((f) => isInstalledPackageJson(f.entry.path)));
  assert.deepEqual([...nameAtVersion(installedOnly.components)].sort(), [...expected].sort());

  // The real dir source and every default cataloger agree, and the SBOMs of it are schema-valid.
  const real = await catalogArtifact(await openArtifact(`dir:${dir}`));
  assert.deepEqual(real.components, result.components);
  if (haveSchemas) {
    const input = {
      subject: { digest: (await openArtifact(`dir:${dir}`)).digest, kind: 'dir' as const, name: 'fixture' },
      components: real.components,
      toolVersion: '0.1.0',
      sourceDateEpoch: '0',
    };
    assert.deepEqual(validateCycloneDx(JSON.parse(writeCycloneDx(input)), SCHEMAS), []);
    assert.deepEqual(validateSpdx(JSON.parse(writeSpdx(input)), SCHEMAS), []);
  }
});

interface NpmLsTree {
  name?: string;
  version?: string;
  dependencies?: Record<string, NpmLsTree>;
}

/** Every parent → child edge `npm ls --all --json` shows, as `name@version` pairs. */
function npmLsEdges(tree: NpmLsTree, out = new Set<string>()): Set<string> {
  for (const [name, child] of Object.entries(tree.dependencies ?? {})) {
    if (tree.version && child.version)
      out.add(`${tree.name}@${tree.version} -> ${child.name ?? name}@${child.version}`);
    npmLsEdges({ ...child, name: child.name ?? name }, out);
  }
  return out;
}

test('real Next.js install: installed = npm ls, other platforms\u2019 builds left out, vendored copies nested, npm ls edges present', async (t) => {
  const project = await ensureNpmProject('next-app', ['next@15.5.2', 'react@19.1.1', 'react-dom@19.1.1']);
  if ('skip' in project) return t.skip(project.skip);
  const { dir } = project;
  const ls = JSON.parse(
    (await run('npm', ['ls', '--all', '--json'], { cwd: dir, maxBuffer: 1 << 24 })).stdout,
  );
  const expected = flattenNpmLs(ls);
  const result = await catalogArtifact(dirArtifact(dir), { catalogers: [npmCataloger] });
  assert.deepEqual(result.warnings, []);
  const installed = result.components.filter((c) => c.vendoredIn === undefined);
  const vendored = result.components.filter((c) => c.vendoredIn !== undefined);
  assert.deepEqual([...nameAtVersion(installed)].sort(), [...expected].sort());

  // The lockfile names optional builds for every platform; only this machine's were installed.
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8'));
  const platformBuilds = Object.keys(lock.packages).filter((k) =>
    /node_modules\/@(next\/swc|img\/sharp)-/.test(k),
  );
  const notInstalled = platformBuilds.filter(
    (k) => !installed.some((c) => c.foundAt.includes(`${k}/package.json`)),
  );
  assert.ok(notInstalled.length >= 8, `lockfile-only platform builds: ${notInstalled.length}`);
  for (const key of notInstalled) {
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    assert.ok(!installed.some((c) => c.name === name), `${name} is not installed, so not a component`);
  }

  // Vendored copies: Next.js bundles packages with their own name and version in dist/compiled.
  const next = installed.find((c) => c.name === 'next')!;
  assert.ok(vendored.length >= 5, `vendored copies: ${vendored.map((c) => c.purl).join(', ')}`);
  for (const c of vendored) {
    assert.equal(c.vendoredIn, next.purl);
    assert.match(c.foundAt[0]!, /^node_modules\/next\/dist\/compiled\//);
  }
  assert.ok(vendored.some((c) => c.name === 'react-is'));

  // Every edge npm ls shows is an edge of the graph.
  const byNameVersion = new Map(
    result.components.filter((c) => !c.vendoredIn).map((c) => [`${c.name}@${c.version}`, c]),
  );
  const purlOf = new Map([...byNameVersion].map(([k, c]) => [c.purl, k]));
  const ours = new Set(
    installed.flatMap((c) => (c.dependsOn ?? []).map((d) => `${c.name}@${c.version} -> ${purlOf.get(d)}`)),
  );
  const theirs = [...npmLsEdges(ls)].filter((e) => !e.startsWith(`${ls.name}@`));
  assert.ok(theirs.length >= 5, `npm ls edges: ${theirs.length}`);
  assert.deepEqual(
    theirs.filter((e) => !ours.has(e)),
    [],
  );

  if (haveSchemas) {
    const input = {
      subject: { digest: `sha256:${'0'.repeat(64)}`, kind: 'dir' as const, name: 'next-app' },
      components: result.components,
      toolVersion: '0.1.0',
      sourceDateEpoch: '0',
    };
    const cdx = JSON.parse(writeCycloneDx(input));
    assert.deepEqual(validateCycloneDx(cdx, SCHEMAS), []);
    const nextEntry = cdx.components.find((c: { name: string }) => c.name === 'next');
    assert.equal(nextEntry.components.length, vendored.length, 'vendored copies nest under next');
    assert.deepEqual(validateSpdx(JSON.parse(writeSpdx(input)), SCHEMAS), []);
  }
});

test('one package installed in many folders: one component listing each folder once, sorted (merged in linear time)', async () => {
  // Found by fuzzing: 20 000 copies of one name@version took 26 s (each merge re-sorted every path).
  const files = [3, 1, 2, 1].map((k) =>
    file(`app/node_modules/a${k}/node_modules/dup/package.json`, '{"name":"dup","version":"1.0.0"}'),
  );
  const { components } = await catalog(files);
  assert.deepEqual(
    components.map((c) => [c.name, c.foundAt]),
    [['dup', [1, 2, 3].map((k) => `app/node_modules/a${k}/node_modules/dup/package.json`)]],
  );
});
