/**
 * The published package, as a user gets it: `npm pack` (which compiles src/ to dist/: Node does not
 * strip types under node_modules), `npm install` of the tarball into a fresh project, then
 * `npx waybill`. The installed CLI must give the same SBOM bytes as the source checkout, through the
 * paths that load modules by URL (layer workers, the worker filter) and zstd layers.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildOciLayout } from '../../src/sources/testing.ts';
import { WAYBILL_BIN } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** npm and npx are Node scripts: run them, and the installed bin, on the Node running this test. */
const env = {
  ...process.env,
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
  NO_COLOR: '1',
  WAYBILL_WORKERS: '',
  // Layers this small are hashed on the main thread by default: the hashing thread's module must
  // load from the package too.
  WAYBILL_HASH_THREAD: '1',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'buffer', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

test('npm pack ships only what users need; the installed `npx waybill` works offline', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'waybill-package-'));
  t.after(() => rm(work, { recursive: true, force: true }));

  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as PackResult[];
  assert.ok(pack, 'npm pack names its tarball');
  const paths = pack.files.map((f) => f.path);
  for (const needed of [
    'bin/waybill.js',
    'dist/cli/run.js',
    'dist/sources/layer-worker.js',
    'package.json',
  ]) {
    assert.ok(paths.includes(needed), `the package has ${needed}`);
  }
  assert.ok(paths.includes('schemas/release-record-v1.schema.json') && paths.includes('README.md'));
  const unwanted = paths.filter(
    (p) =>
      /^(?:src|test|scripts)\/|\/fixtures\//.test(p) ||
      /\.test\.|\/(?:testing|test-support|test-server)\./.test(p) ||
      (p.endsWith('.ts') && !p.endsWith('.d.ts')),
  );
  assert.deepEqual(unwanted, [], 'no TypeScript sources, tests, test helpers, fixtures or scripts');
  // Whatever its name, a module whose header says it is for tests only is not shipped.
  const testOnly = [];
  for (const p of paths.filter((x) => x.endsWith('.js'))) {
    const source = join(ROOT, 'src', p.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    if (/^\/\*\*\s*\n\s*\*\s*TEST ONLY\b/.test(await readFile(source, 'utf8').catch(() => '')))
      testOnly.push(p);
  }
  assert.deepEqual(testOnly, [], 'no module marked TEST ONLY');

  const project = join(work, 'project');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), '{ "name": "uses-waybill", "private": true }\n');
  // The dependencies come from npm's cache when `npm ci` put them there (offline), else the registry.
  const install = run(
    'npm',
    ['install', '--prefer-offline', '--ignore-scripts', '--no-package-lock', join(work, pack.filename)],
    project,
  );
  assert.equal(install.status, 0, install.stderr);

  const version = run('npx', ['--no-install', 'waybill', '--version'], project);
  assert.equal(version.status, 0, version.stderr);
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout.toString().trim(), pkg.version);
  assert.equal(version.stderr, '', 'no warnings on start-up');

  const layout = join(work, 'layout');
  const manifest = (name: string, v: string) => JSON.stringify({ name, version: v });
  await buildOciLayout(
    layout,
    [
      {
        'etc/os-release': 'ID=debian\nVERSION_ID=13\n',
        'app/node_modules/a/package.json': manifest('a', '1.0.0'),
      },
      { 'app/node_modules/b/package.json': manifest('b', '2.0.0') },
    ],
    { compression: 'zstd' },
  );
  const args = ['sbom', `oci:${layout}`, '--quiet', '--workers', '2'];
  const installed = run('npx', ['--no-install', 'waybill', ...args], project);
  assert.equal(installed.status, 0, installed.stderr);
  const fromSource = run(process.execPath, [WAYBILL_BIN, ...args], ROOT);
  assert.equal(fromSource.status, 0, fromSource.stderr);
  assert.ok(installed.stdout.includes('pkg:npm/b@2.0.0'), 'the SBOM lists the installed npm packages');
  assert.ok(installed.stdout.equals(fromSource.stdout), 'the package gives the same bytes as the source');
});
