/**
 * End to end through the real CLI on real packages, wheels and executables: stamp writes the facts
 * into the native metadata (checked with the ecosystem's own tools), check reads native fields and
 * the record together and fails `identity` when they disagree.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeZip } from '../../src/archive/zip-writer.ts';
import { haveSchemas, SCHEMAS } from '../../src/sbom/test-support.ts';
import { validateCycloneDx, validateSpdx } from '../../src/sbom/validate.ts';
import { apkToolsMissing, buildApk } from '../fixtures/build-apk.ts';
import { buildHello, buildPythonProject } from '../fixtures/build-artifacts.ts';
import { buildPackages, type PackageFixtures } from '../fixtures/build-packages.ts';
import { waybill, waybillJson } from '../helpers/cli.ts';
import {
  makeRepo,
  makeSshSigner,
  makeTmp,
  removeTmp,
  type SshSigner,
  signedTag,
} from '../helpers/git-fixtures.ts';

interface Report {
  passed: boolean;
  rules: Array<{ id: string; status: string; findings: Array<{ message: string; path: string }> }>;
}

interface Inspect {
  name: string | null;
  version: string | null;
  architecture: string | null;
  help: { bugTracker: string | null };
  fields: Record<string, string[]>;
}

let tmp: string;
let signer: SshSigner;
let repo: string;
let packages: PackageFixtures;

const failing = (r: Report) => r.rules.filter((x) => x.status === 'fail').map((x) => x.id);

function flags(extra: string[] = []): string[] {
  return [
    '--team',
    'Example Release Team',
    '--contact',
    'release@example.org',
    '--bug-tracker',
    'https://bugs.example.org/demo',
    '--docs-url',
    'https://docs.example.org/demo',
    '--source',
    repo,
    '--allowed-signers',
    signer.allowedSignersFile,
    '--quiet',
    ...extra,
  ];
}

function copy(path: string, name: string): string {
  const target = join(tmp, name);
  copyFileSync(path, target);
  return target;
}

async function stamp(ref: string, extra: string[] = []): Promise<{ nativeFields: string[] }> {
  const r = await waybillJson<{ nativeFields: string[] }>(['stamp', ref, ...flags(extra)]);
  assert.equal(r.code, 0, r.stderr);
  return r.json;
}

async function check(ref: string): Promise<Report> {
  // The consumer trusts the release signer: check re-verifies the tag from the record's evidence.
  const r = await waybillJson<Report>(['check', ref, '--allowed-signers', signer.allowedSignersFile]);
  assert.equal(r.code, r.json.passed ? 0 : 1);
  return r.json;
}

before(async () => {
  tmp = await makeTmp('waybill-native-e2e-');
  signer = await makeSshSigner(tmp);
  repo = await makeRepo(tmp, { 'build.sh': 'true\n' }, { origin: 'https://git.example.org/demo.git' });
  await signedTag(repo, 'v1.2.3', signer);
  packages = await buildPackages();
});

after(async () => {
  if (tmp) await removeTmp(tmp);
});

test('deb: stamp writes Bugs, Homepage and Maintainer that dpkg-deb shows; check passes', async (t) => {
  if (!packages.deb.gzip) return t.skip(packages.debSkip ?? 'no deb fixture');
  const deb = copy(packages.deb.gzip, 'demo.deb');
  const stamped = await stamp(`file:${deb}`);
  assert.ok(stamped.nativeFields.length > 0);
  const fields = execFileSync('dpkg-deb', ['-f', deb, 'Bugs', 'Homepage', 'Maintainer'], {
    encoding: 'utf8',
  });
  assert.match(fields, /^Bugs: https:\/\/bugs\.example\.org\/demo$/m);
  assert.match(fields, /^Homepage: https:\/\/docs\.example\.org\/demo$/m);
  assert.match(fields, /^Maintainer: Example Release Team <release@example\.org>$/m);
  const report = await check(`file:${deb}`);
  assert.deepEqual(failing(report), [], JSON.stringify(report, null, 2));
  const inspected = await waybillJson<Inspect>(['inspect', `file:${deb}`]);
  assert.equal(inspected.json.name, 'waybill-demo');
  assert.equal(inspected.json.version, '1:1.2.3-1');
  assert.ok(
    inspected.json.fields.bugTracker?.some((f) => /deb Bugs/.test(f)),
    JSON.stringify(inspected.json.fields),
  );
});

test('deb: a record version that disagrees with the control Version fails identity only', async (t) => {
  if (!packages.deb.xz) return t.skip(packages.debSkip ?? 'no deb fixture');
  const deb = copy(packages.deb.xz, 'demo-xz.deb');
  await stamp(`file:${deb}`, ['--version', '2.0']);
  assert.deepEqual(failing(await check(`file:${deb}`)), ['identity']);
});

test('rpm: headers are never rewritten; the record must agree with the header', async (t) => {
  if (!packages.rpm.noarchGzip) return t.skip(packages.rpmSkip ?? 'no rpm fixture');
  const good = copy(packages.rpm.noarchGzip, 'good.rpm');
  const before = execFileSync('sha256sum', [good], { encoding: 'utf8' }).split(' ')[0];
  const stamped = await stamp(`file:${good}`);
  assert.deepEqual(stamped.nativeFields, []);
  assert.equal(execFileSync('sha256sum', [good], { encoding: 'utf8' }).split(' ')[0], before);
  const ok = await check(`file:${good}`);
  assert.ok(!failing(ok).includes('identity'), JSON.stringify(ok, null, 2));

  const bad = copy(packages.rpm.noarchGzip, 'bad.rpm');
  await stamp(`file:${bad}`, ['--version', '2.2']);
  assert.ok(failing(await check(`file:${bad}`)).includes('identity'));
});

test('wheel: stamp updates METADATA and RECORD; the stamped wheel checks clean', async (t) => {
  const built = await buildPythonProject();
  if (!built) return t.skip('python3 with setuptools/wheel is not available');
  const wheel = copy(built.wheel, 'waybill_demo-1.2.3-py3-none-any.whl');
  const stamped = await waybillJson<{ warnings: Array<{ path: string; reason: string }> }>([
    'stamp',
    `file:${wheel}`,
    ...flags(['--license', 'Apache-2.0']),
  ]);
  assert.equal(stamped.code, 0, stamped.stderr);
  // The wheel said MIT; stamping rewrites its License-Expression, so only stamp (which read it
  // before) can say the record claims another license.
  assert.deepEqual(
    stamped.json.warnings.map((w) => w.reason.split(';')[0]),
    ['the package declares its own license MIT, but the record says Apache-2.0 (license in waybill.yaml)'],
  );
  const meta = execFileSync(
    'python3',
    [
      '-c',
      'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);n=[x for x in z.namelist() if x.endswith(".dist-info/METADATA")][0];print(z.read(n).decode())',
      wheel,
    ],
    { encoding: 'utf8' },
  );
  assert.match(meta, /^Project-URL: .*https:\/\/bugs\.example\.org\/demo$/m);
  assert.match(meta, /^License-Expression: Apache-2\.0$/m);
  const report = await check(`file:${wheel}`);
  assert.deepEqual(failing(report), [], JSON.stringify(report, null, 2));
});

test('ELF: stamp adds .note.package that readelf shows; the binary still runs', async (t) => {
  const hello = await buildHello();
  if (!hello) return t.skip('gcc is not available');
  const exe = copy(hello, 'hello');
  await stamp(`file:${exe}`, ['--name', 'hello', '--version', '1.0.0']);
  assert.equal(execFileSync(exe, { encoding: 'utf8' }).trim(), 'hello');
  const notes = execFileSync('readelf', ['-n', exe], { encoding: 'utf8' });
  assert.match(notes, /"name":"hello"/);
  assert.match(notes, /"version":"1\.0\.0"/);
  const report = await check(`file:${exe}`);
  assert.deepEqual(failing(report), [], JSON.stringify(report, null, 2));
});

test('a real Debian package (apt-get download skopeo): inspect shows its control fields', async (t) => {
  if (!packages.skopeo) return t.skip(packages.skopeoSkip ?? 'no skopeo .deb');
  const r = await waybillJson<Inspect>(['inspect', `file:${packages.skopeo}`]);
  assert.equal(r.code, 0);
  assert.equal(
    r.json.name,
    execFileSync('dpkg-deb', ['-f', packages.skopeo, 'Package'], { encoding: 'utf8' }).trim(),
  );
  assert.equal(
    r.json.version,
    execFileSync('dpkg-deb', ['-f', packages.skopeo, 'Version'], { encoding: 'utf8' }).trim(),
  );
  assert.ok(
    r.json.fields.version?.some((f) => /deb Version/.test(f)),
    JSON.stringify(r.json.fields),
  );
});

test('sdist and root filesystem tarballs are recognised and read; they are not rewritten', async (t) => {
  const built = await buildPythonProject();
  if (!built) return t.skip('python3 with setuptools is not available');
  const sdist = copy(built.sdist, 'waybill-demo-1.2.3.tar.gz');
  const r = await waybillJson<Inspect>(['inspect', `file:${sdist}`]);
  assert.equal(r.json.name, 'waybill-demo');
  assert.equal(r.json.version, '1.2.3');
  // The record's license must agree with PKG-INFO's (MIT), and the policy must allow it.
  const disagreeing = await stamp(`file:${sdist}`);
  assert.deepEqual(disagreeing.nativeFields, []);
  assert.deepEqual(failing(await check(`file:${sdist}`)), ['support']);
  await stamp(`file:${sdist}`, ['--license', 'MIT']);
  const policy = join(tmp, 'mit-policy.yaml');
  const { writeFileSync } = await import('node:fs');
  // The consumer's trust can live in the policy file too.
  writeFileSync(policy, `allowedLicenses: [MIT]\ntrust:\n  allowedSigners: ${signer.allowedSignersFile}\n`);
  const allowed = await waybillJson<Report>(['check', `file:${sdist}`, '--policy', policy]);
  assert.deepEqual(failing(allowed.json), [], JSON.stringify(allowed.json, null, 2));
});

test('a Vagrant box catalog gets the release facts; check passes', async () => {
  const catalog = join(tmp, 'catalog.json');
  const { writeFileSync, readFileSync } = await import('node:fs');
  writeFileSync(
    catalog,
    `${JSON.stringify({ name: 'example/demo', description: 'demo box', versions: [{ version: '1.2.3', providers: [{ name: 'libvirt', url: 'https://example.org/demo.box', checksum_type: 'sha256', checksum: 'a'.repeat(64), architecture: 'amd64' }] }] }, null, 2)}\n`,
  );
  await stamp(`file:${catalog}`, ['--name', 'example/demo', '--version', '1.2.3']);
  const written = JSON.parse(readFileSync(catalog, 'utf8')) as Record<string, unknown>;
  assert.equal(written.name, 'example/demo');
  assert.match(JSON.stringify(written), /https:\/\/bugs\.example\.org\/demo/);
  const report = await check(`file:${catalog}`);
  assert.deepEqual(failing(report), [], JSON.stringify(report, null, 2));
});

test('a truncated package is one line, exit 2, and nothing is written', async (t) => {
  if (!packages.deb.gzip) return t.skip(packages.debSkip ?? 'no deb fixture');
  const { readFileSync, writeFileSync, readdirSync } = await import('node:fs');
  const { mkdtempSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmp, 'trunc-'));
  const deb = join(dir, 'cut.deb');
  const bytes = readFileSync(packages.deb.gzip);
  writeFileSync(deb, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const { waybill } = await import('../helpers/cli.ts');
  const r = await waybill(['stamp', `file:${deb}`, ...flags()]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /cut\.deb/);
  assert.deepEqual(readdirSync(dir), ['cut.deb']);
});

test('a package names itself: the SBOM of a .deb is about the package; stamp, check, inspect and sbom count alike', async (t) => {
  if (!packages.skopeo) return t.skip(packages.skopeoSkip ?? 'no skopeo .deb');
  const deb = copy(packages.skopeo, 'skopeo.deb');
  const out = join(tmp, 'skopeo.cdx.json');
  const sbom = await waybill(['sbom', `file:${deb}`, '-o', out]);
  assert.equal(sbom.code, 0, sbom.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  const field = (name: string) => execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();
  const root = doc.metadata.component;
  assert.equal(root.name, field('Package'));
  assert.equal(root.version, field('Version'));
  assert.equal(root.purl, `pkg:deb/debian/skopeo@${field('Version')}?arch=${field('Architecture')}`);
  assert.deepEqual(root.licenses, [{ license: { id: 'Apache-2.0' } }], 'from its DEP-5 copyright file');
  assert.equal(
    root.description,
    field('Description').split('\n')[0],
    'the synopsis, as dpkg -s shows it first',
  );
  if (haveSchemas) assert.deepEqual(validateCycloneDx(doc, SCHEMAS), []);
  const count = Number(/: (\d+) components/.exec(sbom.stderr)?.[1]);

  const stamped = await waybillJson<{ sbom: { components: number } }>(['stamp', `file:${deb}`, ...flags()]);
  assert.equal(stamped.code, 0, stamped.stderr);
  assert.equal(stamped.json.sbom.components, count);
  const report = await check(`file:${deb}`);
  const manifest = JSON.stringify(report.rules.find((r) => r.id === 'manifest'));
  assert.match(manifest, new RegExp(`of pkg:deb/debian/skopeo@[^ ]+ with ${count} component`));
  const inspected = await waybillJson<{ manifest: { components: number } }>(['inspect', `file:${deb}`]);
  assert.equal(inspected.json.manifest.components, count);
});

test('a C package with nothing bundled: its SBOM names it, and check does not call it empty', async (t) => {
  if (!packages.deb.zstd) return t.skip(packages.debSkip ?? 'no deb fixture');
  const deb = copy(packages.deb.zstd, 'demo-zstd.deb');
  await stamp(`file:${deb}`);
  const manifest = JSON.stringify((await check(`file:${deb}`)).rules.find((r) => r.id === 'manifest'));
  assert.doesNotMatch(manifest, /lists no components/);
  assert.match(manifest, /of pkg:deb\/debian\/waybill-demo@/);
});

/** Constructed as abuild builds one (test/fixtures/build-apk.ts), not downloaded. */
const APK_PKGINFO: Array<[string, string]> = [
  ['pkgname', 'waybill-demo'],
  ['pkgver', '1.2.3-r0'],
  ['pkgdesc', 'waybill demo package'],
  ['url', 'https://docs.example.org/demo'],
  ['builddate', '1700000000'],
  ['arch', 'x86_64'],
  ['origin', 'waybill-demo-src'],
  ['maintainer', 'Example Release Team <release@example.org>'],
  ['license', 'Apache-2.0'],
];
const APK_FILES = {
  'usr/bin/waybill-demo': '#!/bin/sh\necho demo\n',
  'usr/lib/python3.12/site-packages/demo_lib-0.4.0.dist-info/METADATA':
    'Metadata-Version: 2.1\nName: demo-lib\nVersion: 0.4.0\nLicense-Expression: MIT\n',
};

