import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import { apkCataloger, apkOwnedFiles, parseApkInstalled, wantApk } from './apk.ts';
import type { CatalogContext, Component, Distro } from './types.ts';

const APK = new URL('../../../shared/fixtures/vectors/os-package-db/apk/', import.meta.url).pathname;
const ALPINE: Distro = { id: 'alpine', versionId: '3.19.1' };
const entry = (path: string): FileEntry => ({ path, type: 'file', size: 0, mode: 0o644 });
const installed = (data: Buffer | string, path = 'lib/apk/db/installed'): WalkedFile => ({
  entry: entry(path),
  data: Buffer.from(data),
  earlier: [],
});

async function run(files: WalkedFile[]) {
  const warnings: string[] = [];
  const ctx: CatalogContext = { distro: ALPINE, warn: (p, r) => warnings.push(`${p}: ${r}`) };
  const components = (await apkCataloger.catalog(files, ctx)) as Component[];
  return { components, warnings, ctx };
}

/** An independent reading for comparison: `P:`/`V:`/`A:` lines of each stanza, nothing else. */
function nameVersionArch(text: string): string[] {
  return text
    .split(/\n\n+/)
    .map((s) => {
      const get = (k: string) =>
        s
          .split('\n')
          .find((l) => l.startsWith(`${k}:`))
          ?.slice(2);
      return get('P') && get('V') ? `${get('P')} ${get('V')} ${get('A')}` : undefined;
    })
    .filter((x): x is string => x !== undefined)
    .sort();
}

test('want: lib/apk/db/installed and, merged into /usr, usr/lib/apk/db/installed', () => {
  assert.equal(wantApk(entry('lib/apk/db/installed')), true);
  assert.equal(wantApk(entry('usr/lib/apk/db/installed')), true);
  for (const p of [
    'lib/apk/db/installed.old',
    'lib/apk/db/triggers',
    'usr/lib/apk/db/triggers',
    'x/lib/apk/db/installed',
    'x/usr/lib/apk/db/installed',
  ])
    assert.equal(wantApk(entry(p)), false, p);
});

test('a /usr-merged root (Wolfi, apko: lib -> usr/lib) keeps the database under usr/; lib/ wins when both exist', async (t) => {
  const path = `${APK}syft/multiple-2/lib/apk/db/installed`;
  if (!existsSync(path)) return t.skip(`fixtures absent: ${path}`);
  const text = readFileSync(path, 'utf8');
  const merged = await run([installed(text, 'usr/lib/apk/db/installed')]);
  assert.deepEqual(merged.warnings, []);
  assert.deepEqual(
    merged.components.map((c) => `${c.name} ${c.version} ${c.properties?.['waybill:arch']}`).sort(),
    nameVersionArch(text),
  );
  assert.ok(merged.components.every((c) => c.foundAt[0] === 'usr/lib/apk/db/installed'));
  const owned = apkOwnedFiles([installed(text, 'usr/lib/apk/db/installed')], merged.ctx);
  assert.ok(owned.size > 0);
  // Both present: apk reads lib/apk/db (the other is a leftover); one database, never a union.
  const both = await run([
    installed('P:other\nV:9-r0\n', 'usr/lib/apk/db/installed'),
    installed(text, 'lib/apk/db/installed'),
  ]);
  assert.deepEqual(
    both.components.map((c) => c.name).sort(),
    [...new Set(nameVersionArch(text).map((l) => l.split(' ')[0]))].sort(),
  );
});

