import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  buildC,
  buildGo,
  makeGoProject,
  makeTmp,
  npmPackageFile,
  removeTmp,
  run,
} from '../../test/helpers/exec-fixtures.ts';
import type { WalkedFile } from '../sources/types.ts';
import { goCataloger, stdlibVersion } from './go.ts';
import type { CatalogContext, Component } from './types.ts';

function walked(path: string, data: Buffer, layer?: string): WalkedFile {
  return {
    entry: { path, type: 'file', size: data.length, mode: 0o755, ...(layer ? { layer } : {}) },
    data,
    earlier: [],
  };
}

async function catalog(files: WalkedFile[]) {
  const warnings: Array<{ path: string; reason: string }> = [];
  const ctx: CatalogContext = { warn: (path, reason) => warnings.push({ path, reason }) };
  const components = await goCataloger.catalog(files, ctx);
  return { components, warnings, byPurl: new Map<string, Component>(components.map((c) => [c.purl, c])) };
}

let tmp: string;
let app: Buffer;

before(async () => {
  tmp = await makeTmp();
  app = await readFile(await buildGo(await makeGoProject(tmp), 'linux', 'amd64', join(tmp, 'app-bin')));
});
after(() => removeTmp(tmp));

describe('go cataloger', () => {
  test('want/sniff: regular files with an executable magic', () => {
    const entry = { path: 'usr/bin/app', type: 'file' as const, size: app.length, mode: 0o755 };
    assert.equal(goCataloger.want(entry), 'sniff');
    assert.equal(goCataloger.sniff?.(entry, app.subarray(0, 64)), true);
    assert.equal(goCataloger.sniff?.(entry, Buffer.from('#!/bin/sh\n'.padEnd(64))), false);
    assert.equal(goCataloger.want({ ...entry, type: 'symlink' }), false);
    assert.equal(goCataloger.want({ ...entry, size: 10 }), false);
  });

  test('main module, deps with replacements, stdlib, build settings', async () => {
    const goVersion = (await run('go', ['env', 'GOVERSION'])).trim();
    const { components, warnings, byPurl } = await catalog([walked('usr/bin/app', app, 'sha256:l1')]);
    assert.deepEqual(warnings, []);
    assert.deepEqual([...byPurl.keys()].sort(), [
      'pkg:golang/example.com/app@(devel)',
      'pkg:golang/example.com/fork@v0.3.0',
      'pkg:golang/example.com/greet@v1.2.0',
      'pkg:golang/example.com/local@v0.0.0',
      `pkg:golang/stdlib@${goVersion.slice(2)}`,
    ]);
    const main = byPurl.get('pkg:golang/example.com/app@(devel)')!;
    assert.equal(main.type, 'application');
    assert.match(main.properties['waybill:go:version-note']!, /devel/);
    assert.equal(main.properties['waybill:go:build:-ldflags'], '-X main.version=1.2.3 -s');
    assert.equal(main.properties['waybill:go:build:GOOS'], 'linux');
    assert.equal(main.properties['waybill:go:toolchain'], goVersion);
    const fork = byPurl.get('pkg:golang/example.com/fork@v0.3.0')!;
    assert.equal(fork.properties['waybill:go:replaces'], 'example.com/orig@v1.0.0');
    assert.match(fork.properties['waybill:go:sum']!, /^h1:/);
    assert.equal(
      byPurl.get('pkg:golang/example.com/local@v0.0.0')!.properties['waybill:go:replaced-by'],
      './local',
    );
    for (const c of components) {
      assert.deepEqual(c.foundAt, ['usr/bin/app']);
      assert.equal(c.layer, 'sha256:l1');
      assert.equal(c.ecosystem, 'golang');
    }
  });

  test('a GOPATH-mode build (Debian dh-golang) has no module: only the standard library, as go version -m lists', async () => {
    const gopath = join(tmp, 'gopath');
    const src = join(gopath, 'src', 'example.org', 'tool');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'main.go'), 'package main\n\nfunc main() { println("tool") }\n');
    const out = join(tmp, 'gopath-tool');
    await run('go', ['build', '-o', out, 'example.org/tool'], {
      env: { GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '', CGO_ENABLED: '0' },
    });
    const listing = await run('go', ['version', '-m', out]);
    assert.match(listing, /\tpath\texample.org\/tool\n/);
    assert.doesNotMatch(listing, /\tmod\t/);
    const goVersion = (await run('go', ['env', 'GOVERSION'])).trim();
    const { components, warnings } = await catalog([walked('usr/bin/tool', await readFile(out))]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      components.map((c) => c.purl),
      [`pkg:golang/stdlib@${goVersion.slice(2)}`],
    );
  });

  test('lefthook (real release binary): one component per dep of go version -m', async (t) => {
    const buf = await npmPackageFile('lefthook-linux-x64@2.2.2', 'bin/lefthook');
    if (!buf) return t.skip('npm registry unreachable: lefthook-linux-x64 not available');
    const { components, byPurl } = await catalog([walked('bin/lefthook', buf)]);
    assert.ok(byPurl.has('pkg:golang/github.com/evilmartians/lefthook/v2@v2.2.2'));
    assert.ok(byPurl.has('pkg:golang/stdlib@1.27.0'));
    assert.ok(byPurl.has('pkg:golang/al.essio.dev/pkg/shellescape@v1.6.1'));
    assert.ok(components.filter((c) => c.type === 'library').length >= 40);
  });

  test('a damaged executable is a warning, not an exception; a non-Go one is silent', async () => {
    const cut = Buffer.from(app.subarray(0, 4096));
    const { components, warnings } = await catalog([
      walked('bin/cut', cut),
      walked('bin/zeros', Buffer.alloc(64)),
    ]);
    assert.deepEqual(components, []);
    assert.equal(warnings.length, 2);
    assert.equal(warnings[0]!.path, 'bin/cut');
  });

  test('keep: only executables holding the build info magic; what it drops has no Go components', async () => {
    const entry = { path: 'usr/bin/app', type: 'file' as const, size: app.length, mode: 0o755 };
    assert.equal(goCataloger.keep(entry, app), true);
    const c = await readFile(await buildC(tmp));
    assert.equal(goCataloger.keep(entry, c), false);
    assert.deepEqual((await catalog([walked('usr/bin/c', c)])).components, []);
    // The magic anywhere (old linkers put it in .data), even right behind 0xff bytes, is kept.
    const planted = Buffer.concat([c, Buffer.alloc(13, 0xff), Buffer.from('\xff Go buildinf:', 'latin1')]);
    assert.equal(goCataloger.keep(entry, planted), true);
    assert.equal(goCataloger.keep(entry, planted.subarray(0, planted.length - 1)), false);
  });

  test('stdlib version from toolchain strings', () => {
    assert.equal(stdlibVersion('go1.22.1'), '1.22.1');
    assert.equal(stdlibVersion('go1.22.1 X:boringcrypto'), '1.22.1');
  });
});