test('apk: the SBOM names the package from .PKGINFO and lists what its data holds; inspect shows the facts', async (t) => {
  const missing = await apkToolsMissing();
  if (missing) return t.skip(missing);
  const apk = await buildApk(tmp, 'sbom-demo', { pkginfo: APK_PKGINFO, files: APK_FILES });
  const out = join(tmp, 'apk.cdx.json');
  const sbom = await waybill(['sbom', `file:${apk}`, '-o', out]);
  assert.equal(sbom.code, 0, sbom.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  const root = doc.metadata.component;
  assert.equal(root.name, 'waybill-demo');
  assert.equal(root.version, '1.2.3-r0');
  assert.equal(root.purl, 'pkg:apk/alpine/waybill-demo@1.2.3-r0?arch=x86_64');
  assert.deepEqual(root.licenses, [{ license: { id: 'Apache-2.0' } }]);
  const prop = (name: string) =>
    (root.properties as Array<{ name: string; value: string }>).find((p) => p.name === name)?.value;
  assert.equal(prop('waybill:source-package'), 'waybill-demo-src');
  assert.deepEqual(
    doc.components.map((c: { purl: string }) => c.purl),
    ['pkg:pypi/demo-lib@0.4.0'],
    'the data tarball is walked; the package itself is the subject, not a component',
  );
  if (haveSchemas) assert.deepEqual(validateCycloneDx(doc, SCHEMAS), []);
  const spdx = await waybill(['sbom', `file:${apk}`, '--format', 'spdx-json']);
  assert.equal(spdx.code, 0, spdx.stderr);
  const spdxDoc = JSON.parse(spdx.stdout);
  const pkg = describedPackage(spdxDoc);
  assert.deepEqual(
    [pkg.name, pkg.versionInfo, pkg.licenseDeclared, pkg.externalRefs[0]?.referenceLocator],
    ['waybill-demo', '1.2.3-r0', 'Apache-2.0', root.purl],
  );
  if (haveSchemas) assert.deepEqual(validateSpdx(spdxDoc, SCHEMAS), []);

  const inspected = await waybillJson<Inspect>(['inspect', `file:${apk}`]);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.equal(inspected.json.name, 'waybill-demo');
  assert.equal(inspected.json.version, '1.2.3-r0');
  assert.equal(inspected.json.architecture, 'x86_64');
  assert.ok(
    Object.values(inspected.json.fields)
      .flat()
      .some((f) => /apk \.PKGINFO pkgname/.test(f)),
    JSON.stringify(inspected.json.fields),
  );
});

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo: string;
  licenseDeclared: string;
  externalRefs: Array<{ referenceLocator: string }>;
}

