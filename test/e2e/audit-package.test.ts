/**
 * `waybill audit` of a package file audits the package itself (issue 11; issue 9 item 3: a package's
 * own SBOM names it so that it can be matched against vulnerability data). Real packages: Debian's
 * libuuid1 (`apt-get download`; binary of the util-linux source, version `…+deb12uN`), Debian's hello
 * (no release in its version), a setuptools-built wheel; advisories written here in OSV form naming
 * the source package, as Debian's do. The reference for the package's fields is `dpkg-deb -f`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { apkToolsMissing, buildApk } from '../fixtures/build-apk.ts';
import { buildPythonProject } from '../fixtures/build-artifacts.ts';
import { downloadDebianPackage } from '../fixtures/build-packages.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import { hasTool, makeTmp, removeTmp } from '../helpers/exec-fixtures.ts';

const exec = promisify(execFile);

interface Report {
  subject: { name?: string; version?: string };
  summary: { components: number; evaluated: number; findings: number };
  findings: Array<{
    id: string;
    package: string;
    component: { name: string; version: string; purl: string };
    fixed: string[];
    locations: Array<{ path?: string; dependencyPath?: string[] }>;
  }>;
  warnings: string[];
}

let tmp: string;
let db: string;
let libuuid: { path: string; version: string; source: string; sourceVersion: string } | undefined;
let hello: string | undefined;
let skip = 'no advisory database';

/** `dpkg-deb -f`: the reference reader for a .deb's control fields. */
async function controlField(deb: string, field: string): Promise<string> {
  const { stdout } = await exec('dpkg-deb', ['-f', deb, field]);
  return stdout.trim();
}

function advisory(id: string, ecosystem: string, name: string, events: Array<Record<string, string>>) {
  return {
    schema_version: '1.6.0',
    id,
    modified: '2026-01-01T00:00:00Z',
    published: '2026-01-01T00:00:00Z',
    summary: `${name} - security update`,
    affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events }] }],
  };
}

before(async () => {
  tmp = await makeTmp('waybill-audit-package-');
  db = join(tmp, 'advisories.db');
  if (!(await hasTool('dpkg-deb'))) {
    skip = 'dpkg-deb is not installed';
    return;
  }
  const got = await downloadDebianPackage('libuuid1');
  if ('skip' in got) {
    skip = got.skip;
    return;
  }
  const version = await controlField(got.path, 'Version');
  // The test's advisories are for Debian 12, read from a `+deb12uN` version; another archive's
  // libuuid1 names another release (or none).
  if (!/[+~]deb12(u\d+)?(\+b\d+)?$/.test(version)) {
    skip = `libuuid1 ${version} from this machine's archive is not a Debian 12 update (+deb12uN)`;
    return;
  }
  // `Source: name` or `Source: name (version)`; the source version is the binary's unless given.
  const [, source, sourceVersion] =
    /^(\S+)(?:\s+\((.+)\))?$/.exec(await controlField(got.path, 'Source')) ?? [];
  assert.ok(source, 'libuuid1 names its source package');
  libuuid = { path: got.path, version, source, sourceVersion: sourceVersion ?? version };
  const h = await downloadDebianPackage('hello');
  if ('path' in h) hello = h.path;

  const dir = join(tmp, 'osv');
  await mkdir(dir);
  // Fixed one step past the package's source version (dpkg: `X+1` > `X`), for Debian 12 only.
  const fixed = `${libuuid.sourceVersion}+1`;
  const records = [
    advisory('DSA-9001-1', 'Debian:12', libuuid.source, [{ introduced: '0' }, { fixed }]),
    // Already fixed in the version downloaded: must not be reported.
    advisory('DSA-9002-1', 'Debian:12', libuuid.source, [{ introduced: '0' }, { fixed: '2.38.1-1' }]),
    // The binary package's name: Debian's advisories name source packages, so this never matches.
    advisory('DSA-9003-1', 'Debian:12', 'libuuid1', [{ introduced: '0' }]),
    advisory('DSA-9004-1', 'Debian:12', 'hello', [{ introduced: '0' }, { fixed: '2.10-4' }]),
    advisory('PYSEC-2026-9001', 'PyPI', 'Waybill_Demo', [{ introduced: '1.0' }, { fixed: '1.2.4' }]),
    advisory('PYSEC-2026-9002', 'PyPI', 'waybill-demo', [{ introduced: '0' }, { fixed: '1.2.3' }]),
  ];
  for (const r of records) await writeFile(join(dir, `${r.id}.json`), JSON.stringify(r));
  const imported = await waybill(['db', 'import', '--db', db, dir]);
  assert.equal(imported.code, 0, imported.stderr);
});
after(() => removeTmp(tmp));