test('single package: every field, purl, owned files (F dirs + R files)', async (t) => {
  const path = `${APK}syft/single`;
  if (!existsSync(path)) return t.skip(`fixtures absent: ${path}`);
  const files = [installed(readFileSync(path))];
  const { components, warnings, ctx } = await run(files);
  assert.deepEqual(warnings, []);
  assert.equal(components.length, 1);
  const c = components[0]!;
  assert.equal(c.purl, 'pkg:apk/alpine/musl-utils@1.1.24-r2?arch=x86_64&distro=alpine-3.19.1');
  assert.deepEqual(c.licenses, ['MIT BSD GPL2+']);
  assert.equal(c.supplier, 'Timo Teräs <timo.teras@iki.fi>');
  assert.equal(c.description, 'the musl c library (libc) implementation');
  assert.equal(c.properties['waybill:source-package'], 'musl');
  assert.equal(c.properties['waybill:apk:checksum'], 'Q1bTtF5526tETKfL+lnigzIDvm+2o=');
  assert.equal(c.properties['waybill:owned-files'], '5');
  const owned = apkOwnedFiles(files, ctx);
  assert.equal(owned.get('sbin/ldconfig'), c.purl);
  assert.equal(owned.get('usr/bin/iconv'), c.purl);
});

test('real databases: every stanza read, same (name, version, arch) as an independent reading', async (t) => {
  const dbs = [
    'syft/base',
    'syft/empty-deps-and-provides',
    'syft/extra-file-attributes',
    'syft/multiple-1/lib/apk/db/installed',
    'syft/multiple-2/lib/apk/db/installed',
    'trivy/apk',
  ];
  for (const rel of dbs) {
    if (!existsSync(APK + rel)) return t.skip('fixtures absent');
    const text = readFileSync(APK + rel, 'utf8');
    const { components, warnings } = await run([installed(text)]);
    // trivy's fixture holds one deliberately broken stanza (`P:invalidPackageWithoutAVersion`).
    assert.deepEqual(
      warnings,
      rel === 'trivy/apk' ? ['lib/apk/db/installed: line 23: package stanza without V (version)'] : [],
      rel,
    );
    assert.deepEqual(
      components.map((c) => `${c.name} ${c.version} ${c.properties['waybill:arch']}`).sort(),
      nameVersionArch(text),
      rel,
    );
  }
  const m2 = await run([installed(readFileSync(`${APK}syft/multiple-2/lib/apk/db/installed`))]);
  assert.equal(m2.components.length, 14);
  // D: resolved by name (version constraint dropped), by p: provides (sonames, /bin/sh) and owner.
  const nameOf = new Map(m2.components.map((c) => [c.purl, c.name]));
  const depsOf = (name: string) =>
    (m2.components.find((c) => c.name === name)!.dependsOn ?? []).map((p) => nameOf.get(p)).sort();
  assert.deepEqual(depsOf('alpine-baselayout'), ['alpine-baselayout-data', 'busybox', 'musl']);
  assert.deepEqual(depsOf('apk-tools'), [
    'ca-certificates-bundle',
    'libcrypto1.1',
    'libssl1.1',
    'musl',
    'zlib',
  ]);
  assert.deepEqual(depsOf('musl'), []);
  const owned = await run([installed('P:a\nV:1\nD:/usr/bin/b !c\n\nP:b\nV:2\nF:usr/bin\nR:b\n\nP:c\nV:3\n')]);
  assert.deepEqual(owned.components.find((c) => c.name === 'a')!.dependsOn, [
    owned.components.find((c) => c.name === 'b')!.purl,
  ]);
});

test('corrupt database: the bad stanza is a warning, the rest is read', async (t) => {
  const path = `${APK}syft/corrupt/lib/apk/db/installed`;
  if (!existsSync(path)) return t.skip('fixtures absent');
  const { components, warnings } = await run([installed(readFileSync(path))]);
  assert.equal(warnings.length, 1);
  assert.deepEqual(
    components.map((c) => c.name),
    ['alpine-baselayout-data'],
  );
  const missing = await run([installed('P:x\nA:x86_64\n\nV:1\n')]);
  assert.equal(missing.components.length, 0);
  assert.equal(missing.warnings.length, 2);
});

test('fast-check: random text never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (s) => {
      parseApkInstalled(s, 'fuzz', { warn: () => {} });
    }),
    { numRuns: 300 },
  );
});