/** The package an SPDX document DESCRIBES. */
function describedPackage(doc: {
  relationships: Array<{ relationshipType: string; relatedSpdxElement: string }>;
  packages: SpdxPackage[];
}): SpdxPackage {
  const described = doc.relationships.find((r) => r.relationshipType === 'DESCRIBES')?.relatedSpdxElement;
  const pkg = doc.packages.find((p) => p.SPDXID === described);
  assert.ok(pkg, 'the document describes one of its packages');
  return pkg;
}

/** A jar laid out as Maven and the bundle plugin write it (Debian's libjackson2-databind-java). */
function mavenJar(
  group: string,
  artifact: string,
  version: string,
  licensesXml: string,
  bundleLicense: string,
): Buffer {
  const dir = `META-INF/maven/${group}/${artifact}`;
  return writeZip([
    {
      name: 'META-INF/MANIFEST.MF',
      data: Buffer.from(
        `Manifest-Version: 1.0\r\nBundle-License: ${bundleLicense}\r\nBundle-Version: ${version}\r\n\r\n`,
      ),
    },
    {
      name: `${dir}/pom.properties`,
      data: Buffer.from(`groupId=${group}\nartifactId=${artifact}\nversion=${version}\n`),
    },
    {
      name: `${dir}/pom.xml`,
      data: Buffer.from(
        `<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">\n  <groupId>${group}</groupId>\n  <artifactId>${artifact}</artifactId>\n  <version>${version}</version>\n  ${licensesXml}\n</project>\n`,
      ),
    },
  ]);
}