describe('audit of a package file audits the package', () => {
  test('a real .deb: its source package, the release from its version, the fixed version, found at the file', async (t) => {
    if (!libuuid) return t.skip(skip);
    const r = await waybillJson<Report>(['audit', libuuid.path, '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warning: the version names the release');
    assert.deepEqual(r.json.warnings, []);
    assert.deepEqual([r.json.subject.name, r.json.subject.version], ['libuuid1', libuuid.version]);
    assert.equal(r.json.summary.evaluated, r.json.summary.components);
    assert.ok(r.json.summary.components >= 1);
    assert.deepEqual(
      r.json.findings.map((f) => [f.id, f.package, f.component.name, f.component.version, f.fixed]),
      [
        [
          'DSA-9001-1',
          `Debian:12/${libuuid.source}`,
          'libuuid1',
          libuuid.version,
          [`${libuuid.sourceVersion}+1`],
        ],
      ],
    );
    const f = r.json.findings[0];
    assert.match(f?.component.purl ?? '', /^pkg:deb\/debian\/libuuid1@/);
    assert.deepEqual(f?.locations, [{ path: libuuid.path, dependencyPath: [`libuuid1@${libuuid.version}`] }]);
    // The text report names it too, and exit 1 with --fail-on low (an unrated finding counts as low).
    const text = await waybill(['audit', libuuid.path, '--db', db, '--fail-on', 'low']);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /DSA-9001-1 +libuuid1 /);
    assert.doesNotMatch(text.stdout, /warning/);
  });

  test('--distro debian-11: the Debian 12 advisory does not apply', async (t) => {
    if (!libuuid) return t.skip(skip);
    const r = await waybillJson<Report>(['audit', libuuid.path, '--db', db, '--distro', 'debian-11']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.findings, []);
    assert.deepEqual(r.json.warnings, []);
    assert.equal(r.json.summary.evaluated, r.json.summary.components);
  });

  test('the package SBOM given to audit: the subject is audited the same way (CycloneDX and SPDX)', async (t) => {
    if (!libuuid) return t.skip(skip);
    for (const format of ['cyclonedx-json', 'spdx-json']) {
      const sbom = await waybill(['sbom', libuuid.path, '--format', format]);
      assert.equal(sbom.code, 0, sbom.stderr);
      const file = join(tmp, `libuuid1.${format}.json`);
      await writeFile(file, sbom.stdout);
      const r = await waybillJson<Report>(['audit', file, '--db', db]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.json.findings.map((f) => [f.id, f.component.name, f.fixed]),
        [['DSA-9001-1', 'libuuid1', [`${libuuid.sourceVersion}+1`]]],
        format,
      );
    }
  });

  test('a .deb whose version names no release: one warning naming --distro; with --distro it matches', async (t) => {
    if (!hello) return t.skip(skip);
    const r = await waybillJson<Report>(['audit', hello, '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.findings, [], 'a Debian:12 advisory is not guessed to apply');
    assert.equal(r.json.warnings.length, 1);
    assert.match(
      r.json.warnings[0] as string,
      /release of 1 Debian package\(s\) is unknown.*--distro ID-VERSION/,
    );
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] as string, /^waybill: warning: .*--distro/);
    const text = await waybill(['audit', hello, '--db', db]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.match(/--distro/g)?.length, 1, text.stdout);

    const given = await waybillJson<Report>(['audit', hello, '--db', db, '--distro', 'debian-12']);
    assert.equal(given.code, 0, given.stderr);
    assert.equal(given.stderr, '');
    assert.deepEqual(
      given.json.findings.map((f) => [f.id, f.package, f.fixed]),
      [['DSA-9004-1', 'Debian:12/hello', ['2.10-4']]],
    );
  });

  test('--distro that is not ID-VERSION: one line, exit 2', async (t) => {
    if (!hello) return t.skip(skip);
    const r = await waybill(['audit', hello, '--db', db, '--distro', 'bookworm']);
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /^[^\n]*--distro[^\n]*debian-12[^\n]*$/);
  });

  test('a wheel: the distribution itself against PyPI advisories (PEP 503 names)', async (t) => {
    const built = await buildPythonProject();
    if (!built) return t.skip('python3 with setuptools/wheel is not available');
    if (!libuuid) return t.skip(skip);
    const r = await waybillJson<Report>(['audit', built.wheel, '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.warnings, []);
    assert.deepEqual(
      r.json.findings.map((f) => [f.id, f.component.purl, f.fixed, f.locations[0]?.path]),
      [['PYSEC-2026-9001', 'pkg:pypi/waybill-demo@1.2.3', ['1.2.4'], built.wheel]],
    );
  });
});

/**
 * An Alpine package file (constructed as abuild builds one, test/fixtures/build-apk.ts, not
 * downloaded): Alpine's advisories name the origin (source package) and a release (`Alpine:v3.20`);
 * the package names neither release nor distro, so `--distro alpine-3.20` says which.
 */
describe('audit of an .apk audits the package through its origin', () => {
  let apk: string | undefined;
  let apkDb: string;
  let apkSkip = 'not built';

  before(async () => {
    const missing = await apkToolsMissing();
    if (missing) {
      apkSkip = missing;
      return;
    }
    const dir = join(tmp, 'apk');
    await mkdir(dir, { recursive: true });
    apk = await buildApk(dir, 'libdemo-1.2.3-r0', {
      pkginfo: [
        ['pkgname', 'libdemo'],
        ['pkgver', '1.2.3-r0'],
        ['arch', 'x86_64'],
        ['origin', 'demo'],
        ['license', 'MIT'],
        ['builddate', '1700000000'],
      ],
      files: { 'usr/lib/libdemo.so.1': 'not really a library\n' },
    });
    const osv = join(dir, 'osv');
    await mkdir(osv);
    const records = [
      // The origin, fixed past this build (apk: -r1 > -r0): found.
      advisory('ALPINE-CVE-2026-0001', 'Alpine:v3.20', 'demo', [{ introduced: '0' }, { fixed: '1.2.3-r1' }]),
      // The origin, already fixed: not found.
      advisory('ALPINE-CVE-2026-0002', 'Alpine:v3.20', 'demo', [{ introduced: '0' }, { fixed: '1.2.2-r0' }]),
      // Another release: not found under --distro alpine-3.20.
      advisory('ALPINE-CVE-2026-0003', 'Alpine:v3.19', 'demo', [{ introduced: '0' }]),
    ];
    for (const r of records) await writeFile(join(osv, `${r.id}.json`), JSON.stringify(r));
    apkDb = join(dir, 'advisories.db');
    const imported = await waybill(['db', 'import', '--db', apkDb, osv]);
    assert.equal(imported.code, 0, imported.stderr);
  });

  test('--distro alpine-3.20: the Alpine:v3.20 advisory for the origin, at the file', async (t) => {
    if (!apk) return t.skip(apkSkip);
    const r = await waybillJson<Report>(['audit', apk, '--db', apkDb, '--distro', 'alpine-3.20']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.warnings, []);
    assert.deepEqual([r.json.subject.name, r.json.subject.version], ['libdemo', '1.2.3-r0']);
    assert.deepEqual(
      r.json.findings.map((f) => [f.id, f.package, f.component.purl, f.fixed, f.locations[0]?.path]),
      [
        [
          'ALPINE-CVE-2026-0001',
          'Alpine:v3.20/demo',
          'pkg:apk/alpine/libdemo@1.2.3-r0?arch=x86_64',
          ['1.2.3-r1'],
          apk,
        ],
      ],
    );
  });

  test('without --distro: no release is guessed, one warning names --distro', async (t) => {
    if (!apk) return t.skip(apkSkip);
    const r = await waybillJson<Report>(['audit', apk, '--db', apkDb]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.findings, []);
    assert.equal(r.json.warnings.length, 1);
    assert.match(r.json.warnings[0] as string, /--distro/);
  });
});
