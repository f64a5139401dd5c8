import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { parseRpmHeaderWithMagic } from '../formats/rpm/rpm-header.ts';
import type { FileEntry, WalkedFile } from '../sources/types.ts';
import { rpmCataloger, rpmEvr, rpmOwnedFiles, wantRpmDb } from './rpm.ts';
import type { CatalogContext, Component } from './types.ts';

const RPM = new URL('../../../shared/fixtures/vectors/os-package-db/rpm/', import.meta.url).pathname;
const SQLITE = `${RPM}go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite`;

const entry = (path: string): FileEntry => ({ path, type: 'file', size: 0, mode: 0o644 });
const walked = (path: string, data: Buffer): WalkedFile => ({ entry: entry(path), data, earlier: [] });

async function run(files: WalkedFile[], distro = { id: 'mariner', versionId: '2.0' }) {
  const warnings: string[] = [];
  const ctx: CatalogContext = { distro, warn: (p, r) => warnings.push(`${p}: ${r}`) };
  const components = (await rpmCataloger.catalog(files, ctx)) as Component[];
  return { components, warnings, ctx };
}

/** `rpm -qa` over a copy of the database directory (rpm wants to create lock files next to it). */
function rpmQa(files: Record<string, string | Buffer>): string[] | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-rpmqa-'));
  try {
    for (const [name, src] of Object.entries(files)) {
      if (typeof src === 'string') copyFileSync(src, join(dir, name));
      else writeFileSync(join(dir, name), src);
    }
    const out = execFileSync(
      'rpm',
      ['--dbpath', dir, '-qa', '--queryformat', '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH}\\n'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    return out.toString().trim().split('\n').filter(Boolean).sort();
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const asRpmLine = (c: Component) => {
  const epoch = c.version.includes(':') ? '' : '0:';
  return `${c.name} ${epoch}${c.version} ${c.properties['waybill:arch']}`;
};

test('want: only the database files, in /var/lib/rpm and /usr/lib/sysimage/rpm', () => {
  for (const p of [
    'var/lib/rpm/rpmdb.sqlite',
    'var/lib/rpm/rpmdb.sqlite-wal',
    'usr/lib/sysimage/rpm/Packages.db',
    'var/lib/rpm/Packages',
  ]) {
    assert.equal(wantRpmDb(entry(p)), true, p);
  }
  for (const p of [
    'var/lib/rpm/Name',
    'var/lib/rpm/rpmdb.sqlite-shm',
    'var/lib/rpm/x/Packages',
    'opt/var/lib/rpm/Packages',
    'var/lib/rpm',
  ]) {
    assert.equal(wantRpmDb(entry(p)), false, p);
  }
});

test('CBL-Mariner 2.0 rpmdb.sqlite: 129 packages, names equal upstream list, set equal to rpm -qa', async (t) => {
  if (!existsSync(SQLITE)) return t.skip(`fixtures absent: ${SQLITE}`);
  const { components, warnings } = await run([walked('var/lib/rpm/rpmdb.sqlite', readFileSync(SQLITE))]);
  assert.deepEqual(warnings, []);
  assert.equal(components.length, 129);
  const expected = JSON.parse(readFileSync(`${RPM}go-rpmdb/cbl-mariner-2.0/expected-packages.json`, 'utf8'));
  assert.deepEqual([...new Set(components.map((c) => c.name))].sort(), [...expected.names].sort());
  const curl = components.find((c) => c.name === 'curl')!;
  assert.equal(curl.purl, 'pkg:rpm/mariner/curl@7.76.0-6.cm2?arch=x86_64&distro=mariner-2.0');
  assert.equal(curl.properties['waybill:source-package'], 'curl');
  assert.equal(curl.supplier, 'Microsoft Corporation');
  const reference = rpmQa({ 'rpmdb.sqlite': SQLITE });
  if (!reference) return t.diagnostic('rpm cannot read the sqlite database here; cross-check skipped');
  assert.deepEqual(components.map(asRpmLine).sort(), reference);
});

test('SLE 15 NDB Packages.db under usr/lib/sysimage/rpm: 35 packages', async (t) => {
  const path = `${RPM}go-rpmdb/sle15-bci/Packages.db`;
  if (!existsSync(path)) return t.skip('fixtures absent');
  const { components, warnings } = await run(
    [walked('usr/lib/sysimage/rpm/Packages.db', readFileSync(path))],
    { id: 'sles', versionId: '15.3' },
  );
  assert.deepEqual(warnings, []);
  assert.equal(components.length, 35);
  assert.ok(components.some((c) => c.purl === 'pkg:rpm/sles/glibc@2.31-9.3.2?arch=x86_64&distro=sles-15.3'));
});

test('Berkeley DB Packages: same answer as rpm -qa (bdb_ro)', async (t) => {
  for (const rel of ['go-rpmdb/libuuid/Packages', 'syft/Packages']) {
    if (!existsSync(RPM + rel)) return t.skip('fixtures absent');
    const { components, warnings } = await run([walked('var/lib/rpm/Packages', readFileSync(RPM + rel))], {
      id: 'rhel',
      versionId: '8.8',
    });
    assert.deepEqual(warnings, []);
    assert.equal(components.length, 1);
    const reference = rpmQa({ Packages: RPM + rel });
    if (reference) assert.deepEqual(components.map(asRpmLine), reference, rel);
    else t.diagnostic(`rpm cannot read ${rel}; cross-check skipped`);
  }
});

test('the newest backend wins when several databases are present; broken ones are warnings', async (t) => {
  if (!existsSync(SQLITE)) return t.skip('fixtures absent');
  const both = await run([
    walked('var/lib/rpm/Packages', readFileSync(`${RPM}syft/Packages`)),
    walked('var/lib/rpm/rpmdb.sqlite', readFileSync(SQLITE)),
  ]);
  assert.equal(both.components.length, 129);
  const broken = await run([walked('var/lib/rpm/rpmdb.sqlite', Buffer.from('SQLite format 3\0garbage'))]);
  assert.deepEqual(broken.components, []);
  assert.equal(broken.warnings.length, 1);
  const notDb = await run([walked('var/lib/rpm/Packages', Buffer.alloc(4096))]);
  assert.equal(notDb.warnings.length, 1);
});

test('rpm-built database: epoch qualifier, owned files, gpg-pubkey skipped, WAL content replayed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-rpmdb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spec = join(dir, 'p.spec');
  writeFileSync(
    spec,
    'Name: waybill-probe\nVersion: 1.2.3\nRelease: 4\nEpoch: 7\nSummary: probe\nLicense: MIT\nBuildArch: noarch\n%description\nprobe\n%install\nmkdir -p %{buildroot}/usr/share/probe\necho hi > %{buildroot}/usr/share/probe/hello.txt\n%files\n/usr/share/probe/hello.txt\n',
  );
  const db = join(dir, 'db');
  mkdirSync(db);
  const gnupg = join(dir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  try {
    execFileSync(
      'rpmbuild',
      ['--define', `_topdir ${dir}/top`, '--define', '_build_id_links none', '-bb', spec],
      { stdio: 'ignore' },
    );
    const env = { ...process.env, GNUPGHOME: gnupg };
    execFileSync(
      'gpg',
      ['--batch', '--passphrase', '', '--quick-gen-key', 'Probe <p@example.org>', 'ed25519', 'sign', 'never'],
      { env, stdio: 'ignore' },
    );
    writeFileSync(join(dir, 'k.asc'), execFileSync('gpg', ['--armor', '--export'], { env }));
    execFileSync('rpm', ['--dbpath', db, '--import', join(dir, 'k.asc')], { stdio: 'ignore' });
  } catch {
    return t.skip('rpmbuild/gpg/rpm not usable here');
  }
  const rpmFile = join(dir, 'top/RPMS/noarch', readdirSync(join(dir, 'top/RPMS/noarch'))[0]!);
  execFileSync('rpm', ['--dbpath', db, '--justdb', '--nodeps', '--ignorearch', '-i', rpmFile], {
    stdio: 'ignore',
  });
  assert.match(execFileSync('rpm', ['--dbpath', db, '-qa']).toString(), /gpg-pubkey/);

  const data = readFileSync(join(db, 'rpmdb.sqlite'));
  const files = [walked('var/lib/rpm/rpmdb.sqlite', data)];
  const { components, ctx } = await run(files, { id: 'fedora', versionId: '39' });
  assert.deepEqual(
    components.map((c) => c.purl),
    ['pkg:rpm/fedora/waybill-probe@1.2.3-4?arch=noarch&distro=fedora-39&epoch=7'],
  );
  assert.equal(components[0]!.version, '7:1.2.3-4');
  assert.equal(rpmEvr({ version: '1', release: '2' }), '1-2');
  assert.equal(components[0]!.properties['waybill:owned-files'], '1');
  assert.deepEqual([...rpmOwnedFiles(files, ctx)], [['usr/share/probe/hello.txt', components[0]!.purl]]);

  // A commit that sits only in the WAL: add a second package's header (this .rpm's main header,
  // renamed) while a connection keeps the WAL from being checkpointed, and snapshot both files.
  const rpmBytes = readFileSync(rpmFile);
  const sig = parseRpmHeaderWithMagic(rpmBytes, 96);
  const mainStart = sig.end + ((8 - (sig.end % 8)) % 8) + 8;
  const mainEnd = parseRpmHeaderWithMagic(rpmBytes, mainStart - 8).end;
  const blob = Buffer.from(rpmBytes.subarray(mainStart, mainEnd));
  const nameAt = blob.indexOf('waybill-probe\0');
  blob.write('waybill-other', nameAt, 'latin1');
  const live = new DatabaseSync(join(db, 'rpmdb.sqlite'));
  live.exec('PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;');
  live.prepare('INSERT INTO Packages(hnum, blob) VALUES (?, ?)').run(1000, blob);
  const mainFile = readFileSync(join(db, 'rpmdb.sqlite'));
  const wal = readFileSync(join(db, 'rpmdb.sqlite-wal'));
  live.close();
  assert.ok(wal.length > 0, 'WAL holds the commit');
  const withWal = await run(
    [walked('var/lib/rpm/rpmdb.sqlite', mainFile), walked('var/lib/rpm/rpmdb.sqlite-wal', wal)],
    { id: 'fedora', versionId: '39' },
  );
  assert.deepEqual(
    withWal.components.map((c) => c.name),
    ['waybill-other', 'waybill-probe'],
  );
  const withoutWal = await run([walked('var/lib/rpm/rpmdb.sqlite', mainFile)], {
    id: 'fedora',
    versionId: '39',
  });
  assert.deepEqual(
    withoutWal.components.map((c) => c.name),
    ['waybill-probe'],
  );
});

test('dependency edges: Requires resolved through installed Provides and file owners, as rpm resolves them', async (t) => {
  if (!existsSync(SQLITE)) return t.skip(`fixtures absent: ${SQLITE}`);
  const { components } = await run([walked('var/lib/rpm/rpmdb.sqlite', readFileSync(SQLITE))]);
  const nameOf = new Map(components.map((c) => [c.purl, c.name]));
  const depsOf = (name: string) =>
    (components.find((c) => c.name === name)!.dependsOn ?? []).map((p) => nameOf.get(p)!).sort();
  assert.ok(depsOf('curl').includes('curl-libs'), 'by name (curl-libs = 7.76.0-6.cm2)');
  assert.ok(depsOf('curl').includes('glibc'), 'by soname Provides (libc.so.6()(64bit))');
  assert.ok(depsOf('curl').includes('bash'), 'by file (/bin/sh)');
  assert.ok(components.filter((c) => c.dependsOn).length > 100, 'most packages require something');

  // rpm itself: each required capability of these packages is provided by one of the packages we link.
  const dir = mkdtempSync(join(tmpdir(), 'waybill-rpmreq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(SQLITE, join(dir, 'rpmdb.sqlite'));
  const rpm = (...args: string[]) => {
    try {
      return execFileSync('rpm', ['--dbpath', dir, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean);
    } catch {
      return undefined;
    }
  };
  for (const name of ['curl', 'openssl-libs', 'bash']) {
    const requires = rpm('-q', '--qf', '[%{REQUIRENAME}\\n]', name);
    if (!requires) return t.diagnostic('rpm cannot read the sqlite database here; cross-check skipped');
    const ours = new Set(depsOf(name));
    const expected = new Set<string>();
    for (const cap of new Set(requires.filter((r) => !r.startsWith('rpmlib(')))) {
      const providers = (rpm('-q', '--qf', '%{NAME}\\n', '--whatprovides', cap) ?? []).filter(
        (p) => p !== name,
      );
      if (providers.length === 0) continue;
      assert.ok(
        providers.some((p) => ours.has(p)),
        `${name} requires ${cap}: provided by ${providers.join(', ')}, linked to ${[...ours].join(', ')}`,
      );
      for (const p of providers) expected.add(p);
    }
    for (const d of ours) assert.ok(expected.has(d), `${name} → ${d} is an edge rpm also resolves`);
  }
});

test('multilib: a name, a virtual or a shared file provided by both arches of a package links both, whatever the install order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-rpmmulti-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spec = join(dir, 'ml.spec');
  // ml-app requires by name and virtual, ml-tool by a file both arches of ml-lib own.
  writeFileSync(
    spec,
    'Name: ml-lib\nVersion: 1\nRelease: 1\nSummary: lib\nLicense: MIT\nProvides: ml-virtual = 1\n%description\nlib\n' +
      '%package -n ml-app\nSummary: app\nRequires: ml-lib, ml-virtual\n%description -n ml-app\napp\n' +
      '%package -n ml-tool\nSummary: tool\nRequires: /usr/share/ml/shared.txt\n%description -n ml-tool\ntool\n' +
      '%install\nmkdir -p %{buildroot}/usr/share/ml\necho same > %{buildroot}/usr/share/ml/shared.txt\n' +
      '%files\n/usr/share/ml/shared.txt\n%files -n ml-app\n%files -n ml-tool\n',
  );
  const db = join(dir, 'db');
  mkdirSync(db);
  const rpmOf = (arch: string, name: string) => join(dir, `top/RPMS/${arch}/${name}-1-1.${arch}.rpm`);
  try {
    for (const target of ['x86_64', 'i686'])
      execFileSync('rpmbuild', ['--define', `_topdir ${dir}/top`, '--target', target, '-bb', spec], {
        stdio: 'ignore',
      });
    const install = (...rpms: string[]) =>
      execFileSync('rpm', ['--dbpath', db, '--justdb', '--nodeps', '--ignorearch', '-i', ...rpms], {
        stdio: 'ignore',
      });
    // Each order once: neither a database's first provider nor its last owner may decide the edge.
    install(rpmOf('i686', 'ml-lib'));
    install(rpmOf('x86_64', 'ml-lib'), rpmOf('x86_64', 'ml-app'), rpmOf('x86_64', 'ml-tool'));
  } catch {
    return t.skip('rpmbuild/rpm not usable here');
  }
  const { components } = await run([
    walked('var/lib/rpm/rpmdb.sqlite', readFileSync(join(db, 'rpmdb.sqlite'))),
  ]);
  for (const name of ['ml-app', 'ml-tool']) {
    const c = components.find((x) => x.name === name)!;
    assert.deepEqual(
      (c.dependsOn ?? []).map((p) => p.replace(/^pkg:rpm\/mariner\/|&distro=.*$/g, '')),
      ['ml-lib@1-1?arch=i686', 'ml-lib@1-1?arch=x86_64'],
      name,
    );
  }
});

test('rich (boolean) Requires: every installed package that may satisfy them, never a condition (rpmbuild, rpm --justdb)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'waybill-rpmrich-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'db');
  mkdirSync(db);
  const requires: Record<string, string[]> = {
    a: ['(rich-b or rich-c)', '(rich-d if rich-b)', '(perl(Rich::E) >= 1 if rich-x else rich-f)'],
    b: [],
    c: [],
    d: [],
    e: [],
    f: [],
  };
  try {
    for (const [p, reqs] of Object.entries(requires)) {
      const spec = join(dir, `rich-${p}.spec`);
      writeFileSync(
        spec,
        `Name: rich-${p}\nVersion: 1\nRelease: 1\nSummary: ${p}\nLicense: MIT\nBuildArch: noarch\n` +
          `${p === 'e' ? 'Provides: perl(Rich::E) = 2\n' : ''}${reqs.map((r) => `Requires: ${r}\n`).join('')}` +
          '%description\nrich\n%files\n',
      );
      execFileSync('rpmbuild', ['--define', `_topdir ${dir}/top`, '-bb', spec], { stdio: 'ignore' });
    }
    const rpms = readdirSync(join(dir, 'top/RPMS/noarch')).map((f) => join(dir, 'top/RPMS/noarch', f));
    execFileSync('rpm', ['--dbpath', db, '--justdb', '--nodeps', '--ignorearch', '-i', ...rpms], {
      stdio: 'ignore',
    });
  } catch {
    return t.skip('rpmbuild/rpm not usable here');
  }
  const { components } = await run([
    walked('var/lib/rpm/rpmdb.sqlite', readFileSync(join(db, 'rpmdb.sqlite'))),
  ]);
  const nameOf = new Map(components.map((c) => [c.purl, c.name]));
  const a = components.find((c) => c.name === 'rich-a')!;
  // rich-b or rich-c: both installed, both linked. `if`/`else`: the required sides (rich-d, perl(Rich::E)
  // through rich-e's Provides, rich-f), whatever the condition; a condition alone (rich-x) is no edge.
  assert.deepEqual((a.dependsOn ?? []).map((p) => nameOf.get(p)).sort(), [
    'rich-b',
    'rich-c',
    'rich-d',
    'rich-e',
    'rich-f',
  ]);
});