test('a jar names itself with its licenses (POM, Bundle-License); so do jars found inside a tree', async () => {
  const jackson = join(tmp, 'jackson-databind-2.14.0.jar');
  writeFileSync(
    jackson,
    mavenJar(
      'com.fasterxml.jackson.core',
      'jackson-databind',
      '2.14.0',
      '<licenses><license><name>The Apache Software License, Version 2.0</name><url>https://www.apache.org/licenses/LICENSE-2.0.txt</url></license></licenses>',
      'https://www.apache.org/licenses/LICENSE-2.0.txt',
    ),
  );
  const cdx = await waybill(['sbom', `file:${jackson}`]);
  assert.equal(cdx.code, 0, cdx.stderr);
  const doc = JSON.parse(cdx.stdout);
  assert.equal(doc.metadata.component.purl, 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0');
  assert.deepEqual(doc.metadata.component.licenses, [{ license: { id: 'Apache-2.0' } }]);
  if (haveSchemas) assert.deepEqual(validateCycloneDx(doc, SCHEMAS), []);
  const spdx = await waybill(['sbom', `file:${jackson}`, '--format', 'spdx-json']);
  assert.equal(spdx.code, 0, spdx.stderr);
  const spdxDoc = JSON.parse(spdx.stdout);
  const pkg = describedPackage(spdxDoc);
  assert.equal(pkg.licenseDeclared, 'Apache-2.0');
  if (haveSchemas) assert.deepEqual(validateSpdx(spdxDoc, SCHEMAS), []);

  // A tree holding jars: each component carries its license; an unrecognised one stays a name.
  const tree = join(tmp, 'java-tree');
  const lib = join(tree, 'usr/share/java');
  execFileSync('mkdir', ['-p', lib]);
  copyFileSync(jackson, join(lib, 'jackson-databind.jar'));
  writeFileSync(
    join(lib, 'bcprov.jar'),
    mavenJar(
      'org.bouncycastle',
      'bcprov-jdk18on',
      '1.78',
      '',
      'Bouncy Castle Licence;link=https://www.bouncycastle.org/licence.html',
    ),
  );
  const listed = await waybill(['sbom', `dir:${tree}`]);
  assert.equal(listed.code, 0, listed.stderr);
  const treeDoc = JSON.parse(listed.stdout);
  const byName = Object.fromEntries(
    treeDoc.components.map((c: { name: string; licenses?: unknown }) => [c.name, c.licenses]),
  );
  assert.deepEqual(byName, {
    'jackson-databind': [{ license: { id: 'Apache-2.0' } }],
    'bcprov-jdk18on': [{ license: { name: 'Bouncy Castle Licence' } }],
  });
  if (haveSchemas) assert.deepEqual(validateCycloneDx(treeDoc, SCHEMAS), []);
});

test('a Java archive given as the artifact must be a zip: a cut one is one line, exit 2; a launch script before it is fine', async () => {
  const jar = mavenJar('org.example', 'tool', '1.0.0', '', 'MIT');
  const cut = join(tmp, 'tool-cut.war');
  writeFileSync(cut, jar.subarray(0, jar.length - 30));
  const refused = await waybill(['sbom', `file:${cut}`]);
  assert.equal(refused.code, 2);
  assert.match(
    refused.stderr,
    /^waybill: .*tool-cut\.war: not a Java archive: no zip end of central directory record\n$/,
  );
  // Spring Boot's "fully executable" jars: a shell script, then the zip (offsets relative to its end).
  const launched = join(tmp, 'tool-launch.jar');
  writeFileSync(launched, Buffer.concat([Buffer.from('#!/bin/bash\nexec java -jar "$0" "$@"\n'), jar]));
  const listed = await waybill(['sbom', `file:${launched}`]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(JSON.parse(listed.stdout).metadata.component.purl, 'pkg:maven/org.example/tool@1.0.0');
});

test('apk: never rewritten (signed); the sidecar record must agree with .PKGINFO', async (t) => {
  const missing = await apkToolsMissing();
  if (missing) return t.skip(missing);
  const good = await buildApk(tmp, 'good', { pkginfo: APK_PKGINFO, files: APK_FILES });
  const before = readFileSync(good);
  const stamped = await stamp(`file:${good}`);
  assert.deepEqual(stamped.nativeFields, []);
  assert.ok(readFileSync(good).equals(before), 'the package bytes are untouched');
  const ok = await check(`file:${good}`);
  assert.deepEqual(failing(ok), [], JSON.stringify(ok, null, 2));
  assert.match(
    JSON.stringify(ok.rules.find((r) => r.id === 'manifest')),
    /of pkg:apk\/alpine\/waybill-demo@1\.2\.3-r0/,
  );

  const bad = await buildApk(tmp, 'bad', { pkginfo: APK_PKGINFO, files: APK_FILES });
  await stamp(`file:${bad}`, ['--version', '2.0']);
  assert.deepEqual(failing(await check(`file:${bad}`)), ['identity']);
});

test('apk: a truncated package is one line naming it, exit 2', async (t) => {
  const missing = await apkToolsMissing();
  if (missing) return t.skip(missing);
  const bytes = readFileSync(await buildApk(tmp, 'whole', { pkginfo: APK_PKGINFO, files: APK_FILES }));
  // Inside the control stream (the second gzip member): no .PKGINFO for anyone.
  const control = bytes.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), 10);
  const inControl = join(tmp, 'cut-control.apk');
  writeFileSync(inControl, bytes.subarray(0, control + 30));
  // Inside the data stream: the facts read, the walk fails.
  const inData = join(tmp, 'cut-data.apk');
  writeFileSync(inData, bytes.subarray(0, bytes.length - 12));
  for (const [command, file] of [
    ['sbom', inControl],
    ['inspect', inControl],
    ['sbom', inData],
  ] as const) {
    const r = await waybill([command, `file:${file}`]);
    assert.equal(r.code, 2, `${command} ${file}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
  }
});
